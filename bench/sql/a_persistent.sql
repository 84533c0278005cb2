-- (a) + (f): 1M rows x (int, text, int[]) over a persistent named connection,
-- and the backend's memory: VmRSS before anything is loaded, VmHWM after (a).
-- psql variables: q (remote query), n (expected row count).
SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+) kB'))[1] AS rss0_kb \gset
SELECT dblink_connect('c', 'dbname=postgres') AS ok \gset
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) AS rows FROM dblink('c', :'q') AS t(a int, b text, c int[]) \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 3) AS ms \gset
SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+) kB'))[1] AS hwm_kb \gset
SELECT dblink_disconnect('c') AS ok \gset
\echo @@ a :ms
\echo @@ a_rows :rows
\echo @@ f0 :rss0_kb
\echo @@ f :hwm_kb
