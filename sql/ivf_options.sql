-- ivfflat: DDL, options, GUCs, errors, planner use

SET client_min_messages = warning;
CREATE TABLE io (id int PRIMARY KEY, v vector(3));
INSERT INTO io SELECT i, ARRAY[i, i % 7, i % 3]::real[] FROM generate_series(1, 300) i;

-- option ranges
CREATE INDEX ON io USING ivfflat (v vector_l2_ops) WITH (lists = 0);
CREATE INDEX ON io USING ivfflat (v vector_l2_ops) WITH (lists = 32769);
CREATE INDEX ON io USING ivfflat (v vector_l2_ops) WITH (nosuch = 1);
CREATE INDEX ON io USING ivfflat (v vector_l2_ops) WITH (lists = 'x');

-- unsupported index shapes and opclasses
CREATE INDEX ON io USING ivfflat (v vector_l2_ops, id);
CREATE UNIQUE INDEX ON io USING ivfflat (v vector_l2_ops);
CREATE INDEX ON io USING ivfflat (v vector_l1_ops);
CREATE INDEX ON io USING ivfflat (id);
CREATE TABLE io_nodims (v vector);
INSERT INTO io_nodims VALUES ('[1,2]');
CREATE INDEX ON io_nodims USING ivfflat (v vector_l2_ops);
DROP TABLE io_nodims;
CREATE TABLE io_wide (v vector(2001));
CREATE INDEX ON io_wide USING ivfflat (v vector_l2_ops);
DROP TABLE io_wide;

-- GUC ranges and defaults
SHOW ivfflat.probes;
SHOW ivfflat.iterative_scan;
SHOW ivfflat.max_probes;
SET ivfflat.probes = 0;
SET ivfflat.probes = 32769;
SET ivfflat.max_probes = 0;
SET ivfflat.iterative_scan = strict_order;
SET ivfflat.iterative_scan = 'sideways';
SET ivfflat.nosuch = 1;

-- options are stored and shown; the default opclass is vector_l2_ops
CREATE INDEX io_idx ON io USING ivfflat (v) WITH (lists = 10);
SELECT reloptions FROM pg_class WHERE relname = 'io_idx';
SELECT opcname FROM pg_index i JOIN pg_opclass o ON o.oid = i.indclass[0]
WHERE i.indexrelid = 'io_idx'::regclass;

-- the planner uses the index for ORDER BY ... LIMIT, not otherwise
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM io ORDER BY v <-> '[1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM io ORDER BY v <-> (SELECT v FROM io WHERE id = 7) LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM io WHERE v <-> '[1,1,1]' < 1;
EXPLAIN (COSTS OFF) SELECT id FROM io ORDER BY v <=> '[1,1,1]' LIMIT 5;
RESET enable_seqscan;
EXPLAIN (COSTS OFF) SELECT id FROM io ORDER BY v <-> '[1,1,1]';

-- a parameter as the query; a subquery as the query
PREPARE near(vector) AS SELECT id FROM io ORDER BY v <-> $1 LIMIT 3;
SET enable_seqscan = off;
SET ivfflat.probes = 10;
EXECUTE near('[100,2,1]');
EXECUTE near('[5,5,2]');
DEALLOCATE near;
SELECT id FROM io ORDER BY v <-> (SELECT v FROM io WHERE id = 42) LIMIT 1;

-- a query vector of the wrong dimensions
SELECT id FROM io ORDER BY v <-> '[1,2]' LIMIT 1;
-- inserting a vector of other dimensions through the index
CREATE TABLE io_any (v vector(3));
CREATE INDEX ON io_any USING ivfflat (v vector_l2_ops) WITH (lists = 1);
INSERT INTO io_any VALUES ('[1,2,3]');
ALTER TABLE io_any ALTER COLUMN v TYPE vector;
INSERT INTO io_any VALUES ('[1,2]');
SELECT count(*) FROM io_any;
DROP TABLE io_any;

-- fewer rows than lists: a NOTICE, and one list per row
SET client_min_messages = notice;
CREATE TABLE io_few (id int, v vector(2));
INSERT INTO io_few VALUES (1, '[1,1]'), (2, '[5,5]'), (3, NULL);
CREATE INDEX io_few_idx ON io_few USING ivfflat (v) WITH (lists = 50);
SELECT "check", ok, detail FROM vecrec.verify_index('io_few_idx') WHERE "check" IN ('metapage', 'entries');
SELECT id FROM io_few ORDER BY v <-> '[4,4]' LIMIT 5;
DROP TABLE io_few;

-- k-means needs memory for at least one sample row per list
SET maintenance_work_mem = '1MB';
CREATE TABLE io_big (v vector(1000));
INSERT INTO io_big SELECT array_fill(i::real, ARRAY[1000])::vector FROM generate_series(1, 3) i;
CREATE INDEX ON io_big USING ivfflat (v) WITH (lists = 1000);
DROP TABLE io_big;
RESET maintenance_work_mem;
SET client_min_messages = warning;

-- opclass validation
SELECT opcname, amvalidate(oid) FROM pg_opclass
WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'ivfflat') ORDER BY opcname;

-- verification on an intact index
SELECT "check", ok, detail FROM vecrec.verify_index('io_idx');
SELECT count(*) FROM vecrec.verify_index('io_idx', true);

DROP TABLE io;
