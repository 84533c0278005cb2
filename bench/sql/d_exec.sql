-- (d1) n x dblink_exec on one persistent connection, in one DO block.
-- psql variables: n.
SELECT dblink_connect('c', 'dbname=postgres') AS ok \gset
SELECT set_config('bench.n', :'n', false) AS ok \gset
SELECT clock_timestamp() AS t0 \gset
DO $$
BEGIN
	FOR i IN 1 .. current_setting('bench.n')::int LOOP
		PERFORM dblink_exec('c', 'SET application_name = x');
	END LOOP;
END
$$;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 3) AS ms \gset
SELECT dblink_disconnect('c') AS ok \gset
\echo @@ d1 :ms
