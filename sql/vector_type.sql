-- vector_type: text input and output, type modifiers, limits, table columns

-- text I/O: plain, whitespace, signs, exponents, -0
SELECT '[1,2,3]'::vector;
SELECT ' [ 1 ,  2 ,3 ] '::vector;
SELECT E'\t[\n1,\r2\f,\x0B3]\n'::vector;
SELECT '[-1.5,+2,-3.25e2,4E-3]'::vector;
SELECT '[1.,.5,-.5]'::vector;
SELECT '[-0,0,-0.0]'::vector;

-- extremes of real: smallest denormal, largest finite, normal boundary
SELECT '[1e-45,-1e-45,1.4e-45]'::vector;
SELECT '[3.4e38,-3.4e38,3.4028235e38]'::vector;
SELECT '[1.1754944e-38,1e-40]'::vector;

-- output is the shortest text that reads back to the same real
SELECT '[0.1,0.2,0.3]'::vector;
SELECT '[1.0000001,1.00000001]'::vector;
SELECT '[1.23456789,123456789,16777217]'::vector;
SELECT '[100000,1000000,1e15,1e16,1e-4,1e-5]'::vector;

-- each element prints as real does, and the text reads back unchanged
SELECT x, ('[' || x || ']')::vector::text = '[' || x::real::text || ']' AS same_as_real
FROM unnest(ARRAY['0.1', '1.0000001', '-0', '1e-45', '3.4e38', '123456789', '1e-7', '0.333333333']) AS x;
SELECT v::text, v::text::vector::text = v::text AS round_trip
FROM (VALUES ('[0.1,-0,1e-45,3.4e38,1.0000001,-2.5e-10]'::vector)) AS t(v);

-- type modifier: accepted, rejected
SELECT '[1,2,3]'::vector(3);
SELECT '[1,2,3]'::vector(2);
SELECT '[1,2,3]'::vector(4);
SELECT '[1]'::vector(1);
SELECT '[1,2,3]'::vector(0);
SELECT '[1,2,3]'::vector(-1);
SELECT '[1,2,3]'::vector(16001);
SELECT '[1,2,3]'::vector(1, 2);
SELECT '[1,2,3]'::vector('a');
SELECT '[1,2]'::vector(3)::vector;
SELECT '[1,2]'::vector::vector(3);

-- 16000 dimensions is the limit, from text and from arrays
SELECT vector_dims(('[' || string_agg('1', ',') || ']')::vector) FROM generate_series(1, 16000);
SELECT vector_dims(('[' || string_agg('1', ',') || ']')::vector(16000)) FROM generate_series(1, 16000);
SELECT vector_dims(('[' || string_agg('1', ',') || ']')::vector) FROM generate_series(1, 16001);
SELECT vector_dims(array_fill(0.5::real, ARRAY[16000])::vector);
SELECT vector_dims(array_fill(0.5::real, ARRAY[16001])::vector);

-- arrays of vectors, with the element type modifier applied
SELECT unnest('{"[1,2,3]","[4,5,6]"}'::vector[]);
SELECT '{"[1,2,3]"}'::vector(3)[];
SELECT '{"[1,2,3]"}'::vector(2)[];

-- table columns with a type modifier
CREATE TABLE vt (id int, v vector(3), w vector);
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'vt'::regclass AND attnum > 0 ORDER BY attnum;
INSERT INTO vt VALUES (1, '[1,2,3]', '[1]'), (2, NULL, '[1,2,3,4,5]'), (3, '[-0,0.1,3.4e38]', NULL), (4, NULL, NULL);
INSERT INTO vt VALUES (5, '[1,2]', NULL);
INSERT INTO vt VALUES (5, '[1,2,3,4]', NULL);
UPDATE vt SET v = '[1,2]' WHERE id = 1;
SELECT id, v, w, vector_dims(v) AS dims_v, vector_dims(w) AS dims_w FROM vt ORDER BY id;
SELECT count(*) AS rows, count(v) AS v_not_null, count(w) AS w_not_null FROM vt;
SELECT id FROM vt WHERE v IS NULL ORDER BY id;
SELECT pg_typeof(v) FROM vt WHERE id = 1;
DROP TABLE vt;

-- a 16000-dimension value stored out of line, uncompressed (STORAGE external), and read back
CREATE TABLE vt_big (v vector(16000));
INSERT INTO vt_big SELECT array_fill(0.25::real, ARRAY[16000])::vector;
INSERT INTO vt_big SELECT ('[' || string_agg((i % 7)::text, ',') || ']')::vector FROM generate_series(1, 16000) AS i;
SELECT vector_dims(v), pg_column_size(v), length(v::text) FROM vt_big ORDER BY length(v::text);
SELECT v = array_fill(0.25::real, ARRAY[16000])::vector AS same FROM vt_big ORDER BY length(v::text);
DROP TABLE vt_big;
