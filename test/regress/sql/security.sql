-- Foreign servers, user mappings and the non-superuser password rules.
-- Every connection goes to this cluster itself: over the unix socket
-- (the postmaster's PGHOST/PGPORT; trust) or over 127.0.0.1 (scram-sha-256).
-- The port differs per run: it is read into :port and never printed; DETAILs
-- that name it go through regress_try(), which masks it.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set VERBOSITY default

SELECT setting AS port FROM pg_settings WHERE name = 'port' \gset
SELECT setting AS sock FROM pg_settings WHERE name = 'unix_socket_directories' \gset

-- regress_try(sql): run sql; 'OK', or the error as lines SQLSTATE: message,
-- DETAIL (port and socket masked), HINT.  SECURITY INVOKER: runs as the
-- current user.
CREATE FUNCTION regress_try(sql text) RETURNS SETOF text
LANGUAGE plpgsql AS $f$
DECLARE
    st text;
    msg text;
    det text;
    hnt text;
BEGIN
    EXECUTE sql;
    RETURN NEXT 'OK';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
        det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
    RETURN NEXT st || ': ' || msg;
    IF det <> '' THEN
        det := regexp_replace(det, 'socket "[^"]*"', 'socket "SOCKET"', 'g');
        det := regexp_replace(det, 'port \d+', 'port PORT', 'g');
        RETURN NEXT 'DETAIL: ' || det;
    END IF;
    IF hnt <> '' THEN
        RETURN NEXT 'HINT: ' || hnt;
    END IF;
END
$f$;

-- roles: one with a password in its user mapping, one with an awkward
-- password, one that is set up step by step
CREATE ROLE regress_dblink_user LOGIN PASSWORD 'secret';
CREATE ROLE regress_dblink_user2 LOGIN PASSWORD 'a b''c\d';
CREATE ROLE regress_dblink_user3 LOGIN PASSWORD 'secret3';

CREATE TABLE foo(a int, b text, c text[]);
INSERT INTO foo VALUES (0,'a','{"a0","b0","c0"}');
INSERT INTO foo VALUES (1,'b','{"a1","b1","c1"}');
INSERT INTO foo VALUES (2,'c','{"a2","b2","c2"}');
GRANT SELECT ON foo TO regress_dblink_user, regress_dblink_user2, regress_dblink_user3;

-- the documentation's example
CREATE SERVER fdtest FOREIGN DATA WRAPPER dblink_fdw
  OPTIONS (host '127.0.0.1', port :'port', dbname 'contrib_regression');
CREATE USER MAPPING FOR regress_dblink_user SERVER fdtest
  OPTIONS (user 'regress_dblink_user', password 'secret');
GRANT USAGE ON FOREIGN SERVER fdtest TO regress_dblink_user;

SET SESSION AUTHORIZATION regress_dblink_user;
SELECT current_user, session_user;
SELECT dblink_connect('myconn', 'fdtest');
SELECT * FROM dblink('myconn', 'SELECT * FROM foo') AS t(a int, b text, c text[]);
SELECT * FROM dblink('myconn', 'SELECT current_user, inet_server_addr() IS NOT NULL')
  AS t(u name, tcp bool);

-- 1. before connecting: the string itself must carry a non-empty password
SELECT dblink_connect('c2', 'dbname=contrib_regression');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_connect('c2', 'host=127.0.0.1 dbname=contrib_regression user=regress_dblink_user');
SELECT dblink_connect('c2', 'dbname=contrib_regression password=');
SELECT dblink_connect('c2', 'dbname=contrib_regression password=''''');
SELECT dblink_connect('c2', 'dbname=contrib_regression passfile=/nonexistent');
-- an unparsable string counts as one without a password
SELECT dblink_connect('c2', 'host=127.0.0.1 password');
SELECT dblink_connect('c2', 'password=secret bogus=1');
SELECT dblink_connect('c2', 'password=''secret');
SELECT dblink_connect('c2', 'PASSWORD=secret dbname=contrib_regression');
-- 16+: require_auth is libpq's and fails with the socket path in DETAIL
\set VERBOSITY terse
SELECT dblink_connect('c2', 'require_auth=password password=secret dbname=contrib_regression');
\set VERBOSITY default
-- the last of repeated keywords counts
SELECT dblink_connect('c2', 'password=secret dbname=contrib_regression password=');
-- other secrets are not the password
SELECT dblink_connect('c2', 'sslpassword=secret dbname=contrib_regression');
-- a service, .pgpass or the environment could supply one: they do not count
SELECT dblink_connect('c2', 'service=regress_nonexistent dbname=contrib_regression');
SELECT * FROM regress_try($$SELECT dblink_connect('c2', 'service=regress_nonexistent password=secret')$$);
-- a dbname is not expanded as a connection string
SELECT dblink_connect('c2', 'dbname=''host=127.0.0.1 user=regress_dblink_user password=secret dbname=contrib_regression''');
SELECT dblink_connect('c2', 'dbname=''postgresql://regress_dblink_user:secret@127.0.0.1/contrib_regression''');
-- the password check comes before the duplicate-name check
SELECT dblink_connect('myconn', 'dbname=contrib_regression');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_connect('myconn', 'fdtest');
\echo :LAST_ERROR_SQLSTATE

-- 2. after connecting: the server must have asked for the password (the
-- unix socket is trust)
SELECT dblink_connect('c2', 'dbname=contrib_regression user=regress_dblink_user password=secret');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_connect('c2', 'dbname=contrib_regression user=regress_dblink_user password=wrong');
SELECT dblink_connect('dbname=contrib_regression password=secret');
-- nothing was registered
SELECT dblink_get_connections();

-- a wrong password over TCP is a connection failure
SELECT * FROM regress_try($$SELECT dblink_connect('c2',
  'host=127.0.0.1 dbname=contrib_regression user=regress_dblink_user password=wrong')$$);
SELECT * FROM regress_try($$SELECT dblink_connect('c2',
  'host=127.0.0.1 dbname=contrib_regression user=regress_dblink_user3 password=secret')$$);
-- the right one connects
SELECT dblink_connect('c2', 'host=127.0.0.1 dbname=contrib_regression user=regress_dblink_user password=secret');
SELECT dblink_connect('c3', 'host = 127.0.0.1  dbname = contrib_regression user = regress_dblink_user password = ''secret''');
SELECT * FROM dblink('c2', 'SELECT current_user') AS t(u name);
SELECT * FROM dblink('c3', 'SELECT count(*) FROM foo') AS t(n bigint);
SELECT dblink_disconnect('c2');
SELECT dblink_disconnect('c3');

-- several hosts: what counts is the host finally connected to
-- (:sock is the unix socket directory: trust)
SELECT * FROM regress_try($$SELECT dblink_connect('m1',
  'host=127.0.0.1,$$ || :'sock' || $$ dbname=contrib_regression user=regress_dblink_user password=wrong')$$);
SELECT * FROM regress_try($$SELECT dblink_connect('m1',
  'host=$$ || :'sock' || $$,127.0.0.1 dbname=contrib_regression user=regress_dblink_user password=secret')$$);
SELECT * FROM regress_try($$SELECT dblink_connect('m1',
  'host=127.0.0.1,$$ || :'sock' || $$ dbname=contrib_regression user=regress_dblink_user password=secret')$$);
SELECT * FROM dblink('m1', 'SELECT current_user, inet_server_addr() IS NOT NULL') AS t(u name, tcp bool);
SELECT dblink_disconnect('m1');
SELECT * FROM regress_try($$SELECT dblink_connect('m1',
  'host=/nonexistent,127.0.0.1 dbname=contrib_regression user=regress_dblink_user password=secret')$$);
SELECT * FROM dblink('m1', 'SELECT current_user, inet_server_addr() IS NOT NULL') AS t(u name, tcp bool);
SELECT dblink_disconnect('m1');
SELECT * FROM regress_try($$SELECT dblink_connect('m1',
  'host=127.0.0.1,$$ || :'sock' || $$ dbname=contrib_regression user=regress_dblink_user3 password=secret target_session_attrs=read-write')$$);
SELECT * FROM regress_try($$SELECT dblink_connect('m1',
  'host=127.0.0.1,127.0.0.1 port=1,$$ || :'port' || $$ dbname=contrib_regression user=regress_dblink_user password=secret')$$);
SELECT * FROM dblink('m1', 'SELECT current_user') AS t(u name);
SELECT dblink_disconnect('m1');
SELECT dblink_get_connections();

-- the unnamed connection: a failed replacement keeps the old one
SELECT dblink_connect('fdtest');
SELECT * FROM dblink('SELECT a FROM foo ORDER BY a LIMIT 1') AS t(a int);
SELECT dblink_connect('dbname=contrib_regression');
SELECT dblink_connect('dbname=contrib_regression user=regress_dblink_user password=secret');
SELECT * FROM dblink('SELECT a FROM foo ORDER BY a DESC LIMIT 1') AS t(a int);
SELECT dblink_disconnect();

-- 3. transient connections in dblink() and dblink_exec(): same rules
SELECT * FROM dblink('dbname=contrib_regression', 'SELECT 1') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('dbname=contrib_regression user=regress_dblink_user password=secret',
  'SELECT 1') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('host=127.0.0.1 dbname=contrib_regression user=regress_dblink_user password=secret',
  'SELECT current_user, count(*) FROM foo GROUP BY 1') AS t(u name, n bigint);
SELECT * FROM regress_try($$SELECT * FROM dblink('host=127.0.0.1 dbname=contrib_regression user=regress_dblink_user password=wrong',
  'SELECT 1') AS t(a int)$$);
SELECT * FROM dblink('fdtest', 'SELECT b FROM foo ORDER BY a') AS t(b text);
SELECT dblink_exec('dbname=contrib_regression', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('dbname=contrib_regression user=regress_dblink_user password=secret', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('host=127.0.0.1 dbname=contrib_regression user=regress_dblink_user password=secret',
  'SET application_name = x');
SELECT dblink_exec('fdtest', 'SET work_mem = ''1MB''');
SELECT * FROM regress_try($$SELECT dblink_exec('host=127.0.0.1 dbname=contrib_regression user=regress_dblink_user password=wrong',
  'SELECT 1')$$);
-- transient connections are gone afterwards
SELECT dblink_get_connections();

-- 4. URIs
SELECT dblink_connect('u1', 'postgresql://regress_dblink_user:secret@127.0.0.1/contrib_regression');
SELECT dblink_connect('u2', 'postgresql://regress_dblink_user:secret@127.0.0.1:' || :'port' || '/contrib_regression');
SELECT dblink_connect('u3', 'postgres://127.0.0.1/contrib_regression?user=regress_dblink_user&password=secret');
SELECT * FROM dblink('u1', 'SELECT current_user') AS t(u name);
SELECT * FROM dblink('u2', 'SELECT current_user') AS t(u name);
SELECT * FROM dblink('u3', 'SELECT current_user') AS t(u name);
SELECT dblink_disconnect('u1');
SELECT dblink_disconnect('u2');
SELECT dblink_disconnect('u3');
-- no password in the URI
SELECT dblink_connect('u4', 'postgresql://regress_dblink_user@127.0.0.1/contrib_regression');
SELECT dblink_connect('u4', 'postgresql://regress_dblink_user:@127.0.0.1/contrib_regression');
SELECT dblink_connect('u4', 'postgresql://127.0.0.1/contrib_regression?user=regress_dblink_user&password=');
-- a query parameter overrides the userinfo
SELECT dblink_connect('u4', 'postgresql://regress_dblink_user:secret@127.0.0.1/contrib_regression?password=');
-- unparsable URIs
SELECT dblink_connect('u4', 'postgresql://regress_dblink_user:sec%00ret@127.0.0.1/contrib_regression');
SELECT dblink_connect('u4', 'postgresql://regress_dblink_user:secret@127.0.0.1/contrib_regression?bogus=1');
SELECT dblink_connect('u4', 'postgresql://regress_dblink_user:secret@127.0.0.1/contrib_regression?password');
-- a password, but over the socket (trust)
SELECT dblink_connect('u4', 'postgresql:///contrib_regression?user=regress_dblink_user&password=secret');
-- a wrong one
SELECT * FROM regress_try($$SELECT dblink_connect('u4',
  'postgresql://regress_dblink_user:wrong@127.0.0.1:$$ || :'port' || $$/contrib_regression')$$);
SELECT * FROM dblink('postgresql://regress_dblink_user:secret@127.0.0.1/contrib_regression',
  'SELECT 7') AS t(a int);
SELECT dblink_get_connections();
RESET SESSION AUTHORIZATION;

-- 5. user mapping and USAGE, step by step: the mapping is looked up first
SET ROLE regress_dblink_user3;
SELECT current_user, session_user;
SELECT dblink_connect('c3', 'fdtest');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('fdtest', 'SELECT 1') AS t(a int);
SELECT dblink_exec('fdtest', 'SELECT 1');
RESET ROLE;
CREATE USER MAPPING FOR regress_dblink_user3 SERVER fdtest
  OPTIONS (user 'regress_dblink_user3');
SET ROLE regress_dblink_user3;
SELECT dblink_connect('c3', 'fdtest');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('fdtest', 'SELECT 1') AS t(a int);
RESET ROLE;
GRANT USAGE ON FOREIGN SERVER fdtest TO regress_dblink_user3;
SET ROLE regress_dblink_user3;
-- a mapping without a password
SELECT dblink_connect('c3', 'fdtest');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('fdtest', 'SELECT 1') AS t(a int);
RESET ROLE;
-- an empty one
ALTER USER MAPPING FOR regress_dblink_user3 SERVER fdtest OPTIONS (ADD password '');
SET ROLE regress_dblink_user3;
SELECT dblink_connect('c3', 'fdtest');
RESET ROLE;
ALTER USER MAPPING FOR regress_dblink_user3 SERVER fdtest OPTIONS (DROP password);
ALTER USER MAPPING FOR regress_dblink_user3 SERVER fdtest OPTIONS (ADD password 'wrong');
SET ROLE regress_dblink_user3;
SELECT * FROM regress_try($$SELECT dblink_connect('c3', 'fdtest')$$);
RESET ROLE;
ALTER USER MAPPING FOR regress_dblink_user3 SERVER fdtest OPTIONS (SET password 'secret3');
SET ROLE regress_dblink_user3;
SELECT dblink_connect('c3', 'fdtest');
SELECT * FROM dblink('c3', 'SELECT current_user, count(*) FROM foo GROUP BY 1') AS t(u name, n bigint);
SELECT dblink_disconnect('c3');
RESET ROLE;
-- without USAGE again, with a mapping
REVOKE USAGE ON FOREIGN SERVER fdtest FROM regress_dblink_user3;
SET ROLE regress_dblink_user3;
SELECT dblink_connect('c3', 'fdtest');
RESET ROLE;
DROP USER MAPPING FOR regress_dblink_user3 SERVER fdtest;

-- a PUBLIC mapping is the fallback
CREATE USER MAPPING FOR PUBLIC SERVER fdtest
  OPTIONS (user 'regress_dblink_user3', password 'secret3');
GRANT USAGE ON FOREIGN SERVER fdtest TO regress_dblink_user3;
SET ROLE regress_dblink_user3;
SELECT * FROM dblink('fdtest', 'SELECT current_user') AS t(u name);
RESET ROLE;
-- a user's own mapping wins over PUBLIC
SET ROLE regress_dblink_user;
SELECT * FROM dblink('fdtest', 'SELECT current_user') AS t(u name);
RESET ROLE;
DROP USER MAPPING FOR PUBLIC SERVER fdtest;
REVOKE USAGE ON FOREIGN SERVER fdtest FROM regress_dblink_user3;

-- 6. passwords with spaces, quotes and backslashes
CREATE USER MAPPING FOR regress_dblink_user2 SERVER fdtest
  OPTIONS (user 'regress_dblink_user2', password 'a b''c\d');
GRANT USAGE ON FOREIGN SERVER fdtest TO regress_dblink_user2;
SET ROLE regress_dblink_user2;
SELECT dblink_connect('c4', 'fdtest');
SELECT * FROM dblink('c4', 'SELECT current_user') AS t(u name);
SELECT dblink_disconnect('c4');
SELECT * FROM dblink('host=127.0.0.1 dbname=contrib_regression user=regress_dblink_user2 password=''a b\''c\\d''',
  'SELECT current_user') AS t(u name);
SELECT * FROM dblink('postgresql://regress_dblink_user2:a%20b%27c%5Cd@127.0.0.1/contrib_regression',
  'SELECT current_user') AS t(u name);
SELECT * FROM dblink('postgresql://127.0.0.1/contrib_regression?user=regress_dblink_user2&password=a%20b''c\d',
  'SELECT current_user') AS t(u name);
-- '+' is not a space in a URI
SELECT * FROM regress_try($$SELECT * FROM dblink('postgresql://127.0.0.1/contrib_regression?user=regress_dblink_user2&password=a+b''c\d',
  'SELECT 1') AS t(a int)$$);
-- doubled quotes are not an escape in keyword/value strings: the string
-- does not parse, so it has no password
SELECT * FROM regress_try($$SELECT * FROM dblink('host=127.0.0.1 dbname=contrib_regression user=regress_dblink_user2 password=''a b''''c\\d''',
  'SELECT 1') AS t(a int)$$);
RESET ROLE;
-- more of them: leading and trailing spaces, '=', doubled backslashes, quotes
ALTER ROLE regress_dblink_user2 PASSWORD ' =\\''''x\ ';
ALTER USER MAPPING FOR regress_dblink_user2 SERVER fdtest OPTIONS (SET password ' =\\''''x\ ');
SET ROLE regress_dblink_user2;
SELECT dblink_connect('c4', 'fdtest');
SELECT * FROM dblink('c4', 'SELECT current_user') AS t(u name);
SELECT dblink_disconnect('c4');
SELECT * FROM dblink('host=127.0.0.1 dbname=contrib_regression user=regress_dblink_user2 password='' =\\\\\''\''x\\ ''',
  'SELECT current_user') AS t(u name);
-- the old password no longer works
SELECT * FROM regress_try($$SELECT * FROM dblink('host=127.0.0.1 dbname=contrib_regression user=regress_dblink_user2 password=''a b\''c\\d''',
  'SELECT 1') AS t(a int)$$);
RESET ROLE;

-- 7. dblink_connect_u: not for PUBLIC
SET ROLE regress_dblink_user;
SELECT dblink_connect_u('cu', 'dbname=contrib_regression');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_connect_u('dbname=contrib_regression');
RESET ROLE;
GRANT EXECUTE ON FUNCTION dblink_connect_u(text, text) TO regress_dblink_user;
GRANT EXECUTE ON FUNCTION dblink_connect_u(text) TO regress_dblink_user;
SET ROLE regress_dblink_user;
-- SECURITY DEFINER: it runs as its (superuser) owner, so no password rule
SELECT dblink_connect_u('cu', 'dbname=contrib_regression');
SELECT * FROM dblink('cu', 'SELECT current_user') AS t(u name);
SELECT dblink_disconnect('cu');
SELECT dblink_connect_u('dbname=contrib_regression');
SELECT * FROM dblink('SELECT current_user') AS t(u name);
SELECT dblink_disconnect();
-- and the user mapping is looked up for the owner
SELECT dblink_connect_u('cu', 'fdtest');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE EXECUTE ON FUNCTION dblink_connect_u(text, text) FROM regress_dblink_user;
REVOKE EXECUTE ON FUNCTION dblink_connect_u(text) FROM regress_dblink_user;
SET ROLE regress_dblink_user;
SELECT dblink_connect_u('cu', 'dbname=contrib_regression');
RESET ROLE;

-- the checks are about the current user, not the session user: a
-- non-superuser's SECURITY DEFINER function called by a superuser applies
-- them, a superuser's called by a non-superuser does not
CREATE FUNCTION regress_dblink_user_connects() RETURNS text
  LANGUAGE sql SECURITY DEFINER AS $$ SELECT dblink_connect('sd', 'dbname=contrib_regression') $$;
ALTER FUNCTION regress_dblink_user_connects() OWNER TO regress_dblink_user;
CREATE FUNCTION regress_superuser_connects() RETURNS text
  LANGUAGE sql SECURITY DEFINER AS $$ SELECT dblink_connect('sd', 'dbname=contrib_regression') $$;
SELECT regress_dblink_user_connects();
SELECT dblink_get_connections();
SET ROLE regress_dblink_user;
SELECT regress_superuser_connects();
SELECT * FROM dblink('sd', 'SELECT current_user') AS t(u name);
SELECT dblink_disconnect('sd');
RESET ROLE;
DROP FUNCTION regress_dblink_user_connects();
DROP FUNCTION regress_superuser_connects();

-- 8. checks happen at connect time only: a superuser's connection stays
-- usable after SET ROLE, a non-superuser's after RESET ROLE
SELECT dblink_connect('su', 'dbname=contrib_regression');
SET ROLE regress_dblink_user;
SELECT * FROM dblink('su', 'SELECT current_user') AS t(u name);
SELECT * FROM dblink('myconn', 'SELECT current_user') AS t(u name);
SELECT dblink_disconnect('su');
RESET ROLE;
SELECT * FROM dblink('myconn', 'SELECT current_user') AS t(u name);
-- the superuser needs no password over the socket, and no mapping of its own
-- is needed for a connection string
SELECT * FROM dblink('dbname=contrib_regression', 'SELECT current_user') AS t(u name);
SELECT dblink_connect('fdtest');
\echo :LAST_ERROR_SQLSTATE

-- clean up
SELECT dblink_disconnect('myconn');
SELECT dblink_get_connections();
DROP USER MAPPING FOR regress_dblink_user SERVER fdtest;
DROP USER MAPPING FOR regress_dblink_user2 SERVER fdtest;
REVOKE USAGE ON FOREIGN SERVER fdtest FROM regress_dblink_user, regress_dblink_user2;
DROP SERVER fdtest;
DROP TABLE foo;
DROP FUNCTION regress_try(text);
DROP ROLE regress_dblink_user;
DROP ROLE regress_dblink_user2;
DROP ROLE regress_dblink_user3;
