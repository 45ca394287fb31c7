-- hnsw filter key columns: USING hnsw (vector, key [, key ...]) keeps a
-- partition of exact entries per distinct key; WHERE key = ... ORDER BY
-- distance reads it in exact order (src/hnsw/hnswpart.c, hnswpartscan.c)

-- the key operator classes
SELECT opcname, opcnamespace::regnamespace, opcintype::regtype, opcdefault, amvalidate(oid)
FROM pg_opclass WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'hnsw') AND opcname LIKE '%key%'
ORDER BY opcname;

-- deterministic rows, no two vectors alike: 12 categories (and NULL), a
-- text tag, an int8 and an int2 key, a uuid and a bool
CREATE TABLE hk (id int PRIMARY KEY, v vector(4), cat int, tag text, big int8, small int2, u uuid, flag bool);
INSERT INTO hk SELECT i,
  ARRAY[sin(i * 0.37), cos(i * 0.91), sin(i * 1.73 + 1), cos(i * 0.13 + 2)]::real[],
  CASE WHEN i % 13 = 0 THEN NULL ELSE i % 12 END,
  CASE WHEN i % 17 = 0 THEN NULL ELSE 'tag' || (i % 5) END,
  (i % 7) * 10000000000, (i % 3)::int2, md5((i % 4)::text)::uuid, i % 2 = 0
FROM generate_series(1, 3000) i;
CREATE TABLE hq (qid int, q vector(4));
INSERT INTO hq SELECT j, ARRAY[cos(j * 1.1), sin(j * 0.7), cos(j * 2.3), sin(j + 0.5)]::real[]
FROM generate_series(1, 6) j;

-- errors
CREATE INDEX ON hk USING hnsw (cat, v);
CREATE INDEX ON hk USING hnsw (v, v);
CREATE INDEX ON hk USING hnsw (v, (cat::numeric));
CREATE INDEX ON hk USING hnsw (v vector_l2_ops, cat int4_ops);

CREATE INDEX hk_cat ON hk USING hnsw (v vector_l2_ops, cat);
SELECT "check", ok FROM vecrec.verify_index('hk_cat', true, true);
-- 12 categories and NULL: 13 partitions
SELECT (regexp_match(detail, '^(\d+) keys'))[1] AS keys FROM vecrec.verify_index('hk_cat') WHERE "check" = 'partitions';

-- exact answers: sequential scan and sort
CREATE FUNCTION pg_temp.answers(idx bool) RETURNS TABLE (k int, qid int, ids int[]) LANGUAGE plpgsql AS $$
BEGIN
  IF idx THEN
    SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL vecrec.enable_exact_scan = off;
  ELSE
    SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL vecrec.enable_exact_scan = off;
  END IF;
  RETURN QUERY SELECT c.k, hq.qid, (SELECT array_agg(s.id) FROM (
      SELECT hk.id FROM hk WHERE hk.cat = c.k ORDER BY hk.v <-> hq.q, hk.id LIMIT 10) s)
    FROM generate_series(0, 12) c(k), hq;
END $$;
CREATE FUNCTION pg_temp.compare() RETURNS TABLE (compared bigint, mismatches bigint) LANGUAGE sql AS $$
  SELECT count(*), count(*) FILTER (WHERE i.ids IS DISTINCT FROM e.ids)
  FROM pg_temp.answers(true) i JOIN pg_temp.answers(false) e USING (k, qid)
$$;
BEGIN;
SELECT * FROM pg_temp.compare();
COMMIT;

-- the plan: an index scan with the key qual, preferred by cost
EXPLAIN (COSTS OFF) SELECT id FROM hk WHERE cat = 3 ORDER BY v <-> '[1,0,0,0]' LIMIT 5;
-- additional filters consume more rows of the same exact order
EXPLAIN (COSTS OFF) SELECT id FROM hk WHERE cat = 3 AND id % 3 = 0 ORDER BY v <-> '[1,0,0,0]' LIMIT 5;
SELECT array_agg(id) FROM (SELECT id FROM hk WHERE cat = 3 AND id % 3 = 0 ORDER BY v <-> '[1,0,0,0]' LIMIT 8) s;
SET enable_indexscan = off; SET vecrec.enable_exact_scan = off;
SELECT array_agg(id) FROM (SELECT id FROM hk WHERE cat = 3 AND id % 3 = 0 ORDER BY v <-> '[1,0,0,0]', id LIMIT 8) s;
RESET enable_indexscan; RESET vecrec.enable_exact_scan;
-- a filter rejecting 9 rows in 10: past the nearest 32 kept while reading,
-- the scan orders the whole partition
SELECT array_agg(id) FROM (SELECT id FROM hk WHERE cat = 3 AND id % 10 = 1 ORDER BY v <-> '[1,0,0,0]' LIMIT 8) s;
SET enable_indexscan = off; SET vecrec.enable_exact_scan = off;
SELECT array_agg(id) FROM (SELECT id FROM hk WHERE cat = 3 AND id % 10 = 1 ORDER BY v <-> '[1,0,0,0]', id LIMIT 8) s;
RESET enable_indexscan; RESET vecrec.enable_exact_scan;
-- every row of a partition, and no other
SELECT count(*), count(DISTINCT id), bool_and(cat = 5) FROM (SELECT id, cat FROM hk WHERE cat = 5 ORDER BY v <-> '[0,1,0,0]') s;
-- a key with no rows, and a NULL key value (never equal)
SELECT count(*) FROM (SELECT id FROM hk WHERE cat = 99 ORDER BY v <-> '[0,1,0,0]') s;
SELECT count(*) FROM (SELECT id FROM hk WHERE cat = NULL::int ORDER BY v <-> '[0,1,0,0]') s;
-- a query without order: the partition's rows in page order
SELECT count(*), bool_and(cat = 4) FROM (SELECT id, cat FROM hk WHERE cat = 4 ORDER BY v <-> NULL::vector) s;
-- no key qual, or IN: the graph, with the key qual as a filter
EXPLAIN (COSTS OFF) SELECT id FROM hk ORDER BY v <-> '[1,0,0,0]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hk WHERE cat IN (1, 2) ORDER BY v <-> '[1,0,0,0]' LIMIT 5;
SELECT count(*) FROM (SELECT id FROM hk ORDER BY v <-> '[1,0,0,0]' LIMIT 5) s;
-- hnsw.iterative_scan does not matter for the partition path
SET hnsw.iterative_scan = strict_order; SET hnsw.ef_search = 1;
SELECT count(*) FROM (SELECT id FROM hk WHERE cat = 7 ORDER BY v <-> '[1,0,0,0]') s;
RESET hnsw.iterative_scan; RESET hnsw.ef_search;

-- insert after the build: existing keys (the build range's last page,
-- then pages of their own) and new keys (new directory entries)
INSERT INTO hk SELECT i,
  ARRAY[sin(i * 0.37), cos(i * 0.91), sin(i * 1.73 + 1), cos(i * 0.13 + 2)]::real[],
  CASE WHEN i % 13 = 0 THEN NULL ELSE i % 12 END, 'tag' || (i % 5), (i % 7) * 10000000000, (i % 3)::int2,
  md5((i % 4)::text)::uuid, i % 2 = 0
FROM generate_series(3001, 4500) i;
INSERT INTO hk SELECT i, ARRAY[sin(i * 0.37), cos(i * 0.91), sin(i * 1.73 + 1), cos(i * 0.13 + 2)]::real[], 100 + i % 40
FROM generate_series(4501, 5000) i;
SELECT "check", ok FROM vecrec.verify_index('hk_cat', true, true);
SELECT (regexp_match(detail, '^(\d+) keys'))[1] AS keys FROM vecrec.verify_index('hk_cat') WHERE "check" = 'partitions';
BEGIN;
SELECT * FROM pg_temp.compare();
COMMIT;
SELECT count(*) FROM (SELECT id FROM hk WHERE cat = 117 ORDER BY v <-> '[0,0,1,0]') s;

-- delete and VACUUM: dead entries are marked and never returned
DELETE FROM hk WHERE id % 4 = 1 OR cat = 11;
VACUUM hk;
SELECT "check", ok FROM vecrec.verify_index('hk_cat', true, true);
SELECT (regexp_match(detail, '\((\d+) dead\)'))[1] AS dead FROM vecrec.verify_index('hk_cat') WHERE "check" = 'partitions';
BEGIN;
SELECT * FROM pg_temp.compare();
COMMIT;
SELECT count(*) FROM (SELECT id FROM hk WHERE cat = 11 ORDER BY v <-> '[0,0,1,0]') s;
-- rows inserted after VACUUM (heap TIDs may be reused)
INSERT INTO hk SELECT i, ARRAY[sin(i * 0.37), cos(i * 0.91), sin(i * 1.73 + 1), cos(i * 0.13 + 2)]::real[], i % 12
FROM generate_series(5001, 5600) i;
SELECT "check", ok FROM vecrec.verify_index('hk_cat', true, true);
BEGIN;
SELECT * FROM pg_temp.compare();
COMMIT;
DROP INDEX hk_cat;

-- several key columns, cosine: each combination is a partition
CREATE INDEX hk_multi ON hk USING hnsw (v vector_cosine_ops, tag, big, small);
SELECT "check", ok FROM vecrec.verify_index('hk_multi', true, true);
EXPLAIN (COSTS OFF) SELECT id FROM hk WHERE tag = 'tag1' AND big = 20000000000 AND small = 2 ORDER BY v <=> '[1,1,0,0]' LIMIT 5;
SELECT array_agg(id) FROM (SELECT id FROM hk WHERE tag = 'tag1' AND big = 20000000000 AND small = 2 ORDER BY v <=> '[1,1,0,0]' LIMIT 6) s;
SET enable_indexscan = off; SET vecrec.enable_exact_scan = off;
SELECT array_agg(id) FROM (SELECT id FROM hk WHERE tag = 'tag1' AND big = 20000000000 AND small = 2 ORDER BY v <=> '[1,1,0,0]', id LIMIT 6) s;
RESET enable_indexscan; RESET vecrec.enable_exact_scan;
-- integer keys compare across int2, int4 and int8 (one operator family)
EXPLAIN (COSTS OFF) SELECT id FROM hk WHERE tag = 'tag3' AND big = 0 AND small = 1::int8 ORDER BY v <=> '[1,1,0,0]' LIMIT 5;
SELECT array_agg(id) FROM (SELECT id FROM hk WHERE tag = 'tag3' AND big = 0 AND small = 1::int8 ORDER BY v <=> '[1,1,0,0]' LIMIT 6) s;
SET enable_indexscan = off; SET vecrec.enable_exact_scan = off;
SELECT array_agg(id) FROM (SELECT id FROM hk WHERE tag = 'tag3' AND big = 0 AND small = 1 ORDER BY v <=> '[1,1,0,0]', id LIMIT 6) s;
RESET enable_indexscan; RESET vecrec.enable_exact_scan;
-- only some key columns: the graph, the executor checking the quals
SET enable_seqscan = off; SET vecrec.enable_exact_scan = off; SET hnsw.ef_search = 1000;
EXPLAIN (COSTS OFF) SELECT id FROM hk WHERE tag = 'tag1' ORDER BY v <=> '[1,1,0,0]' LIMIT 5;
SELECT bool_and(tag = 'tag1'), count(*) FROM (SELECT id, tag FROM hk WHERE tag = 'tag1' ORDER BY v <=> '[1,1,0,0]' LIMIT 5) s;
RESET enable_seqscan; RESET vecrec.enable_exact_scan; RESET hnsw.ef_search;
-- a zero query vector under cosine: the partition's rows, in page order
SELECT count(*) = (SELECT count(*) FROM hk WHERE tag = 'tag2' AND big = 0 AND small = 1 AND vector_norm(v) > 0) AS all_rows
FROM (SELECT id FROM hk WHERE tag = 'tag2' AND big = 0 AND small = 1 ORDER BY v <=> '[0,0,0,0]') s;
DROP INDEX hk_multi;

-- uuid and bool keys, L1; the planner folds flag = true into flag, which
-- no index matches, but a parameter stays an equality
CREATE INDEX hk_ub ON hk USING hnsw (v vector_l1_ops, u, flag);
SELECT "check", ok FROM vecrec.verify_index('hk_ub', true, true);
PREPARE ub(uuid, bool) AS SELECT id FROM hk WHERE u = $1 AND flag = $2 ORDER BY v <+> '[0,0,1,1]' LIMIT 4;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE ub(md5('2')::uuid, true);
EXECUTE ub(md5('2')::uuid, true);
RESET plan_cache_mode;
SELECT array_agg(id) FROM (SELECT id FROM hk WHERE u = md5('2')::uuid AND flag ORDER BY v <+> '[0,0,1,1]', id LIMIT 4) s;
DEALLOCATE ub;
DROP INDEX hk_ub;

-- an index built on an empty table: an empty directory; NULL vectors are
-- not indexed, zero vectors under cosine neither, NULL keys are
CREATE TABLE he (id int, v vector(2), k text);
CREATE INDEX he_idx ON he USING hnsw (v vector_cosine_ops, k);
SELECT "check", ok, detail FROM vecrec.verify_index('he_idx', true, true) WHERE "check" LIKE 'partition%';
INSERT INTO he VALUES (1, '[1,0]', 'a'), (2, '[0,1]', 'a'), (3, '[1,1]', NULL), (4, NULL, 'a'), (5, '[0,0]', 'a'), (6, '[-1,0]', 'b');
SET enable_seqscan = off;
SELECT id FROM he WHERE k = 'a' ORDER BY v <=> '[1,0.1]';
SELECT id FROM he WHERE k = 'b' ORDER BY v <=> '[1,0.1]';
RESET enable_seqscan;
-- zero vectors under cosine are not missing from either pass
SELECT "check", ok, detail FROM vecrec.verify_index('he_idx', true, true) WHERE "check" LIKE 'partition%' OR "check" = 'heapallindexed';
DELETE FROM he WHERE id = 5;
SELECT "check", ok, detail FROM vecrec.verify_index('he_idx', true, true) WHERE "check" LIKE 'partition%';
-- 400 new keys of a row each share pages (a one-page range with the key
-- entered before them on their directory page) instead of taking 400 pages
INSERT INTO he SELECT i, ARRAY[cos(i), sin(i)]::real[], 'n' || i FROM generate_series(10, 409) i;
SELECT (regexp_match(detail, '^(\d+) keys'))[1] AS keys, (regexp_match(detail, '(\d+) partition pages'))[1]::int < 20 AS packed
FROM vecrec.verify_index('he_idx', true, true) WHERE "check" = 'partitions';
SET enable_seqscan = off; SET vecrec.enable_exact_scan = off;
EXPLAIN (COSTS OFF) SELECT b.id FROM he b WHERE b.k = 'n17' ORDER BY b.v <=> '[1,0]' LIMIT 1;
SELECT count(*) FROM he a WHERE a.id > 9 AND a.id IS DISTINCT FROM
  (SELECT b.id FROM he b WHERE b.k = a.k ORDER BY b.v <=> a.v LIMIT 1);
RESET enable_seqscan; RESET vecrec.enable_exact_scan;
DROP TABLE he;

-- unlogged: the init fork is a bare metapage, the first insert adds the directory
CREATE UNLOGGED TABLE hu (id int, v vector(2), k int);
CREATE INDEX hu_idx ON hu USING hnsw (v, k);
INSERT INTO hu SELECT i, ARRAY[cos(i), sin(i)]::real[], i % 3 FROM generate_series(1, 100) i;
SELECT "check", ok FROM vecrec.verify_index('hu_idx', true, true) WHERE "check" LIKE 'partition%';
DROP TABLE hu;
DROP TABLE hk, hq;
