-- dblink_open, dblink_fetch, dblink_close in all overloads, and contrib's
-- transaction bookkeeping (BEGIN on an idle remote, COMMIT after the last
-- cursor dblink opened).  Every connection goes to this cluster itself;
-- the remote transaction state is read locally from pg_stat_activity.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set VERBOSITY default

CREATE TABLE cur_tab (id int PRIMARY KEY, v text);
INSERT INTO cur_tab SELECT g, 'v' || g FROM generate_series(1, 10) g;
CREATE TABLE cur_deferred (id int UNIQUE DEFERRABLE INITIALLY DEFERRED);

-- the state of the remote backend of a connection, by application_name
CREATE FUNCTION cur_state(app text) RETURNS text LANGUAGE sql AS
$$ SELECT coalesce(max(state), 'gone') FROM pg_stat_activity WHERE application_name = app $$;

-- no connection
SELECT dblink_open('c', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink_fetch('c', 1) AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_close('c');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_open('nosuch', 'c', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_open('nosuch', 'c', 'SELECT 1', false);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink_fetch('nosuch', 'c', 1) AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink_fetch('nosuch', 'c', 1, false) AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_close('nosuch', 'c');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_close('nosuch', 'c', false);
\echo :LAST_ERROR_SQLSTATE
-- named forms do not fall back to a connection string
SELECT dblink_open('dbname=contrib_regression', 'c', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE

-- STRICT: NULL arguments, no side effect
SELECT dblink_open(NULL, 'SELECT 1') IS NULL AS n;
SELECT count(*) FROM dblink_fetch(NULL::text, 1) AS t(a int);
SELECT dblink_close(NULL::text) IS NULL AS n;

-- unnamed connection: dblink began the transaction
SELECT dblink_connect('dbname=contrib_regression application_name=cur_u');
SELECT cur_state('cur_u');
SELECT dblink_open('c1', 'SELECT id, v FROM cur_tab ORDER BY id');
SELECT cur_state('cur_u');
SELECT * FROM dblink_fetch('c1', 3) AS t(id int, v text);
SELECT * FROM dblink_fetch('c1', 2, true) AS t(id int, v text);
SELECT * FROM dblink_fetch('c1', 0) AS t(id int, v text);
SELECT dblink_open('c2', 'SELECT v FROM cur_tab WHERE id > 8 ORDER BY id', true);
SELECT * FROM dblink_fetch('c2', 10, false) AS t(v text);
SELECT * FROM dblink_fetch('c2', 10) AS t(v text);
-- closing one of two cursors keeps the transaction
SELECT dblink_close('c2');
SELECT cur_state('cur_u');
-- fetched rows must fit the column list
SELECT * FROM dblink_fetch('c1', 1) AS t(id int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink_fetch('c1', 1) AS t(id int, v int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink_fetch('c1', 1) AS t(id int, v text);
-- select list: no record type
SELECT dblink_fetch('c1', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT cur_state('cur_u');
-- the last one commits
SELECT dblink_close('c1', true);
SELECT cur_state('cur_u');
SELECT dblink_close('c1');
\echo :LAST_ERROR_SQLSTATE
SELECT cur_state('cur_u');

-- a transaction the user began is left alone
SELECT dblink_exec('BEGIN');
SELECT dblink_open('c3', 'SELECT 1');
SELECT dblink_close('c3');
SELECT cur_state('cur_u');
SELECT dblink_exec('COMMIT');
SELECT cur_state('cur_u');

-- remote errors and fail_on_error
\set SHOW_CONTEXT always
SELECT dblink_open('c4', 'SELECT no_such_column FROM cur_tab');
\echo :LAST_ERROR_SQLSTATE
-- the failed DECLARE aborted the transaction dblink began
SELECT cur_state('cur_u');
SELECT dblink_open('c4', 'SELECT 1', false);
SELECT * FROM dblink_fetch('c4', 1, false) AS t(a int);
SELECT * FROM dblink_fetch('c4', 1) AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_close('c4', false);
SELECT dblink_close('c4');
\echo :LAST_ERROR_SQLSTATE
-- dblink never rolls back; after the user's ROLLBACK bookkeeping restarts
SELECT dblink_exec('ROLLBACK');
SELECT cur_state('cur_u');
SELECT dblink_open('c5', 'SELECT id FROM cur_tab ORDER BY id');
SELECT * FROM dblink_fetch('c5', 1) AS t(a int);
SELECT * FROM dblink_fetch('nosuch', 1, false) AS t(a int);
SELECT dblink_exec('ROLLBACK');
SELECT dblink_open('c5', 'SELECT id FROM cur_tab ORDER BY id');
SELECT dblink_close('c5');
SELECT cur_state('cur_u');
\set SHOW_CONTEXT errors

-- a fetch whose last result is a command: the cursor "does not exist"
SELECT dblink_open('c6', 'SELECT 1');
SELECT * FROM dblink_fetch('c6; SET application_name = cur_u', 1) AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_close('c6');
SELECT cur_state('cur_u');

-- COMMIT failure: a deferred unique constraint
SELECT dblink_open('c7', 'SELECT 1');
SELECT dblink_exec('INSERT INTO cur_deferred VALUES (1), (1)');
SELECT dblink_close('c7');
\echo :LAST_ERROR_SQLSTATE
SELECT cur_state('cur_u');
SELECT count(*) FROM cur_deferred;

-- the unnamed slot's bookkeeping survives replacing the connection: the
-- flag set on the old one makes the new one commit the user's transaction
SELECT dblink_open('c8', 'SELECT 1');
SELECT dblink_open('c9', 'SELECT 1');
SELECT dblink_connect('dbname=contrib_regression application_name=cur_u2');
SELECT dblink_exec('BEGIN');
SELECT dblink_open('c8', 'SELECT 1');
SELECT dblink_close('c8');
SELECT cur_state('cur_u2');
SELECT dblink_close('c8');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('ROLLBACK');
SELECT dblink_open('c9', 'SELECT 1');
SELECT dblink_close('c9');
SELECT cur_state('cur_u2');
SELECT dblink_disconnect();

-- named connections, all overloads; each named slot starts afresh
SELECT dblink_connect('cn', 'dbname=contrib_regression application_name=cur_n');
SELECT dblink_open('cn', 'c1', 'SELECT id FROM cur_tab WHERE id <= 3 ORDER BY id');
SELECT dblink_open('cn', 'c2', 'SELECT id FROM cur_tab WHERE id > 7 ORDER BY id', false);
SELECT cur_state('cur_n');
SELECT * FROM dblink_fetch('cn', 'c1', 2) AS t(a int);
SELECT * FROM dblink_fetch('cn', 'c2', 2, false) AS t(a int);
SELECT * FROM dblink_fetch('cn', 'c1', 5, true) AS t(a int);
SELECT dblink_close('cn', 'c1');
SELECT cur_state('cur_n');
SELECT dblink_close('cn', 'c2', false);
SELECT cur_state('cur_n');
\set SHOW_CONTEXT always
SELECT dblink_open('cn', 'c3', 'SELECT 1/0');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_open('cn', 'c3', 'SELECT 1', false);
SELECT * FROM dblink_fetch('cn', 'c3', 1, false) AS t(a int);
SELECT dblink_close('cn', 'c3', false);
\set SHOW_CONTEXT errors
SELECT cur_state('cur_n');
SELECT dblink_disconnect('cn');
SELECT dblink_connect('cn', 'dbname=contrib_regression application_name=cur_n');
SELECT dblink_open('cn', 'c1', 'SELECT 1');
SELECT dblink_close('cn', 'c1');
SELECT cur_state('cur_n');
-- names are keys truncated to 63 bytes, contexts show them as passed
SELECT dblink_open('cn' || repeat('x', 70), 'c1', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_disconnect('cn');

DROP FUNCTION cur_state(text);
DROP TABLE cur_tab, cur_deferred;
