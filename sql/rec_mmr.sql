-- rec_mmr: vecrec.mmr (maximal marginal relevance) and vecrec.diversity

-- hand-computed: query [1,0]; id 1 = the query's direction, id 2 close to
-- it, id 3 orthogonal.  lambda 0.5: rank 1 is id 1 (score 0.5 * 1); then
-- ids 2 and 3 both score 0 (id 2: 0.5 * 0.99388 - 0.5 * 0.99388; id 3:
-- 0.5 * 0 - 0.5 * 0), a tie the lower id wins; id 3 last with
-- -0.5 * cos(id 3, id 2) = -0.5 * 0.110432 = -0.055216
SELECT id, rank, round(relevance::numeric, 6) AS relevance, round(score::numeric, 6) AS score
  FROM vecrec.mmr('[1,0]', ARRAY[1, 2, 3], ARRAY['[1,0]', '[0.9,0.1]', '[0,1]']::vector[], 3, 0.5);

-- lambda 1: relevance order; lambda 0: after rank 1, the least similar to
-- what is picked (here id 3, then id 2)
SELECT id, rank, round(score::numeric, 6) AS score
  FROM vecrec.mmr('[1,0]', ARRAY[1, 2, 3], ARRAY['[1,0]', '[0.9,0.1]', '[0,1]']::vector[], 3, 1);
SELECT id, rank, round(score::numeric, 6) AS score
  FROM vecrec.mmr('[1,0]', ARRAY[1, 2, 3], ARRAY['[1,0]', '[0.9,0.1]', '[0,1]']::vector[], 3, 0);

-- the default lambda is 0.7; relevance is cosine similarity, so length does
-- not matter ([2,0] and [3,0] both have relevance 1: a tie, lower id first);
-- negative similarity is kept (id 7: -1); k larger than n gives n rows
SELECT id, rank, round(relevance::numeric, 6) AS relevance, round(score::numeric, 6) AS score
  FROM vecrec.mmr('[1,0]', ARRAY[9, 4, 7], ARRAY['[3,0]', '[2,0]', '[-1,0]']::vector[], 10);
-- score at rank 2 for id 9: 0.7 * 1 - 0.3 * 1 = 0.4; rank 3 for id 7:
-- 0.7 * -1 - 0.3 * -1 = -0.4

-- k limits the rows; ids keep their bigint range
SELECT id, rank FROM vecrec.mmr('[0,1]', ARRAY[9223372036854775807, -9223372036854775808],
                                ARRAY['[0,1]', '[1,1]']::vector[], 1);

-- empty input: no rows; NULL arguments (STRICT): no rows
SELECT count(*) FROM vecrec.mmr('[1,0]', '{}', '{}', 5);
SELECT count(*) FROM vecrec.mmr(NULL, ARRAY[1], ARRAY['[1,0]']::vector[], 5);
SELECT count(*) FROM vecrec.mmr('[1,0]', ARRAY[1], ARRAY['[1,0]']::vector[], NULL);

-- errors
SELECT * FROM vecrec.mmr('[1,0]', ARRAY[1], ARRAY['[1,0]']::vector[], 0);
SELECT * FROM vecrec.mmr('[1,0]', ARRAY[1], ARRAY['[1,0]']::vector[], 3, -0.1);
SELECT * FROM vecrec.mmr('[1,0]', ARRAY[1], ARRAY['[1,0]']::vector[], 3, 1.1);
SELECT * FROM vecrec.mmr('[1,0]', ARRAY[1], ARRAY['[1,0]']::vector[], 3, 'NaN');
SELECT * FROM vecrec.mmr('[1,0]', '{}', '{}', 0);
SELECT * FROM vecrec.mmr('[1,0]', ARRAY[1, 2], ARRAY['[1,0]']::vector[], 3);
SELECT * FROM vecrec.mmr('[1,0]', ARRAY[1, NULL], ARRAY['[1,0]', '[0,1]']::vector[], 3);
SELECT * FROM vecrec.mmr('[1,0]', ARRAY[1, 2], ARRAY['[1,0]', NULL]::vector[], 3);
SELECT * FROM vecrec.mmr('[1,0]', ARRAY[1, 2], ARRAY['[1,0]', '[0,1,0]']::vector[], 3);
SELECT * FROM vecrec.mmr('[1,0,0]', ARRAY[1, 2], ARRAY['[1,0]', '[0,1]']::vector[], 3);
SELECT * FROM vecrec.mmr('[1,0]', ARRAY[5, 2, 5], ARRAY['[1,0]', '[0,1]', '[1,1]']::vector[], 3);
SELECT * FROM vecrec.mmr('[0,0]', ARRAY[1], ARRAY['[1,0]']::vector[], 3);
SELECT * FROM vecrec.mmr('[1,0]', ARRAY[1, 2], ARRAY['[1,0]', '[0,0]']::vector[], 3);
SELECT * FROM vecrec.mmr('[1,0]', ARRAY[[1], [2]], ARRAY['[1,0]', '[0,1]']::vector[], 3);

-- real embeddings: GloVe-100, the word "apple" and its 120 nearest words
-- (test/data/rec_glove_apple.tsv, made by test/data/make_rec_fixture.py)
CREATE TABLE rec_words (id bigint PRIMARY KEY, word text NOT NULL, embedding vector(100) NOT NULL);
\copy rec_words FROM 'test/data/rec_glove_apple.tsv'
SELECT count(*), min(vector_dims(embedding)) FROM rec_words;
CREATE TABLE rec_query AS SELECT * FROM rec_words WHERE word = 'apple';
DELETE FROM rec_words WHERE word = 'apple';

-- independent reference: double precision arrays, similarities in SQL, the
-- greedy selection written out literally (no running maximum); gap is the
-- margin by which each pick beat the runner-up
CREATE TABLE ref_vec AS
  SELECT id, embedding::real[]::float8[] AS x FROM rec_words;
CREATE FUNCTION ref_cos(a float8[], b float8[]) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT sum(u.p * u.q) / sqrt(sum(u.p * u.p) * sum(u.q * u.q)) FROM unnest(a, b) AS u(p, q)
$$;
CREATE TABLE ref_sim AS
  SELECT a.id AS a, b.id AS b, ref_cos(a.x, b.x) AS sim FROM ref_vec a, ref_vec b;
ALTER TABLE ref_sim ADD PRIMARY KEY (a, b);
CREATE TABLE ref_rel AS
  SELECT v.id, ref_cos(v.x, q.embedding::real[]::float8[]) AS rel FROM ref_vec v, rec_query q;

CREATE FUNCTION ref_mmr(k int, lambda float8)
RETURNS TABLE (id bigint, rank int, relevance float8, score float8, gap float8)
LANGUAGE plpgsql AS $$
DECLARE
  picked bigint[] := '{}';
  c record;
  best_id bigint;
  best_rel float8;
  best_obj float8;
  runner_up float8;
BEGIN
  FOR r IN 1 .. least(k, (SELECT count(*) FROM ref_rel)) LOOP
    best_id := NULL;
    best_obj := NULL;
    runner_up := NULL;
    FOR c IN
      SELECT rr.id, rr.rel,
             lambda * rr.rel - (1 - lambda) *
               coalesce((SELECT max(s.sim) FROM ref_sim s WHERE s.a = rr.id AND s.b = ANY (picked)), 0) AS obj
        FROM ref_rel rr WHERE rr.id <> ALL (picked)
    LOOP
      IF best_id IS NULL OR c.obj > best_obj OR (c.obj = best_obj AND c.id < best_id) THEN
        runner_up := best_obj;
        best_id := c.id; best_rel := c.rel; best_obj := c.obj;
      ELSIF runner_up IS NULL OR c.obj > runner_up THEN
        runner_up := c.obj;
      END IF;
    END LOOP;
    picked := picked || best_id;
    id := best_id; rank := r; relevance := best_rel; score := best_obj;
    gap := coalesce(best_obj - runner_up, 'Infinity');
    RETURN NEXT;
  END LOOP;
END
$$;

CREATE FUNCTION check_mmr(k int, lambda float8)
RETURNS TABLE (k int, lambda float8, nrows bigint, same_order boolean, relevance_ok boolean,
               score_ok boolean, picks_well_separated boolean)
LANGUAGE sql AS $$
  WITH m AS (SELECT * FROM vecrec.mmr((SELECT embedding FROM rec_query),
                                      (SELECT array_agg(id ORDER BY id DESC) FROM rec_words),
                                      (SELECT array_agg(embedding ORDER BY id DESC) FROM rec_words),
                                      k, lambda)),
       r AS (SELECT * FROM ref_mmr(k, lambda))
  SELECT k, lambda, count(*),
         bool_and(m.id IS NOT DISTINCT FROM r.id),
         max(abs(m.relevance - r.relevance)) < 1e-5,
         max(abs(m.score - r.score)) < 1e-5,
         min(r.gap) > 1e-5
    FROM m FULL JOIN r ON m.rank = r.rank
$$;

SELECT * FROM check_mmr(12, 0.7);
SELECT * FROM check_mmr(12, 0.5);
SELECT * FROM check_mmr(12, 0.3);
SELECT * FROM check_mmr(12, 1);
SELECT * FROM check_mmr(30, 0.6);
SELECT * FROM check_mmr(120, 0.7);
-- every kernel gives the same picks
SET vecrec.kernel = 'scalar';
SELECT * FROM check_mmr(12, 0.7);
RESET vecrec.kernel;

-- what MMR does to the list: lambda 1 is the 12 most similar words (all
-- about computers); 0.5 brings in the fruit
SELECT lambda, string_agg(w.word, ' ' ORDER BY m.rank) AS words
  FROM (VALUES (1.0::float8), (0.5)) AS l(lambda),
       LATERAL vecrec.mmr((SELECT embedding FROM rec_query),
                          (SELECT array_agg(id) FROM rec_words),
                          (SELECT array_agg(embedding) FROM rec_words), 12, l.lambda) m
       JOIN rec_words w ON w.id = m.id
 GROUP BY lambda ORDER BY lambda DESC;

-- diversity: mean pairwise cosine distance
SELECT vecrec.diversity(ARRAY['[1,0]', '[0,1]']::vector[]);              -- 1
SELECT vecrec.diversity(ARRAY['[1,0]', '[2,0]', '[3,0]']::vector[]);     -- 0
SELECT vecrec.diversity(ARRAY['[1,0]', '[-1,0]']::vector[]);             -- 2
SELECT round(vecrec.diversity(ARRAY['[1,0]', '[0,1]', '[-1,0]']::vector[])::numeric, 6); -- (1 + 2 + 1) / 3
SELECT vecrec.diversity(ARRAY['[1,0]', NULL, '[0,1]']::vector[]);        -- NULLs skipped: 1
SELECT vecrec.diversity(ARRAY['[1,0]']::vector[]) IS NULL AS one;
SELECT vecrec.diversity(ARRAY['[1,0]', NULL]::vector[]) IS NULL AS one_non_null;
SELECT vecrec.diversity('{}'::vector[]) IS NULL AS empty;
SELECT vecrec.diversity(NULL) IS NULL AS null_array;
SELECT vecrec.diversity(ARRAY['[1,0]', '[0,0]']::vector[]);
SELECT vecrec.diversity(ARRAY['[1,0]', '[0,1,0]']::vector[]);
-- against the reference on real embeddings, and MMR's list is more diverse
SELECT abs(vecrec.diversity(array_agg(embedding)) -
           (SELECT avg(1 - s.sim) FROM ref_sim s WHERE s.a < s.b)) < 1e-6 AS matches_reference
  FROM rec_words;
SELECT (SELECT vecrec.diversity(array_agg(w.embedding))
          FROM vecrec.mmr(q.embedding, (SELECT array_agg(id) FROM rec_words),
                          (SELECT array_agg(embedding) FROM rec_words), 12, 0.5) m
          JOIN rec_words w ON w.id = m.id) >
       (SELECT vecrec.diversity(array_agg(w.embedding))
          FROM vecrec.mmr(q.embedding, (SELECT array_agg(id) FROM rec_words),
                          (SELECT array_agg(embedding) FROM rec_words), 12, 1) m
          JOIN rec_words w ON w.id = m.id) AS mmr_more_diverse
  FROM rec_query q;

DROP TABLE rec_words, rec_query, ref_vec, ref_sim, ref_rel;
DROP FUNCTION ref_cos, ref_mmr, check_mmr;
