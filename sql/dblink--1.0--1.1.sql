/*
 * dblink 1.0 -> 1.1: foreign servers.  Databases that still have contrib's
 * dblink 1.0 reach 1.2 through this script and the next one.
 */

-- only ALTER EXTENSION runs this file
\echo Use "ALTER EXTENSION dblink UPDATE TO '1.1'" to load this file. \quit

CREATE FUNCTION dblink_fdw_validator(
    options text[],
    catalog oid
)
RETURNS void
AS 'MODULE_PATHNAME', 'dblink_fdw_validator'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER dblink_fdw VALIDATOR dblink_fdw_validator;
