-- (e) the first dblink call in a fresh backend: loading the library (and,
-- for ours, starting the Go runtime) plus one connect.  Nothing before it
-- touches dblink.  (e0) for reference: a second connect in the same backend.
SELECT clock_timestamp() AS t0 \gset
SELECT dblink_connect('c', 'dbname=postgres') AS ok \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 3) AS ms \gset
SELECT clock_timestamp() AS t1 \gset
SELECT dblink_connect('c2', 'dbname=postgres') AS ok \gset
SELECT round(extract(epoch FROM clock_timestamp() - :'t1'::timestamptz) * 1000, 3) AS ms2 \gset
\echo @@ e :ms
\echo @@ e0 :ms2
