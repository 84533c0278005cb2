-- Version 1.3 (opt-in) and the library's settings.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set VERBOSITY default

-- CREATE EXTENSION makes 1.2, contrib's objects exactly; 1.3 is an update
SELECT extversion FROM pg_extension WHERE extname = 'dblink';
SELECT count(*) FROM pg_proc WHERE proname = 'dblink_connections';
ALTER EXTENSION dblink UPDATE TO '1.3';
SELECT extversion FROM pg_extension WHERE extname = 'dblink';
DROP EXTENSION dblink;
CREATE EXTENSION dblink VERSION '1.3';
SELECT extversion FROM pg_extension WHERE extname = 'dblink';
SELECT pg_get_function_result('dblink_connections'::regproc);

-- no connection: no row
SELECT * FROM dblink_connections();

-- what a fresh connection shows (the changing values as facts about them)
CREATE SERVER regress_v13 FOREIGN DATA WRAPPER dblink_fdw OPTIONS (dbname 'contrib_regression');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_v13;
SELECT dblink_connect('v', 'regress_v13');
SELECT dblink_connect('dbname=contrib_regression');
SELECT name, server, host IS NOT NULL AS host, port > 0 AS port, dbname, "user" = current_user AS "user",
       remote_pid > 0 AS pid, server_version = current_setting('server_version') AS version, ssl,
       status, transaction, busy, open_cursors, opened_at <= now() AS opened,
       last_used_at IS NULL AS unused, queries, bytes_sent > 0 AS sent, bytes_received > 0 AS received,
       last_error
  FROM dblink_connections();
-- the remote backend it names is the one that runs its queries
SELECT remote_pid = (SELECT p FROM dblink('v', 'SELECT pg_backend_pid()') AS t(p int))
  FROM dblink_connections() WHERE name = 'v';

-- after BEGIN on the remote, and with a query sent
SELECT dblink_exec('v', 'BEGIN');
SELECT name, transaction, busy, queries, last_used_at >= opened_at AS used FROM dblink_connections();
SELECT dblink_send_query('v', 'SELECT 1');
SELECT name, transaction IN ('active', 'in transaction') AS tx, busy FROM dblink_connections();
SELECT * FROM dblink_get_result('v') AS t(a int);
SELECT * FROM dblink_get_result('v') AS t(a int);
SELECT name, transaction, busy FROM dblink_connections();
SELECT dblink_exec('v', 'COMMIT');

-- cursors
SELECT dblink_open('v', 'c1', 'SELECT 1');
SELECT dblink_open('v', 'c2', 'SELECT 2');
SELECT name, transaction, open_cursors FROM dblink_connections();
SELECT dblink_close('v', 'c1');
SELECT name, transaction, open_cursors FROM dblink_connections();
SELECT dblink_close('v', 'c2');
SELECT name, transaction, open_cursors FROM dblink_connections();

-- a remote error is remembered; a failure that breaks the connection
-- makes it bad
SELECT * FROM dblink('v', 'SELECT 1/0', false) AS t(a int);
SELECT name, status, last_error FROM dblink_connections() WHERE name = 'v';
SELECT * FROM dblink('v', 'SELECT pg_terminate_backend(pg_backend_pid())') AS t(a bool);
SELECT name, status FROM dblink_connections() WHERE name = 'v';
SELECT dblink_disconnect('v');
SELECT dblink_disconnect();
SELECT * FROM dblink_connections();

-- settings
SHOW dblink.connect_timeout;
SHOW dblink.remote_notices;
SET dblink.connect_timeout = '1min';
SHOW dblink.connect_timeout;
SET dblink.connect_timeout = -1;
SET dblink.remote_notices = loud;
SET dblink.no_such_setting = 1;
RESET dblink.connect_timeout;

-- relay: a remote NOTICE in this session, with a line naming the connection
\set SHOW_CONTEXT always
SET dblink.remote_notices = relay;
SELECT dblink_connect('n', 'dbname=contrib_regression');
SELECT * FROM dblink('n', $q$DO $d$ BEGIN RAISE NOTICE 'remote says hi' USING HINT = 'relayed'; RAISE WARNING 'remote warns'; END $d$$q$) AS t(s text);
SELECT dblink_exec('dbname=contrib_regression', $q$DO $d$ BEGIN RAISE NOTICE 'from a transient connection'; END $d$$q$);
SET dblink.remote_notices = ignore;
SELECT dblink_exec('n', $q$DO $d$ BEGIN RAISE NOTICE 'nobody hears this'; END $d$$q$);
RESET dblink.remote_notices;
SELECT dblink_exec('n', $q$DO $d$ BEGIN RAISE NOTICE 'to the server log'; END $d$$q$);
SELECT dblink_disconnect('n');
\set SHOW_CONTEXT errors

DROP USER MAPPING FOR CURRENT_USER SERVER regress_v13;
DROP SERVER regress_v13;
