-- verify_heap: vecrec.verify_index(..., heapallindexed => true) on hnsw and ivfflat

CREATE TABLE vh (id int PRIMARY KEY, tag int, v vector(3), note text) WITH (fillfactor = 50);
INSERT INTO vh SELECT i, i % 4, ARRAY[sin(i), cos(i), i / 100.0] FROM generate_series(1, 300) i;
INSERT INTO vh VALUES (1000, 0, NULL, NULL);  -- NULLs are not indexed
CREATE INDEX vh_idx ON vh USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
CREATE INDEX vh_part ON vh USING hnsw (v vector_cosine_ops) WHERE tag = 1;
CREATE INDEX vh_expr ON vh USING hnsw (((v + '[1,1,1]')::vector(3)) vector_l2_ops);

-- the check rows; the default leaves heapallindexed out
SELECT "check" FROM vecrec.verify_index('vh_idx');
SELECT "check", ok, detail FROM vecrec.verify_index('vh_idx', heapallindexed => true) WHERE "check" = 'heapallindexed';
SELECT i.relname, v.ok, v.detail FROM pg_class i, vecrec.verify_index(i.oid, true, true) v
 WHERE i.relname IN ('vh_part', 'vh_expr') AND v."check" = 'heapallindexed' ORDER BY 1;

-- HOT updates (the index has the chain's root), non-HOT updates, deletes
-- before and after VACUUM, aborted inserts
UPDATE vh SET note = 'hot' WHERE id <= 20;
UPDATE vh SET v = v + v WHERE id BETWEEN 21 AND 40;
DELETE FROM vh WHERE id BETWEEN 41 AND 60;
BEGIN;
INSERT INTO vh SELECT i, 0, ARRAY[i, i, i] FROM generate_series(2001, 2010) i;
ROLLBACK;
SELECT ok, detail FROM vecrec.verify_index('vh_idx', true, true) WHERE "check" = 'heapallindexed';
VACUUM vh;
SELECT ok, detail FROM vecrec.verify_index('vh_idx', true, true) WHERE "check" = 'heapallindexed';

-- rows the index never got: inserted while the index was not ready
UPDATE pg_index SET indisready = false WHERE indexrelid = 'vh_idx'::regclass;
INSERT INTO vh SELECT i, 0, ARRAY[i, 0, 0] FROM generate_series(3001, 3005) i;
UPDATE pg_index SET indisready = true WHERE indexrelid = 'vh_idx'::regclass;
SELECT ok, regexp_replace(detail, '\(\d+,\d+\)', '(b,o)') AS detail
  FROM vecrec.verify_index('vh_idx', heapallindexed => true) WHERE "check" = 'heapallindexed';
\set VERBOSITY terse
SELECT count(*) FROM vecrec.verify_index('vh_idx', true, true);
\set VERBOSITY default
REINDEX INDEX vh_idx;
SELECT ok, detail FROM vecrec.verify_index('vh_idx', true, true) WHERE "check" = 'heapallindexed';

-- ivfflat, flat and sq8 lists
CREATE INDEX vh_ivf ON vh USING ivfflat (v vector_l2_ops) WITH (lists = 2);
CREATE INDEX vh_sq8 ON vh USING ivfflat (v vector_ip_ops) WITH (lists = 3, quantizer = 'sq8') WHERE tag <> 2;
SELECT i.relname, v.ok, v.detail FROM pg_class i, vecrec.verify_index(i.oid, true, true) v
 WHERE i.relname IN ('vh_ivf', 'vh_sq8') AND v."check" = 'heapallindexed' ORDER BY 1;
DELETE FROM vh WHERE id BETWEEN 61 AND 70;
UPDATE vh SET v = v + v WHERE id BETWEEN 71 AND 80;
VACUUM vh;
UPDATE pg_index SET indisready = false WHERE indexrelid = 'vh_sq8'::regclass;
INSERT INTO vh SELECT i, 1, ARRAY[0, i, 0] FROM generate_series(3101, 3103) i;
UPDATE pg_index SET indisready = true WHERE indexrelid = 'vh_sq8'::regclass;
SELECT i.relname, v.ok, regexp_replace(v.detail, '\(\d+,\d+\)', '(b,o)') AS detail
  FROM pg_class i, vecrec.verify_index(i.oid, heapallindexed => true) v
 WHERE i.relname IN ('vh_ivf', 'vh_sq8') AND v."check" = 'heapallindexed' ORDER BY 1;
\set VERBOSITY terse
SELECT count(*) FROM vecrec.verify_index('vh_sq8', true, true);
\set VERBOSITY default
DROP TABLE vh;
