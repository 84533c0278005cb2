-- (a') the same 1M-row query over a transient connection (connection string
-- as the first argument): connect + query + disconnect.  The library is
-- loaded first (one connect/disconnect) so that only the call is timed.
-- psql variables: q (remote query).
SELECT dblink_connect('w', 'dbname=postgres') AS ok \gset
SELECT dblink_disconnect('w') AS ok \gset
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) AS rows FROM dblink('dbname=postgres', :'q') AS t(a int, b text, c int[]) \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 3) AS ms \gset
\echo @@ a2 :ms
\echo @@ a2_rows :rows
