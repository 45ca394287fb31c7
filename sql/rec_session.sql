-- rec_session: vecrec.weighted_avg, vecrec.session_vector, event weights

-- weighted_avg: sum(w * v) / sum(w); ([1,2] + 3 * [3,4]) / 4 = [2.5,3.5]
SELECT vecrec.weighted_avg(v, w) FROM (VALUES ('[1,2]'::vector, 1::float8), ('[3,4]', 3)) t(v, w);
-- (0.25 * [0,0] + 0.75 * [4,8]) / 1 = [3,6]; a zero weight does not count
SELECT vecrec.weighted_avg(v, w)
  FROM (VALUES ('[0,0]'::vector, 0.25::float8), ('[4,8]', 0.75), ('[100,100]', 0)) t(v, w);
-- rows with a NULL vector or weight are skipped
SELECT vecrec.weighted_avg(v, w)
  FROM (VALUES ('[1,1]'::vector, 1::float8), (NULL, 5), ('[9,9]', NULL), ('[3,3]', 1)) t(v, w);
-- per group
SELECT g, vecrec.weighted_avg(v, w)
  FROM (VALUES (1, '[1,0]'::vector, 1::float8), (1, '[0,1]', 1), (2, '[2,2]', 7)) t(g, v, w)
 GROUP BY g ORDER BY g;
-- NULL for no rows and for weights that are all zero
SELECT vecrec.weighted_avg(v, w) IS NULL AS no_rows
  FROM (VALUES ('[1,2]'::vector, 1::float8)) t(v, w) WHERE false;
SELECT vecrec.weighted_avg(v, w) IS NULL AS zero_weights
  FROM (VALUES ('[1,2]'::vector, 0::float8), ('[3,4]', 0)) t(v, w);
SELECT vecrec.weighted_avg(v, w) IS NULL AS only_nulls
  FROM (VALUES (NULL::vector, 1::float8)) t(v, w);
-- errors: negative or non-finite weights, mixed dimensions (also after a
-- zero-weight row), overflow
SELECT vecrec.weighted_avg(v, w) FROM (VALUES ('[1,2]'::vector, -1::float8)) t(v, w);
SELECT vecrec.weighted_avg(v, w) FROM (VALUES ('[1,2]'::vector, 'NaN'::float8)) t(v, w);
SELECT vecrec.weighted_avg(v, w) FROM (VALUES ('[1,2]'::vector, 'Infinity'::float8)) t(v, w);
SELECT vecrec.weighted_avg(v, w) FROM (VALUES ('[1,2]'::vector, 1::float8), ('[1,2,3]', 1)) t(v, w);
SELECT vecrec.weighted_avg(v, w) FROM (VALUES ('[1,2]'::vector, 0::float8), ('[1,2,3]', 1)) t(v, w);
SELECT vecrec.weighted_avg(v, w) FROM (VALUES ('[1,2]'::vector, 1e308::float8), ('[1,2]', 1e308)) t(v, w);

-- session_vector: weight * 0.5 ^ ((as_of - at) / half_life), normalised
-- one row: its direction
SELECT vecrec.session_vector(v, w, at, '30 minutes', '2026-01-01 12:00+00')
  FROM (VALUES ('[3,4]'::vector, 1::float8, '2026-01-01 11:00+00'::timestamptz)) t(v, w, at);
-- [1,0] weight 1 now, [0,1] weight 2 one half-life ago: 1 * [1,0] + 1 * [0,1]
SELECT vecrec.session_vector(v, w, at, '30 minutes', '2026-01-01 12:00+00')
  FROM (VALUES ('[1,0]'::vector, 1::float8, '2026-01-01 12:00+00'::timestamptz),
               ('[0,1]', 2, '2026-01-01 11:30+00')) t(v, w, at);
-- two half-lives: [1,0] + 0.25 * [0,1], normalised [0.970143, 0.242536]
SELECT vecrec.session_vector(v, w, at, '30 minutes', '2026-01-01 12:00+00')
  FROM (VALUES ('[1,0]'::vector, 1::float8, '2026-01-01 12:00+00'::timestamptz),
               ('[0,1]', 1, '2026-01-01 11:00+00')) t(v, w, at);
-- events after as_of count as age 0: [1,1] / sqrt(2)
SELECT vecrec.session_vector(v, w, at, '30 minutes', '2026-01-01 12:00+00')
  FROM (VALUES ('[1,0]'::vector, 1::float8, '2026-01-01 12:00+00'::timestamptz),
               ('[0,1]', 1, '2026-01-01 13:00+00')) t(v, w, at);
-- a month counts 30 days (as extract(epoch ...)): [0.5,1], normalised
SELECT vecrec.session_vector(v, w, at, '1 month', '2026-03-01 00:00+00')
  FROM (VALUES ('[1,0]'::vector, 1::float8, '2026-03-01 00:00+00'::timestamptz - '30 days'::interval),
               ('[0,1]', 1, '2026-03-01 00:00+00')) t(v, w, at);
-- old sessions do not underflow: 100 days at a 30-minute half-life is 4800
-- half-lives (0.5 ^ 4800 is 0 in double precision), yet only the relative
-- age counts: [1,0] + 0.5 * [0,1], normalised [0.894427, 0.447214]
SELECT vecrec.session_vector(v, w, at, '30 minutes', '2026-06-01 00:00+00')
  FROM (VALUES ('[0,1]'::vector, 1::float8, '2026-02-21 23:30+00'::timestamptz),
               ('[1,0]', 1, '2026-02-22 00:00+00')) t(v, w, at);
-- the same, the older row coming last or first
SELECT vecrec.session_vector(v, w, at, '30 minutes', '2026-06-01 00:00+00' ORDER BY at DESC)
     = vecrec.session_vector(v, w, at, '30 minutes', '2026-06-01 00:00+00' ORDER BY at) AS order_independent
  FROM (VALUES ('[0,1]'::vector, 1::float8, '2026-02-21 23:30+00'::timestamptz),
               ('[1,0]', 1, '2026-02-22 00:00+00'), ('[1,1]', 3, '2026-02-21 20:00+00')) t(v, w, at);
-- -infinity is infinitely old (weight 0); infinity is in the future (age 0)
SELECT vecrec.session_vector(v, w, at, '1 hour', '2026-01-01 00:00+00')
  FROM (VALUES ('[1,0]'::vector, 1::float8, '-infinity'::timestamptz), ('[0,1]', 1, '2025-12-31 23:00+00')) t(v, w, at);
SELECT vecrec.session_vector(v, w, at, '1 hour', '2026-01-01 00:00+00')
  FROM (VALUES ('[1,0]'::vector, 1::float8, 'infinity'::timestamptz), ('[0,1]', 1, '2025-12-31 23:00+00')) t(v, w, at);
-- the four-argument form counts ages up to now(), the transaction's start
BEGIN;
SELECT vecrec.session_vector(v, w, now() - age, '10 minutes')
     = vecrec.session_vector(v, w, now() - age, '10 minutes', now()) AS now_is_default,
       vecrec.session_vector(v, w, now() - age, '10 minutes') AS v
  FROM (VALUES ('[1,0]'::vector, 1::float8, '0 minutes'::interval), ('[0,1]', 4, '20 minutes')) t(v, w, age);
COMMIT;
-- NULL: no rows, weights all zero, only -infinity, a sum of zero length
SELECT vecrec.session_vector(v, w, at, '1 hour') IS NULL AS no_rows
  FROM (VALUES ('[1,0]'::vector, 1::float8, now())) t(v, w, at) WHERE false;
SELECT vecrec.session_vector(v, w, at, '1 hour') IS NULL AS zero_weights
  FROM (VALUES ('[1,0]'::vector, 0::float8, now())) t(v, w, at);
SELECT vecrec.session_vector(v, w, at, '1 hour') IS NULL AS infinitely_old
  FROM (VALUES ('[1,0]'::vector, 1::float8, '-infinity'::timestamptz)) t(v, w, at);
SELECT vecrec.session_vector(v, w, at, '1 hour', '2026-01-01') IS NULL AS zero_sum
  FROM (VALUES ('[1,0]'::vector, 1::float8, '2026-01-01'::timestamptz), ('[-1,0]', 1, '2026-01-01')) t(v, w, at);
-- errors
SELECT vecrec.session_vector(v, 1, now(), '0 seconds') FROM (VALUES ('[1,0]'::vector)) t(v);
SELECT vecrec.session_vector(v, 1, now(), '-1 hour') FROM (VALUES ('[1,0]'::vector)) t(v);
SELECT vecrec.session_vector(v, 1, now(), '1 day -24 hours') FROM (VALUES ('[1,0]'::vector)) t(v);
SELECT vecrec.session_vector(v, -2, now(), '1 hour') FROM (VALUES ('[1,0]'::vector)) t(v);
SELECT vecrec.session_vector(v, 'NaN', now(), '1 hour') FROM (VALUES ('[1,0]'::vector)) t(v);
SELECT vecrec.session_vector(v, 1, now(), '1 hour', 'infinity') FROM (VALUES ('[1,0]'::vector)) t(v);
SELECT vecrec.session_vector(v, 1, now(), '1 hour') FROM (VALUES ('[1,0]'::vector), ('[1,0,0]')) t(v);

-- event weights: shipped defaults, view < click < add_to_cart < purchase
SELECT event, weight, builtin FROM vecrec.event_weights ORDER BY weight, event;
SELECT vecrec.event_weight('view') < vecrec.event_weight('click')
   AND vecrec.event_weight('click') < vecrec.event_weight('add_to_cart')
   AND vecrec.event_weight('add_to_cart') < vecrec.event_weight('purchase') AS ordered;
SELECT vecrec.event_weight(NULL) IS NULL AS null_event;
SELECT vecrec.event_weight('teleport');

-- the typical call: a session's last 20 events
CREATE TABLE rec_products (id int PRIMARY KEY, embedding vector(3));
INSERT INTO rec_products VALUES (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0,0,1]');
CREATE TABLE rec_events (session int, product int, event text, at timestamptz);
INSERT INTO rec_events
  SELECT 7, 1 + i % 3, (ARRAY['view', 'click', 'add_to_cart'])[1 + i % 3],
         '2026-01-01 12:00+00'::timestamptz - i * interval '10 minutes'
    FROM generate_series(0, 29) i;
-- the 20 newest: product 1 viewed at ages 0, 30, ... 180 min (weight 1),
-- product 2 clicked at 10, ..., 190 (weight 2), product 3 added to the cart
-- at 20, ..., 170 (weight 4); each series sums 0.5 ^ (age / 30 min)
SELECT vecrec.session_vector(p.embedding, vecrec.event_weight(e.event), e.at, '30 minutes',
                             '2026-01-01 12:00+00') AS v
  FROM (SELECT * FROM rec_events WHERE session = 7 ORDER BY at DESC LIMIT 20) e
  JOIN rec_products p ON p.id = e.product;
-- the same by hand
WITH e AS (SELECT * FROM rec_events WHERE session = 7 ORDER BY at DESC LIMIT 20),
     s AS (SELECT product, sum(CASE event WHEN 'view' THEN 1 WHEN 'click' THEN 2 ELSE 4 END *
                                0.5 ^ (extract(epoch FROM '2026-01-01 12:00+00' - at) / 1800)) AS w
             FROM e GROUP BY product)
SELECT product, round((w / sqrt(sum(w * w) OVER ()))::numeric, 6) AS expected FROM s ORDER BY product;

-- users edit the weights; edited and added rows are theirs (builtin false)
UPDATE vecrec.event_weights SET weight = 2.5 WHERE event = 'click';
INSERT INTO vecrec.event_weights (event, weight) VALUES ('share', 1.5);
-- an insert replaces a shipped row of the same event
INSERT INTO vecrec.event_weights (event, weight) VALUES ('view', 0.5);
SELECT event, weight, builtin FROM vecrec.event_weights ORDER BY weight, event;
SELECT vecrec.event_weight('click'), vecrec.event_weight('share'), vecrec.event_weight('view');
-- but not a user's row
INSERT INTO vecrec.event_weights (event, weight) VALUES ('share', 3);
INSERT INTO vecrec.event_weights (event, weight) VALUES ('dislike', -1);
INSERT INTO vecrec.event_weights (event, weight) VALUES ('dislike', 'NaN');
INSERT INTO vecrec.event_weights (event, weight) VALUES ('dislike', 'Infinity');
-- pg_dump dumps the user's rows only; CREATE EXTENSION brings back the rest
SELECT extcondition FROM pg_extension WHERE extname = 'vecrec';

-- a dump and restore, step by step, in a database of its own: CREATE
-- EXTENSION, then the rows pg_dump selects with the condition above
\set regress_db :DBNAME
CREATE DATABASE rec_dump_test;
\c rec_dump_test
CREATE EXTENSION vecrec;
UPDATE vecrec.event_weights SET weight = 2.5 WHERE event = 'click';
INSERT INTO vecrec.event_weights (event, weight) VALUES ('share', 1.5), ('view', 0.5);
DELETE FROM vecrec.event_weights WHERE event = 'review';
CREATE TABLE before_dump AS SELECT event, weight FROM vecrec.event_weights;
CREATE TABLE dumped AS SELECT * FROM vecrec.event_weights WHERE NOT builtin;
DROP EXTENSION vecrec;
CREATE EXTENSION vecrec;
INSERT INTO vecrec.event_weights SELECT * FROM dumped;
-- edits and additions survive; a deleted shipped row comes back (README)
(SELECT 'lost' AS what, * FROM before_dump EXCEPT SELECT 'lost', event, weight FROM vecrec.event_weights)
UNION ALL
(SELECT 'new', event, weight FROM vecrec.event_weights EXCEPT SELECT 'new', * FROM before_dump)
ORDER BY 1, 2;
\c :regress_db
DROP DATABASE rec_dump_test;

-- parallel aggregation gives the serial result (combine function, and for
-- session_vector partial states with different reference ages)
CREATE TABLE rec_par (id int, g int, v vector(8), w float8, at timestamptz);
INSERT INTO rec_par
  SELECT i, i % 3, ARRAY(SELECT sin(i * 0.37 + j) FROM generate_series(1, 8) j)::vector,
         (i % 7) * 0.5, '2026-01-01 00:00+00'::timestamptz - i * interval '1 second'
    FROM generate_series(1, 60000) i;
ANALYZE rec_par;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
CREATE FUNCTION rec_plan_is_parallel(query text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  line text;
  plan text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    plan := plan || line || E'\n';
  END LOOP;
  RETURN plan LIKE '%Finalize%' AND plan LIKE '%Gather%' AND plan LIKE '%Partial%';
END
$$;
SELECT rec_plan_is_parallel($$
SELECT g, vecrec.weighted_avg(v, w), vecrec.session_vector(v, w, at, '1 hour', '2026-01-01 00:00+00')
  FROM rec_par GROUP BY g$$);
CREATE TABLE rec_par_parallel AS
SELECT g, vecrec.weighted_avg(v, w) AS a, vecrec.session_vector(v, w, at, '1 hour', '2026-01-01 00:00+00') AS s
  FROM rec_par GROUP BY g;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE rec_par_serial AS
SELECT g, vecrec.weighted_avg(v, w) AS a, vecrec.session_vector(v, w, at, '1 hour', '2026-01-01 00:00+00') AS s
  FROM rec_par GROUP BY g;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SELECT count(*) AS groups,
       max(l2_distance(p.a, s.a)) < 1e-6 AS weighted_avg_same,
       max(l2_distance(p.s, s.s)) < 1e-6 AS session_vector_same
  FROM rec_par_parallel p JOIN rec_par_serial s USING (g);
-- and both match a plain SQL computation
SELECT max(abs(x - e)) < 1e-6 AS weighted_avg_matches_sql
  FROM (SELECT g, j, sum(w * x) / sum(w) AS e
          FROM rec_par, unnest(v::real[]) WITH ORDINALITY u(x, j) GROUP BY g, j) ex
  JOIN (SELECT g, j, x FROM rec_par_serial, unnest(a::real[]) WITH ORDINALITY u(x, j)) r USING (g, j);

DROP TABLE rec_products, rec_events, rec_par, rec_par_parallel, rec_par_serial;
DROP FUNCTION rec_plan_is_parallel;
