-- rec_blend: vecrec.blend(vectors, weights), the composite query vector

-- unit parts [1,0] and [0,1] (from [0,2]), weights 1 and 1: [1,1] / sqrt(2)
SELECT vecrec.blend(ARRAY['[1,0]', '[0,2]']::vector[], ARRAY[1, 1]);
-- weights 3 and 1: [3,1] / sqrt(10) = [0.948683, 0.316228]
SELECT vecrec.blend(ARRAY['[5,0]', '[0,0.5]']::vector[], ARRAY[3, 1]);
-- a single part: its direction
SELECT vecrec.blend(ARRAY['[3,4]']::vector[], ARRAY[0.5]);

-- workflow 3: 70% product, 20% session, 10% profile; an anonymous user has
-- no profile, the part drops out and the rest is renormalised:
-- [0.7, 0.2] / sqrt(0.53) = [0.961524, 0.274721]
SELECT vecrec.blend(ARRAY['[2,0,0]', '[0,1,0]', NULL]::vector[], ARRAY[0.7, 0.2, 0.1]);
SELECT vecrec.blend(ARRAY['[2,0,0]', '[0,1,0]', NULL]::vector[], ARRAY[0.7, 0.2, 0.1]) =
       vecrec.blend(ARRAY['[2,0,0]', '[0,1,0]']::vector[], ARRAY[0.7, 0.2]) AS same_without_profile;
-- with the profile: [0.7, 0.2, 0.1] / sqrt(0.54) = [0.952579, 0.272166, 0.136083]
SELECT vecrec.blend(ARRAY['[2,0,0]', '[0,1,0]', '[0,0,9]']::vector[], ARRAY[0.7, 0.2, 0.1]);

-- negative weights ("less like this"): [1,0] - 0.5 * [1,1] / sqrt(2)
-- = [0.646447, -0.353553], norm 0.736813: [0.877356, -0.479844]
SELECT vecrec.blend(ARRAY['[1,0]', '[1,1]']::vector[], ARRAY[1, -0.5]);

-- the result has unit length
SELECT round(vector_norm(vecrec.blend(ARRAY['[1,2,3]', '[-4,5,6]', '[7,-8,9]']::vector[],
                                      ARRAY[0.2, 0.3, 0.5]))::numeric, 6) AS norm;

-- NULL results: every part NULL, no parts, a sum of zero length (parts
-- that cancel, or weights that are all zero), a NULL argument
SELECT vecrec.blend(ARRAY[NULL, NULL]::vector[], ARRAY[1, 1]) IS NULL AS all_null;
SELECT vecrec.blend('{}'::vector[], '{}'::float8[]) IS NULL AS empty;
SELECT vecrec.blend(ARRAY['[1,0]', '[2,0]']::vector[], ARRAY[1, -1]) IS NULL AS cancel;
SELECT vecrec.blend(ARRAY['[1,0]', '[0,1]']::vector[], ARRAY[0, 0]) IS NULL AS zero_weights;
SELECT vecrec.blend(NULL, ARRAY[1]) IS NULL AS null_vectors;
SELECT vecrec.blend(ARRAY['[1,0]']::vector[], NULL) IS NULL AS null_weights;

-- errors
SELECT vecrec.blend(ARRAY['[1,0]', '[0,1]']::vector[], ARRAY[1]);
SELECT vecrec.blend(ARRAY['[1,0]']::vector[], ARRAY[1, 1]);
SELECT vecrec.blend(ARRAY['[1,0]', '[0,1,0]']::vector[], ARRAY[1, 1]);
SELECT vecrec.blend(ARRAY['[1,0]', '[0,0]']::vector[], ARRAY[1, 1]);
SELECT vecrec.blend(ARRAY['[1,0]', '[0,1]']::vector[], ARRAY[1, 'NaN']::float8[]);
SELECT vecrec.blend(ARRAY['[1,0]', '[0,1]']::vector[], ARRAY[1, '-Infinity']::float8[]);
SELECT vecrec.blend(ARRAY['[1,0]', '[0,1]']::vector[], ARRAY[1, NULL]);
SELECT vecrec.blend(ARRAY[['[1,0]'], ['[0,1]']]::vector[], ARRAY[1, 1]);
SELECT vecrec.blend(ARRAY['[1,0]', '[0,1]']::vector[], ARRAY[[1], [1]]);
-- weights so large the sum overflows double precision
SELECT vecrec.blend(ARRAY['[1,0]', '[1,0]']::vector[], ARRAY[1e308, 1e308]);
