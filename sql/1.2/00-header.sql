/* dblink--1.2.sql: assembled by the Makefile from the fragments in sql/1.2 */

-- only CREATE EXTENSION runs this file
\echo Use "CREATE EXTENSION dblink" to load this file. \quit
