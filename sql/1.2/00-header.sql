/* dblink--1.2.sql: assembled by the Makefile from the fragments in sql/1.2 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION dblink" to load this file. \quit
