-- Connection registry: dblink_connect, dblink_connect_u, dblink_disconnect,
-- dblink_get_connections; names; connection failures.
-- Every connection goes to this cluster itself (dbname=contrib_regression;
-- the postmaster's PGHOST/PGPORT make that work).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set VERBOSITY default

-- the documentation's example
SELECT dblink_connect('dbname=contrib_regression options=-csearch_path=');
SELECT * FROM dblink('SELECT current_database(), current_setting(''search_path'')')
  AS t(db name, sp text);
-- the unnamed connection is not listed
SELECT dblink_get_connections();
SELECT dblink_connect('myconn', 'dbname=contrib_regression options=-csearch_path=');
SELECT dblink_get_connections();
SELECT * FROM dblink('myconn', 'SELECT 42') AS t(a int);
SELECT dblink_disconnect('myconn');
SELECT dblink_get_connections();
SELECT dblink_disconnect();

-- nothing to disconnect
SELECT dblink_disconnect();
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_disconnect('myconn');
\echo :LAST_ERROR_SQLSTATE
-- a disconnected name is gone for queries too
SELECT * FROM dblink('myconn', 'SELECT 1') AS t(a int);
\echo :LAST_ERROR_SQLSTATE

-- the unnamed connection is replaced by the next dblink_connect(text)
SELECT dblink_connect('dbname=contrib_regression application_name=first');
SELECT * FROM dblink('SHOW application_name') AS t(a text);
SELECT dblink_connect('dbname=contrib_regression application_name=second');
SELECT * FROM dblink('SHOW application_name') AS t(a text);
-- a failed replacement keeps the old connection
SELECT dblink_connect('dbname=contrib_regression application_name=third port=abc');
SELECT * FROM dblink('SHOW application_name') AS t(a text);
SELECT dblink_get_connections();
SELECT dblink_disconnect();

-- duplicate names
SELECT dblink_connect('dup', 'dbname=contrib_regression');
SELECT dblink_connect('dup', 'dbname=contrib_regression');
\echo :LAST_ERROR_SQLSTATE
-- the name is checked before the string is parsed or a connection attempted
SELECT dblink_connect('dup', 'this is not a connection string');
\echo :LAST_ERROR_SQLSTATE
-- a named and the unnamed connection are independent
SELECT dblink_connect('dbname=contrib_regression');
SELECT dblink_get_connections();
SELECT dblink_disconnect();
SELECT dblink_get_connections();
SELECT dblink_disconnect('dup');

-- the registry is not transactional
BEGIN;
SELECT dblink_connect('txconn', 'dbname=contrib_regression');
ROLLBACK;
SELECT dblink_get_connections();
BEGIN;
SELECT dblink_disconnect('txconn');
ROLLBACK;
SELECT dblink_get_connections();

-- dblink_connect_u, as superuser
SELECT dblink_connect_u('dbname=contrib_regression application_name=u_unnamed');
SELECT * FROM dblink('SHOW application_name') AS t(a text);
SELECT dblink_connect_u('uconn', 'dbname=contrib_regression application_name=u_named');
SELECT * FROM dblink('uconn', 'SHOW application_name') AS t(a text);
SELECT dblink_get_connections();
SELECT dblink_connect_u('uconn', 'dbname=contrib_regression');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_disconnect('uconn');
SELECT dblink_disconnect();

-- other spellings of a connection string
SELECT dblink_connect('s1', '  dbname = contrib_regression   application_name = ''it\''s a \\ name''  ');
SELECT * FROM dblink('s1', 'SHOW application_name') AS t(a text);
SELECT dblink_connect('s2', 'postgresql:///contrib_regression?application_name=from%20uri');
SELECT * FROM dblink('s2', 'SHOW application_name') AS t(a text);
SELECT array(SELECT unnest(dblink_get_connections()) ORDER BY 1);
SELECT dblink_disconnect('s1');
SELECT dblink_disconnect('s2');

-- names: anything goes, no trimming, no case folding
SELECT dblink_connect('a=b', 'dbname=contrib_regression application_name=equals');
SELECT dblink_get_connections();
-- an open name wins over parsing the argument as a connection string
SELECT * FROM dblink('a=b', 'SHOW application_name') AS t(a text);
SELECT dblink_exec('a=b', 'SET application_name = equals2');
SELECT * FROM dblink('a=b', 'SHOW application_name') AS t(a text);
SELECT dblink_disconnect('a=b');

SELECT dblink_connect(' my conn ', 'dbname=contrib_regression');
SELECT dblink_get_connections();
SELECT dblink_disconnect('my conn');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_disconnect(' my conn ');

SELECT dblink_connect('it''s "quoted"', 'dbname=contrib_regression');
SELECT dblink_get_connections();
SELECT * FROM dblink('it''s "quoted"', 'SELECT 1') AS t(a int);
SELECT dblink_disconnect('it''s "quoted"');

SELECT dblink_connect('verbindung_ü_接続', 'dbname=contrib_regression');
SELECT dblink_get_connections();
SELECT dblink_disconnect('verbindung_ü_接続');

SELECT dblink_connect('', 'dbname=contrib_regression');
SELECT dblink_get_connections();
SELECT * FROM dblink('', 'SELECT ''empty name''') AS t(a text);
SELECT dblink_disconnect('');
SELECT dblink_get_connections();

SELECT dblink_connect('MyConn', 'dbname=contrib_regression');
SELECT dblink_disconnect('myconn');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_disconnect('MyConn');

-- 70 characters: NOTICE, stored truncated to 63 bytes; lookups truncate silently
SELECT dblink_connect('c23456789_123456789_123456789_123456789_123456789_123456789_123456789',
                      'dbname=contrib_regression');
SELECT dblink_get_connections();
SELECT length((dblink_get_connections())[1]);
SELECT * FROM dblink('c23456789_123456789_123456789_123456789_123456789_123456789_123456789',
                     'SELECT ''long name''') AS t(a text);
SELECT * FROM dblink('c23456789_123456789_123456789_123456789_123456789_123456789_123xxxxxx',
                     'SELECT ''same first 63''') AS t(a text);
SELECT dblink_disconnect('c23456789_123456789_123456789_123456789_123456789_123456789_123');
SELECT dblink_get_connections();
-- a failing connection is reported before the name is looked at: no NOTICE
SELECT dblink_connect('c23456789_123456789_123456789_123456789_123456789_123456789_123456789',
                      'port=abc');
-- truncation happens on a character boundary (62 ASCII + a 2-byte character)
SELECT dblink_connect(repeat('x', 62) || 'é', 'dbname=contrib_regression');
SELECT octet_length((dblink_get_connections())[1]), (dblink_get_connections())[1] = repeat('x', 62);
SELECT dblink_disconnect(repeat('x', 62) || 'é');
SELECT dblink_get_connections();

-- NULL arguments: STRICT, so NULL and no side effect
SELECT dblink_connect(NULL);
SELECT dblink_connect(NULL, 'dbname=contrib_regression');
SELECT dblink_connect('nullconn', NULL);
SELECT dblink_connect_u(NULL);
SELECT dblink_connect_u(NULL, 'dbname=contrib_regression');
SELECT dblink_connect_u('nullconn', NULL);
SELECT dblink_disconnect(NULL);
SELECT dblink_get_connections();
SELECT dblink_disconnect();
\echo :LAST_ERROR_SQLSTATE

-- connection failures: [08001] with libpq's message as DETAIL
SELECT dblink_connect('bareword');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_connect('fail', 'bareword');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_connect('dbname=contrib_regression nosuchkey=1');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_connect('fail', 'dbname=''contrib_regression');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_connect('dbname=contrib_regression port=abc');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_connect('fail', 'dbname=contrib_regression port=99999');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_connect('dbname=contrib_regression sslmode=sometimes');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_connect('fail', 'host=/nonexistent port=5 dbname=contrib_regression');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_connect('host=127.0.0.1 port=1 dbname=contrib_regression');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_connect_u('fail', 'host=127.0.0.1 port=1 dbname=contrib_regression');
\echo :LAST_ERROR_SQLSTATE
-- a failed connect leaves no entry
SELECT dblink_get_connections();
SELECT dblink_disconnect();
\echo :LAST_ERROR_SQLSTATE

-- Failures whose DETAIL names this cluster's socket or port: the helper
-- reports them as a NOTICE with those parts masked.
CREATE FUNCTION connect_error(connstr text) RETURNS void
LANGUAGE plpgsql AS $f$
DECLARE
    st text;
    msg text;
    det text;
BEGIN
    PERFORM dblink_connect('failing', connstr);
    RAISE NOTICE 'connected?!';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    det := regexp_replace(det, 'socket "[^"]*"', 'socket "SOCKET"', 'g');
    det := regexp_replace(det, 'port \d+', 'port PORT', 'g');
    RAISE NOTICE '[%] %', st, msg USING DETAIL = det;
END
$f$;
SELECT connect_error('dbname=no_such_database');
SELECT connect_error('dbname=contrib_regression user=no_such_role');
-- over TCP the cluster asks for a password
SELECT connect_error('host=127.0.0.1 dbname=contrib_regression');
SELECT connect_error('host=127.0.0.1 dbname=contrib_regression password=wrong');
SELECT connect_error('dbname=contrib_regression connect_timeout=abc');
-- connect_timeout: while this transaction holds pg_database exclusively, a new
-- backend cannot start, so the connection attempt times out (libpq's minimum
-- is 2 seconds)
BEGIN;
LOCK TABLE pg_catalog.pg_database IN ACCESS EXCLUSIVE MODE;
SELECT connect_error('dbname=contrib_regression connect_timeout=1');
ROLLBACK;
SELECT dblink_get_connections();
DROP FUNCTION connect_error(text);
