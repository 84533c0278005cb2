-- (c) n x (dblink_connect + dblink_disconnect) in one DO block.  One
-- connect/disconnect first loads the library, so it is not timed here (that
-- is (e)).  psql variables: n.
SELECT dblink_connect('w', 'dbname=postgres') AS ok \gset
SELECT dblink_disconnect('w') AS ok \gset
SELECT set_config('bench.n', :'n', false) AS ok \gset
SELECT clock_timestamp() AS t0 \gset
DO $$
BEGIN
	FOR i IN 1 .. current_setting('bench.n')::int LOOP
		PERFORM dblink_connect('cc', 'dbname=postgres');
		PERFORM dblink_disconnect('cc');
	END LOOP;
END
$$;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 3) AS ms \gset
\echo @@ c :ms
