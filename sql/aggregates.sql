-- aggregates: avg(vector) and sum(vector)

CREATE TABLE agg_t (id int, g int, v vector(3));
INSERT INTO agg_t VALUES
  (1, 1, '[1,2,3]'), (2, 1, '[3,2,1]'), (3, 1, NULL),
  (4, 2, '[1,1,1]'), (5, 2, '[2,2,2]'), (6, 2, '[2,-4,0.5]'),
  (7, 3, NULL), (8, 4, '[-1.5,0,1e-45]');

-- NULLs are skipped; no rows, or only NULLs, give NULL
SELECT avg(v), sum(v) FROM agg_t;
SELECT avg(v), sum(v) FROM agg_t WHERE false;
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null FROM agg_t WHERE g = 3;
SELECT avg(v), sum(v) FROM (VALUES ('[1]'::vector), ('[2]'), ('[2]')) AS t(v);

-- GROUP BY
SELECT g, avg(v), sum(v), count(v) FROM agg_t GROUP BY g ORDER BY g;

-- DISTINCT, FILTER and window use
SELECT sum(DISTINCT v) FROM (VALUES ('[1,1]'::vector), ('[1,1]'), ('[2,3]')) AS t(v);
SELECT sum(v) FILTER (WHERE id > 4) FROM agg_t;
SELECT id, sum(v) OVER (ORDER BY id) AS running, avg(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS moving
FROM agg_t WHERE g <= 2 ORDER BY id;

-- mixed dimensions are an error
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) AS t(v);
SELECT sum(v) FROM (VALUES ('[1,2,3]'::vector), (NULL), ('[1,2]')) AS t(v);

-- sum beyond real's range is an error; avg of the same values is not
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) AS t(v);
SELECT sum(v) FROM (VALUES ('[-3e38,1]'::vector), ('[-3e38,1]')) AS t(v);
SELECT avg(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) AS t(v);

-- sums are accumulated in double precision: 2^24 + 1 + 1 is exact before rounding to real
SELECT sum(v) FROM (VALUES ('[16777216]'::vector), ('[1]'), ('[1]')) AS t(v);

-- the support functions called directly
SELECT vector_accum('{0}', '[1,2]');
SELECT vector_accum('{1,1,2}', '[3,4]');
SELECT vector_combine('{1,1,2}', '{2,3,4}'), vector_combine('{0}', '{2,3,4}'), vector_combine('{2,3,4}', '{0}');
SELECT vector_avg('{2,4,6}'), vector_sum('{2,4,6}'), vector_avg('{0}') IS NULL AS empty;

-- a state that would give a non-finite element is rejected with a data exception,
-- like every other way of making a vector (NaN states: all must be t)
CREATE FUNCTION agg_rejects(query text) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE query;
  RETURN false;
EXCEPTION WHEN data_exception THEN
  RETURN true;
END $$;
SELECT agg_rejects('SELECT vector_sum(''{1,Infinity}'')') AS sum_inf,
       agg_rejects('SELECT vector_avg(''{1,1e300}'')') AS avg_big,
       agg_rejects('SELECT vector_avg(''{1,NaN}'')') AS avg_nan,
       agg_rejects('SELECT vector_sum(''{1,NaN,2}'')') AS sum_nan,
       agg_rejects('SELECT vector_avg(''{NaN,1}'')') AS avg_nan_count,
       agg_rejects('SELECT vector_avg(vector_combine(''{1,NaN}'', ''{1,1}''))') AS combined_nan;
DROP FUNCTION agg_rejects(text);
DROP TABLE agg_t;

-- parallel aggregation: partial states from the workers combined, same result as serial
-- (sums: i % 7 -> 300000, i % 11 -> 500005, 1 -> 100000, i -> 5000050000 rounded to real)
CREATE TABLE agg_big AS
  SELECT i AS id, i % 3 AS g, ARRAY[i % 7, i % 11, 1, i]::vector(4) AS v FROM generate_series(1, 100000) AS i;
ANALYZE agg_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT sum(v), avg(v) FROM agg_big;
SELECT sum(v), avg(v), count(v) FROM agg_big;
EXPLAIN (COSTS OFF) SELECT g, sum(v), avg(v) FROM agg_big GROUP BY g ORDER BY g;
SELECT g, sum(v), avg(v) FROM agg_big GROUP BY g ORDER BY g;
RESET parallel_leader_participation;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT sum(v), avg(v) FROM agg_big;
SELECT sum(v), avg(v), count(v) FROM agg_big;
SELECT g, sum(v), avg(v) FROM agg_big GROUP BY g ORDER BY g;
RESET ALL;
DROP TABLE agg_big;

-- the support functions reject malformed states given to them directly
SELECT vector_avg('{}'::float8[]);
SELECT vector_avg('{-1,1}');
SELECT vector_sum('{Infinity,1}');
SELECT vector_accum('{1,2,3}', '[1,2]');
