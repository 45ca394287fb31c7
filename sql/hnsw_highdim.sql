-- hnsw on vectors too long to sit inside a graph element (2000, 4096 and
-- 16,000 dimensions): the vectors go out of line, in chunks.  For every
-- operator class, index scans (with ef_search above the table size, so
-- the search is exhaustive) must return what an exact scan returns, after
-- the build, after inserts and after DELETE + VACUUM; verify_index must
-- pass throughout.

SET client_min_messages = warning;

-- hd(n, i): row i's n-dimensional vector.  32 hidden coordinates (scaled
-- by exp(-k / 10), as in real embeddings), each repeated over a block of
-- n / 32 consecutive coordinates, blocks in a scrambled order so that
-- every chunk of the vector matters, plus a little noise on every
-- coordinate; lengths vary with i (for the inner product).
CREATE FUNCTION hd(n int, i int) RETURNS vector IMMUTABLE LANGUAGE sql AS $$
	SELECT array_agg((z[1 + ((d - 1) * 32 / n * 7) % 32]
		+ 0.02 * (y - floor(y) - 0.5) * (0.5 + (i % 7) * 0.25))::real ORDER BY d)::vector
	FROM (SELECT array_agg((x - floor(x) - 0.5) * exp(-k / 10.0) * (0.5 + (i % 7) * 0.25) ORDER BY k) AS z
		  FROM (SELECT k, sin(i * 12.9898 + k * 78.233) * 43758.5453 AS x FROM generate_series(0, 31) k) s) zz,
		LATERAL (SELECT d, sin(i * 3.17 + d * 0.731) * 43758.5453 AS y FROM generate_series(1, n) d) dd
$$;

-- Rows where the index's 10 nearest (for every fifth row as the query)
-- differ from an exact scan's, ignoring swaps of rows whose distances
-- tie to within float rounding
CREATE FUNCTION knn_mismatches(t regclass, op text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	q text := format('SELECT q.id AS qid, x.id, x.r FROM %1$s q CROSS JOIN LATERAL
		(SELECT id, row_number() OVER () AS r FROM (SELECT id FROM %1$s ORDER BY v %2$s q.v TIES LIMIT 10) y) x
		WHERE q.id %% 5 = 0', t, op);
	n bigint;
BEGIN
	PERFORM set_config('enable_seqscan', 'off', true);
	PERFORM set_config('enable_indexscan', 'on', true);
	EXECUTE 'CREATE TEMP TABLE knn_approx AS ' || replace(q, 'TIES', '');
	PERFORM set_config('enable_seqscan', 'on', true);
	PERFORM set_config('enable_indexscan', 'off', true);
	EXECUTE 'CREATE TEMP TABLE knn_exact AS ' || replace(q, 'TIES', ', id');
	EXECUTE format('SELECT count(*) FROM knn_exact e FULL JOIN knn_approx a USING (qid, r)
		LEFT JOIN %1$s q ON q.id = coalesce(e.qid, a.qid)
		LEFT JOIN %1$s ev ON ev.id = e.id LEFT JOIN %1$s av ON av.id = a.id
		WHERE e.id IS NULL OR a.id IS NULL OR
			(a.id <> e.id AND abs((av.v %2$s q.v) - (ev.v %2$s q.v)) > 1e-5 * (abs(ev.v %2$s q.v) + 1e-6))',
		t, op) INTO n;
	DROP TABLE knn_approx, knn_exact;
	RETURN n;
END $$;

-- The pages row of verify_index, without the counts that depend on levels:
-- the live elements, and with dead the elements deleted or freed by VACUUM
-- (the entry point stays deleted, not freed, and the inserts that take
-- free items depend on the levels the new elements draw, so these alone
-- are stable)
CREATE FUNCTION hd_verify(idx regclass, dead boolean DEFAULT false)
RETURNS TABLE ("check" text, ok boolean, detail text) LANGUAGE sql AS $$
	SELECT v."check", v.ok,
		CASE v."check"
			WHEN 'pages' THEN
				(SELECT format('%s live elements', c[1]::int - c[2]::int) ||
					CASE WHEN dead THEN format(', %s deleted or free', c[2]::int + c[3]::int) ELSE '' END
				 FROM regexp_match(v.detail, '(\d+) elements, (\d+) deleted, (\d+) free') c) ||
				CASE WHEN v.detail ~ '\(0 not referenced\)' THEN ', every chunk referenced' ELSE '' END
			WHEN 'metapage' THEN v.detail
			ELSE '' END
	FROM vecrec.verify_index(idx) v
$$;

SET hnsw.ef_search = 100;

-- 2000 dimensions (the old limit was 1988 for m = 16), every operator class
CREATE TABLE hd2000 (id int PRIMARY KEY, v vector(2000));
INSERT INTO hd2000 SELECT i, hd(2000, i) FROM generate_series(1, 40) i;
CREATE INDEX hd2000_l2 ON hd2000 USING hnsw (v vector_l2_ops);
CREATE INDEX hd2000_ip ON hd2000 USING hnsw (v vector_ip_ops);
CREATE INDEX hd2000_cos ON hd2000 USING hnsw (v vector_cosine_ops);
CREATE INDEX hd2000_l1 ON hd2000 USING hnsw (v vector_l1_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hd2000 ORDER BY v <-> (SELECT v FROM hd2000 WHERE id = 1) LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hd2000 ORDER BY v <#> (SELECT v FROM hd2000 WHERE id = 1) LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hd2000 ORDER BY v <=> (SELECT v FROM hd2000 WHERE id = 1) LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hd2000 ORDER BY v <+> (SELECT v FROM hd2000 WHERE id = 1) LIMIT 5;
RESET enable_seqscan;
SELECT op, knn_mismatches('hd2000', op) FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>']) op;
-- a row's own vector finds it first
SELECT count(*) AS not_found_first FROM hd2000 a
WHERE a.id <> (SELECT b.id FROM hd2000 b ORDER BY b.v <-> a.v LIMIT 1);
SELECT * FROM hd_verify('hd2000_l2');
-- inserts after the build
INSERT INTO hd2000 SELECT i, hd(2000, i) FROM generate_series(41, 60) i;
SELECT op, knn_mismatches('hd2000', op) FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>']) op;
-- deletes, then VACUUM marks their elements, repairs the graph and frees
-- them (a deleted entry point stays)
DELETE FROM hd2000 WHERE id % 3 = 0;
VACUUM hd2000;
SELECT op, knn_mismatches('hd2000', op) FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>']) op;
SELECT i.relname, v.* FROM pg_class i, hd_verify(i.oid, true) v
WHERE i.relname IN ('hd2000_l2', 'hd2000_ip', 'hd2000_cos', 'hd2000_l1') AND v."check" IN ('pages', 'neighbours', 'entry point')
ORDER BY 1, 2;
DROP TABLE hd2000;

-- 4096 dimensions with m = 4
CREATE TABLE hd4096 (id int PRIMARY KEY, v vector(4096));
INSERT INTO hd4096 SELECT i, hd(4096, i) FROM generate_series(1, 40) i;
CREATE INDEX hd4096_l2 ON hd4096 USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
CREATE INDEX hd4096_cos ON hd4096 USING hnsw (v vector_cosine_ops) WITH (m = 4, ef_construction = 16);
INSERT INTO hd4096 SELECT i, hd(4096, i) FROM generate_series(41, 60) i;
SELECT op, knn_mismatches('hd4096', op) FROM unnest(ARRAY['<->', '<=>']) op;
SELECT * FROM hd_verify('hd4096_cos');
-- an operator class whose distance function the index does not know runs
-- it through fmgr, on vectors put back together from their chunks
CREATE OPERATOR CLASS hd_l2_plain_ops FOR TYPE vector USING hnsw AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 l2_distance(vector, vector);
DROP INDEX hd4096_l2;
CREATE INDEX hd4096_plain ON hd4096 USING hnsw (v hd_l2_plain_ops) WITH (m = 4, ef_construction = 16);
INSERT INTO hd4096 SELECT i, hd(4096, i) FROM generate_series(61, 70) i;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hd4096 ORDER BY v <-> (SELECT v FROM hd4096 WHERE id = 1) LIMIT 5;
RESET enable_seqscan;
SELECT knn_mismatches('hd4096', '<->');
SELECT "check", ok FROM hd_verify('hd4096_plain');
DROP TABLE hd4096;
DROP OPERATOR CLASS hd_l2_plain_ops USING hnsw;

-- 16,000 dimensions, the most the type allows: m = 16, and m = 100, the
-- largest, under the inner product
CREATE TABLE hd16k (id int PRIMARY KEY, v vector(16000));
INSERT INTO hd16k SELECT i, hd(16000, i) FROM generate_series(1, 30) i;
CREATE INDEX hd16k_l2 ON hd16k USING hnsw (v vector_l2_ops);
CREATE INDEX hd16k_ip ON hd16k USING hnsw (v vector_ip_ops) WITH (m = 100, ef_construction = 200);
CREATE INDEX hd16k_cos ON hd16k USING hnsw (v vector_cosine_ops) WITH (m = 2, ef_construction = 4);
CREATE INDEX hd16k_l1 ON hd16k USING hnsw (v vector_l1_ops);
INSERT INTO hd16k SELECT i, hd(16000, i) FROM generate_series(31, 45) i;
SELECT op, knn_mismatches('hd16k', op) FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>']) op;
DELETE FROM hd16k WHERE id % 4 = 1;
VACUUM hd16k;
-- the new rows take free items, and their vectors the items' chunks
INSERT INTO hd16k SELECT i, hd(16000, i) FROM generate_series(46, 50) i;
SELECT op, knn_mismatches('hd16k', op) FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>']) op;
SELECT i.relname, v.* FROM pg_class i, hd_verify(i.oid) v
WHERE i.relname IN ('hd16k_l2', 'hd16k_ip', 'hd16k_cos', 'hd16k_l1') AND v."check" IN ('metapage', 'pages')
ORDER BY 1, 2;
SELECT count(*) FROM vecrec.verify_index('hd16k_ip', true);

-- iterative scans walk out-of-line vectors too: a filter that rejects
-- four rows in five, in strict order, still returns the exact answer
SET hnsw.ef_search = 5;
SET hnsw.iterative_scan = strict_order;
SET enable_seqscan = off;
SELECT array_agg(id) AS index_order FROM
	(SELECT id FROM hd16k WHERE id % 5 = 2 ORDER BY v <-> hd(16000, 7) LIMIT 6) s;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT array_agg(id) AS exact_order FROM
	(SELECT id FROM hd16k WHERE id % 5 = 2 ORDER BY v <-> hd(16000, 7), id LIMIT 6) s;
RESET enable_indexscan;
RESET hnsw.iterative_scan;
SET hnsw.ef_search = 100;

-- a query of the wrong dimensions is an error; the type refuses more
-- than 16,000 dimensions before an index can see them
SET enable_seqscan = off;
SELECT id FROM hd16k ORDER BY v <-> hd(15999, 1) LIMIT 1;
RESET enable_seqscan;
CREATE TABLE hd_over (v vector(16001));
DROP TABLE hd16k;

-- which indexes keep vectors inside their elements (format version 1):
-- those whose elements fit on a page at a level that fewer than one
-- element in 10,000 exceeds (up to 1915 dimensions for m = 16)
CREATE TABLE hd_edge (d int, m int, v1915 vector(1915), v1916 vector(1916));
INSERT INTO hd_edge SELECT 0, 0, hd(1915, i), hd(1916, i) FROM generate_series(1, 5) i;
CREATE INDEX hd_edge_1915 ON hd_edge USING hnsw (v1915);
CREATE INDEX hd_edge_1916 ON hd_edge USING hnsw (v1916);
CREATE INDEX hd_edge_1915_m100 ON hd_edge USING hnsw (v1915) WITH (m = 100, ef_construction = 200);
SELECT i.relname, v.detail FROM pg_class i, vecrec.verify_index(i.oid) v
WHERE i.relname LIKE 'hd\_edge\_%' AND v."check" = 'metapage' ORDER BY 1;
DROP TABLE hd_edge;

DROP FUNCTION hd_verify(regclass, boolean);
DROP FUNCTION knn_mismatches(regclass, text);
DROP FUNCTION hd(int, int);
