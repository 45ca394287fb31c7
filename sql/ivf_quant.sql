-- ivfflat with quantized lists (quantizer = 'sq8'): options, each operator
-- class, exact order of the returned rows, inserts, deletes, NULLs,
-- expression indexes, vecrec.ivfflat_rerank, verification

SET client_min_messages = warning;
SELECT setseed(0.25);
CREATE TABLE iq (id int PRIMARY KEY, v vector(8));
INSERT INTO iq SELECT i, array_agg((random() * 4 - 2)::real ORDER BY d)::vector
FROM generate_series(1, 2000) i, generate_series(1, 8) d GROUP BY i;
INSERT INTO iq VALUES (0, NULL);
CREATE TABLE iqq (qid int PRIMARY KEY, v vector(8));
INSERT INTO iqq SELECT q, array_agg((random() * 4 - 2)::real ORDER BY d)::vector
FROM generate_series(1, 10) q, generate_series(1, 8) d GROUP BY q;

-- option values
CREATE INDEX ON iq USING ivfflat (v vector_l2_ops) WITH (quantizer = 'pq');
CREATE INDEX ON iq USING ivfflat (v vector_l2_ops) WITH (quantizer = '');
CREATE INDEX ON iq USING ivfflat (v vector_l2_ops) WITH (quantizer = 8);
CREATE INDEX iq_none ON iq USING ivfflat (v vector_l2_ops) WITH (lists = 10, quantizer = 'none');
CREATE INDEX iq_l2 ON iq USING ivfflat (v vector_l2_ops) WITH (lists = 10, quantizer = 'SQ8');
SELECT relname, reloptions FROM pg_class WHERE relname IN ('iq_none', 'iq_l2') ORDER BY relname;
SELECT "check", ok, detail FROM vecrec.verify_index('iq_none') WHERE "check" = 'metapage';
SELECT "check", ok, detail FROM vecrec.verify_index('iq_l2');
-- smaller than flat lists (24-byte entries instead of 40 at 8 dimensions)
SELECT pg_relation_size('iq_l2') < pg_relation_size('iq_none') AS smaller;
DROP INDEX iq_none;

-- the GUC
SHOW vecrec.ivfflat_rerank;
SET vecrec.ivfflat_rerank = -1;
SET vecrec.ivfflat_rerank = 100001;

SET enable_seqscan = off;
SET ivfflat.probes = 10;
EXPLAIN (COSTS OFF) SELECT id FROM iq ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 5;

-- every list probed: the first rows are the exact answer, in exact order
-- (compared as ordered arrays)
CREATE FUNCTION iq_mismatches(op text, k int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format($q$
        SELECT count(*) FROM iqq q,
          LATERAL (SELECT array_agg(id) AS ids FROM (SELECT id FROM iq ORDER BY v %1$s q.v LIMIT %2$s) s) a
        WHERE a.ids IS DISTINCT FROM (
          SELECT array_agg(id ORDER BY d, id) FROM (
            SELECT id, v %1$s q.v AS d FROM iq WHERE v IS NOT NULL ORDER BY v %1$s q.v, id LIMIT %2$s) e)$q$,
        op, k) INTO n;
    RETURN n;
END
$$;
SELECT iq_mismatches('<->', 10) AS l2_mismatches;
-- the first vecrec.ivfflat_rerank rows (one batch) come in exact distance
-- order; so does each later batch
CREATE FUNCTION iq_out_of_order(k int) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM iqq q, LATERAL (
    SELECT d, lag(d) OVER (ORDER BY rn) AS prev FROM (
      SELECT row_number() OVER () AS rn, l2_distance(v, q.v) AS d
      FROM (SELECT v FROM iq ORDER BY v <-> q.v LIMIT k) s) s2) t
  WHERE t.d < t.prev
$$;
SELECT iq_out_of_order(40) AS out_of_order_40;
SET vecrec.ivfflat_rerank = 100;
SELECT iq_out_of_order(100) AS out_of_order_100;
RESET vecrec.ivfflat_rerank;
-- rows past the first batch come back too, every row once
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM iq ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 5000) s;
-- a NULL query vector: rows in some order, no error
SELECT count(*) FROM (SELECT id FROM iq ORDER BY v <-> NULL LIMIT 5) s;

-- fewer probes: the same rows as the flat index gives (the quantized
-- candidates are re-ranked exactly)
SET ivfflat.probes = 2;
CREATE TEMP TABLE quant_ans AS SELECT q.qid, a.ids FROM iqq q,
  LATERAL (SELECT array_agg(id) AS ids FROM (SELECT id FROM iq ORDER BY v <-> q.v LIMIT 10) s) a;
DROP INDEX iq_l2;
CREATE INDEX iq_flat ON iq USING ivfflat (v vector_l2_ops) WITH (lists = 10);
SELECT count(*) AS differ_from_flat FROM iqq q JOIN quant_ans x USING (qid),
  LATERAL (SELECT array_agg(id) AS ids FROM (SELECT id FROM iq ORDER BY v <-> q.v LIMIT 10) s) a
WHERE a.ids IS DISTINCT FROM x.ids;
DROP INDEX iq_flat;

-- inner product and cosine
SET ivfflat.probes = 10;
CREATE INDEX iq_ip ON iq USING ivfflat (v vector_ip_ops) WITH (lists = 10, quantizer = 'sq8');
SELECT iq_mismatches('<#>', 10) AS ip_mismatches;
SELECT "check", ok FROM vecrec.verify_index('iq_ip');
DROP INDEX iq_ip;
INSERT INTO iq VALUES (-1, '[0,0,0,0,0,0,0,0]');
CREATE INDEX iq_cos ON iq USING ivfflat (v vector_cosine_ops) WITH (lists = 10, quantizer = 'sq8');
DELETE FROM iq WHERE id = -1;
SELECT iq_mismatches('<=>', 10) AS cos_mismatches;
SELECT "check", ok, detail FROM vecrec.verify_index('iq_cos') WHERE "check" IN ('params', 'entries');

-- inserts after the build, some far outside the trained range (clamped
-- codes, exact distances all the same)
INSERT INTO iq SELECT 3000 + i, array_agg((random() * 40 - 20)::real ORDER BY d)::vector
FROM generate_series(1, 300) i, generate_series(1, 8) d GROUP BY i;
INSERT INTO iq VALUES (4000, NULL);
SELECT iq_mismatches('<=>', 10) AS cos_mismatches_after_inserts;
DROP INDEX iq_cos;
CREATE INDEX iq_l2 ON iq USING ivfflat (v vector_l2_ops) WITH (lists = 10, quantizer = 'sq8');
INSERT INTO iq SELECT 5000 + i, array_agg((random() * 40 - 20)::real ORDER BY d)::vector
FROM generate_series(1, 300) i, generate_series(1, 8) d GROUP BY i;
SELECT iq_mismatches('<->', 10) AS l2_mismatches_after_inserts;
SELECT count(*) FROM (SELECT id FROM iq ORDER BY v <-> '[20,20,20,20,20,20,20,20]' LIMIT 10000) s;
SELECT count(*) FROM iq WHERE v IS NOT NULL;

-- deleted rows are never returned, before and after VACUUM
DELETE FROM iq WHERE id % 3 = 0;
SELECT iq_mismatches('<->', 10) AS l2_mismatches_after_delete;
SELECT count(*) FROM (SELECT id FROM iq ORDER BY v <-> '[1,0,0,0,0,0,0,0]' LIMIT 10000) s WHERE id % 3 = 0;
VACUUM iq;
SELECT iq_mismatches('<->', 10) AS l2_mismatches_after_vacuum;
SELECT "check", ok, detail FROM vecrec.verify_index('iq_l2') WHERE "check" = 'entries';

-- rows deleted by a transaction still in progress are seen as before
BEGIN;
DELETE FROM iq WHERE id IN (SELECT id FROM iq ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 3);
SELECT count(*) FROM (SELECT id FROM iq ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 5) s;
ROLLBACK;

-- vecrec.ivfflat_rerank = 0: the order of the codes, without the table
SET vecrec.ivfflat_rerank = 0;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM iq ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 20) s;
SET vecrec.ivfflat_rerank = 1;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM iq ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 20) s;
RESET vecrec.ivfflat_rerank;

-- an iterative scan behind a filter
SET ivfflat.probes = 1;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM iq WHERE id % 7 = 1 ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 30) s;
RESET ivfflat.iterative_scan;
DROP INDEX iq_l2;

-- an expression index: the re-ranking computes the expression on the row
SET ivfflat.probes = 10;
CREATE INDEX iq_expr ON iq USING ivfflat (((v * '[2,1,1,1,1,1,1,1]')::vector(8)) vector_l2_ops)
  WITH (lists = 10, quantizer = 'sq8');
EXPLAIN (COSTS OFF) SELECT id FROM iq ORDER BY (v * '[2,1,1,1,1,1,1,1]')::vector(8) <-> '[1,1,1,1,1,1,1,1]' LIMIT 3;
SELECT count(*) AS expr_mismatches FROM iqq q,
  LATERAL (SELECT array_agg(id) AS ids FROM (SELECT id FROM iq ORDER BY (v * '[2,1,1,1,1,1,1,1]')::vector(8) <-> q.v LIMIT 10) s) a
WHERE a.ids IS DISTINCT FROM (SELECT array_agg(id) FROM (
  SELECT id FROM iq WHERE v IS NOT NULL ORDER BY l2_distance(v * '[2,1,1,1,1,1,1,1]', q.v), id LIMIT 10) e);
DROP INDEX iq_expr;

-- an empty table, then inserts (default ranges until a REINDEX)
CREATE TABLE iqe (id int, v vector(3));
CREATE INDEX iqe_idx ON iqe USING ivfflat (v vector_l2_ops) WITH (lists = 4, quantizer = 'sq8');
INSERT INTO iqe SELECT i, ARRAY[i, -i, i % 5]::real[] FROM generate_series(1, 50) i;
SELECT id FROM iqe ORDER BY v <-> '[10,-10,0]' LIMIT 3;
REINDEX INDEX iqe_idx;
SELECT id FROM iqe ORDER BY v <-> '[10,-10,0]' LIMIT 3;
SELECT "check", ok, detail FROM vecrec.verify_index('iqe_idx');
DROP TABLE iqe;

-- unlogged tables (the init fork holds an empty quantized index)
CREATE UNLOGGED TABLE iqu (id int, v vector(2));
CREATE INDEX ON iqu USING ivfflat (v vector_cosine_ops) WITH (lists = 2, quantizer = 'sq8');
INSERT INTO iqu VALUES (1, '[1,0]'), (2, '[0,1]'), (3, '[1,1]');
SELECT id FROM iqu ORDER BY v <=> '[1,0.1]' LIMIT 2;
DROP TABLE iqu;

-- a partial index
CREATE INDEX iq_part ON iq USING ivfflat (v vector_l2_ops) WITH (lists = 5, quantizer = 'sq8') WHERE id % 2 = 0;
EXPLAIN (COSTS OFF) SELECT id FROM iq WHERE id % 2 = 0 ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 3;
SELECT count(*) AS partial_mismatches FROM iqq q,
  LATERAL (SELECT array_agg(id) AS ids FROM (SELECT id FROM iq WHERE id % 2 = 0 ORDER BY v <-> q.v LIMIT 10) s) a
WHERE a.ids IS DISTINCT FROM (SELECT array_agg(id) FROM (
  SELECT id FROM iq WHERE id % 2 = 0 AND v IS NOT NULL ORDER BY l2_distance(v, q.v), id LIMIT 10) e);
DROP INDEX iq_part;

-- the option can change; the format changes with the next REINDEX
CREATE INDEX iq_alter ON iq USING ivfflat (v vector_l2_ops) WITH (lists = 5);
ALTER INDEX iq_alter SET (quantizer = 'sq8');
SELECT detail FROM vecrec.verify_index('iq_alter') WHERE "check" = 'metapage';
REINDEX INDEX iq_alter;
SELECT detail FROM vecrec.verify_index('iq_alter') WHERE "check" = 'metapage';
ALTER INDEX iq_alter SET (quantizer = 'pq');
ALTER INDEX iq_alter RESET (quantizer);
REINDEX INDEX iq_alter;
SELECT detail FROM vecrec.verify_index('iq_alter') WHERE "check" = 'metapage';
DROP INDEX iq_alter;

-- 2,000 dimensions: parameters on two pages, the int16 weights scaled down
CREATE TABLE iqw (id int, v vector(2000));
INSERT INTO iqw SELECT i, array_fill((i % 17)::real / 17, ARRAY[2000])::vector FROM generate_series(1, 40) i;
CREATE INDEX iqw_idx ON iqw USING ivfflat (v vector_l2_ops) WITH (lists = 2, quantizer = 'sq8');
SELECT "check", ok, detail FROM vecrec.verify_index('iqw_idx') WHERE "check" IN ('metapage', 'params', 'entries');
SELECT id % 17 AS k FROM iqw ORDER BY v <-> array_fill(0.45::real, ARRAY[2000])::vector LIMIT 3;
DROP TABLE iqw;

-- strict verification passes
CREATE INDEX iq_l2 ON iq USING ivfflat (v vector_l2_ops) WITH (lists = 10, quantizer = 'sq8');
SELECT count(*) FROM vecrec.verify_index('iq_l2', true);

DROP FUNCTION iq_mismatches(text, int);
DROP FUNCTION iq_out_of_order(int);
DROP TABLE iq, iqq;
