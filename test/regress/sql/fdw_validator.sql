-- the NOTICE of IF NOT EXISTS depends on earlier tests: keep it quiet
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;

-- dblink_fdw and its validator: which libpq options are accepted where.
-- Nothing here connects anywhere.

CREATE ROLE regress_fdw_user;

-- the wrapper itself takes no options at all
ALTER FOREIGN DATA WRAPPER dblink_fdw OPTIONS (host 'localhost');
\echo :LAST_ERROR_SQLSTATE
ALTER FOREIGN DATA WRAPPER dblink_fdw OPTIONS (user 'u');
ALTER FOREIGN DATA WRAPPER dblink_fdw OPTIONS (nonsense 'x');
SELECT fdwoptions FROM pg_foreign_data_wrapper WHERE fdwname = 'dblink_fdw';

-- server: every accepted option at once
CREATE SERVER regress_srv_all FOREIGN DATA WRAPPER dblink_fdw OPTIONS (
  service 's', passfile '/nonexistent/pgpass', channel_binding 'prefer',
  connect_timeout '10', dbname 'db', host 'h', hostaddr '127.0.0.1',
  port '5432', options '-c work_mem=4MB', application_name 'app',
  fallback_application_name 'fb', keepalives '1', keepalives_idle '1',
  keepalives_interval '1', keepalives_count '1', tcp_user_timeout '1',
  sslmode 'disable', sslcompression '0', sslcert 'c', sslkey 'k',
  sslrootcert 'r', sslcrl 'l', sslcrldir 'd', sslsni '1', requirepeer 'p',
  ssl_min_protocol_version 'TLSv1.2', ssl_max_protocol_version 'TLSv1.3',
  gssencmode 'disable', krbsrvname 'postgres', gsslib 'gssapi',
  target_session_attrs 'any');
SELECT array_length(srvoptions, 1) FROM pg_foreign_server
  WHERE srvname = 'regress_srv_all';
-- values are not checked, only names
CREATE SERVER regress_srv_values FOREIGN DATA WRAPPER dblink_fdw
  OPTIONS (port 'not a port', sslmode 'bogus', connect_timeout '');
-- no options is fine too
CREATE SERVER regress_srv_empty FOREIGN DATA WRAPPER dblink_fdw;

-- server: rejected options
CREATE SERVER regress_srv_bad FOREIGN DATA WRAPPER dblink_fdw OPTIONS (user 'u');
\echo :LAST_ERROR_SQLSTATE
CREATE SERVER regress_srv_bad FOREIGN DATA WRAPPER dblink_fdw OPTIONS (password 'p');
CREATE SERVER regress_srv_bad FOREIGN DATA WRAPPER dblink_fdw OPTIONS (sslpassword 'p');
CREATE SERVER regress_srv_bad FOREIGN DATA WRAPPER dblink_fdw OPTIONS (client_encoding 'UTF8');
CREATE SERVER regress_srv_bad FOREIGN DATA WRAPPER dblink_fdw OPTIONS (replication 'database');
CREATE SERVER regress_srv_bad FOREIGN DATA WRAPPER dblink_fdw OPTIONS (nonsense 'x');
CREATE SERVER regress_srv_bad FOREIGN DATA WRAPPER dblink_fdw OPTIONS (require_auth 'password');
CREATE SERVER regress_srv_bad FOREIGN DATA WRAPPER dblink_fdw OPTIONS (load_balance_hosts 'random');
CREATE SERVER regress_srv_bad FOREIGN DATA WRAPPER dblink_fdw OPTIONS (sslcertmode 'allow');
CREATE SERVER regress_srv_bad FOREIGN DATA WRAPPER dblink_fdw OPTIONS (updatable 'true');
-- names are case-sensitive
CREATE SERVER regress_srv_bad FOREIGN DATA WRAPPER dblink_fdw OPTIONS ("HOST" 'h');
CREATE SERVER regress_srv_bad FOREIGN DATA WRAPPER dblink_fdw OPTIONS ("Port" '1');
CREATE SERVER regress_srv_bad FOREIGN DATA WRAPPER dblink_fdw OPTIONS ("host " 'h');
-- the first invalid option is the one reported
CREATE SERVER regress_srv_bad FOREIGN DATA WRAPPER dblink_fdw
  OPTIONS (host 'h', bogus1 'x', bogus2 'y');
-- duplicates are rejected by the core
CREATE SERVER regress_srv_bad FOREIGN DATA WRAPPER dblink_fdw
  OPTIONS (host 'a', host 'b');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM pg_foreign_server WHERE srvname = 'regress_srv_bad';

-- ALTER SERVER ... OPTIONS
CREATE SERVER regress_srv FOREIGN DATA WRAPPER dblink_fdw
  OPTIONS (host 'h', dbname 'd');
ALTER SERVER regress_srv OPTIONS (ADD port '5433');
ALTER SERVER regress_srv OPTIONS (SET host 'h2', DROP dbname);
SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'regress_srv';
ALTER SERVER regress_srv OPTIONS (ADD user 'u');
ALTER SERVER regress_srv OPTIONS (ADD "DBNAME" 'd');
ALTER SERVER regress_srv OPTIONS (ADD host 'h3');
ALTER SERVER regress_srv OPTIONS (SET dbname 'd');
ALTER SERVER regress_srv OPTIONS (DROP dbname);
ALTER SERVER regress_srv OPTIONS (ADD dbname 'd', ADD dbname 'e');
ALTER SERVER regress_srv OPTIONS (ADD dbname 'd', bogus 'x');
SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'regress_srv';
ALTER SERVER regress_srv OPTIONS (DROP host, DROP port);
SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'regress_srv';

-- user mappings take user, password and sslpassword only
CREATE USER MAPPING FOR regress_fdw_user SERVER regress_srv
  OPTIONS (user 'remote', password 'secret', sslpassword 'keypw');
CREATE USER MAPPING FOR PUBLIC SERVER regress_srv OPTIONS (user 'pub');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_srv;
CREATE USER MAPPING FOR regress_fdw_user SERVER regress_srv_all
  OPTIONS (host 'h');
\echo :LAST_ERROR_SQLSTATE
CREATE USER MAPPING FOR regress_fdw_user SERVER regress_srv_all
  OPTIONS (dbname 'd');
CREATE USER MAPPING FOR regress_fdw_user SERVER regress_srv_all
  OPTIONS (client_encoding 'UTF8');
CREATE USER MAPPING FOR regress_fdw_user SERVER regress_srv_all
  OPTIONS ("USER" 'u');
CREATE USER MAPPING FOR regress_fdw_user SERVER regress_srv_all
  OPTIONS ("Password" 'p');
CREATE USER MAPPING FOR regress_fdw_user SERVER regress_srv_all
  OPTIONS (user 'a', user 'b');
ALTER USER MAPPING FOR regress_fdw_user SERVER regress_srv
  OPTIONS (SET password 'other', DROP sslpassword);
ALTER USER MAPPING FOR regress_fdw_user SERVER regress_srv
  OPTIONS (ADD port '1');
ALTER USER MAPPING FOR PUBLIC SERVER regress_srv OPTIONS (ADD password 'pw');
SELECT u.usename, u.umoptions FROM pg_user_mappings u
  WHERE u.srvname = 'regress_srv' AND u.usename <> current_user ORDER BY 1;

-- foreign tables and their columns take nothing either
CREATE FOREIGN TABLE regress_ft (a int OPTIONS (column_name 'b'))
  SERVER regress_srv;
CREATE FOREIGN TABLE regress_ft (a int) SERVER regress_srv
  OPTIONS (host 'h');
CREATE FOREIGN TABLE regress_ft (a int) SERVER regress_srv;
ALTER FOREIGN TABLE regress_ft OPTIONS (ADD table_name 't');
ALTER FOREIGN TABLE regress_ft ALTER COLUMN a OPTIONS (ADD user 'u');
DROP FOREIGN TABLE regress_ft;

-- the validator called directly
SELECT dblink_fdw_validator(ARRAY['host=h', 'port=1'], 'pg_foreign_server'::regclass);
SELECT dblink_fdw_validator(ARRAY['user=u'], 'pg_user_mapping'::regclass);
SELECT dblink_fdw_validator('{}', 'pg_foreign_data_wrapper'::regclass);
SELECT dblink_fdw_validator(ARRAY['user=u'], 'pg_foreign_server'::regclass);
SELECT dblink_fdw_validator(ARRAY['host=h'], 'pg_foreign_data_wrapper'::regclass);
SELECT dblink_fdw_validator(ARRAY['host=h'], 'pg_class'::regclass);
SELECT dblink_fdw_validator(ARRAY['host=h'], 0);
SELECT dblink_fdw_validator(ARRAY['novalue'], 'pg_foreign_server'::regclass);
SELECT dblink_fdw_validator(NULL, 'pg_foreign_server'::regclass) IS NULL AS strict_null;
SELECT dblink_fdw_validator(ARRAY['bogus=1'], NULL) IS NULL AS strict_null;

-- a server on dblink_fdw keeps the extension from being dropped
DROP SERVER regress_srv_all, regress_srv_values, regress_srv_empty;
DROP USER MAPPING FOR PUBLIC SERVER regress_srv;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_srv;
DROP EXTENSION dblink;
\echo :LAST_ERROR_SQLSTATE
DROP SERVER regress_srv;
DROP SERVER regress_srv CASCADE;
DROP EXTENSION dblink;
DROP ROLE regress_fdw_user;
-- leave the extension installed, as found
CREATE EXTENSION dblink;
