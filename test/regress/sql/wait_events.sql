-- Wait events of PostgreSQL 17 and later (run by test/matrix.sh for majors
-- >= 17 only; 15 and 16 have no custom wait events): the names contrib
-- dblink registers, in pg_wait_events, and what pg_stat_activity shows
-- while a dblink call connects or awaits a result.  A second connection
-- watches this backend from the remote side; every connection goes to this
-- cluster itself.  post_auth_delay (settable in a connection's options)
-- keeps a connect waiting for a second.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set VERBOSITY default

-- the wait of backend p as type:name, once it is ev (or the last seen
-- after 10 s)
CREATE FUNCTION wait_seen(p int, ev text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	w text;
BEGIN
	FOR i IN 1..1000 LOOP
		PERFORM pg_stat_clear_snapshot();
		SELECT wait_event_type || ':' || wait_event INTO w
		  FROM pg_stat_activity WHERE pid = p;
		IF w = ev THEN
			RETURN w;
		END IF;
		PERFORM pg_sleep(0.01);
	END LOOP;
	RETURN coalesce(w, 'no wait');
END $$;
-- start watching this backend for ev on the connection watcher
CREATE FUNCTION watch(ev text) RETURNS int LANGUAGE sql AS $$
	SELECT dblink_send_query('watcher',
		format('SELECT wait_seen(%s, %L)', pg_backend_pid(), ev))
$$;
-- what the watcher saw (its result, then the end of its results)
CREATE FUNCTION seen() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r text;
BEGIN
	SELECT w INTO r FROM dblink_get_result('watcher') AS t(w text);
	PERFORM * FROM dblink_get_result('watcher') AS t(w text);
	RETURN r;
END $$;

SELECT dblink_connect('watcher', 'dbname=contrib_regression');

-- after a connect and a call with a connection string of its own, the
-- three names are registered
SELECT dblink_connect('dbname=contrib_regression');
SELECT * FROM dblink('dbname=contrib_regression', 'SELECT 1') AS t(a int);
SELECT type, name FROM pg_wait_events WHERE name LIKE 'Dblink%' ORDER BY name;

-- dblink_connect() waits for its connection: DblinkConnect
SELECT watch('Extension:DblinkConnect');
SELECT dblink_connect('slow', 'dbname=contrib_regression options=''-c post_auth_delay=1''');
SELECT seen();

-- a call that connects for a connection string: DblinkGetConnect
SELECT watch('Extension:DblinkGetConnect');
SELECT * FROM dblink('dbname=contrib_regression options=''-c post_auth_delay=1''',
	'SELECT 1') AS t(a int);
SELECT seen();

-- a query waits for its result: DblinkGetResult (named, unnamed, async)
SELECT watch('Extension:DblinkGetResult');
SELECT * FROM dblink('slow', 'SELECT pg_sleep(1)') AS t(a text);
SELECT seen();
SELECT watch('Extension:DblinkGetResult');
SELECT dblink_exec('DO $d$BEGIN PERFORM pg_sleep(1); END$d$');
SELECT seen();
SELECT dblink_send_query('slow', 'SELECT pg_sleep(1)');
SELECT watch('Extension:DblinkGetResult');
SELECT * FROM dblink_get_result('slow') AS t(a text);
SELECT * FROM dblink_get_result('slow') AS t(a text);
SELECT seen();

SELECT dblink_disconnect('slow');
SELECT dblink_disconnect('watcher');
SELECT dblink_disconnect();
DROP FUNCTION seen();
DROP FUNCTION watch(text);
DROP FUNCTION wait_seen(int, text);
