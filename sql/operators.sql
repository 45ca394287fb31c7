-- operators: distances, arithmetic, concatenation, nearest-neighbour ORDER BY

-- <-> Euclidean distance
SELECT '[3,4]'::vector <-> '[0,0]';
SELECT '[0,0]'::vector <-> '[3,4]';
SELECT round(('[1,2,3]'::vector <-> '[4,6,8]')::numeric, 6);
SELECT '[1,2,3]'::vector <-> '[1,2,3]';
SELECT '[-1,-1]'::vector <-> '[2,3]';
SELECT '[3e38]'::vector <-> '[-3e38]';

-- <=> cosine distance: parallel 0, orthogonal 1, opposite 2, zero vector NaN
SELECT round(('[1,2]'::vector <=> '[2,4]')::numeric, 6);
SELECT '[1,0]'::vector <=> '[0,1]';
SELECT round(('[1,2]'::vector <=> '[-1,-2]')::numeric, 6);
SELECT round(('[1,1]'::vector <=> '[1,0]')::numeric, 6);
SELECT round(('[1,2,3]'::vector <=> '[4,5,6]')::numeric, 6);
SELECT '[0,0]'::vector <=> '[1,2]';
SELECT '[1,2]'::vector <=> '[0,0]';
SELECT '[0,0]'::vector <=> '[0,0]';

-- <#> negative inner product
SELECT '[1,2,3]'::vector <#> '[4,5,6]';
SELECT '[1,-1]'::vector <#> '[1,1]';
SELECT '[-2,0.5]'::vector <#> '[3,4]';

-- <+> Manhattan distance
SELECT '[1,2,3]'::vector <+> '[4,0,-1]';
SELECT '[0,0]'::vector <+> '[3,4]';
SELECT '[1.5]'::vector <+> '[1.5]';

-- distance operators commute
SELECT a <-> b = b <-> a AS l2, a <=> b = b <=> a AS cos, a <#> b = b <#> a AS ip, a <+> b = b <+> a AS l1
FROM (VALUES ('[1,2,3]'::vector, '[-4,0.5,6]'::vector)) AS t(a, b);

-- NULL operands give NULL
SELECT '[1,2]'::vector <-> NULL IS NULL AS l2, NULL <=> '[1,2]'::vector IS NULL AS cos,
       '[1,2]'::vector + NULL IS NULL AS add;

-- + - * element-wise, || concatenation
SELECT '[1,2,3]'::vector + '[4,5,6]';
SELECT '[1,2,3]'::vector - '[4,5,6]';
SELECT '[1,2,3]'::vector * '[4,5,6]';
SELECT '[1,2]'::vector || '[3]';
SELECT '[1]'::vector || '[2,3]' || '[4]';
SELECT '[0.5,-0]'::vector * '[2,3]';
SELECT '[1e-20]'::vector * '[1e-20]';
SELECT '[0,1e-30]'::vector * '[1e-30,1]';
SELECT vector_dims(array_fill(0, ARRAY[15999])::vector || '[1]');

-- dimension mismatch, for every binary operator that needs equal dimensions
SELECT '[1,2]'::vector <-> '[1,2,3]';
SELECT '[1,2]'::vector <=> '[1,2,3]';
SELECT '[1,2]'::vector <#> '[1,2,3]';
SELECT '[1,2]'::vector <+> '[1,2,3]';
SELECT '[1,2]'::vector + '[1,2,3]';
SELECT '[1,2]'::vector - '[1,2,3]';
SELECT '[1,2,3]'::vector * '[1,2]';

-- results out of real's range
SELECT '[3e38]'::vector + '[3e38]';
SELECT '[-3e38,1]'::vector - '[3e38,1]';
SELECT '[1e20]'::vector * '[1e20]';
SELECT '[1e-30]'::vector * '[1e-30]';
SELECT '[1,-1e-30]'::vector * '[1,1e-30]';
SELECT array_fill(0, ARRAY[16000])::vector || '[1]';

-- nearest neighbours: ORDER BY distance LIMIT, id breaks ties
CREATE TABLE op_items (id int PRIMARY KEY, embedding vector(2));
INSERT INTO op_items VALUES
  (1, '[0,0]'), (2, '[1,0]'), (3, '[0,1]'), (4, '[-1,0]'), (5, '[3,4]'),
  (6, '[1,1]'), (7, '[-2,-2]'), (8, '[0.5,0.5]'), (9, NULL), (10, '[2,0]');
SELECT id, embedding, round((embedding <-> '[1,0]')::numeric, 6) AS dist
FROM op_items ORDER BY embedding <-> '[1,0]', id LIMIT 5;
SELECT id, round((embedding <+> '[0,0]')::numeric, 6) AS dist
FROM op_items ORDER BY embedding <+> '[0,0]', id LIMIT 4;
SELECT id, embedding <#> '[1,1]' AS neg_ip
FROM op_items ORDER BY embedding <#> '[1,1]', id LIMIT 3;
SELECT id, round((embedding <=> '[1,1]')::numeric, 6) AS dist
FROM op_items WHERE embedding <> '[0,0]' ORDER BY embedding <=> '[1,1]', id LIMIT 4;
SELECT id FROM op_items ORDER BY embedding <-> '[0,0]' DESC NULLS LAST, id LIMIT 2;
DROP TABLE op_items;

-- cosine with one side fixed for the statement (its norm is computed once):
-- constant, parameter of a prepared statement run with different values,
-- and both sides varying must all agree with the definition
CREATE TABLE cos_t (id int, v vector(2), w vector(2));
INSERT INTO cos_t VALUES (1, '[1,0]', '[3,4]'), (2, '[0,2]', '[1,1]'), (3, '[1,1]', '[-2,0]');
SELECT id, round((v <=> '[3,4]')::numeric, 6) AS const_right, round(('[3,4]' <=> v)::numeric, 6) AS const_left,
       round((v <=> w)::numeric, 6) AS both_vary
FROM cos_t ORDER BY id;
PREPARE cos_q(vector) AS SELECT id, round((v <=> $1)::numeric, 6) FROM cos_t ORDER BY id;
EXECUTE cos_q('[1,0]');
EXECUTE cos_q('[0,5]');
DEALLOCATE cos_q;
DROP TABLE cos_t;
