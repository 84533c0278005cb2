-- (d1) again with both backends pinned to CPUs (taskset), to take the
-- scheduler's placement out of the figure: on a VM a small round trip can
-- cost three times as much when the local and the remote backend run on
-- two CPUs as on one, and unpinned runs land on either.
-- d1s: both on CPU 0; d1x: local on CPU 0, remote on CPU 1 (not on one CPU).
-- psql variables: n.
SELECT dblink_connect('c', 'dbname=postgres') AS ok \gset
SELECT pg_backend_pid() AS lpid, r AS rpid
  FROM dblink('c', 'SELECT pg_backend_pid()') AS t(r int) \gset
SELECT set_config('bench.n', :'n', false) AS ok \gset
CREATE FUNCTION pg_temp.loop() RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
BEGIN
	FOR i IN 1 .. current_setting('bench.n')::int LOOP
		PERFORM dblink_exec('c', 'SET application_name = x');
	END LOOP;
	RETURN round(extract(epoch FROM clock_timestamp() - t0) * 1000, 3);
END
$$;
-- \! does not interpolate psql variables: the environment carries them
\setenv LPID :lpid
\setenv RPID :rpid
\! taskset -a -p -c 0 "$LPID" >/dev/null && taskset -p -c 0 "$RPID" >/dev/null
SELECT pg_temp.loop() AS ms \gset
\echo @@ d1s :ms
\! [ "$(nproc)" -gt 1 ] && taskset -p -c 1 "$RPID" >/dev/null
SELECT (regexp_match(pg_read_file('/proc/' || :rpid || '/status'),
		'Cpus_allowed_list:\s+(\S+)'))[1] = '1' AS cross \gset
\if :cross
SELECT pg_temp.loop() AS ms \gset
\echo @@ d1x :ms
\endif
SELECT dblink_disconnect('c') AS ok \gset
