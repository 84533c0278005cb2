-- (a) + (f) + (g) + (h): 1M rows x (int, text, int[]) over a persistent named connection,
-- the backend's memory (VmRSS before anything is loaded; VmHWM and RssAnon
-- after (a)) and its CPU time during (a).
-- psql variables: q (remote query), n (expected row count).
SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+) kB'))[1] AS rss0_kb \gset
SELECT dblink_connect('c', 'dbname=postgres') AS ok \gset
SELECT (string_to_array(pg_read_file('/proc/self/stat'), ' '))[14:15] AS cpu0 \gset
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) AS rows FROM dblink('c', :'q') AS t(a int, b text, c int[]) \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 3) AS ms \gset
SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+) kB'))[1] AS hwm_kb \gset
SELECT (regexp_match(pg_read_file('/proc/self/status'), 'RssAnon:\s+(\d+) kB'))[1] AS anon_kb \gset
-- utime + stime of the backend, all its threads, in ms (clock ticks of 10 ms)
SELECT (c[1]::bigint + c[2]::bigint - (:'cpu0'::text[])[1]::bigint - (:'cpu0'::text[])[2]::bigint) * 10 AS cpu_ms
  FROM (SELECT (string_to_array(pg_read_file('/proc/self/stat'), ' '))[14:15] AS c) s \gset
SELECT dblink_disconnect('c') AS ok \gset
\echo @@ a :ms
\echo @@ a_rows :rows
\echo @@ f0 :rss0_kb
\echo @@ f :hwm_kb
\echo @@ g :anon_kb
\echo @@ h :cpu_ms
