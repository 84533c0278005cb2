-- (i) calls spaced apart, the way dblink is mostly used (a job logging a
-- step now and then, a trigger writing through): n x dblink('c',
-- 'SELECT 1'), each 12 ms after the previous one; only the calls are
-- timed, not the sleeps.  Then CPU time per call, from
-- /proc/PID/task/*/schedstat (all threads of a backend):
--   i   wall time per spaced call, us
--   ic  our backend's CPU per spaced call (the same loop with the sleeps
--       alone subtracted), us
--   ir  the remote backend's CPU per spaced call, us
--   j   our backend's CPU per call in a loop of 3,000 without sleeps, us
--   jr  the remote backend's CPU per call in that loop, us
-- psql variables: ns (spaced calls), nd (loop).
SELECT dblink_connect('c', 'dbname=postgres') AS ok \gset
SELECT pg_backend_pid() AS lpid, r AS rpid
  FROM dblink('c', 'SELECT pg_backend_pid()') AS t(r int) \gset
CREATE FUNCTION pg_temp.cpu_ns(pid int) RETURNS numeric LANGUAGE sql AS $$
	SELECT sum(split_part(pg_read_file('/proc/' || pid || '/task/' || t || '/schedstat', 0, 200, true), ' ', 1)::numeric)
	  FROM pg_ls_dir('/proc/' || pid || '/task') AS t
$$;
-- spaced: returns the calls' wall time in us, and CPU in ns through
-- bench.lcpu / bench.rcpu (sleeps alone when calls is false)
CREATE FUNCTION pg_temp.spaced(n int, calls bool, rpid int) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz;
	wall interval := '0';
	v int;
	l0 numeric := pg_temp.cpu_ns(pg_backend_pid());
	r0 numeric := pg_temp.cpu_ns(rpid);
BEGIN
	FOR i IN 1 .. n LOOP
		PERFORM pg_sleep(0.012);
		t := clock_timestamp();
		IF calls THEN
			SELECT x INTO v FROM dblink('c', 'SELECT 1') AS t(x int);
		END IF;
		wall := wall + (clock_timestamp() - t);
	END LOOP;
	PERFORM set_config('bench.lcpu', (pg_temp.cpu_ns(pg_backend_pid()) - l0)::text, false);
	PERFORM set_config('bench.rcpu', (pg_temp.cpu_ns(rpid) - r0)::text, false);
	RETURN extract(epoch FROM wall) * 1e6;
END
$$;
CREATE FUNCTION pg_temp.tight(n int, rpid int) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
	v int;
	l0 numeric := pg_temp.cpu_ns(pg_backend_pid());
	r0 numeric := pg_temp.cpu_ns(rpid);
BEGIN
	FOR i IN 1 .. n LOOP
		SELECT x INTO v FROM dblink('c', 'SELECT 1') AS t(x int);
	END LOOP;
	PERFORM set_config('bench.rcpu', (pg_temp.cpu_ns(rpid) - r0)::text, false);
	RETURN pg_temp.cpu_ns(pg_backend_pid()) - l0;
END
$$;
SELECT round(pg_temp.spaced(:ns, false, :rpid)) AS base_us,
       current_setting('bench.lcpu')::numeric AS base_cpu \gset
SELECT round(pg_temp.spaced(:ns, true, :rpid) / :ns, 1) AS i,
       round((current_setting('bench.lcpu')::numeric - :base_cpu) / :ns / 1000, 2) AS ic,
       round(current_setting('bench.rcpu')::numeric / :ns / 1000, 2) AS ir \gset
SELECT round(pg_temp.tight(:nd, :rpid) / :nd / 1000, 2) AS j,
       round(current_setting('bench.rcpu')::numeric / :nd / 1000, 2) AS jr \gset
SELECT dblink_disconnect('c') AS ok \gset
\echo @@ i :i
\echo @@ ic :ic
\echo @@ ir :ir
\echo @@ j :j
\echo @@ jr :jr
