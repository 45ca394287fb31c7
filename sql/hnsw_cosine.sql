-- hnsw with vector_cosine_ops and vector_ip_ops and vector_l1_ops

SET enable_seqscan = off;
SET hnsw.ef_search = 200;

CREATE TABLE hc (id int, v vector(3));
INSERT INTO hc SELECT i, ARRAY[cos(i * 0.1), sin(i * 0.1), (i % 5) * 0.1]::real[] FROM generate_series(1, 500) i;
-- zero vectors have no direction: not indexed under cosine, no error
INSERT INTO hc VALUES (0, '[0,0,0]'), (-1, NULL);
CREATE INDEX hc_cos ON hc USING hnsw (v vector_cosine_ops);
SELECT id FROM hc ORDER BY v <=> '[1,0,0]' LIMIT 5;
-- scaling the query does not change cosine results
SELECT array_agg(id) = (SELECT array_agg(id) FROM (SELECT id FROM hc ORDER BY v <=> '[10,0,0]' LIMIT 5) s) AS scale_invariant
FROM (SELECT id FROM hc ORDER BY v <=> '[1,0,0]' LIMIT 5) s;
-- a zero query vector: rows come back in some order, without error
SELECT count(*) FROM (SELECT id FROM hc ORDER BY v <=> '[0,0,0]' LIMIT 5) s;
-- a query without order (a zero vector under cosine or inner product, or
-- NULL) gives as many rows as a search would: ef_search, or all of them
-- with an iterative scan (the zero vector and NULL rows are not indexed)
SET hnsw.ef_search = 7;
SELECT count(*) FROM (SELECT id FROM hc ORDER BY v <=> '[0,0,0]' LIMIT 20) s;
SELECT count(*) FROM (SELECT id FROM hc ORDER BY v <=> (SELECT NULL::vector) LIMIT 20) s;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*), count(DISTINCT id), min(id) FROM (SELECT id FROM hc ORDER BY v <=> '[0,0,0]' LIMIT 1000) s;
DELETE FROM hc WHERE id <= 100;
SELECT count(*), count(DISTINCT id), min(id) FROM (SELECT id FROM hc ORDER BY v <=> (SELECT NULL::vector) LIMIT 1000) s;
RESET hnsw.iterative_scan;
SET hnsw.ef_search = 200;
-- exact comparison over 10 queries
SELECT count(*) AS mismatches FROM generate_series(1, 10) q,
  LATERAL (SELECT array_agg(id ORDER BY id) AS ids FROM (SELECT id FROM hc ORDER BY v <=> ARRAY[cos(q), sin(q), 0.2]::real[]::vector LIMIT 5) s) a,
  LATERAL (SELECT array_agg(id ORDER BY id) AS ids FROM (
    SELECT id FROM hc WHERE v IS NOT NULL AND vector_norm(v) > 0 ORDER BY cosine_distance(v, ARRAY[cos(q), sin(q), 0.2]::real[]::vector), id LIMIT 5) s) e
WHERE a.ids <> e.ids;
DROP INDEX hc_cos;

-- inner product
CREATE INDEX hc_ip ON hc USING hnsw (v vector_ip_ops);
SELECT id, round((v <#> '[1,1,1]')::numeric, 4) FROM hc ORDER BY v <#> '[1,1,1]' LIMIT 3;
SELECT count(*) FROM (SELECT id FROM hc ORDER BY v <#> '[0,0,0]' LIMIT 10) s;
DROP INDEX hc_ip;

-- L1
CREATE INDEX hc_l1 ON hc USING hnsw (v vector_l1_ops);
SELECT id, round((v <+> '[1,0,0]')::numeric, 4) FROM hc ORDER BY v <+> '[1,0,0]' LIMIT 3;
SELECT "check", ok FROM vecrec.verify_index('hc_l1');
DROP TABLE hc;

-- ... and reads the elements in page order, where a search would measure
-- every element before the first row, unable to stop on ties
CREATE TABLE hz AS SELECT i AS id, ARRAY[cos(i), sin(i), i % 7]::real[]::vector(3) AS v
  FROM generate_series(1, 20000) i;
CREATE INDEX hz_cos ON hz USING hnsw (v vector_cosine_ops);
CREATE FUNCTION pg_temp.blocks(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  j json;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, FORMAT JSON) ' || q INTO j;
  RETURN (j->0->'Plan'->>'Shared Hit Blocks')::int + (j->0->'Plan'->>'Shared Read Blocks')::int;
END $$;
SELECT pg_temp.blocks($$SELECT id FROM hz ORDER BY v <=> '[0,0,0]' LIMIT 10$$) < 10 AS zero_query_reads_few_blocks,
       pg_temp.blocks($$SELECT id FROM hz ORDER BY v <=> (SELECT NULL::vector) LIMIT 10$$) < 10 AS null_query_reads_few_blocks;
DROP TABLE hz;

-- unlogged tables get an init fork
CREATE UNLOGGED TABLE hu (id int, v vector(2));
CREATE INDEX ON hu USING hnsw (v vector_l2_ops);
INSERT INTO hu VALUES (1, '[1,1]'), (2, '[2,2]');
SELECT id FROM hu ORDER BY v <-> '[2,2]' LIMIT 1;
DROP TABLE hu;

-- partitioned tables: one index per partition, merged in distance order
CREATE TABLE hp (id int, cat int, v vector(2)) PARTITION BY LIST (cat);
CREATE TABLE hp1 PARTITION OF hp FOR VALUES IN (1);
CREATE TABLE hp2 PARTITION OF hp FOR VALUES IN (2);
CREATE INDEX ON hp USING hnsw (v vector_l2_ops);
INSERT INTO hp SELECT i, 1 + i % 2, ARRAY[i, 0] FROM generate_series(1, 100) i;
EXPLAIN (COSTS OFF) SELECT id FROM hp ORDER BY v <-> '[50,0]' LIMIT 3;
SELECT id FROM hp ORDER BY v <-> '[50.2,0]' LIMIT 3;
DROP TABLE hp;

-- CREATE INDEX CONCURRENTLY and REINDEX
CREATE TABLE hr (id int, v vector(2));
INSERT INTO hr SELECT i, ARRAY[i, -i] FROM generate_series(1, 200) i;
CREATE INDEX CONCURRENTLY hr_idx ON hr USING hnsw (v vector_l2_ops);
SELECT id FROM hr ORDER BY v <-> '[10.2,-10.2]' LIMIT 2;
REINDEX INDEX hr_idx;
SELECT id FROM hr ORDER BY v <-> '[10.2,-10.2]' LIMIT 2;
REINDEX INDEX CONCURRENTLY hr_idx;
SELECT id FROM hr ORDER BY v <-> '[10.2,-10.2]' LIMIT 2;
SELECT "check", ok FROM vecrec.verify_index('hr_idx');
DROP TABLE hr;
