-- (l) the autonomous-transaction pattern (pg_jobmon's, and the recipes for
-- Oracle's autonomous transactions): n one-shot dblink_exec(connstr,
-- 'INSERT ...') calls over TCP with scram-sha-256, each its own remote
-- transaction.  Ours runs with dblink.transient_pool_size = 1; contrib has
-- no such setting (SET makes a placeholder it never reads), so each of its
-- calls connects and authenticates.
--   l   wall time of the n calls, ms
--   lr  remote sessions that served them (distinct backend pids)
-- psql variables: n.
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_log') THEN
		CREATE ROLE bench_log LOGIN PASSWORD 'bench_log_pw';
	END IF;
END
$$;
DROP TABLE IF EXISTS bench_log;
CREATE TABLE bench_log (step int, msg text, pid int);
GRANT INSERT ON bench_log TO bench_log;
SELECT set_config('bench.cs', format('host=127.0.0.1 port=%s dbname=postgres user=bench_log password=bench_log_pw',
	current_setting('port')), false) AS ok \gset
SELECT set_config('bench.n', :'n', false) AS ok \gset
SET dblink.transient_pool_size = 1;
SELECT clock_timestamp() AS t0 \gset
DO $$
BEGIN
	FOR i IN 1 .. current_setting('bench.n')::int LOOP
		PERFORM dblink_exec(current_setting('bench.cs'),
			format('INSERT INTO bench_log VALUES (%s, %L, pg_backend_pid())', i, 'step done'));
	END LOOP;
END
$$;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 3) AS ms \gset
\echo @@ l :ms
SELECT count(DISTINCT pid) AS forks, count(*) AS rows FROM bench_log \gset
\echo @@ lr :forks
\echo @@ l_rows :rows
