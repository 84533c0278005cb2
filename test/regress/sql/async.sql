-- dblink_send_query, dblink_is_busy, dblink_get_result, dblink_cancel_query,
-- dblink_error_message and dblink_get_notify.  Every connection goes to
-- this cluster itself.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set VERBOSITY default

-- wait until the named connection has a result ready
CREATE FUNCTION async_wait(conname text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	WHILE dblink_is_busy(conname) = 1 LOOP
		PERFORM pg_sleep(0.01);
	END LOOP;
END $$;
-- wait until the backend of an application_name runs a statement
CREATE FUNCTION async_wait_active(app text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	WHILE NOT EXISTS (SELECT 1 FROM pg_stat_activity
					  WHERE application_name = app AND state = 'active') LOOP
		PERFORM pg_sleep(0.01);
		PERFORM pg_stat_clear_snapshot();
	END LOOP;
END $$;

-- name-only functions
SELECT dblink_send_query('nosuch', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_is_busy('nosuch');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink_get_result('nosuch') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink_get_result('nosuch', false) AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_cancel_query('nosuch');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_error_message('nosuch');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink_get_notify('nosuch');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_send_query('dbname=contrib_regression', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
-- no unnamed connection: an empty set
SELECT * FROM dblink_get_notify();

-- STRICT
SELECT dblink_send_query('a', NULL) IS NULL AS n;
SELECT dblink_is_busy(NULL) IS NULL AS n;

SELECT dblink_connect('a', 'dbname=contrib_regression application_name=async_a');
-- idle connection
SELECT dblink_is_busy('a');
SELECT dblink_error_message('a');
SELECT * FROM dblink_get_result('a') AS t(a int);
SELECT dblink_cancel_query('a');

-- one result per call, then one empty set
SELECT dblink_send_query('a', 'SELECT 1, ''one''; SELECT g FROM generate_series(1, 3) g; SET application_name = async_a; SELECT 2 WHERE false');
SELECT async_wait('a');
SELECT dblink_is_busy('a');
SELECT * FROM dblink_get_result('a') AS t(a int, b text);
SELECT * FROM dblink_get_result('a') AS t(g int);
SELECT * FROM dblink_get_result('a', true) AS t(status text);
SELECT * FROM dblink_get_result('a', false) AS t(x int);
SELECT * FROM dblink_get_result('a') AS t(x int);
SELECT * FROM dblink_get_result('a') AS t(x int);
SELECT dblink_is_busy('a');
SELECT dblink_error_message('a');

-- a column-count mismatch consumes that result only
SELECT dblink_send_query('a', 'SELECT 1, 2; SELECT 3');
SELECT * FROM dblink_get_result('a') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink_get_result('a') AS t(a int);
SELECT * FROM dblink_get_result('a') AS t(a int);
-- a select list cannot take a record
SELECT dblink_send_query('a', 'SELECT 1');
SELECT dblink_get_result('a');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink_get_result('a') AS t(a int);

-- remote errors: the error is the last result, then one empty set
\set SHOW_CONTEXT always
SELECT dblink_send_query('a', 'SELECT 1; SELECT 1/0; SELECT 3');
SELECT * FROM dblink_get_result('a') AS t(a int);
SELECT * FROM dblink_get_result('a') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_error_message('a');
SELECT dblink_is_busy('a');
SELECT * FROM dblink_get_result('a') AS t(a int);
SELECT dblink_send_query('a', 'SELECT no_such_column FROM pg_class');
SELECT * FROM dblink_get_result('a', false) AS t(a int);
SELECT * FROM dblink_get_result('a', false) AS t(a int);
SELECT dblink_error_message('a');
-- the next successful send clears the error text
SELECT dblink_send_query('a', 'SELECT 1');
SELECT dblink_error_message('a');
SELECT * FROM dblink_get_result('a') AS t(a int);
SELECT * FROM dblink_get_result('a') AS t(a int);
SELECT dblink_error_message('a');
-- an error with DETAIL and HINT, position in a later line
SELECT dblink_send_query('a', E'SELECT 1\nFROM pg_class\nWHERE nosuch = 1');
SELECT * FROM dblink_get_result('a', false) AS t(a int);
SELECT * FROM dblink_get_result('a') AS t(a int);
SELECT dblink_error_message('a');
SELECT dblink_send_query('a', $$SELECT 'a'::int$$);
SELECT * FROM dblink_get_result('a', false) AS t(a int);
SELECT * FROM dblink_get_result('a') AS t(a int);
SELECT dblink_error_message('a');
\set SHOW_CONTEXT errors

-- one query at a time: the others fail while a query is pending
SELECT dblink_send_query('a', 'SELECT 42');
SELECT dblink_send_query('a', 'SELECT 43');
SELECT dblink_send_query('a', 'SELECT 44');
SELECT dblink_error_message('a');
\set SHOW_CONTEXT always
SELECT dblink_exec('a', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('a', 'SELECT 1', false);
SELECT dblink_open('a', 'c', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_open('a', 'c', 'SELECT 1', false);
SELECT * FROM dblink_fetch('a', 'c', 1, false) AS t(a int);
SELECT dblink_close('a', 'c', false);
\set SHOW_CONTEXT errors
-- the pending result is still there
SELECT * FROM dblink_get_result('a') AS t(a int);
-- dblink() fails and discards the pending results
SELECT * FROM dblink('a', 'SELECT 1') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('a', 'SELECT 1', false) AS t(a int);
SELECT * FROM dblink_get_result('a') AS t(a int);
SELECT dblink_is_busy('a');
SELECT * FROM dblink('a', 'SELECT 2') AS t(a int);
SELECT dblink_send_query('a', 'SELECT pg_sleep(0.2), 5');
SELECT * FROM dblink('a', 'SELECT 1') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink_get_result('a') AS t(a int);
SELECT * FROM dblink('a', 'SELECT 3') AS t(a int);

-- a result larger than any buffer, waited for with dblink_is_busy
SELECT dblink_send_query('a', 'SELECT g, repeat(''x'', 200) FROM generate_series(1, 100000) g');
SELECT async_wait('a');
SELECT count(*), sum(g), min(length(x)) FROM dblink_get_result('a') AS t(g int, x text);
SELECT * FROM dblink_get_result('a') AS t(g int, x text);

-- cancel
SELECT dblink_send_query('a', 'SELECT pg_sleep(30)');
SELECT async_wait_active('async_a');
SELECT dblink_is_busy('a');
SELECT dblink_cancel_query('a');
SELECT * FROM dblink_get_result('a', false) AS t(a text);
SELECT * FROM dblink_get_result('a') AS t(a text);
SELECT dblink_error_message('a');
SELECT * FROM dblink('a', 'SELECT 7') AS t(a int);

-- notifications
SELECT dblink_connect('dbname=contrib_regression application_name=async_u');
SELECT * FROM dblink_get_notify();
SELECT * FROM dblink_get_notify('a');
SELECT dblink_exec('a', 'LISTEN async_chan');
SELECT dblink_exec('a', 'LISTEN "other chan"');
SELECT dblink_exec('a', $$NOTIFY async_chan, 'from self'$$);
SELECT dblink_exec($$NOTIFY async_chan, 'from unnamed'$$);
SELECT dblink_exec($$NOTIFY "other chan"$$);
NOTIFY async_chan, 'from local';
SELECT dblink_exec($$SELECT pg_notify('async_chan', 'via pg_notify')$$);
-- a round trip on a: the remote sends what it was notified of before it
-- answers, so what follows does not race the notifying commits
SELECT * FROM dblink('a', 'SELECT 1') AS t(a int);
SELECT notify_name, extra,
	   be_pid = (SELECT p FROM dblink('a', 'SELECT pg_backend_pid()') AS t(p int)) AS self,
	   be_pid = (SELECT p FROM dblink('SELECT pg_backend_pid()') AS t(p int)) AS unnamed,
	   be_pid = pg_backend_pid() AS local
  FROM dblink_get_notify('a');
SELECT * FROM dblink_get_notify('a');
-- notifications that arrive during other dblink calls are kept
SELECT dblink_exec($$NOTIFY async_chan, 'one'$$);
SELECT * FROM dblink('a', 'SELECT 1') AS t(a int);
SELECT dblink_exec($$NOTIFY async_chan, 'two'$$);
-- a round trip on a: the remote sends what it was notified of before it
-- answers, so what follows does not race the notifying commits
SELECT * FROM dblink('a', 'SELECT 1') AS t(a int);
SELECT notify_name, extra FROM dblink_get_notify('a');
-- the unnamed connection's own notifications
SELECT dblink_exec('LISTEN unnamed_chan');
SELECT dblink_exec('NOTIFY unnamed_chan');
SELECT notify_name, extra FROM dblink_get_notify();
SELECT * FROM dblink_get_notify('a');
-- column names and types
SELECT * FROM dblink_get_notify() LIMIT 0;
SELECT dblink_exec('a', 'UNLISTEN *');

-- disconnecting with a query pending
SELECT dblink_send_query('a', 'SELECT pg_sleep(2)');
SELECT dblink_disconnect('a');
SELECT dblink_is_busy('a');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_disconnect();

-- libpq's error text after synchronous calls
SELECT dblink_connect('k', 'dbname=contrib_regression application_name=async_k');
SELECT * FROM dblink('k', 'SELECT 1/0', false) AS t(a int);
SELECT dblink_error_message('k');
SELECT dblink_exec('k', 'SELEC 1', false);
SELECT dblink_error_message('k');
SELECT dblink_open('k', 'c', 'SELECT nosuch', false);
SELECT dblink_error_message('k');
SELECT dblink_exec('k', 'ROLLBACK');
SELECT dblink_error_message('k');
SELECT * FROM dblink('k', 'SELECT f FROM (SELECT 1) s WHERE (SELECT x FROM generate_series(1, 1) x WHERE 1 / 0 = 1) = 1', false) AS t(a text);
SELECT dblink_error_message('k');
CREATE FUNCTION async_f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT nosuch FROM pg_class LIMIT 1); END $$;
SELECT * FROM dblink('k', 'SELECT async_f()', false) AS t(a int);
SELECT dblink_error_message('k');
DROP FUNCTION async_f();

-- a lost connection: after the first failure every call knows
SELECT pg_terminate_backend(pid) IS NOT NULL AS terminated FROM pg_stat_activity WHERE application_name = 'async_k';
DO $$
BEGIN
	WHILE EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'async_k') LOOP
		PERFORM pg_sleep(0.01);
		PERFORM pg_stat_clear_snapshot();
	END LOOP;
END $$;
DO $$
BEGIN
	PERFORM dblink_open('k', 'c', 'SELECT 1');
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE 'first call failed: %', SQLSTATE;
END $$;
SELECT dblink_open('k', 'c', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_error_message('k');
SELECT dblink_send_query('k', 'SELECT 1');
SELECT dblink_cancel_query('k');
SELECT dblink_is_busy('k');
SELECT * FROM dblink_get_result('k') AS t(a int);
SELECT * FROM dblink_get_notify('k');
SELECT dblink_error_message('k');
SELECT * FROM dblink_fetch('k', 'c', 1) AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_close('k', 'c', false);
SELECT * FROM dblink('k', 'SELECT 1') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('k', 'SELECT 1', false) AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('k', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_disconnect('k');

DROP FUNCTION async_wait(text);
DROP FUNCTION async_wait_active(text);
