-- ivfflat with vector_cosine_ops and vector_ip_ops; unlogged and
-- partitioned tables, CONCURRENTLY, REINDEX

SET enable_seqscan = off;
SET ivfflat.probes = 5;

CREATE TABLE ic (id int, v vector(3));
INSERT INTO ic SELECT i, ARRAY[cos(i * 0.1), sin(i * 0.1), (i % 5) * 0.1]::real[] FROM generate_series(1, 500) i;
-- zero vectors have no direction: not indexed under cosine, no error
INSERT INTO ic VALUES (0, '[0,0,0]'), (-1, NULL);
CREATE INDEX ic_cos ON ic USING ivfflat (v vector_cosine_ops) WITH (lists = 5);
SELECT "check", ok, detail FROM vecrec.verify_index('ic_cos');
SELECT id FROM ic ORDER BY v <=> '[1,0,0]' LIMIT 5;
-- scaling the query does not change cosine results
SELECT array_agg(id) = (SELECT array_agg(id) FROM (SELECT id FROM ic ORDER BY v <=> '[10,0,0]' LIMIT 5) s) AS scale_invariant
FROM (SELECT id FROM ic ORDER BY v <=> '[1,0,0]' LIMIT 5) s;
-- a zero query vector: rows come back in some order, without error
SELECT count(*) FROM (SELECT id FROM ic ORDER BY v <=> '[0,0,0]' LIMIT 5) s;
-- exact comparison over 10 queries (every list probed)
SELECT count(*) AS mismatches FROM generate_series(1, 10) q,
  LATERAL (SELECT array_agg(id ORDER BY id) AS ids FROM (SELECT id FROM ic ORDER BY v <=> ARRAY[cos(q), sin(q), 0.2]::real[]::vector LIMIT 5) s) a,
  LATERAL (SELECT array_agg(id ORDER BY id) AS ids FROM (
    SELECT id FROM ic WHERE v IS NOT NULL AND vector_norm(v) > 0 ORDER BY cosine_distance(v, ARRAY[cos(q), sin(q), 0.2]::real[]::vector), id LIMIT 5) s) e
WHERE a.ids <> e.ids;
-- a zero vector inserted later is skipped too
INSERT INTO ic VALUES (-2, '[0,0,0]');
SELECT count(*) FROM (SELECT id FROM ic ORDER BY v <=> '[1,1,1]' LIMIT 1000) s;
DROP INDEX ic_cos;

-- inner product
CREATE INDEX ic_ip ON ic USING ivfflat (v vector_ip_ops) WITH (lists = 5);
SELECT id, round((v <#> '[1,1,1]')::numeric, 4) FROM ic ORDER BY v <#> '[1,1,1]' LIMIT 3;
SELECT "check", ok FROM vecrec.verify_index('ic_ip');
DROP TABLE ic;

-- unlogged tables get an init fork
CREATE UNLOGGED TABLE iu (id int, v vector(2));
CREATE INDEX ON iu USING ivfflat (v vector_l2_ops) WITH (lists = 3);
INSERT INTO iu VALUES (1, '[1,1]'), (2, '[2,2]');
SELECT id FROM iu ORDER BY v <-> '[2,2]' LIMIT 1;
DROP TABLE iu;

-- partitioned tables: one index per partition, merged in distance order
CREATE TABLE ip (id int, cat int, v vector(2)) PARTITION BY LIST (cat);
CREATE TABLE ip1 PARTITION OF ip FOR VALUES IN (1);
CREATE TABLE ip2 PARTITION OF ip FOR VALUES IN (2);
INSERT INTO ip SELECT i, 1 + i % 2, ARRAY[i, 0] FROM generate_series(1, 100) i;
CREATE INDEX ON ip USING ivfflat (v vector_l2_ops) WITH (lists = 2);
EXPLAIN (COSTS OFF) SELECT id FROM ip ORDER BY v <-> '[50,0]' LIMIT 3;
SELECT id FROM ip ORDER BY v <-> '[50.2,0]' LIMIT 3;
DROP TABLE ip;

-- CREATE INDEX CONCURRENTLY and REINDEX
CREATE TABLE ir (id int, v vector(2));
INSERT INTO ir SELECT i, ARRAY[i, -i] FROM generate_series(1, 200) i;
CREATE INDEX CONCURRENTLY ir_idx ON ir USING ivfflat (v vector_l2_ops) WITH (lists = 5);
SELECT id FROM ir ORDER BY v <-> '[10.2,-10.2]' LIMIT 2;
REINDEX INDEX ir_idx;
SELECT id FROM ir ORDER BY v <-> '[10.2,-10.2]' LIMIT 2;
REINDEX INDEX CONCURRENTLY ir_idx;
SELECT id FROM ir ORDER BY v <-> '[10.2,-10.2]' LIMIT 2;
SELECT "check", ok FROM vecrec.verify_index('ir_idx');
DROP TABLE ir;
