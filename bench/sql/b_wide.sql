-- (b) rows of ~1 KB text over a persistent named connection.
-- psql variables: q (remote query).
SELECT dblink_connect('c', 'dbname=postgres') AS ok \gset
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) AS rows FROM dblink('c', :'q') AS t(x text) \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 3) AS ms \gset
SELECT dblink_disconnect('c') AS ok \gset
\echo @@ b :ms
\echo @@ b_rows :rows
