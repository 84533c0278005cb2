-- dblink() and dblink_exec() in all overloads, result shaping, remote
-- errors, fail_on_error, DateStyle/IntervalStyle mimicry, conversions.
-- Every connection goes to this cluster itself (dbname=contrib_regression).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set VERBOSITY default

-- no unnamed connection yet
SELECT * FROM dblink('SELECT 1') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('SELECT 1', false) AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('SET application_name = x', true);
\echo :LAST_ERROR_SQLSTATE

SELECT dblink_connect('dbname=contrib_regression');
SELECT dblink_connect('q', 'dbname=contrib_regression');

-- overloads of dblink()
SELECT * FROM dblink('SELECT 1, ''unnamed''') AS t(a int, b text);
SELECT * FROM dblink('SELECT 2, ''unnamed, fail_on_error''', true) AS t(a int, b text);
SELECT * FROM dblink('q', 'SELECT 3, ''named''') AS t(a int, b text);
SELECT * FROM dblink('q', 'SELECT 4, ''named, fail_on_error''', false) AS t(a int, b text);
SELECT * FROM dblink('dbname=contrib_regression', 'SELECT 5, current_database()') AS t(a int, b text);
SELECT * FROM dblink('dbname=contrib_regression', 'SELECT 6, ''transient''', true) AS t(a int, b text);
-- transient connections do not stay open
SELECT dblink_get_connections();

-- overloads of dblink_exec()
SELECT dblink_exec('SET application_name = unnamed_exec');
SELECT dblink_exec('SET application_name = unnamed_exec2', false);
SELECT dblink_exec('q', 'SET application_name = named_exec');
SELECT dblink_exec('q', 'SET application_name = named_exec2', true);
SELECT dblink_exec('dbname=contrib_regression', 'SET application_name = transient');
SELECT dblink_exec('dbname=contrib_regression', 'SET application_name = transient', false);
SELECT * FROM dblink('SHOW application_name') AS t(a text);
SELECT * FROM dblink('q', 'SHOW application_name') AS t(a text);

-- command tags
SELECT dblink_exec('q', 'CREATE TABLE public.dblink_q_tab (id int PRIMARY KEY, v text)');
SELECT dblink_exec('q', 'INSERT INTO public.dblink_q_tab VALUES (1, ''one''), (2, ''two''), (3, NULL)');
SELECT dblink_exec('q', 'UPDATE public.dblink_q_tab SET v = upper(v) WHERE id < 3');
SELECT dblink_exec('q', 'DELETE FROM public.dblink_q_tab WHERE id = 99');
-- remote autocommit: visible locally at once
SELECT * FROM dblink_q_tab ORDER BY id;
SELECT dblink_exec('q', 'BEGIN');
SELECT dblink_exec('q', 'INSERT INTO public.dblink_q_tab VALUES (4, ''four'')');
SELECT dblink_exec('q', 'ROLLBACK');
SELECT count(*) FROM dblink_q_tab;

-- dblink_current_query(): the local statement
SELECT dblink_current_query();
SELECT dblink_current_query() AS q, 1 AS x;

-- values: NULL, empty strings, unicode, arrays, numeric, bytea, json,
-- timestamptz, interval
SELECT * FROM dblink('q', $$SELECT NULL::text, ''::text, 'ünïcødé 日本語 ✓', ARRAY[1, NULL, 3],
    ARRAY['a', 'b c', NULL, '"q"', ''], 123456789012345678901234567890.123456789::numeric,
    'NaN'::numeric, '\x00ff41'::bytea, '{"k": [1, 2, null], "s": "é"}'::json,
    '2020-02-29 12:34:56.789+02'::timestamptz, '1 year 2 mons 3 days 04:05:06.5'::interval,
    true, 'a'::"char"$$)
  AS t(n text, e text, u text, ia int[], ta text[], num numeric, nan numeric, b bytea,
       j json, ts timestamptz, iv interval, bo boolean, c "char");
-- NULL and empty string stay apart
SELECT n IS NULL AS n_null, e IS NULL AS e_null, e = '' AS e_empty
  FROM dblink('q', $$SELECT NULL::text, ''::text$$) AS t(n text, e text);
-- values go through the local type's input function, with its typmod
SELECT * FROM dblink('q', $$SELECT 3.14159, 'abc', 'abcdef'$$)
  AS t(a numeric(5,2), b varchar(5), c char(8));
-- column names and types need not match the remote ones
SELECT * FROM dblink('q', $$SELECT 'x' AS foo, 42::bigint AS bar$$) AS t(a varchar, b text);

-- zero rows
SELECT * FROM dblink('q', 'SELECT 1 WHERE false') AS t(a int);
SELECT * FROM dblink('q', 'SELECT * FROM public.dblink_q_tab WHERE id < 0') AS t(id int, v text);

-- many rows
SELECT count(*), sum(a), min(a), max(a), count(DISTINCT b)
  FROM dblink('q', 'SELECT g, md5(g::text) FROM generate_series(1, 10000) g') AS t(a int, b text);
SELECT * FROM dblink('q', 'SELECT g FROM generate_series(1, 10000) g') AS t(a int) LIMIT 3;

-- mismatched column count [42804], also for zero rows
SELECT * FROM dblink('q', 'SELECT 1, 2') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('q', 'SELECT 1') AS t(a int, b int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('q', 'SELECT 1, 2 WHERE false') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('q', 'SELECT 1, 2', false) AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('q', 'SELECT') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
-- the connection is still fine
SELECT * FROM dblink('q', 'SELECT ''still ok''') AS t(a text);

-- local conversion errors [22P02] [22001], also with fail_on_error = false
SELECT * FROM dblink('q', $$SELECT 'abc'$$) AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('q', $$SELECT 'abc'$$, false) AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('q', $$SELECT g::text FROM generate_series(1, 3) g UNION ALL SELECT 'x'$$) AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('q', $$SELECT 'abcdef'$$) AS t(a varchar(3));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('q', 'SELECT ''still ok''') AS t(a text);

-- command results through dblink(): one text column with the tag
SELECT * FROM dblink('q', 'SET application_name = via_dblink') AS t(status text);
SELECT * FROM dblink('q', 'INSERT INTO public.dblink_q_tab VALUES (5, ''five'')') AS t(status text);
SELECT * FROM dblink('q', 'SET application_name = via_dblink') AS t(status int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('q', 'SET application_name = via_dblink') AS t(a text, b text);
\echo :LAST_ERROR_SQLSTATE
-- in a select list: a command result comes back as a record, rows cannot
SELECT dblink('q', 'SET application_name = via_dblink');
SELECT dblink('q', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE

-- multi-statement strings: the last result wins
SELECT * FROM dblink('q', 'SELECT 1, 0; SELECT 2, 3') AS t(a int, b int);
SELECT * FROM dblink('q', 'SELECT ''x''; SET application_name = multi') AS t(status text);
SELECT * FROM dblink('q', 'SET application_name = multi2; SELECT current_setting(''application_name'')') AS t(a text);
-- earlier row results are still checked against the column list
SELECT * FROM dblink('q', 'SELECT 1, 2; SELECT 3') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('q', 'SELECT 1; SELECT 2, 3') AS t(a int, b int);
\echo :LAST_ERROR_SQLSTATE
-- an error stops the rest (and the implicit transaction of the string
-- undoes the SET before it)
SELECT * FROM dblink('q', 'SET application_name = before_error; SELECT 1/0; SET application_name = after_error') AS t(a text);
SELECT * FROM dblink('q', 'SHOW application_name') AS t(a text);
SELECT dblink_exec('q', 'SET application_name = a; SET application_name = b');
SELECT dblink_exec('q', 'SELECT 1; SET application_name = c');

-- remote errors re-raised with the remote SQLSTATE, DETAIL, HINT, CONTEXT
SELECT * FROM dblink('q', 'SELECT 1/0') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('SELECT 1/0') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('dbname=contrib_regression', 'SELECT 1/0') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('q', 'SELEC 1') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('q', 'SELECT * FROM no_such_table') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('q', 'INSERT INTO public.dblink_q_tab VALUES (1, ''dup'')');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('INSERT INTO public.dblink_q_tab VALUES (1, ''dup'')');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('q', $q$DO $$ BEGIN RAISE EXCEPTION 'custom 100%% failure %', 'arg'
    USING ERRCODE = 'XY123', DETAIL = 'the detail %s', HINT = 'the hint'; END $$$q$);
\echo :LAST_ERROR_SQLSTATE
-- nested remote CONTEXT lines come first
CREATE FUNCTION dblink_q_fail(int) RETURNS int LANGUAGE plpgsql AS
$$BEGIN IF $1 > 2 THEN RAISE EXCEPTION 'too big: %', $1 USING HINT = 'use less'; END IF; RETURN $1; END$$;
SELECT * FROM dblink('q', 'SELECT public.dblink_q_fail(3)') AS t(a int);
\echo :LAST_ERROR_SQLSTATE

-- fail_on_error = false: the same report as a NOTICE (shown with CONTEXT here)
\set SHOW_CONTEXT always
SELECT dblink_exec('q', 'INSERT INTO public.dblink_q_tab VALUES (1, ''dup'')', false);
SELECT dblink_exec('INSERT INTO public.dblink_q_tab VALUES (1, ''dup'')', false);
SELECT dblink_exec('dbname=contrib_regression', 'SELECT 1/0', false);
SELECT * FROM dblink('q', 'SELECT 1/0', false) AS t(a int);
SELECT * FROM dblink('SELECT public.dblink_q_fail(5)', false) AS t(a int);
-- dblink() returns the rows stored so far
SELECT * FROM dblink('q', 'SELECT public.dblink_q_fail(g) FROM generate_series(1, 5) g', false) AS t(a int);
SELECT * FROM dblink('q', 'SELECT 7, 8; SELECT 1/0', false) AS t(a int, b int);
SELECT * FROM dblink('q', 'SELECT 7, 8; SELECT 9, 10; SELECT 1/0', false) AS t(a int, b int);
SELECT * FROM dblink('q', 'SELECT public.dblink_q_fail(g) FROM generate_series(1, 5) g') AS t(a int);
SELECT * FROM dblink('q', $q$DO $$ BEGIN RAISE EXCEPTION 'custom' USING ERRCODE = 'XY123', DETAIL = 'd', HINT = 'h'; END $$$q$, false) AS t(a text);
SELECT dblink_exec('q', '', false);
-- the SQLSTATE of the NOTICEs
\set VERBOSITY sqlstate
SELECT dblink_exec('q', 'INSERT INTO public.dblink_q_tab VALUES (1, ''dup'')', false);
SELECT * FROM dblink('q', $q$DO $$ BEGIN RAISE EXCEPTION 'custom' USING ERRCODE = 'XY123'; END $$$q$, false) AS t(a text);
SELECT * FROM dblink('q', 'SELECT 1/0', false) AS t(a int);
SELECT dblink_exec('q', '', false);
\set VERBOSITY default
\set SHOW_CONTEXT errors
-- the connection is still fine
SELECT * FROM dblink('q', 'SELECT ''still ok''') AS t(a text);

-- dblink_exec of a query returning rows: runs, then errors, even with false
SELECT dblink_exec('q', 'SELECT 1');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('q', 'SELECT 1 WHERE false', false);
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('q', 'INSERT INTO public.dblink_q_tab VALUES (6, ''six'') RETURNING id');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink_q_tab WHERE id = 6;

-- empty query strings
SELECT * FROM dblink('q', '') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dblink('q', ' ; ') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('q', '');
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('', false);
SELECT * FROM dblink('', false) AS t(a int);

-- remote notices are not shown locally
SELECT dblink_exec('q', $q$DO $$ BEGIN RAISE NOTICE 'remote notice'; RAISE WARNING 'remote warning'; END $$$q$);
SELECT * FROM dblink('q', $q$DO $$ BEGIN RAISE NOTICE 'remote notice'; END $$; SELECT 'after notice'$q$) AS t(a text);

-- remote DateStyle / IntervalStyle are used while converting
SHOW datestyle;
SELECT * FROM dblink('q', 'SHOW datestyle') AS t(a text);
SELECT dblink_exec('q', 'SET DateStyle = ''SQL, DMY''');
SELECT * FROM dblink('q', $$SELECT '2021-03-04'::date, '2021-03-04'::date::text,
    '2021-03-04 05:06:07'::timestamp, '2021-03-04 05:06:07'::timestamp::text$$)
  AS t(d date, dt text, ts timestamp, tst text);
SHOW datestyle;
SELECT dblink_exec('q', 'SET DateStyle = ''German''');
SELECT * FROM dblink('q', $$SELECT '2021-03-04'::date, '2021-03-04'::date::text$$) AS t(d date, dt text);
SHOW datestyle;
-- the same date as text taken locally in the local style would be another day
SELECT '04/03/2021'::date;
SELECT dblink_exec('q', 'SET IntervalStyle = sql_standard');
SELECT * FROM dblink('q', $$SELECT '-1 day -02:03:04'::interval, '-1 day -02:03:04'::interval::text$$)
  AS t(i interval, it text);
SHOW intervalstyle;
SELECT '-1 2:03:04'::interval;
-- an error while converting restores the local settings too
SELECT * FROM dblink('q', $$SELECT '2021-03-04'::date, 'x'$$) AS t(d date, n int);
SHOW datestyle;
SELECT dblink_exec('q', 'RESET DateStyle; RESET IntervalStyle');

-- NULL arguments (STRICT)
SELECT * FROM dblink(NULL, 'SELECT 1') AS t(a int);
SELECT * FROM dblink('q', NULL) AS t(a int);
SELECT * FROM dblink(NULL::text) AS t(a int);
SELECT * FROM dblink('SELECT 1', NULL) AS t(a int);
SELECT dblink_exec(NULL);
SELECT dblink_exec('q', NULL);
SELECT dblink_exec('q', 'SELECT 1', NULL);

-- a name that is not open is taken as a connection string
SELECT * FROM dblink('nosuchconn', 'SELECT 1') AS t(a int);
\echo :LAST_ERROR_SQLSTATE
SELECT dblink_exec('nosuchconn', 'SELECT 1', false);
\echo :LAST_ERROR_SQLSTATE

-- clean up
DROP FUNCTION dblink_q_fail(int);
SELECT dblink_exec('q', 'DROP TABLE public.dblink_q_tab');
SELECT dblink_disconnect('q');
SELECT dblink_disconnect();
SELECT dblink_get_connections();
SELECT * FROM dblink('SELECT 1') AS t(a int);
