-- cast: arrays to vector and back

-- from integer[], real[], double precision[], numeric[]
SELECT ARRAY[1,2,3]::vector;
SELECT ARRAY[1.5,-2.25,3e-3]::real[]::vector;
SELECT ARRAY[1.5,-2.25,3e-3]::double precision[]::vector;
SELECT ARRAY[1.5,-2.25,0.003]::numeric[]::vector;
SELECT ARRAY[0.1]::double precision[]::vector, ARRAY[0.1]::numeric[]::vector, ARRAY[0.1]::real[]::vector;
SELECT '[0:2]={7,8,9}'::integer[]::vector;

-- integers and doubles are rounded to the nearest real
SELECT ARRAY[16777217, 2147483647, -2147483648]::vector;
SELECT '{1.00000001,1e-45,-0}'::double precision[]::vector;
SELECT ARRAY[1.00000001, 1e-45]::numeric[]::vector;

-- with a type modifier in the cast
SELECT ARRAY[1,2,3]::vector(3);
SELECT ARRAY[1,2]::vector(3);
SELECT ARRAY[1,2]::real[]::vector(3);
SELECT ARRAY[1,2]::double precision[]::vector(3);
SELECT ARRAY[1,2]::numeric[]::vector(3);
SELECT '[1,2,3]'::vector::vector(2);

-- to real[], and back
SELECT '[1,-2.5,3e-3]'::vector::real[];
SELECT '[-0,1e-45,3.4e38]'::vector::real[];
SELECT '[1,2,3]'::vector(3)::real[];
SELECT '[0.1,0.2]'::vector::real[]::vector;
SELECT unnest('[4,5,6]'::vector::real[]);

-- implicit cast vector -> real[]
CREATE FUNCTION cast_test_len(real[]) RETURNS int LANGUAGE sql AS 'SELECT array_length($1, 1)';
SELECT cast_test_len('[1,2,3]'::vector);
DROP FUNCTION cast_test_len(real[]);
CREATE TABLE cast_reals (a real[]);
INSERT INTO cast_reals VALUES ('[1.5,2.5]'::vector);
SELECT a FROM cast_reals;
DROP TABLE cast_reals;

-- assignment casts into a vector column; array -> vector is not implicit
CREATE TABLE cast_t (id int, v vector(3));
INSERT INTO cast_t VALUES (1, ARRAY[1,2,3]);
INSERT INTO cast_t VALUES (2, ARRAY[1.5,2,3]::real[]);
INSERT INTO cast_t VALUES (3, ARRAY[1,2.5,3]::double precision[]);
INSERT INTO cast_t VALUES (4, ARRAY[1,2,3.5]::numeric[]);
INSERT INTO cast_t VALUES (5, ARRAY[1,2]);
INSERT INTO cast_t VALUES (5, ARRAY[1,2,3,4]::real[]);
UPDATE cast_t SET v = ARRAY[7,8,9] WHERE id = 1;
SELECT * FROM cast_t ORDER BY id;
DROP TABLE cast_t;
SELECT '[1,2]'::vector <-> ARRAY[1,2];
SELECT ARRAY[1,2]::bigint[]::vector;

-- array shape errors: 2-D, NULL element, empty
SELECT ARRAY[[1,2],[3,4]]::vector;
SELECT ARRAY[[1.5,2],[3,4]]::real[]::vector;
SELECT ARRAY[1,NULL,3]::vector;
SELECT ARRAY[NULL]::double precision[]::vector;
SELECT '{}'::integer[]::vector;
SELECT '{}'::real[]::vector;
SELECT NULL::integer[]::vector;

-- too many elements
SELECT vector_dims(array_fill(1, ARRAY[16000])::vector);
SELECT array_fill(1, ARRAY[16001])::vector;

-- values outside real's range, NaN, infinity
SELECT ARRAY[1e39]::double precision[]::vector;
SELECT ARRAY[-1e39]::double precision[]::vector;
SELECT ARRAY[1e-50]::double precision[]::vector;
SELECT ARRAY['Infinity']::double precision[]::vector;
SELECT ARRAY['-Infinity']::real[]::vector;
SELECT ARRAY['NaN']::double precision[]::vector;
SELECT ARRAY['NaN']::real[]::vector;
SELECT ARRAY[1e39]::numeric[]::vector;
SELECT ARRAY[1e-50]::numeric[]::vector;
SELECT ARRAY['NaN']::numeric[]::vector;
SELECT ARRAY['Infinity']::numeric[]::vector;
