-- (d3) n x dblink_exec alternating between two persistent connections, in
-- one DO block: a job writing to two remote databases in turn.
-- psql variables: n.
SELECT dblink_connect('c1', 'dbname=postgres') AS ok \gset
SELECT dblink_connect('c2', 'dbname=postgres') AS ok \gset
SELECT set_config('bench.n', :'n', false) AS ok \gset
SELECT clock_timestamp() AS t0 \gset
DO $$
BEGIN
	FOR i IN 1 .. current_setting('bench.n')::int / 2 LOOP
		PERFORM dblink_exec('c1', 'SET application_name = x');
		PERFORM dblink_exec('c2', 'SET application_name = x');
	END LOOP;
END
$$;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 3) AS ms \gset
SELECT dblink_disconnect('c1') AS ok \gset
SELECT dblink_disconnect('c2') AS ok \gset
\echo @@ d3 :ms
