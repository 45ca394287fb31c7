-- bad_input: text input boundaries, one per row, with SQLSTATE, message, detail and hint

CREATE FUNCTION try_vector(lit text, OUT result text, OUT code text, OUT message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
  result := lit::vector::text;
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                          detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END $$;

-- syntax: brackets, commas, separators, junk
SELECT lit, (try_vector(lit)).* FROM unnest(ARRAY[
  '', ' ', '[', ']', '[]', '[ ]', '[1', '1]', '1,2', '[1,]', '[,1]', '[,]', '[1,,2]', '[1, ,2]',
  '[1 2]', '[1]x', '[1]]', '[[1]]', '[a]', '[1,b]', '[1a]', '[1e]', '[--1]', '[1_000]', '(1,2)', '{1,2}'
]) WITH ORDINALITY AS t(lit, n) ORDER BY n;

-- special values and range: NaN, infinity, overflow, underflow to zero
SELECT lit, (try_vector(lit)).* FROM unnest(ARRAY[
  'nan', '[NaN]', '[nan,1]', '[-nan]', '[inf]', '[Infinity]', '[-Infinity]', '[1,INF]',
  '[1e39]', '[-1e39]', '[3.5e38]', '[1e-46]', '[-1e-46]', '[1,1e-50]'
]) WITH ORDINALITY AS t(lit, n) ORDER BY n;

-- accepted near the boundaries: whitespace, denormals, zero with any exponent, hex (strtof syntax)
SELECT replace(replace(replace(lit, E'\t', '\t'), E'\n', '\n'), E'\r', '\r') AS lit, (try_vector(lit)).* FROM unnest(ARRAY[
  ' [1,2]', E'[1,2]\n', E'\t[ 1 ,\t2 ]\r\n', '[1e-45]', '[-1e-45]', '[3.4028235e38]', '[0e-999]', '[1e-00001]',
  '[0x10]', '[-0x1p-3]', '[+1]', '[1.]', '[.5]'
]) WITH ORDINALITY AS t(lit, n) ORDER BY n;

-- 16000 dimensions is the limit: a syntax error early is reported as such, a long list as the limit
SELECT (try_vector('[' || string_agg('1', ',') || ']')).result IS NOT NULL AS ok FROM generate_series(1, 16000);
SELECT code, message, detail, hint FROM try_vector((SELECT '[' || string_agg('1', ',') || ']' FROM generate_series(1, 16001)));
SELECT code, detail FROM try_vector('[' || repeat(',', 20000) || ']');
SELECT code, detail FROM try_vector('[' || repeat('1,', 20000) || 'x]');
DROP FUNCTION try_vector(text);

-- the same errors as a client sees them
SELECT ''::vector;
SELECT '[1,2'::vector;
SELECT '[1,,2]'::vector;
SELECT '[1]x'::vector;
SELECT '[]'::vector;
SELECT '[NaN]'::vector;
SELECT '[-Infinity]'::vector;
SELECT '[1e39]'::vector;
SELECT '[1e-46]'::vector;
