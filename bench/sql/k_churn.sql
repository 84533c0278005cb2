-- (k) the backend's private memory (RssAnon) after n cycles of
-- dblink_connect + dblink_disconnect: what a long-lived session that
-- connects now and then keeps for good.  psql variables: n.
SELECT set_config('bench.n', :'n', false) AS ok \gset
DO $$
BEGIN
	FOR i IN 1 .. current_setting('bench.n')::int LOOP
		PERFORM dblink_connect('kc', 'dbname=postgres');
		PERFORM dblink_disconnect('kc');
	END LOOP;
END
$$;
SELECT (regexp_match(pg_read_file('/proc/self/status'), 'RssAnon:\s+(\d+) kB'))[1] AS anon_kb \gset
-- (k') what the session keeps once it has been idle a moment
SELECT pg_sleep(2) AS ok \gset
SELECT (regexp_match(pg_read_file('/proc/self/status'), 'RssAnon:\s+(\d+) kB'))[1] AS idle_kb \gset
\echo @@ k :anon_kb
\echo @@ k2 :idle_kb
