-- Local SQL builders: dblink_get_pkey and dblink_build_sql_insert/update/delete.
-- No remote connection is needed.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
SET DateStyle = 'ISO, MDY';

CREATE TABLE foo (f1 int, f2 text, f3 text[], PRIMARY KEY (f1, f2));
INSERT INTO foo VALUES (0, 'a', '{"a0","b0","c0"}');
INSERT INTO foo VALUES (1, 'b', '{"a1","b1","c1"}');
INSERT INTO foo VALUES (2, 'c', '{"a2","b2","c2"}');

-- primary key columns, in key order
SELECT * FROM dblink_get_pkey('foo');
SELECT dblink_get_pkey('foo');
SELECT * FROM dblink_get_pkey('public.foo');

-- basic builders
SELECT dblink_build_sql_insert('foo', '1 2', 2, '{"0", "a"}', '{"99", "xyz"}');
SELECT dblink_build_sql_update('foo', '1 2', 2, '{"0", "a"}', '{"99", "xyz"}');
SELECT dblink_build_sql_delete('foo', '1 2', 2, '{"0", "a"}');
-- key given in another order than the columns
SELECT dblink_build_sql_insert('foo', '2 1', 2, '{"a", "0"}', '{"xyz", "99"}');
SELECT dblink_build_sql_update('foo', '2 1', 2, '{"a", "0"}', '{"xyz", "99"}');
SELECT dblink_build_sql_delete('foo', '2 1', 2, '{"xyz", "99"}');
-- only the first pknumatts entries of the vector are used
SELECT dblink_build_sql_insert('foo', '1 2', 1, '{"1"}', '{"42"}');
SELECT dblink_build_sql_delete('foo', '1 2 3', 1, '{"1"}');
-- pknumatts larger than the vector: the vector wins
SELECT dblink_build_sql_insert('foo', '1', 5, '{"2"}', '{"7"}');
SELECT dblink_build_sql_delete('foo', '3', 9, '{"{x,y}"}');
-- duplicate key attributes are allowed; the first target value wins
SELECT dblink_build_sql_insert('foo', '1 1', 2, '{"0", "0"}', '{"5", "6"}');
SELECT dblink_build_sql_update('foo', '1 1', 2, '{"0", "0"}', '{"5", "6"}');
SELECT dblink_build_sql_delete('foo', '1 1', 2, '{"5", "6"}');
-- a non-key column may serve as the key
SELECT dblink_build_sql_update('foo', '3', 1, '{"{a2,b2,c2}"}', '{"{z}"}');
-- multidimensional key arrays are flattened
SELECT dblink_build_sql_insert('foo', '1 2', 2, '{{"1", "b"}}', '{{"10"}, {"bb"}}');
SELECT dblink_build_sql_delete('foo', '1 2', 2, '{{"1"}, {"b"}}');

-- too many key fields
SELECT dblink_build_sql_insert('foo', '1 2 3 4', 4, '{"0", "a", "{a0,b0,c0}", "x"}', '{"99", "xyz", "{za0,zb0,zc0}", "y"}');
SELECT dblink_build_sql_update('foo', '1 2 3 4', 4, '{"0", "a", "{a0,b0,c0}", "x"}', '{"99", "xyz", "{za0,zb0,zc0}", "y"}');
SELECT dblink_build_sql_delete('foo', '1 2 3 4', 4, '{"0", "a", "{a0,b0,c0}", "x"}');
-- bad attribute numbers
SELECT dblink_build_sql_insert('foo', '0', 1, '{"0"}', '{"1"}');
SELECT dblink_build_sql_update('foo', '-1', 1, '{"0"}', '{"1"}');
SELECT dblink_build_sql_delete('foo', '1 32767', 2, '{"0", "1"}');
SELECT dblink_build_sql_delete('foo', '1 -32768', 2, '{"0", "1"}');
-- number of key attributes
SELECT dblink_build_sql_insert('foo', '1 2', 0, '{}', '{}');
SELECT dblink_build_sql_update('foo', '1 2', -3, '{}', '{}');
SELECT dblink_build_sql_delete('foo', '', 2, '{}');
-- the attribute numbers are checked before the arrays
SELECT dblink_build_sql_insert('foo', '9', 1, '{}', '{}');
-- array length mismatches: the source array is checked first
SELECT dblink_build_sql_insert('foo', '1 2', 2, '{"0"}', '{"99", "xyz"}');
SELECT dblink_build_sql_insert('foo', '1 2', 2, '{"0", "a"}', '{"99"}');
SELECT dblink_build_sql_insert('foo', '1 2', 2, '{"0"}', '{"99"}');
SELECT dblink_build_sql_update('foo', '1 2', 2, '{"0", "a", "b"}', '{"99", "xyz"}');
SELECT dblink_build_sql_update('foo', '1 2', 2, '{"0", "a"}', '{}');
SELECT dblink_build_sql_delete('foo', '1 2', 2, '{"0"}');
SELECT dblink_build_sql_delete('foo', '1', 1, '{"0", "a"}');
-- the source row must exist, and only once
SELECT dblink_build_sql_insert('foo', '1 2', 2, '{"0", "zz"}', '{"99", "xyz"}');
SELECT dblink_build_sql_update('foo', '1 2', 2, '{"7", "a"}', '{"99", "xyz"}');
INSERT INTO foo VALUES (3, 'c', '{"a2","b2","c2"}');
SELECT dblink_build_sql_insert('foo', '2', 1, '{"c"}', '{"d"}');
SELECT dblink_build_sql_update('foo', '3', 1, '{"{a2,b2,c2}"}', '{"{x}"}');
-- the delete builder never looks at local rows
SELECT dblink_build_sql_delete('foo', '1 2', 2, '{"12345", "nope"}');
-- a source value the key column type rejects fails in the lookup query
SELECT dblink_build_sql_insert('foo', '1 2', 2, '{"zero", "a"}', '{"99", "xyz"}');
-- and so does an error raised while the lookup runs
CREATE VIEW div_v AS SELECT g AS id, 1 / (g - 1) AS r FROM generate_series(1, 2) g;
SELECT dblink_build_sql_update('div_v', '1', 1, '{"1"}', '{"3"}');
SELECT dblink_build_sql_delete('div_v', '1', 1, '{"1"}');
DROP VIEW div_v;

-- NULL key values: IS NULL in lookups and WHERE clauses, NULL in values
CREATE TABLE nk (k1 int, k2 text, v text, d date, n numeric);
INSERT INTO nk VALUES (1, NULL, 'one', '2024-02-29', NULL);
INSERT INTO nk VALUES (NULL, 'x', NULL, NULL, 1.50);
SELECT * FROM dblink_get_pkey('nk');
SELECT dblink_build_sql_insert('nk', '1 2', 2, '{"1", NULL}', '{"2", NULL}');
SELECT dblink_build_sql_update('nk', '1 2', 2, '{"1", NULL}', '{NULL, "y"}');
SELECT dblink_build_sql_delete('nk', '1 2', 2, '{NULL, NULL}');
SELECT dblink_build_sql_insert('nk', '1', 1, ARRAY[NULL]::text[], '{"3"}');
SELECT dblink_build_sql_update('nk', '2 1', 2, '{"x", NULL}', '{"x", NULL}');
SELECT dblink_build_sql_insert('nk', '1', 1, ARRAY[NULL]::text[], ARRAY[NULL]::text[]);
-- non-key values use the local output format
SET DateStyle = 'German';
SELECT dblink_build_sql_insert('nk', '1', 1, '{"1"}', '{"4"}');
RESET DateStyle;
SET DateStyle = 'ISO, MDY';

-- quotes and backslashes: E'' literals where needed
CREATE TABLE bs ("Key Col" text PRIMARY KEY, "select" text, "val" text);
INSERT INTO bs VALUES ('a\b', 'it''s', 'c:\dir\');
INSERT INTO bs VALUES ('plain', NULL, 'x');
SELECT * FROM dblink_get_pkey('bs');
SELECT dblink_build_sql_insert('bs', '1', 1, '{"a\\b"}', '{"n\\e''w"}');
SELECT dblink_build_sql_update('bs', '1', 1, ARRAY['a\b'], ARRAY['o''k']);
SELECT dblink_build_sql_delete('bs', '1', 1, ARRAY['x\y''z']);
SELECT dblink_build_sql_insert('bs', '1', 1, '{"plain"}', '{"plain"}');
SELECT dblink_build_sql_update('bs', '3', 1, ARRAY['c:\dir\'], ARRAY['\\']);

-- quoted and schema-qualified names; relations not on search_path
CREATE SCHEMA "MySchema";
CREATE TABLE "MySchema"."Foo" (f1 int, "F 2" text, f3 text[], PRIMARY KEY (f1, "F 2"));
INSERT INTO "MySchema"."Foo" VALUES (0, 'a', '{"a0","b0","c0"}');
SELECT * FROM dblink_get_pkey('"MySchema"."Foo"');
SELECT dblink_build_sql_insert('"MySchema"."Foo"', '1 2', 2, '{"0", "a"}', '{"99", "xyz"}');
SELECT dblink_build_sql_update('"MySchema"."Foo"', '1 2', 2, '{"0", "a"}', '{"99", "xyz"}');
SELECT dblink_build_sql_delete('"MySchema"."Foo"', '1 2', 2, '{"0", "a"}');
-- the same relation once it is on search_path
SET search_path = "MySchema", public;
SELECT dblink_build_sql_insert('"Foo"', '1 2', 2, '{"0", "a"}', '{"99", "xyz"}');
SELECT dblink_build_sql_delete('"MySchema"."Foo"', '1 2', 2, '{"0", "a"}');
RESET search_path;
-- a current database prefix is accepted
SELECT dblink_build_sql_delete(current_database() || '."MySchema"."Foo"', '1', 1, '{"0"}');
-- name case folding
SELECT * FROM dblink_get_pkey('FOO');
SELECT * FROM dblink_get_pkey('"MySchema".foo');
CREATE SCHEMA hidden;
CREATE TABLE hidden.t (id int PRIMARY KEY, "Name" text);
INSERT INTO hidden.t VALUES (1, 'one');
SELECT * FROM dblink_get_pkey('hidden.t');
SELECT dblink_build_sql_insert('hidden.t', '1', 1, '{"1"}', '{"2"}');
SELECT dblink_build_sql_update('hidden.t', '1', 1, '{"1"}', '{"2"}');
SELECT dblink_build_sql_delete('hidden.t', '1', 1, '{"1"}');
SELECT dblink_build_sql_delete('t', '1', 1, '{"1"}');
-- temporary tables are visible and stay unqualified
CREATE TEMP TABLE tmp (id int PRIMARY KEY, v text);
INSERT INTO tmp VALUES (1, 'x');
SELECT * FROM dblink_get_pkey('tmp');
SELECT dblink_build_sql_insert('tmp', '1', 1, '{"1"}', '{"2"}');
SELECT dblink_build_sql_delete('pg_temp.tmp', '1', 1, '{"1"}');

-- dropped columns: attribute numbers count live columns only
CREATE TABLE dropped (a int, junk1 int, b text, junk2 text, c int, PRIMARY KEY (a, b));
INSERT INTO dropped VALUES (1, 0, 'one', 'z', 10);
INSERT INTO dropped VALUES (2, 0, 'two', 'z', 20);
ALTER TABLE dropped DROP COLUMN junk1;
ALTER TABLE dropped DROP COLUMN junk2;
SELECT * FROM dblink_get_pkey('dropped');
SELECT dblink_build_sql_insert('dropped', '1 2', 2, '{"1", "one"}', '{"11", "eleven"}');
SELECT dblink_build_sql_update('dropped', '1 2', 2, '{"1", "one"}', '{"11", "eleven"}');
SELECT dblink_build_sql_delete('dropped', '1 2', 2, '{"1", "one"}');
SELECT dblink_build_sql_update('dropped', '3', 1, '{"20"}', '{"21"}');
SELECT dblink_build_sql_delete('dropped', '3', 1, '{"20"}');
-- 4 and 5 are physical numbers, but there are only three live columns
SELECT dblink_build_sql_delete('dropped', '4', 1, '{"20"}');
SELECT dblink_build_sql_delete('dropped', '5', 1, '{"20"}');
SELECT dblink_build_sql_delete('dropped', '6', 1, '{"20"}');
ALTER TABLE dropped ADD COLUMN d text DEFAULT 'new';
SELECT dblink_build_sql_insert('dropped', '4 1', 2, '{"new", "2"}', '{"old", "3"}');
SELECT dblink_build_sql_delete('dropped', '4', 1, '{"new"}');
-- the primary key on a table with a dropped column ahead of it
ALTER TABLE dropped DROP CONSTRAINT dropped_pkey;
ALTER TABLE dropped ADD PRIMARY KEY (c);
SELECT * FROM dblink_get_pkey('dropped');

-- generated columns are included
CREATE TABLE gen (id int PRIMARY KEY, x int, doubled int GENERATED ALWAYS AS (x * 2) STORED);
INSERT INTO gen (id, x) VALUES (1, 21);
SELECT dblink_build_sql_insert('gen', '1', 1, '{"1"}', '{"2"}');
SELECT dblink_build_sql_update('gen', '1', 1, '{"1"}', '{"2"}');
SELECT dblink_build_sql_update('gen', '3', 1, '{"42"}', '{"0"}');
SELECT dblink_build_sql_delete('gen', '3', 1, '{"42"}');

-- INCLUDE columns are not part of the key; no primary key gives no rows
CREATE TABLE inc (a int, b int, c int, PRIMARY KEY (b, a) INCLUDE (c));
CREATE UNIQUE INDEX inc_c ON inc (c);
SELECT * FROM dblink_get_pkey('inc');
CREATE TABLE nopk (a int UNIQUE, b int);
SELECT * FROM dblink_get_pkey('nopk');
SELECT count(*) FROM dblink_get_pkey('nopk');

-- views, partitioned tables, partitions, sequences, materialized views
CREATE VIEW foo_v AS SELECT f2, f1 FROM foo WHERE f1 < 2;
SELECT * FROM dblink_get_pkey('foo_v');
SELECT dblink_build_sql_insert('foo_v', '2', 1, '{"1"}', '{"100"}');
SELECT dblink_build_sql_update('foo_v', '1 2', 2, '{"b", "1"}', '{"bb", "100"}');
SELECT dblink_build_sql_delete('foo_v', '1', 1, '{"b"}');
SELECT dblink_build_sql_insert('foo_v', '2', 1, '{"2"}', '{"100"}');
CREATE TABLE parted (id int, part text, v text, PRIMARY KEY (id, part)) PARTITION BY LIST (part);
CREATE TABLE parted_a PARTITION OF parted FOR VALUES IN ('a');
CREATE TABLE parted_b PARTITION OF parted FOR VALUES IN ('b');
INSERT INTO parted VALUES (1, 'a', 'va'), (1, 'b', 'vb');
SELECT * FROM dblink_get_pkey('parted');
SELECT * FROM dblink_get_pkey('parted_b');
SELECT dblink_build_sql_insert('parted', '1 2', 2, '{"1", "b"}', '{"2", "b"}');
SELECT dblink_build_sql_insert('parted_a', '1 2', 2, '{"1", "a"}', '{"2", "a"}');
SELECT dblink_build_sql_update('parted', '1', 1, '{"1"}', '{"2"}');
SELECT dblink_build_sql_update('parted_b', '1', 1, '{"1"}', '{"2"}');
SELECT dblink_build_sql_delete('parted', '2 1', 2, '{"a", "1"}');
CREATE SEQUENCE seq;
SELECT * FROM dblink_get_pkey('seq');
SELECT dblink_build_sql_delete('seq', '1', 1, '{"1"}');
SELECT dblink_build_sql_insert('seq', '1', 1, '{"1"}', '{"2"}');
CREATE MATERIALIZED VIEW mv AS SELECT 1 AS id, 'x'::text AS v;
SELECT * FROM dblink_get_pkey('mv');
SELECT dblink_build_sql_insert('mv', '1', 1, '{"1"}', '{"2"}');

-- missing and unsuitable relations, bad names
SELECT * FROM dblink_get_pkey('nosuch');
SELECT * FROM dblink_get_pkey('nosuch.foo');
SELECT * FROM dblink_get_pkey('hidden.nosuch');
SELECT * FROM dblink_get_pkey('"Foo"');
SELECT dblink_build_sql_insert('nosuch', '1', 1, '{"1"}', '{"2"}');
SELECT dblink_build_sql_update('"MySchema".nosuch', '1', 1, '{"1"}', '{"2"}');
SELECT dblink_build_sql_delete('nosuch', '1', 1, '{"1"}');
SELECT dblink_build_sql_delete('nosuch', '0', 0, '{}');
SELECT * FROM dblink_get_pkey('foo_pkey');
SELECT dblink_build_sql_delete('foo_pkey', '1', 1, '{"1"}');
SELECT * FROM dblink_get_pkey('parted_pkey');
SELECT * FROM dblink_get_pkey('"MySchema"."Foo_pkey"');
CREATE TYPE ctype AS (a int, b text);
SELECT * FROM dblink_get_pkey('ctype');
SELECT dblink_build_sql_insert('ctype', '1', 1, '{"1"}', '{"2"}');
SELECT * FROM dblink_get_pkey('"foo');
SELECT * FROM dblink_get_pkey('');
SELECT dblink_build_sql_delete('foo.', '1', 1, '{"1"}');
SELECT * FROM dblink_get_pkey('a.b.c.d');
SELECT * FROM dblink_get_pkey('otherdb.public.foo');
-- NULL arguments (the functions are STRICT)
SELECT dblink_build_sql_insert(NULL, '1', 1, '{"1"}', '{"2"}') IS NULL AS is_null;
SELECT dblink_build_sql_delete('foo', '1', NULL, '{"1"}') IS NULL AS is_null;
SELECT count(*) FROM dblink_get_pkey(NULL);

-- SELECT privilege is required
CREATE ROLE regress_builders_nopriv;
CREATE TABLE grants_ok (id int PRIMARY KEY, v text);
INSERT INTO grants_ok VALUES (1, 'x');
GRANT SELECT ON grants_ok TO regress_builders_nopriv;
CREATE TABLE grants_col (id int PRIMARY KEY, v text);
GRANT SELECT (id, v) ON grants_col TO regress_builders_nopriv;
SET ROLE regress_builders_nopriv;
SELECT * FROM dblink_get_pkey('foo');
SELECT dblink_build_sql_insert('foo', '1 2', 2, '{"0", "a"}', '{"99", "xyz"}');
SELECT dblink_build_sql_update('foo', '1 2', 2, '{"0", "a"}', '{"99", "xyz"}');
SELECT dblink_build_sql_delete('foo', '1 2', 2, '{"0", "a"}');
-- the privilege is checked before the key attributes
SELECT dblink_build_sql_delete('foo', '9', 1, '{"0"}');
SELECT * FROM dblink_get_pkey('foo_v');
SELECT dblink_build_sql_delete('seq', '1', 1, '{"1"}');
SELECT * FROM dblink_get_pkey('"MySchema"."Foo"');
-- column privileges are not enough
SELECT * FROM dblink_get_pkey('grants_col');
-- with SELECT it works
SELECT * FROM dblink_get_pkey('grants_ok');
SELECT dblink_build_sql_insert('grants_ok', '1', 1, '{"1"}', '{"2"}');
SELECT dblink_build_sql_update('grants_ok', '1', 1, '{"1"}', '{"2"}');
SELECT dblink_build_sql_delete('grants_ok', '1', 1, '{"1"}');
-- a missing relation is reported before any privilege check
SELECT * FROM dblink_get_pkey('nosuch');
RESET ROLE;
REVOKE USAGE ON SCHEMA hidden FROM PUBLIC;
SET ROLE regress_builders_nopriv;
SELECT * FROM dblink_get_pkey('hidden.t');
RESET ROLE;

-- clean up
DROP TABLE grants_ok, grants_col;
DROP ROLE regress_builders_nopriv;
DROP MATERIALIZED VIEW mv;
DROP SEQUENCE seq;
DROP TYPE ctype;
DROP TABLE parted;
DROP VIEW foo_v;
DROP TABLE foo, nk, bs, dropped, gen, inc, nopk, tmp;
DROP SCHEMA "MySchema" CASCADE;
DROP SCHEMA hidden CASCADE;
