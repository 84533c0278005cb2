/*
 * dblink 1.2 -> 1.3: what a session can see of its connections.  Opt-in:
 * CREATE EXTENSION dblink still makes 1.2, contrib's objects exactly; this
 * script runs for CREATE EXTENSION dblink VERSION '1.3' and for
 * ALTER EXTENSION dblink UPDATE TO '1.3'.
 */

-- only CREATE EXTENSION or ALTER EXTENSION runs this file
\echo Use "ALTER EXTENSION dblink UPDATE TO '1.3'" to load this file. \quit

-- One row per connection of this session, the unnamed one included (its
-- name is NULL).  Reading it sends nothing to any remote server.
CREATE FUNCTION dblink_connections(
    OUT name text,
    OUT server text,
    OUT host text,
    OUT port int,
    OUT dbname text,
    OUT "user" text,
    OUT remote_pid int,
    OUT server_version text,
    OUT ssl bool,
    OUT status text,
    OUT transaction text,
    OUT busy bool,
    OUT open_cursors int,
    OUT opened_at timestamptz,
    OUT last_used_at timestamptz,
    OUT queries bigint,
    OUT bytes_sent bigint,
    OUT bytes_received bigint,
    OUT last_error text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'dblink_connections'
LANGUAGE C PARALLEL RESTRICTED;
