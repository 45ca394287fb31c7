-- functions: distances by name, dims, norm, normalization, subvector, version

-- distance functions with hand-computed values
SELECT l2_distance('[0,0]', '[3,4]');
SELECT round(l2_distance('[1,2,3]', '[4,6,8]')::numeric, 6);
SELECT vector_l2_squared_distance('[0,0]', '[3,4]');
SELECT vector_l2_squared_distance('[1,2,3]', '[4,6,8]');
SELECT inner_product('[1,2,3]', '[4,5,6]');
SELECT inner_product('[1,-1]', '[1,1]');
SELECT vector_negative_inner_product('[1,2,3]', '[4,5,6]');
SELECT l1_distance('[1,2,3]', '[4,0,-1]');
SELECT cosine_distance('[1,0]', '[0,1]');
SELECT round(cosine_distance('[1,1]', '[1,0]')::numeric, 6);
SELECT round(cosine_distance('[1,2]', '[-2,-4]')::numeric, 6);
SELECT cosine_distance('[0,0]', '[1,1]');

-- spherical distance: angle / pi between unit vectors, clamped outside [-1, 1]
SELECT vector_spherical_distance('[1,0]', '[1,0]');
SELECT vector_spherical_distance('[1,0]', '[0,1]');
SELECT vector_spherical_distance('[1,0]', '[-1,0]');
SELECT round(vector_spherical_distance('[1,0]', '[0.70710677,0.70710677]')::numeric, 6);
SELECT round(vector_spherical_distance('[0.6,0.8]', '[0.8,0.6]')::numeric, 6);
SELECT vector_spherical_distance('[2,0]', '[3,0]');
SELECT vector_spherical_distance('[2,0]', '[-3,0]');

-- the functions agree with the operators
SELECT l2_distance(a, b) = (a <-> b) AS l2, cosine_distance(a, b) = (a <=> b) AS cos,
       vector_negative_inner_product(a, b) = (a <#> b) AS neg_ip, inner_product(a, b) = -(a <#> b) AS ip,
       l1_distance(a, b) = (a <+> b) AS l1,
       round(vector_l2_squared_distance(a, b)::numeric, 4) = round(((a <-> b) ^ 2)::numeric, 4) AS l2sq
FROM (VALUES ('[1,2,3,4,5]'::vector, '[-1,0.5,2,8,0]'::vector)) AS t(a, b);

-- dimension mismatch and NULL arguments
SELECT l2_distance('[1,2]', '[1,2,3]');
SELECT cosine_distance('[1,2]', '[1,2,3]');
SELECT inner_product('[1,2]', '[1,2,3]');
SELECT l1_distance('[1,2]', '[1,2,3]');
SELECT vector_l2_squared_distance('[1,2]', '[1,2,3]');
SELECT vector_negative_inner_product('[1,2]', '[1,2,3]');
SELECT vector_spherical_distance('[1,2]', '[1,2,3]');
SELECT l2_distance(NULL, '[1]') IS NULL AS l2, vector_dims(NULL) IS NULL AS dims, l2_normalize(NULL) IS NULL AS norm;

-- vector_dims and vector_norm
SELECT vector_dims('[1,2,3]'), vector_dims('[0]');
SELECT vector_norm('[3,4]'), vector_norm('[0,0]'), vector_norm('[1,1,1,1]'), vector_norm('[-5]');
SELECT round((vector_norm('[3e38,3e38]') / 3e38)::numeric, 6);

-- l2_normalize: unit length; the zero vector stays zero
SELECT l2_normalize('[3,4]');
SELECT l2_normalize('[0,0,0]');
SELECT l2_normalize('[-5]');
SELECT l2_normalize('[1e-45]');
SELECT l2_normalize('[3e38,3e38]');
SELECT round(vector_norm(l2_normalize('[1,2,3,4,5,6,7]'))::numeric, 6);

-- subvector(v, start, count): 1-based, clipped to the vector
SELECT subvector('[1,2,3,4,5]', 1, 3);
SELECT subvector('[1,2,3,4,5]', 3, 2);
SELECT subvector('[1,2,3,4,5]', 5, 1);
SELECT subvector('[1,2,3,4,5]', 1, 5);
SELECT subvector('[1,2,3,4,5]', 4, 10);
SELECT subvector('[1,2,3,4,5]', 0, 3);
SELECT subvector('[1,2,3,4,5]', -2, 10);
SELECT subvector('[1,2,3,4,5]', 2, 2147483647);
SELECT subvector('[1,2,3,4,5]', -2147483648, 2147483647);
SELECT subvector('[1,2,3,4,5]', 6, 1);
SELECT subvector('[1,2,3,4,5]', 0, 1);
SELECT subvector('[1,2,3,4,5]', 2, 0);
SELECT subvector('[1,2,3,4,5]', 2, -1);
SELECT subvector('[1,2,3,4,5]', 2147483647, 2147483647);

-- version of the loaded library matches the installed extension
SELECT vecrec.version();
SELECT vecrec.version() = extversion AS matches FROM pg_extension WHERE extname = 'vecrec';
