-- Behaviors PostgreSQL's own dblink test exercises that the other files of
-- this suite did not: DateStyle/IntervalStyle mimicry on the asynchronous
-- and cursor paths, a conversion error half-way through a cursor, several
-- asynchronous connections read in one statement, a cancel right after a
-- send, and dblink_connect_u through a server whose PUBLIC mapping names
-- only a user.  Every connection goes to this cluster itself.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set VERBOSITY default

CREATE TABLE uc_items (id int PRIMARY KEY, label text);
INSERT INTO uc_items SELECT g, 'item ' || g FROM generate_series(1, 9) g;

-- remote settings are followed on every path that converts rows
SET datestyle = ISO, MDY;
SET intervalstyle = postgres;
SET timezone = UTC;
SELECT dblink_connect('uc', 'dbname=contrib_regression');
SELECT dblink_exec('uc', 'SET datestyle = German, DMY');

-- dblink_get_result: one row, then the empty set that ends the query
SELECT dblink_send_query('uc', $$SELECT '05.06.2020 10:00:00+00'::text$$);
SELECT * FROM dblink_get_result('uc') AS t(ts timestamptz);
SELECT * FROM dblink_get_result('uc') AS t(ts timestamptz);
-- the same, read in one statement
SELECT dblink_send_query('uc', $$SELECT '05.06.2020 10:00:00+00' UNION ALL SELECT '07.06.2020 11:00:00+00'$$);
CREATE TEMP TABLE uc_ts AS
  SELECT * FROM dblink_get_result('uc') AS t(ts timestamptz)
  UNION ALL
  SELECT * FROM dblink_get_result('uc') AS t(ts timestamptz);
SELECT * FROM uc_ts ORDER BY ts;
DROP TABLE uc_ts;

-- dblink_fetch follows the remote style too
SELECT dblink_open('uc', 'uc_cur', $$SELECT '05.06.2020'::text AS d UNION ALL SELECT '31.12.2021'$$);
SELECT * FROM dblink_fetch('uc', 'uc_cur', 5) AS t(d date);
SELECT dblink_close('uc', 'uc_cur');

-- an interval that reads differently in sql_standard and postgres styles
SELECT dblink_exec('uc', 'SET intervalstyle = sql_standard');
SELECT * FROM dblink('uc', $$SELECT '-2 3:04:05'::text$$) AS t(i interval);
SELECT * FROM dblink_fetch('uc', 'nosuch', 1, false) AS t(i interval);
SELECT dblink_exec('uc', 'ABORT');

-- a change of the remote style between two statements is seen
CREATE TEMP TABLE uc_days (d date);
SELECT dblink_exec('uc', 'SET datestyle = ISO, MDY');
INSERT INTO uc_days SELECT * FROM dblink('uc', $$SELECT '02.03.2022'$$) AS t(d date);
SELECT dblink_exec('uc', 'SET datestyle = German, DMY');
INSERT INTO uc_days SELECT * FROM dblink('uc', $$SELECT '02.03.2022'$$) AS t(d date);
SELECT * FROM uc_days ORDER BY d;
DROP TABLE uc_days;

-- a conversion error on the second fetch of a cursor; the first one worked
SELECT dblink_open('uc', 'uc_bad', $$SELECT x FROM (VALUES ('7'), ('seven')) v(x)$$);
SELECT * FROM dblink_fetch('uc', 'uc_bad', 1) AS t(n int);
SELECT * FROM dblink_fetch('uc', 'uc_bad', 1) AS t(n int);
\echo :LAST_ERROR_SQLSTATE
-- the same error through the asynchronous path
SELECT dblink_send_query('uc', $$SELECT x FROM (VALUES ('8'), ('eight')) v(x)$$);
SELECT * FROM dblink_get_result('uc') AS t(n int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink_get_result('uc') AS t(n int);
-- and none of it changed the local settings
SHOW datestyle;
SHOW intervalstyle;
SELECT dblink_exec('uc', 'ABORT');
SELECT dblink_disconnect('uc');
RESET datestyle;
RESET intervalstyle;
RESET timezone;

-- three connections with a query each in flight, read in one statement
SELECT dblink_connect('uc1', 'dbname=contrib_regression');
SELECT dblink_connect('uc2', 'dbname=contrib_regression');
SELECT dblink_connect('uc3', 'dbname=contrib_regression');
SELECT dblink_send_query('uc1', 'SELECT id, label FROM uc_items WHERE id <= 3');
SELECT dblink_send_query('uc2', 'SELECT id, label FROM uc_items WHERE id BETWEEN 4 AND 6');
SELECT dblink_send_query('uc3', 'SELECT id, label FROM uc_items WHERE id >= 7');
CREATE TEMP TABLE uc_all AS
  SELECT * FROM dblink_get_result('uc1') AS t(id int, label text)
  UNION
  SELECT * FROM dblink_get_result('uc2') AS t(id int, label text)
  UNION
  SELECT * FROM dblink_get_result('uc3') AS t(id int, label text);
SELECT array(SELECT unnest(dblink_get_connections()) ORDER BY 1);
-- each query's rows were read; nothing is left in flight
SELECT dblink_is_busy('uc1'), dblink_is_busy('uc2'), dblink_is_busy('uc3');
SELECT * FROM uc_all ORDER BY id;
DROP TABLE uc_all;
SELECT dblink_disconnect('uc1');
SELECT dblink_disconnect('uc2');
SELECT dblink_disconnect('uc3');

-- a cancel sent at once after the query: delivered, and no error text yet
SELECT dblink_connect('uc1', 'dbname=contrib_regression');
SELECT dblink_send_query('uc1', 'SELECT id FROM uc_items');
SELECT dblink_cancel_query('uc1');
SELECT dblink_error_message('uc1');
SELECT dblink_disconnect('uc1');

-- a server with only dbname, a PUBLIC mapping with only a user: a
-- non-superuser is refused by dblink_connect (no password) but can use
-- dblink_connect_u, which runs as its superuser owner
CREATE ROLE regress_uc_user;
CREATE SERVER regress_uc_srv FOREIGN DATA WRAPPER dblink_fdw
  OPTIONS (dbname 'contrib_regression');
CREATE USER MAPPING FOR PUBLIC SERVER regress_uc_srv OPTIONS (host 'localhost');
CREATE USER MAPPING FOR PUBLIC SERVER regress_uc_srv OPTIONS (user 'postgres');
GRANT USAGE ON FOREIGN SERVER regress_uc_srv TO regress_uc_user;
GRANT EXECUTE ON FUNCTION dblink_connect_u(text, text) TO regress_uc_user;
SET SESSION AUTHORIZATION regress_uc_user;
SELECT dblink_connect('uc_srv', 'regress_uc_srv');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_connect_u('uc_srv', 'regress_uc_srv');
SELECT * FROM dblink('uc_srv', 'SELECT current_user, count(*) FROM uc_items') AS t(u name, n bigint);
SELECT dblink_disconnect('uc_srv');
RESET SESSION AUTHORIZATION;
REVOKE EXECUTE ON FUNCTION dblink_connect_u(text, text) FROM regress_uc_user;
DROP USER MAPPING FOR PUBLIC SERVER regress_uc_srv;
DROP SERVER regress_uc_srv;
DROP ROLE regress_uc_user;

DROP TABLE uc_items;
SELECT dblink_get_connections();
