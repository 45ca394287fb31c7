-- btree and hash operator classes: ordering, equality, indexes, joins, partitioning

-- comparison operators: element by element, then the shorter vector first
SELECT a, b, a < b AS lt, a <= b AS le, a = b AS eq, a <> b AS ne, a >= b AS ge, a > b AS gt, vector_cmp(a, b) AS cmp
FROM (VALUES
  ('[1,2,3]'::vector, '[1,2,3]'::vector),
  ('[1,2,3]', '[1,2,4]'),
  ('[1,2,4]', '[1,2,3]'),
  ('[1,2]', '[1,2,3]'),
  ('[1,2,3]', '[1,2]'),
  ('[1,2]', '[0,5,6]'),
  ('[2]', '[1,9,9]'),
  ('[-1]', '[1]'),
  ('[-0]', '[0]'),
  ('[1e-45]', '[0]')
) AS t(a, b);

-- -0 and 0 are equal and hash alike
SELECT vector_hash('[-0,1]') = vector_hash('[0,1]') AS hash_eq,
       vector_hash_extended('[-0,1]', 42) = vector_hash_extended('[0,1]', 42) AS hash64_eq,
       vector_hash_extended('[1,2]', 0) <> vector_hash_extended('[1,2]', 1) AS seed_matters,
       vector_hash('[1,2]') <> vector_hash('[2,1]') AS order_matters;

-- ORDER BY uses the btree order; NULLs last
CREATE TABLE bt (id int, v vector);
INSERT INTO bt VALUES
  (1, '[1,2,3]'), (2, '[1,2]'), (3, '[1,2,4]'), (4, '[0,9]'), (5, '[2]'), (6, '[1]'),
  (7, '[-1,5]'), (8, '[1,2,3,0]'), (9, NULL), (10, '[1,2,3]'), (11, '[-0,9]');
SELECT id, v FROM bt ORDER BY v, id;
SELECT id, v FROM bt ORDER BY v DESC, id;

-- DISTINCT and GROUP BY, by sorting and by hashing; -0 and 0 fall together
SET enable_hashagg = off;
SELECT DISTINCT v FROM bt WHERE v <> '[0,9]' ORDER BY v;
SELECT v, count(*) FROM bt WHERE v <> '[0,9]' GROUP BY v ORDER BY v;
SELECT count(DISTINCT v) FROM bt;
RESET enable_hashagg;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT v, count(*) FROM bt GROUP BY v;
SELECT count(*) FROM (SELECT v, count(*) FROM bt GROUP BY v) AS s;
SELECT count(*) AS n, sum(c) AS total FROM (SELECT v, count(*) AS c FROM bt GROUP BY v) AS s WHERE c = 2;
RESET enable_sort;

-- btree index: equality lookups and ORDER BY
CREATE INDEX bt_v_idx ON bt (v);
VACUUM ANALYZE bt;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM bt WHERE v = '[1,2,3]';
SELECT id FROM bt WHERE v = '[1,2,3]' ORDER BY id;
SELECT id FROM bt WHERE v = '[0,9]' ORDER BY id;
EXPLAIN (COSTS OFF) SELECT v FROM bt ORDER BY v;
SELECT v FROM bt ORDER BY v;
SELECT v FROM bt WHERE v > '[1,2]' AND v <= '[1,2,4]' ORDER BY v;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- a unique index treats -0 as 0
CREATE TABLE bt_unique (v vector PRIMARY KEY);
INSERT INTO bt_unique VALUES ('[0,1]'), ('[1,2]'), ('[1,2,0]');
INSERT INTO bt_unique VALUES ('[-0,1]');
DROP TABLE bt_unique;

-- hash index
CREATE TABLE ht (id int, v vector(2));
INSERT INTO ht SELECT i, ARRAY[i % 10, i % 7] FROM generate_series(1, 200) AS i;
INSERT INTO ht VALUES (1000, '[-0,-0]');
CREATE INDEX ht_v_idx ON ht USING hash (v);
ANALYZE ht;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ht WHERE v = '[3,4]';
SELECT id FROM ht WHERE v = '[3,4]' ORDER BY id;
SELECT id FROM ht WHERE v = '[0,0]' ORDER BY id;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- hash join, and merge join for comparison
CREATE TABLE ht_probe (name text, v vector(2));
INSERT INTO ht_probe VALUES ('a', '[3,4]'), ('b', '[-0,0]'), ('c', '[9,9]'), ('d', '[1,1]'), ('e', NULL);
ANALYZE ht_probe;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT p.name, h.id FROM ht_probe p JOIN ht h ON p.v = h.v;
SELECT p.name, count(*), min(h.id), max(h.id) FROM ht_probe p JOIN ht h ON p.v = h.v GROUP BY p.name ORDER BY p.name;
SELECT p.name FROM ht_probe p WHERE NOT EXISTS (SELECT FROM ht h WHERE h.v = p.v) ORDER BY p.name;
RESET enable_mergejoin;
SET enable_hashjoin = off;
EXPLAIN (COSTS OFF) SELECT p.name, h.id FROM ht_probe p JOIN ht h ON p.v = h.v;
SELECT p.name, count(*), min(h.id), max(h.id) FROM ht_probe p JOIN ht h ON p.v = h.v GROUP BY p.name ORDER BY p.name;
RESET enable_hashjoin;
RESET enable_nestloop;
DROP TABLE ht_probe;
DROP TABLE ht;

-- hash partitioning by a vector column
CREATE TABLE hp (id int, v vector) PARTITION BY HASH (v);
CREATE TABLE hp0 PARTITION OF hp FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE hp1 PARTITION OF hp FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE hp2 PARTITION OF hp FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO hp SELECT i, ARRAY[i, i * 2] FROM generate_series(1, 30) AS i;
INSERT INTO hp VALUES (100, '[0,1]'), (101, '[-0,1]');
SELECT count(*) AS total, count(DISTINCT tableoid) AS partitions_used FROM hp;
SELECT bool_and(satisfies_hash_partition('hp'::regclass, 3,
         CASE tableoid WHEN 'hp0'::regclass THEN 0 WHEN 'hp1'::regclass THEN 1 ELSE 2 END, v)) AS routed
FROM hp;
SELECT count(DISTINCT tableoid) AS partitions_for_zero FROM hp WHERE id IN (100, 101);
CREATE FUNCTION hp_partitions_scanned(query text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  n int := 0;
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    IF line ~ 'Seq Scan on hp[0-9]' THEN
      n := n + 1;
    END IF;
  END LOOP;
  RETURN n;
END $$;
SELECT hp_partitions_scanned('SELECT id FROM hp WHERE v = ''[7,14]''') AS pruned,
       hp_partitions_scanned('SELECT id FROM hp WHERE v <> ''[7,14]''') AS not_pruned;
DROP FUNCTION hp_partitions_scanned(text);
SELECT id FROM hp WHERE v = '[7,14]';
SELECT id FROM hp WHERE v = '[0,1]' ORDER BY id;
SELECT count(*) FROM generate_series(1, 30) AS i WHERE (SELECT count(*) FROM hp WHERE v = ARRAY[i, i * 2]::vector) = 1;
DROP TABLE hp;
DROP TABLE bt;

-- hash convention: the 32-bit hash is the low half of the seed-0 extended hash
SELECT bool_and(vector_hash(v)::bit(32) = vector_hash_extended(v, 0)::bit(32)) AS low_bits_match,
       bool_and(vector_hash_extended(v, 0) <> vector_hash_extended(v, 1)) AS seed_matters
FROM (VALUES ('[0]'::vector), ('[1,2,3]'), ('[-0,5]'), ('[1e-45,3.4e38]')) t(v);
