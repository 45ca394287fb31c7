-- hnsw: DDL, options, errors, planner use

SET client_min_messages = warning;
CREATE TABLE ho (id int PRIMARY KEY, v vector(3));
INSERT INTO ho SELECT i, ARRAY[i, i % 7, i % 3]::real[] FROM generate_series(1, 300) i;

-- option ranges
CREATE INDEX ON ho USING hnsw (v vector_l2_ops) WITH (m = 1);
CREATE INDEX ON ho USING hnsw (v vector_l2_ops) WITH (m = 101);
CREATE INDEX ON ho USING hnsw (v vector_l2_ops) WITH (ef_construction = 3);
CREATE INDEX ON ho USING hnsw (v vector_l2_ops) WITH (ef_construction = 1001);
CREATE INDEX ON ho USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 31);
CREATE INDEX ON ho USING hnsw (v vector_l2_ops) WITH (nosuch = 1);
CREATE INDEX ON ho USING hnsw (v vector_l2_ops) WITH (m = 'x');

-- unsupported index shapes
-- (a vector and filter key columns is a supported shape: see hnsw_keys)
CREATE INDEX ON ho USING hnsw (v vector_l2_ops, v vector_ip_ops);
CREATE INDEX ON ho USING hnsw (v vector_l2_ops) INCLUDE (id);
CREATE UNIQUE INDEX ON ho USING hnsw (v vector_l2_ops);
CREATE TABLE ho_nodims (v vector);
INSERT INTO ho_nodims VALUES ('[1,2]');
CREATE INDEX ON ho_nodims USING hnsw (v vector_l2_ops);
DROP TABLE ho_nodims;

-- GUC ranges
SET hnsw.ef_search = 0;
SET hnsw.ef_search = 1001;
SET hnsw.iterative_scan = 'sideways';
SET hnsw.max_scan_tuples = 0;
SET hnsw.scan_mem_multiplier = 0.5;
SHOW hnsw.ef_search;
SHOW hnsw.iterative_scan;

-- options are stored and shown
CREATE INDEX ho_idx ON ho USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 40);
SELECT reloptions FROM pg_class WHERE relname = 'ho_idx';

-- the planner uses the index for ORDER BY ... LIMIT, not otherwise
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ho ORDER BY v <-> '[1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM ho ORDER BY v <-> (SELECT v FROM ho WHERE id = 7) LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM ho WHERE v <-> '[1,1,1]' < 1;
EXPLAIN (COSTS OFF) SELECT id FROM ho ORDER BY v <=> '[1,1,1]' LIMIT 5;
RESET enable_seqscan;
EXPLAIN (COSTS OFF) SELECT id FROM ho ORDER BY v <-> '[1,1,1]';

-- a parameter as the query
PREPARE near(vector) AS SELECT id FROM ho ORDER BY v <-> $1 LIMIT 3;
SET enable_seqscan = off;
EXECUTE near('[100,2,1]');
EXECUTE near('[5,5,2]');
DEALLOCATE near;

-- a query vector of the wrong dimensions
SELECT id FROM ho ORDER BY v <-> '[1,2]' LIMIT 1;
-- inserting a vector of the wrong dimensions through the index
CREATE TABLE ho_any (v vector(3));
CREATE INDEX ON ho_any USING hnsw (v vector_l2_ops);
INSERT INTO ho_any VALUES ('[1,2,3]');
-- dropping the typmod keeps the index (binary compatible), which then
-- refuses vectors of other dimensions
ALTER TABLE ho_any ALTER COLUMN v TYPE vector;
INSERT INTO ho_any VALUES ('[1,2]');
SELECT count(*) FROM ho_any;
DROP TABLE ho_any;

-- opclass validation
SELECT amvalidate(oid) FROM pg_opclass WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'hnsw') ORDER BY opcname;

-- verification on an intact index
SELECT "check", ok FROM vecrec.verify_index('ho_idx');
SELECT count(*) FROM vecrec.verify_index('ho_idx', true);
SELECT * FROM vecrec.verify_index('ho_pkey');

DROP TABLE ho;
