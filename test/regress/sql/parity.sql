-- libpq's words and choices where the connection is made or lost.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set VERBOSITY default

SELECT setting AS port FROM pg_settings WHERE name = 'port' \gset
-- try(sql): 'OK', or the error as SQLSTATE, message and DETAIL, with the
-- port and the socket directory masked
CREATE FUNCTION try(sql text) RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
    st text;
    msg text;
    det text;
BEGIN
    EXECUTE sql;
    RETURN NEXT 'OK';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN NEXT st || ': ' || msg;
    IF det <> '' THEN
        det := regexp_replace(det, 'socket "[^"]*"', 'socket "SOCKET"', 'g');
        det := regexp_replace(det, 'port \d+', 'port PORT', 'g');
        RETURN NEXT 'DETAIL: ' || det;
    END IF;
END
$f$;
CREATE ROLE regress_parity_pw LOGIN PASSWORD 'parity-pw';

-- 1. the remote server ends the connection while a statement runs: libpq's
-- text for the caller that waits (08006, the FATAL line, then the lines of
-- a lost connection); a result read with dblink_get_result keeps the
-- server's error
SELECT dblink_connect('t', 'dbname=contrib_regression');
SELECT * FROM dblink('t', 'SELECT pg_terminate_backend(pg_backend_pid())') AS x(b bool);
SELECT dblink_error_message('t');
SELECT * FROM dblink('t', 'SELECT 1') AS x(i int);
SELECT dblink_disconnect('t');
SELECT dblink_connect('t', 'dbname=contrib_regression');
SELECT dblink_exec('t', 'SELECT pg_terminate_backend(pg_backend_pid())');
SELECT dblink_disconnect('t');
SELECT dblink_connect('t', 'dbname=contrib_regression');
SELECT dblink_send_query('t', 'SELECT pg_terminate_backend(pg_backend_pid())');
SELECT * FROM dblink_get_result('t') AS x(b bool);
SELECT dblink_error_message('t');
SELECT dblink_disconnect('t');

-- 2. connection failures worded as libpq words them
SELECT try($$SELECT dblink_connect('p', 'dbname=contrib_regression target_session_attrs=read-only')$$);
SELECT try($$SELECT dblink_connect('p', 'host=127.0.0.1 port=$$ || :'port' || $$ dbname=contrib_regression channel_binding=require sslmode=disable')$$);
SELECT try($$SELECT dblink_connect('p', 'host=127.0.0.1 port=$$ || :'port' || $$ dbname=contrib_regression channel_binding=require sslmode=disable password=x')$$);
SELECT try($$SELECT dblink_connect('p', 'dbname=contrib_regression channel_binding=require')$$);

-- 3. what libpq accepts: hostaddr in inet_aton's short form, a host whose
-- port is out of range is skipped (a port that is no number fails the
-- whole string), a walsender connection that runs SQL
SELECT dblink_connect('p', 'hostaddr=127.1 port=' || :'port' || ' dbname=contrib_regression user=regress_parity_pw password=parity-pw');
SELECT * FROM dblink('p', 'SELECT current_user') AS x(u name);
SELECT dblink_disconnect('p');
SELECT dblink_connect('p', 'host=127.0.0.1,127.0.0.1 port=99999,' || :'port' || ' dbname=contrib_regression user=regress_parity_pw password=parity-pw');
SELECT dblink_disconnect('p');
SELECT try($$SELECT dblink_connect('p', 'host=127.0.0.1,127.0.0.1 port=99999,0 dbname=contrib_regression')$$);
SELECT try($$SELECT dblink_connect('p', 'host=127.0.0.1,127.0.0.1 port=x,$$ || :'port' || $$ dbname=contrib_regression')$$);
SELECT dblink_connect('r', 'dbname=contrib_regression replication=database');
SELECT * FROM dblink('r', 'SELECT 1 + 1') AS x(i int);
SELECT dblink_disconnect('r');

-- 4. a DETAIL or HINT the server sends empty is printed empty, as libpq
-- keeps it (an absent one is not printed)
SELECT dblink_connect('e', 'dbname=contrib_regression');
SELECT * FROM dblink('e', $q$DO $d$ BEGIN RAISE EXCEPTION 'with empty fields' USING DETAIL = '', HINT = ''; END $d$$q$) AS x(a text);
SELECT dblink_error_message('e');
SELECT * FROM dblink('e', $q$DO $d$ BEGIN RAISE EXCEPTION 'without fields'; END $d$$q$) AS x(a text);
SELECT dblink_exec('e', $q$DO $d$ BEGIN RAISE EXCEPTION 'empty detail only' USING DETAIL = ''; END $d$$q$, false);
SELECT dblink_disconnect('e');

DROP ROLE regress_parity_pw;
DROP FUNCTION try(text);
