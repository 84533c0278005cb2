-- Safety: what a caller cannot reach, and answers that must not be wrong.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set VERBOSITY default

-- 1. '' is a connection string like any other, never "the unnamed
-- connection": a superuser's unnamed connection stays out of a plain
-- role's reach through dblink('', ...) and dblink_exec('', ...).
CREATE ROLE regress_dblink_plain LOGIN;
SELECT dblink_connect('dbname=contrib_regression');
SET SESSION AUTHORIZATION regress_dblink_plain;
SELECT * FROM dblink('', 'SELECT current_user') AS t(u name);
SELECT * FROM dblink('', 'SELECT current_user', false) AS t(u name);
SELECT dblink_exec('', 'SET work_mem = ''5MB''');
SELECT dblink_exec('', 'SET work_mem = ''5MB''', false);
-- the unnamed connection itself is still there for whoever holds it
SELECT * FROM dblink('SELECT current_user') AS t(u name);
RESET SESSION AUTHORIZATION;
-- as superuser, '' is a transient connection with libpq's defaults (the
-- postmaster's PGHOST/PGPORT), not the unnamed connection
SELECT * FROM dblink('', 'SELECT current_setting(''work_mem'')') AS t(w text);
SELECT dblink_exec('SET work_mem = ''7MB''');
SELECT * FROM dblink('', 'SHOW work_mem') AS t(w text);
SELECT * FROM dblink('SHOW work_mem') AS t(w text);
SELECT dblink_disconnect();
DROP ROLE regress_dblink_plain;

-- 2. every result is read with the DateStyle and IntervalStyle the remote
-- server produced it in (contrib reads all of them with the style in force
-- when the query began, and returns 2020-02-01 here)
SET DateStyle = 'ISO, MDY';
SET IntervalStyle = 'postgres';
SELECT dblink_connect('ds', 'dbname=contrib_regression');
SELECT * FROM dblink('ds', $q$SELECT '2020-01-02'::date; SET DateStyle = 'SQL, DMY'; SELECT '2020-01-02'::date$q$) AS t(d date);
-- and back, in one string
SELECT * FROM dblink('ds', $q$SELECT '2020-01-02'::date; SET DateStyle = 'ISO, MDY'; SELECT '2020-01-02'::date$q$) AS t(d date);
-- sql_standard writes '-1 day -2 hours' as '-1 2:00:00', which the
-- postgres style reads as '-1 days +02:00:00'
SELECT * FROM dblink('ds', $q$SET IntervalStyle = 'sql_standard'; SELECT '-1 day -2 hours'::interval$q$) AS t(i interval);
SELECT * FROM dblink('ds', $q$SET IntervalStyle = 'postgres'; SELECT '-1 day -2 hours'::interval$q$) AS t(i interval);
-- the local settings are left as they were, also inside a transaction
SHOW DateStyle;
SHOW IntervalStyle;
BEGIN;
SELECT * FROM dblink('ds', $q$SET DateStyle = 'SQL, DMY'; SELECT '2020-01-02'::date$q$) AS t(d date);
SHOW DateStyle;
COMMIT;
SHOW DateStyle;
SELECT * FROM dblink('ds', 'SELECT ''2020-01-02''::date') AS t(d date);
SELECT dblink_disconnect('ds');
RESET DateStyle;
RESET IntervalStyle;
