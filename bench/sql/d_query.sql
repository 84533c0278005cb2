-- (d2) n x dblink('c', 'SELECT 1') on one persistent connection, in one DO
-- block: the per-call cost of the query path.  psql variables: n.
SELECT dblink_connect('c', 'dbname=postgres') AS ok \gset
SELECT set_config('bench.n', :'n', false) AS ok \gset
SELECT clock_timestamp() AS t0 \gset
DO $$
DECLARE
	s bigint := 0;
	v int;
BEGIN
	FOR i IN 1 .. current_setting('bench.n')::int LOOP
		SELECT x INTO v FROM dblink('c', 'SELECT 1') AS t(x int);
		s := s + v;
	END LOOP;
	IF s <> current_setting('bench.n')::int THEN
		RAISE EXCEPTION 'dblink(''c'', ''SELECT 1'') summed to %, expected %', s, current_setting('bench.n');
	END IF;
END
$$;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 3) AS ms \gset
SELECT dblink_disconnect('c') AS ok \gset
\echo @@ d2 :ms
