-- hnsw with vector_l2_ops: exact results on small tables, NULLs, empty
-- tables, inserts after the build, TRUNCATE, iterative scans

SET enable_seqscan = off;

-- empty table, then rows arrive through inserts
CREATE TABLE hl (id int, v vector(2));
CREATE INDEX hl_idx ON hl USING hnsw (v vector_l2_ops);
SELECT id FROM hl ORDER BY v <-> '[0,0]' LIMIT 3;
INSERT INTO hl VALUES (1, '[0,0]'), (2, '[1,1]'), (3, '[2,2]'), (4, NULL), (5, '[-1,-1]');
SELECT id, round((v <-> '[0.9,0.9]')::numeric, 4) AS d FROM hl ORDER BY v <-> '[0.9,0.9]' LIMIT 10;
-- a NULL query vector returns rows in no particular order: count them
SELECT count(*) FROM (SELECT id FROM hl ORDER BY v <-> NULL LIMIT 10) s;

-- TRUNCATE empties the index
TRUNCATE hl;
SELECT id FROM hl ORDER BY v <-> '[0,0]' LIMIT 3;
INSERT INTO hl VALUES (10, '[3,4]');
SELECT id FROM hl ORDER BY v <-> '[0,0]' LIMIT 3;
DROP TABLE hl;

-- a grid: with ef_search above the table size the index search is exact
CREATE TABLE grid (id int, v vector(2));
INSERT INTO grid SELECT x * 100 + y, ARRAY[x, y] FROM generate_series(0, 29) x, generate_series(0, 29) y;
CREATE INDEX grid_idx ON grid USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
SET hnsw.ef_search = 1000;
SELECT id, round((v <-> '[10.2,20.1]')::numeric, 6) AS d FROM grid ORDER BY v <-> '[10.2,20.1]', id LIMIT 5;
-- rows added after the build are found
INSERT INTO grid VALUES (99999, '[10.2,20.1]');
SELECT id FROM grid ORDER BY v <-> '[10.2,20.1]' LIMIT 1;

-- the index agrees with an exact scan for 20 queries
CREATE TABLE grid_q AS SELECT i, ARRAY[(i * 7) % 30 + 0.3, (i * 11) % 30 + 0.6]::vector(2) AS q FROM generate_series(1, 20) i;
SET hnsw.ef_search = 100;
SELECT count(*) AS mismatches FROM grid_q,
  LATERAL (SELECT array_agg(id) AS ids FROM (SELECT id FROM grid ORDER BY v <-> q LIMIT 5) s) a,
  LATERAL (SELECT array_agg(id) AS ids FROM (SELECT id FROM grid ORDER BY v <-> q, id LIMIT 5) s) e
WHERE NOT (a.ids @> e.ids AND e.ids @> a.ids);

-- iterative scans return more rows than ef_search for a filtered query
SET hnsw.ef_search = 10;
SET hnsw.iterative_scan = off;
SELECT count(*) FROM (SELECT id FROM grid WHERE id % 10 = 0 ORDER BY v <-> '[15,15]' LIMIT 20) s;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM grid WHERE id % 10 = 0 ORDER BY v <-> '[15,15]' LIMIT 20) s;
SET hnsw.iterative_scan = strict_order;
SELECT count(*) FROM (SELECT id FROM grid WHERE id % 10 = 0 ORDER BY v <-> '[15,15]' LIMIT 20) s;
-- strict order never goes backwards
SELECT bool_and(d >= prev) FROM (
  SELECT d, lag(d, 1, 0::float8) OVER (ORDER BY n) AS prev FROM (
    SELECT row_number() OVER () AS n, v <-> '[15,15]' AS d FROM (
      SELECT v FROM grid WHERE id % 10 = 0 ORDER BY v <-> '[15,15]' LIMIT 50) s) t) u;
-- max_scan_tuples bounds the search
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.max_scan_tuples = 50;
SELECT count(*) < 90 AS bounded FROM (SELECT id FROM grid ORDER BY v <-> '[15,15]' LIMIT 90) s;
RESET hnsw.max_scan_tuples;
RESET hnsw.iterative_scan;
RESET hnsw.ef_search;

SELECT "check", ok FROM vecrec.verify_index('grid_idx');
DROP TABLE grid, grid_q;
