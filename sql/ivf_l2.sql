-- ivfflat with vector_l2_ops: NULLs, empty tables, inserts after the
-- build, TRUNCATE, probes, iterative scans, VACUUM

SET enable_seqscan = off;

-- empty table, then rows arrive through inserts
CREATE TABLE il (id int, v vector(2));
CREATE INDEX il_idx ON il USING ivfflat (v vector_l2_ops) WITH (lists = 4);
SELECT id FROM il ORDER BY v <-> '[0,0]' LIMIT 3;
INSERT INTO il VALUES (1, '[0,0]'), (2, '[1,1]'), (3, '[2,2]'), (4, NULL), (5, '[-1,-1]');
SELECT id, round((v <-> '[0.9,0.9]')::numeric, 4) AS d FROM il ORDER BY v <-> '[0.9,0.9]' LIMIT 10;
-- a NULL query vector returns rows in no particular order: count them
SELECT count(*) FROM (SELECT id FROM il ORDER BY v <-> NULL LIMIT 10) s;

-- TRUNCATE empties the index
TRUNCATE il;
SELECT id FROM il ORDER BY v <-> '[0,0]' LIMIT 3;
INSERT INTO il VALUES (10, '[3,4]');
SELECT id FROM il ORDER BY v <-> '[0,0]' LIMIT 3;
SELECT "check", ok FROM vecrec.verify_index('il_idx');
DROP TABLE il;

-- a grid of 900 points in 9 lists
CREATE TABLE grid (id int, v vector(2));
INSERT INTO grid SELECT x * 100 + y, ARRAY[x, y] FROM generate_series(0, 29) x, generate_series(0, 29) y;
CREATE INDEX grid_idx ON grid USING ivfflat (v vector_l2_ops) WITH (lists = 9);
SELECT "check", ok, detail FROM vecrec.verify_index('grid_idx');

-- probing every list is exact
SET ivfflat.probes = 9;
SELECT id, round((v <-> '[10.2,20.1]')::numeric, 6) AS d FROM grid ORDER BY v <-> '[10.2,20.1]', id LIMIT 5;
CREATE TABLE grid_q AS SELECT i, ARRAY[(i * 7) % 30 + 0.3, (i * 11) % 30 + 0.6]::vector(2) AS q FROM generate_series(1, 20) i;
SELECT count(*) AS mismatches FROM grid_q,
  LATERAL (SELECT array_agg(id ORDER BY id) AS ids FROM (SELECT id FROM grid ORDER BY v <-> q LIMIT 5) s) a,
  LATERAL (SELECT array_agg(id ORDER BY id) AS ids FROM (SELECT id FROM grid ORDER BY v <-> q, id LIMIT 5) s) e
WHERE a.ids <> e.ids;
-- probes beyond the number of lists are the same as all lists
SET ivfflat.probes = 100;
SELECT count(*) FROM (SELECT id FROM grid ORDER BY v <-> '[15,15]' LIMIT 1000) s;

-- one probe returns one list's rows only, at most
SET ivfflat.probes = 1;
SELECT count(*) BETWEEN 1 AND 899 AS one_list FROM (SELECT id FROM grid ORDER BY v <-> '[15,15]' LIMIT 1000) s;
-- rows come out nearest first
SELECT bool_and(d >= prev) AS ordered FROM (
  SELECT d, lag(d, 1, 0::float8) OVER (ORDER BY n) AS prev FROM (
    SELECT row_number() OVER () AS n, v <-> '[15,15]' AS d FROM (
      SELECT v FROM grid ORDER BY v <-> '[15,15]' LIMIT 50) s) t) u;

-- rows added after the build are found
INSERT INTO grid VALUES (99999, '[10.2,20.1]');
SELECT id FROM grid ORDER BY v <-> '[10.2,20.1]' LIMIT 1;

-- iterative scans: more lists until the filter is satisfied
SET ivfflat.iterative_scan = off;
SELECT count(*) < 20 AS short FROM (SELECT id FROM grid WHERE id % 100 < 3 AND id / 100 < 3 ORDER BY v <-> '[28,28]' LIMIT 20) s;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM grid WHERE id % 100 < 3 AND id / 100 < 3 ORDER BY v <-> '[28,28]' LIMIT 20) s;
-- the rows are those of an exact scan: every list was probed
SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM grid WHERE id % 100 < 3 AND id / 100 < 3 ORDER BY v <-> '[28,28]' LIMIT 20) s;
-- max_probes bounds the lists read
SET ivfflat.max_probes = 2;
SELECT count(*) < 9 AS bounded FROM (SELECT id FROM grid WHERE id % 100 < 3 AND id / 100 < 3 ORDER BY v <-> '[28,28]' LIMIT 20) s;
-- max_probes below probes: probes wins
SET ivfflat.probes = 9;
SELECT count(*) FROM (SELECT id FROM grid WHERE id % 100 < 3 AND id / 100 < 3 ORDER BY v <-> '[28,28]' LIMIT 20) s;
RESET ivfflat.max_probes;
RESET ivfflat.iterative_scan;
RESET ivfflat.probes;

-- VACUUM removes the entries of deleted rows
SET ivfflat.probes = 9;
DELETE FROM grid WHERE id % 2 = 0;
VACUUM grid;
SELECT "check", ok, detail FROM vecrec.verify_index('grid_idx') WHERE "check" = 'entries';
SELECT count(*) FROM (SELECT id FROM grid ORDER BY v <-> '[15,15]' LIMIT 1000) s;
INSERT INTO grid SELECT 100000 + i, ARRAY[i % 30, i / 30] FROM generate_series(0, 449) i;
SELECT "check", ok, detail FROM vecrec.verify_index('grid_idx');
SELECT count(*) FROM (SELECT id FROM grid ORDER BY v <-> '[15,15]' LIMIT 2000) s;

DROP TABLE grid, grid_q;
