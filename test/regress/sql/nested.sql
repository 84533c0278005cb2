-- A call to dblink nested in the conversion of a result on the same
-- connection (a domain CHECK, a type input function or a trigger calling
-- dblink again): the connection is busy until its result has been consumed
-- completely, so the nested call fails at once with contrib's error, for a
-- small result (already read in full) and a large one (still streaming).
-- statement_timeout turns a regression (a nested call waiting for the outer
-- one) into a failure instead of a hang.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set VERBOSITY default
SET statement_timeout = '30s';

SELECT dblink_connect('n', 'dbname=contrib_regression application_name=nested_n');

CREATE FUNCTION nested_query(x int) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN PERFORM * FROM dblink('n', 'SELECT 1') t(z int); RETURN true; END $$;
CREATE FUNCTION nested_exec(x int) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN PERFORM dblink_exec('n', 'SELECT 1'); RETURN true; END $$;
CREATE FUNCTION nested_exec_nofail(x int) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'exec: %', dblink_exec('n', 'SET search_path = public', false); RETURN true; END $$;
CREATE FUNCTION nested_send(x int) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'sent: %', dblink_send_query('n', 'SELECT 1'); RETURN true; END $$;
CREATE FUNCTION nested_open(x int) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN PERFORM dblink_open('n', 'c2', 'SELECT 1'); RETURN true; END $$;
CREATE FUNCTION nested_fetch(x int) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN PERFORM * FROM dblink_fetch('n', 'c', 1) t(z int); RETURN true; END $$;
CREATE FUNCTION nested_close(x int) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN PERFORM dblink_close('n', 'c'); RETURN true; END $$;
CREATE DOMAIN nested_q AS int CHECK (nested_query(VALUE));
CREATE DOMAIN nested_e AS int CHECK (nested_exec(VALUE));
CREATE DOMAIN nested_enf AS int CHECK (nested_exec_nofail(VALUE));
CREATE DOMAIN nested_s AS int CHECK (nested_send(VALUE));
CREATE DOMAIN nested_o AS int CHECK (nested_open(VALUE));
CREATE DOMAIN nested_f AS int CHECK (nested_fetch(VALUE));
CREATE DOMAIN nested_c AS int CHECK (nested_close(VALUE));

-- dblink() nested in dblink(): 3 rows, then 200000 rows
SELECT * FROM dblink('n', 'SELECT g FROM generate_series(1, 3) g') t(g nested_q);
SELECT * FROM dblink('n', 'SELECT 1') t(g int);
SELECT count(*) FROM dblink('n', 'SELECT g FROM generate_series(1, 200000) g') t(g nested_q);
SELECT * FROM dblink('n', 'SELECT 2') t(g int);
-- the same with fail_on_error = false: the nested error is not remote
SELECT * FROM dblink('n', 'SELECT g FROM generate_series(1, 3) g', false) t(g nested_q);
SELECT dblink_error_message('n');

-- dblink_exec() nested in dblink()
SELECT * FROM dblink('n', 'SELECT g FROM generate_series(1, 3) g') t(g nested_e);
SELECT * FROM dblink('n', 'SELECT 3') t(g int);
SELECT count(*) FROM dblink('n', 'SELECT g FROM generate_series(1, 200000) g') t(g nested_e);
SELECT * FROM dblink('n', 'SELECT 4') t(g int);
-- with fail_on_error = false: a NOTICE, the outer query completes
SELECT * FROM dblink('n', 'SELECT g FROM generate_series(1, 2) g') t(g nested_enf);
SELECT * FROM dblink('n', 'SELECT 5') t(g int);

-- dblink_send_query() nested: 0 and a NOTICE (libpq's text grows)
SELECT * FROM dblink('n', 'SELECT g FROM generate_series(1, 3) g') t(g nested_s);
SELECT dblink_is_busy('n');
SELECT * FROM dblink_get_result('n') t(g int);

-- cursors nested in dblink() and in dblink_fetch()
SELECT * FROM dblink('n', 'SELECT g FROM generate_series(1, 3) g') t(g nested_o);
SELECT dblink_open('n', 'c', 'SELECT g FROM generate_series(1, 5) g');
SELECT * FROM dblink('n', 'SELECT g FROM generate_series(1, 3) g') t(g nested_f);
SELECT * FROM dblink('n', 'SELECT g FROM generate_series(1, 3) g') t(g nested_c);
SELECT * FROM dblink_fetch('n', 'c', 2) t(g int);
SELECT * FROM dblink_fetch('n', 'c', 2) t(g int);
SELECT dblink_close('n', 'c');

-- the connection is idle and answers
SELECT * FROM dblink('n', 'SELECT 6') t(g int);
SELECT dblink_disconnect('n');

-- the unnamed connection too
SELECT dblink_connect('dbname=contrib_regression application_name=nested_u');
CREATE FUNCTION nested_unnamed(x int) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN PERFORM * FROM dblink('SELECT 1') t(z int); RETURN true; END $$;
CREATE DOMAIN nested_uq AS int CHECK (nested_unnamed(VALUE));
SELECT * FROM dblink('SELECT g FROM generate_series(1, 3) g') t(g nested_uq);
SELECT * FROM dblink('SELECT 7') t(g int);
SELECT dblink_disconnect();

DROP DOMAIN nested_q, nested_e, nested_enf, nested_s, nested_o, nested_f, nested_c, nested_uq;
DROP FUNCTION nested_query(int), nested_exec(int), nested_exec_nofail(int), nested_send(int),
	nested_open(int), nested_fetch(int), nested_close(int), nested_unnamed(int);
RESET statement_timeout;
