-- use_scram_passthrough, 18's dblink_fdw option (run by test/matrix.sh for
-- majors >= 18 only): where the validator takes it, and what a connect
-- through such a server does when the session's login did not use SCRAM
-- (pg_regress logs in over the Unix socket with trust): the option changes
-- nothing, so a non-superuser without a password gets the password rule's
-- error, and a superuser connects as without it.  Then a session that did
-- log in with SCRAM (psql over 127.0.0.1 with a password, scram-sha-256 in
-- pg_hba.conf) connects without a password, with its login's keys.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set VERBOSITY default

-- servers and user mappings take it, the wrapper does not
CREATE SERVER regress_scram_srv FOREIGN DATA WRAPPER dblink_fdw
	OPTIONS (dbname 'contrib_regression', use_scram_passthrough 'true');
CREATE USER MAPPING FOR public SERVER regress_scram_srv
	OPTIONS (use_scram_passthrough 'true');
ALTER FOREIGN DATA WRAPPER dblink_fdw OPTIONS (ADD use_scram_passthrough 'true');
-- its value is a Boolean
ALTER SERVER regress_scram_srv OPTIONS (SET use_scram_passthrough 'maybe');
ALTER SERVER regress_scram_srv OPTIONS (SET use_scram_passthrough 'true');

-- a superuser connects (no SCRAM login: the option changes nothing)
SELECT dblink_connect('scram', 'regress_scram_srv');
SELECT * FROM dblink('scram', 'SELECT 1') AS t(a int);
SELECT dblink_disconnect('scram');

-- a non-superuser needs a password all the same
CREATE ROLE regress_scram_user;
GRANT USAGE ON FOREIGN SERVER regress_scram_srv TO regress_scram_user;
SET SESSION AUTHORIZATION regress_scram_user;
SELECT dblink_connect('scram', 'regress_scram_srv');
SELECT * FROM dblink('regress_scram_srv', 'SELECT 1') AS t(a int);
RESET SESSION AUTHORIZATION;

DROP USER MAPPING FOR public SERVER regress_scram_srv;
DROP SERVER regress_scram_srv;
DROP ROLE regress_scram_user;

-- a SCRAM login: the remote connection authenticates with its keys
SELECT current_user AS regress_su \gset
\set regress_host :HOST
SET password_encryption = 'scram-sha-256';
CREATE ROLE regress_scram_login LOGIN PASSWORD 'regress-scram-1';
-- the remote is this cluster over TCP, which asks for scram-sha-256
CREATE SERVER regress_scram_tcp FOREIGN DATA WRAPPER dblink_fdw
	OPTIONS (host '127.0.0.1', port :'PORT', dbname 'contrib_regression',
			 use_scram_passthrough 'true');
-- a server whose require_auth replaces the one use_scram_passthrough sets
CREATE SERVER regress_scram_req FOREIGN DATA WRAPPER dblink_fdw
	OPTIONS (host '127.0.0.1', port :'PORT', dbname 'contrib_regression',
			 require_auth 'password', use_scram_passthrough 'true');
-- a remote that asks for no password (trust on the Unix socket)
CREATE SERVER regress_scram_sock FOREIGN DATA WRAPPER dblink_fdw
	OPTIONS (host :'HOST', port :'PORT', dbname 'contrib_regression',
			 use_scram_passthrough 'true');
-- a server without use_scram_passthrough
CREATE SERVER regress_scram_off FOREIGN DATA WRAPPER dblink_fdw
	OPTIONS (host '127.0.0.1', port :'PORT', dbname 'contrib_regression');
CREATE USER MAPPING FOR regress_scram_login SERVER regress_scram_tcp
	OPTIONS (user 'regress_scram_login');
CREATE USER MAPPING FOR regress_scram_login SERVER regress_scram_req
	OPTIONS (user 'regress_scram_login');
CREATE USER MAPPING FOR regress_scram_login SERVER regress_scram_sock
	OPTIONS (user 'regress_scram_login');
CREATE USER MAPPING FOR regress_scram_login SERVER regress_scram_off
	OPTIONS (user 'regress_scram_login');
GRANT USAGE ON FOREIGN SERVER regress_scram_tcp, regress_scram_req,
	regress_scram_sock, regress_scram_off TO regress_scram_login;
-- connection errors name the port and the socket: shown without them
CREATE FUNCTION regress_scram_try(conn text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	msg text;
	det text;
	st text;
BEGIN
	PERFORM dblink_connect('regress_try', conn);
	PERFORM dblink_disconnect('regress_try');
	RETURN 'connected';
EXCEPTION WHEN others THEN
	GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, st = RETURNED_SQLSTATE;
	RETURN st || ': ' || msg || E'\n' ||
		regexp_replace(regexp_replace(det, 'port [0-9]+', 'port N', 'g'),
					   'socket "[^"]*"', 'socket "..."', 'g');
END $$;

\setenv PGPASSWORD regress-scram-1
\c -reuse-previous=off contrib_regression regress_scram_login 127.0.0.1 :PORT
\setenv PGPASSWORD
SELECT current_user, system_user;
SELECT dblink_connect('pt', 'regress_scram_tcp');
SELECT * FROM dblink('pt', 'SELECT current_user, 42') AS t(who name, n int);
SELECT dblink_disconnect('pt');
-- a transient connection through the server
SELECT * FROM dblink('regress_scram_tcp', 'SELECT 7') AS t(n int);
-- the string's require_auth is no longer scram-sha-256: a password is needed
SELECT dblink_connect('pt', 'regress_scram_req');
-- no use_scram_passthrough: a password is needed
SELECT dblink_connect('pt', 'regress_scram_off');
-- the remote does not ask for SCRAM: require_auth fails
SELECT regress_scram_try('regress_scram_sock');
-- the remote's verifier changes: the login's keys no longer match
ALTER ROLE regress_scram_login PASSWORD 'regress-scram-2';
SELECT regress_scram_try('regress_scram_tcp');

\c -reuse-previous=off contrib_regression :regress_su :regress_host :PORT
DROP FUNCTION regress_scram_try(text);
SET client_min_messages = warning;
DROP SERVER regress_scram_tcp, regress_scram_req, regress_scram_sock,
	regress_scram_off CASCADE;
RESET client_min_messages;
DROP ROLE regress_scram_login;
