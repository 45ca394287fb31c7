-- kernels: the vecrec.kernel setting and agreement between kernel tables
-- (which kernels the CPU supports differs between machines, so it is never printed)

-- the setting exists once the library is loaded (here by the first vecrec call)
SELECT vecrec.version();

-- default: auto, which activates exactly one kernel, the last (fastest) supported one
SHOW vecrec.kernel;
SELECT count(*) AS active_kernels FROM vecrec.kernels() WHERE active;
SELECT name, supported FROM vecrec.kernels() WHERE name = 'scalar';
SELECT (SELECT name FROM vecrec.kernels() WHERE active) =
       (SELECT name FROM vecrec.kernels() WITH ORDINALITY AS k(name, supported, active, n)
        WHERE supported ORDER BY n DESC LIMIT 1) AS auto_is_fastest;

-- forcing a kernel; unknown names are refused with a hint
SET vecrec.kernel = 'scalar';
SHOW vecrec.kernel;
SELECT name FROM vecrec.kernels() WHERE active;
SET vecrec.kernel = 'nosuch';
SET vecrec.kernel = '';
SHOW vecrec.kernel;
SELECT count(*) AS active_kernels FROM vecrec.kernels() WHERE active;

-- kernels the CPU does not support are refused
DO $$
DECLARE
  k record;
  d text;
BEGIN
  FOR k IN SELECT name FROM vecrec.kernels() WHERE NOT supported LOOP
    BEGIN
      PERFORM set_config('vecrec.kernel', k.name, true);
      RAISE EXCEPTION 'unsupported kernel % was accepted', k.name;
    EXCEPTION WHEN invalid_parameter_value THEN
      GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
      IF d NOT LIKE '%does not support%' THEN
        RAISE EXCEPTION 'unexpected detail for kernel %: %', k.name, d;
      END IF;
    END;
  END LOOP;
END $$;

-- deterministic test vectors: dims 1..33, 100 and 1536; some zero vectors, some equal pairs
CREATE TABLE kt (id int PRIMARY KEY, a vector, b vector);
INSERT INTO kt
SELECT s.id, v.a, CASE WHEN s.id % 103 = 0 THEN v.a ELSE v.b END
FROM (SELECT id, (ARRAY(SELECT generate_series(1, 33)) || ARRAY[100, 1536])[(id - 1) % 35 + 1] AS d
      FROM generate_series(1, 1000) AS id) AS s,
     LATERAL (SELECT array_agg(CASE WHEN s.id % 101 = 0 THEN 0 ELSE round(sin(s.id * j)::numeric, 4) END ORDER BY j)::vector AS a,
                     array_agg(round((3 * cos(s.id * j + 0.5))::numeric, 4) ORDER BY j)::vector AS b
              FROM generate_series(1, s.d) AS j) AS v;
SELECT count(*), count(DISTINCT vector_dims(a)) AS dims, max(vector_dims(a)), sum(vector_dims(a)) FROM kt;

-- x and y agree within tol relative to scale (NaN only agrees with NaN)
CREATE FUNCTION kt_close(x float8, y float8, scale float8, tol float8) RETURNS bool
LANGUAGE sql IMMUTABLE AS 'SELECT x = y OR abs(x - y) <= tol * scale';

-- reference values computed in double precision by SQL
CREATE TABLE kt_exact AS
SELECT id, sqrt(sum((x - y) ^ 2)) AS l2, sum((x - y) ^ 2) AS l2sq, sum(x * y) AS ip, sum(abs(x - y)) AS l1,
       CASE WHEN sum(x * x) = 0 OR sum(y * y) = 0 THEN 'NaN'::float8
            ELSE 1 - greatest(-1, least(1, sum(x * y) / sqrt(sum(x * x) * sum(y * y)))) END AS cos
FROM (SELECT id, x::float8 AS x, y::float8 AS y FROM kt, unnest(a::real[], b::real[]) AS u(x, y)) AS e
GROUP BY id;

-- the scalar kernel against the double-precision reference
SET vecrec.kernel = 'scalar';
CREATE TABLE kt_scalar AS
SELECT id, a <-> b AS l2, vector_l2_squared_distance(a, b) AS l2sq, inner_product(a, b) AS ip,
       a <=> b AS cos, a <+> b AS l1, -(a <#> b) AS nip, vector_norm(a) * vector_norm(b) AS ipscale
FROM kt;
SELECT bool_and(kt_close(s.l2, e.l2, greatest(s.l2, e.l2), 1e-4)) AS l2,
       bool_and(kt_close(s.l2sq, e.l2sq, greatest(s.l2sq, e.l2sq), 1e-4)) AS l2sq,
       bool_and(kt_close(s.ip, e.ip, s.ipscale, 1e-4)) AS ip,
       bool_and(s.nip = s.ip) AS neg_ip,
       bool_and(kt_close(s.cos, e.cos, 1, 1e-4)) AS cos,
       bool_and(kt_close(s.l1, e.l1, greatest(s.l1, e.l1), 1e-4)) AS l1,
       count(*) FILTER (WHERE s.cos = 'NaN') AS nan_cos,
       count(*) FILTER (WHERE s.l2 = 0) AS zero_l2
FROM kt_scalar s JOIN kt_exact e USING (id);

-- auto against scalar: relative difference below 1e-5
SET vecrec.kernel = 'auto';
SELECT bool_and(kt_close(k.a <-> k.b, s.l2, s.l2, 1e-5)) AS l2,
       bool_and(kt_close(vector_l2_squared_distance(k.a, k.b), s.l2sq, s.l2sq, 1e-5)) AS l2sq,
       bool_and(kt_close(inner_product(k.a, k.b), s.ip, s.ipscale, 1e-5)) AS ip,
       bool_and(kt_close(-(k.a <#> k.b), s.ip, s.ipscale, 1e-5)) AS neg_ip,
       bool_and(kt_close(k.a <=> k.b, s.cos, 1, 1e-5)) AS cos,
       bool_and(kt_close(k.a <+> k.b, s.l1, s.l1, 1e-5)) AS l1
FROM kt k JOIN kt_scalar s USING (id);

-- every kernel this CPU supports agrees with scalar
DO $$
DECLARE
  k record;
  bad int;
BEGIN
  FOR k IN SELECT name FROM vecrec.kernels() WHERE supported ORDER BY name LOOP
    PERFORM set_config('vecrec.kernel', k.name, true);
    IF (SELECT array_agg(name) FROM vecrec.kernels() WHERE active) IS DISTINCT FROM ARRAY[k.name] THEN
      RAISE EXCEPTION 'kernel % is not the one active kernel', k.name;
    END IF;
    SELECT count(*) INTO bad
    FROM kt JOIN kt_scalar s USING (id)
    WHERE NOT (kt_close(kt.a <-> kt.b, s.l2, s.l2, 1e-5)
               AND kt_close(vector_l2_squared_distance(kt.a, kt.b), s.l2sq, s.l2sq, 1e-5)
               AND kt_close(inner_product(kt.a, kt.b), s.ip, s.ipscale, 1e-5)
               AND kt_close(-(kt.a <#> kt.b), s.ip, s.ipscale, 1e-5)
               AND kt_close(kt.a <=> kt.b, s.cos, 1, 1e-5)
               AND kt_close(kt.a <+> kt.b, s.l1, s.l1, 1e-5));
    IF bad > 0 THEN
      RAISE EXCEPTION 'kernel %: % rows differ from scalar', k.name, bad;
    END IF;
  END LOOP;
END $$;
SHOW vecrec.kernel;
SELECT count(*) AS active_kernels FROM vecrec.kernels() WHERE active;

-- small exact cases give the same answer on every kernel
DO $$
DECLARE
  k record;
BEGIN
  FOR k IN SELECT name FROM vecrec.kernels() WHERE supported LOOP
    PERFORM set_config('vecrec.kernel', k.name, true);
    IF ('[3,4]'::vector <-> '[0,0]') <> 5
       OR (array_fill(1, ARRAY[37])::vector <#> array_fill(2, ARRAY[37])::vector) <> -74
       OR (array_fill(1, ARRAY[37])::vector <+> array_fill(-1, ARRAY[37])::vector) <> 74
       OR (array_fill(0, ARRAY[37])::vector <=> array_fill(1, ARRAY[37])::vector) <> 'NaN'
       OR (array_fill(1, ARRAY[37])::vector <=> array_fill(-1, ARRAY[37])::vector) <> 2 THEN
      RAISE EXCEPTION 'kernel % got an exact case wrong', k.name;
    END IF;
  END LOOP;
END $$;

RESET vecrec.kernel;
DROP TABLE kt, kt_exact, kt_scalar;
DROP FUNCTION kt_close(float8, float8, float8, float8);

-- kernel names are case-insensitive
SET vecrec.kernel = 'SCALAR';
SELECT name FROM vecrec.kernels() WHERE active;
RESET vecrec.kernel;
