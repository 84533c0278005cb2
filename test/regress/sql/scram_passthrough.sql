-- use_scram_passthrough, 18's dblink_fdw option (run by test/matrix.sh for
-- majors >= 18 only): where the validator takes it, and what a connect
-- through such a server does when the session's login did not use SCRAM
-- (pg_regress logs in over the Unix socket with trust): the option changes
-- nothing, so a non-superuser without a password gets the password rule's
-- error, and a superuser connects as without it.
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
