-- vecrec 0.1.0 install script
--
-- The vector type, its operators, functions, casts and operator classes are
-- created in the extension's schema (public by default) under the names
-- pgvector uses, so applications and dumps written for pgvector work
-- unchanged.  Everything vecrec adds lives in schema vecrec.

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION vecrec" to load this file. \quit

CREATE SCHEMA vecrec;
COMMENT ON SCHEMA vecrec IS 'vecrec: recommendation functions, tables and tools';
GRANT USAGE ON SCHEMA vecrec TO PUBLIC;

-- the vector type

CREATE TYPE vector;

CREATE FUNCTION vector_in(cstring, oid, integer) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_out(vector) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_typmod_in(cstring[]) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_recv(internal, oid, integer) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_send(vector) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE vector (
	INPUT     = vector_in,
	OUTPUT    = vector_out,
	TYPMOD_IN = vector_typmod_in,
	RECEIVE   = vector_recv,
	SEND      = vector_send,
	STORAGE   = external
);

COMMENT ON TYPE vector IS 'single-precision vector of up to 16000 dimensions';
COMMENT ON FUNCTION vector_in(cstring, oid, integer) IS 'I/O';
COMMENT ON FUNCTION vector_out(vector) IS 'I/O';
COMMENT ON FUNCTION vector_typmod_in(cstring[]) IS 'I/O typmod';
COMMENT ON FUNCTION vector_recv(internal, oid, integer) IS 'I/O';
COMMENT ON FUNCTION vector_send(vector) IS 'I/O';

-- distances

CREATE FUNCTION l2_distance(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION inner_product(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cosine_distance(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION l1_distance(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_l2_squared_distance(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_negative_inner_product(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_spherical_distance(vector, vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION l2_distance(vector, vector) IS 'Euclidean distance';
COMMENT ON FUNCTION inner_product(vector, vector) IS 'inner product';
COMMENT ON FUNCTION cosine_distance(vector, vector) IS 'cosine distance, 1 - cosine similarity';
COMMENT ON FUNCTION l1_distance(vector, vector) IS 'Manhattan (L1) distance';
COMMENT ON FUNCTION vector_l2_squared_distance(vector, vector) IS 'squared Euclidean distance (index support)';
COMMENT ON FUNCTION vector_negative_inner_product(vector, vector) IS 'negative inner product';
COMMENT ON FUNCTION vector_spherical_distance(vector, vector) IS 'angle between unit vectors divided by pi (index support)';

-- other functions

CREATE FUNCTION vector_dims(vector) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_norm(vector) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION l2_normalize(vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION subvector(vector, integer, integer) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_add(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_sub(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_mul(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_concat(vector, vector) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION vector_dims(vector) IS 'number of dimensions';
COMMENT ON FUNCTION vector_norm(vector) IS 'Euclidean norm';
COMMENT ON FUNCTION l2_normalize(vector) IS 'scale to unit Euclidean norm (a zero vector stays zero)';
COMMENT ON FUNCTION subvector(vector, integer, integer) IS 'count elements from a 1-based start';
COMMENT ON FUNCTION vector_add(vector, vector) IS 'element-wise sum';
COMMENT ON FUNCTION vector_sub(vector, vector) IS 'element-wise difference';
COMMENT ON FUNCTION vector_mul(vector, vector) IS 'element-wise product';
COMMENT ON FUNCTION vector_concat(vector, vector) IS 'concatenation';

-- comparison and hashing

CREATE FUNCTION vector_lt(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_le(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_eq(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_ne(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_ge(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_gt(vector, vector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_cmp(vector, vector) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_hash(vector) RETURNS int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_hash_extended(vector, bigint) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION vector_lt(vector, vector) IS 'less than';
COMMENT ON FUNCTION vector_le(vector, vector) IS 'less than or equal';
COMMENT ON FUNCTION vector_eq(vector, vector) IS 'equal';
COMMENT ON FUNCTION vector_ne(vector, vector) IS 'not equal';
COMMENT ON FUNCTION vector_ge(vector, vector) IS 'greater than or equal';
COMMENT ON FUNCTION vector_gt(vector, vector) IS 'greater than';
COMMENT ON FUNCTION vector_cmp(vector, vector) IS 'btree support: element by element, then shorter first';
COMMENT ON FUNCTION vector_hash(vector) IS 'hash support';
COMMENT ON FUNCTION vector_hash_extended(vector, bigint) IS 'seeded 64-bit hash support';

-- aggregates: the state is {count, sum_1, ..., sum_n} in double precision

CREATE FUNCTION vector_accum(double precision[], vector) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_combine(double precision[], double precision[]) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_avg(double precision[]) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_sum(double precision[]) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION vector_accum(double precision[], vector) IS 'aggregate transition function';
COMMENT ON FUNCTION vector_combine(double precision[], double precision[]) IS 'aggregate combine function';
COMMENT ON FUNCTION vector_avg(double precision[]) IS 'avg(vector) final function';
COMMENT ON FUNCTION vector_sum(double precision[]) IS 'sum(vector) final function';

CREATE AGGREGATE avg(vector) (
	SFUNC = vector_accum,
	STYPE = double precision[],
	FINALFUNC = vector_avg,
	COMBINEFUNC = vector_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);

CREATE AGGREGATE sum(vector) (
	SFUNC = vector_accum,
	STYPE = double precision[],
	FINALFUNC = vector_sum,
	COMBINEFUNC = vector_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE avg(vector) IS 'element-wise mean of the non-null vectors';
COMMENT ON AGGREGATE sum(vector) IS 'element-wise sum of the non-null vectors';

-- casts

CREATE FUNCTION vector(vector, integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_vector(integer[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_vector(real[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_vector(double precision[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_vector(numeric[], integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_to_float4(vector, integer, boolean) RETURNS real[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION vector(vector, integer, boolean) IS 'check a vector against a typmod';
COMMENT ON FUNCTION array_to_vector(integer[], integer, boolean) IS 'cast integer[] to vector';
COMMENT ON FUNCTION array_to_vector(real[], integer, boolean) IS 'cast real[] to vector';
COMMENT ON FUNCTION array_to_vector(double precision[], integer, boolean) IS 'cast double precision[] to vector';
COMMENT ON FUNCTION array_to_vector(numeric[], integer, boolean) IS 'cast numeric[] to vector';
COMMENT ON FUNCTION vector_to_float4(vector, integer, boolean) IS 'cast vector to real[]';

CREATE CAST (vector AS vector)
	WITH FUNCTION vector(vector, integer, boolean) AS IMPLICIT;
CREATE CAST (vector AS real[])
	WITH FUNCTION vector_to_float4(vector, integer, boolean) AS IMPLICIT;
CREATE CAST (integer[] AS vector)
	WITH FUNCTION array_to_vector(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (real[] AS vector)
	WITH FUNCTION array_to_vector(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS vector)
	WITH FUNCTION array_to_vector(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS vector)
	WITH FUNCTION array_to_vector(numeric[], integer, boolean) AS ASSIGNMENT;

COMMENT ON CAST (vector AS vector) IS 'vector to vector(n): checks the dimension count';
COMMENT ON CAST (vector AS real[]) IS 'vector to real[] (implicit)';
COMMENT ON CAST (integer[] AS vector) IS 'integer[] to vector (assignment)';
COMMENT ON CAST (real[] AS vector) IS 'real[] to vector (assignment)';
COMMENT ON CAST (double precision[] AS vector) IS 'double precision[] to vector (assignment)';
COMMENT ON CAST (numeric[] AS vector) IS 'numeric[] to vector (assignment)';

-- operators

CREATE OPERATOR <-> (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = l2_distance,
	COMMUTATOR = '<->'
);
CREATE OPERATOR <#> (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_negative_inner_product,
	COMMUTATOR = '<#>'
);
CREATE OPERATOR <=> (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = cosine_distance,
	COMMUTATOR = '<=>'
);
CREATE OPERATOR <+> (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = l1_distance,
	COMMUTATOR = '<+>'
);
CREATE OPERATOR + (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_add,
	COMMUTATOR = +
);
CREATE OPERATOR - (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_sub
);
CREATE OPERATOR * (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_mul,
	COMMUTATOR = *
);
CREATE OPERATOR || (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_concat
);
CREATE OPERATOR < (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_lt,
	COMMUTATOR = > , NEGATOR = >= ,
	RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR <= (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_le,
	COMMUTATOR = >= , NEGATOR = > ,
	RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR = (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_eq,
	COMMUTATOR = = , NEGATOR = <> ,
	RESTRICT = eqsel, JOIN = eqjoinsel,
	HASHES, MERGES
);
CREATE OPERATOR <> (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_ne,
	COMMUTATOR = <> , NEGATOR = = ,
	RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR >= (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_ge,
	COMMUTATOR = <= , NEGATOR = < ,
	RESTRICT = scalargesel, JOIN = scalargejoinsel
);
CREATE OPERATOR > (
	LEFTARG = vector, RIGHTARG = vector, PROCEDURE = vector_gt,
	COMMUTATOR = < , NEGATOR = <= ,
	RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);

COMMENT ON OPERATOR <->(vector, vector) IS 'Euclidean (L2) distance';
COMMENT ON OPERATOR <#>(vector, vector) IS 'negative inner product';
COMMENT ON OPERATOR <=>(vector, vector) IS 'cosine distance';
COMMENT ON OPERATOR <+>(vector, vector) IS 'Manhattan (L1) distance';
COMMENT ON OPERATOR +(vector, vector) IS 'element-wise sum';
COMMENT ON OPERATOR -(vector, vector) IS 'element-wise difference';
COMMENT ON OPERATOR *(vector, vector) IS 'element-wise product';
COMMENT ON OPERATOR ||(vector, vector) IS 'concatenation';
COMMENT ON OPERATOR <(vector, vector) IS 'less than';
COMMENT ON OPERATOR <=(vector, vector) IS 'less than or equal';
COMMENT ON OPERATOR =(vector, vector) IS 'equal';
COMMENT ON OPERATOR <>(vector, vector) IS 'not equal';
COMMENT ON OPERATOR >=(vector, vector) IS 'greater than or equal';
COMMENT ON OPERATOR >(vector, vector) IS 'greater than';

-- btree and hash operator classes

CREATE OPERATOR CLASS vector_ops
	DEFAULT FOR TYPE vector USING btree AS
	OPERATOR 1 < ,
	OPERATOR 2 <= ,
	OPERATOR 3 = ,
	OPERATOR 4 >= ,
	OPERATOR 5 > ,
	FUNCTION 1 vector_cmp(vector, vector);

CREATE OPERATOR CLASS vector_ops
	DEFAULT FOR TYPE vector USING hash AS
	OPERATOR 1 = ,
	FUNCTION 1 vector_hash(vector),
	FUNCTION 2 vector_hash_extended(vector, bigint);

COMMENT ON OPERATOR CLASS vector_ops USING btree IS 'element-by-element order of vectors (ORDER BY, unique constraints, merge joins)';
COMMENT ON OPERATOR FAMILY vector_ops USING btree IS 'element-by-element order of vectors';
COMMENT ON OPERATOR CLASS vector_ops USING hash IS 'hashing of vectors (hash joins, hash aggregation, hash partitioning)';
COMMENT ON OPERATOR FAMILY vector_ops USING hash IS 'hashing of vectors';

-- vecrec's own tools

CREATE FUNCTION vecrec.version() RETURNS text
	AS 'MODULE_PATHNAME', 'vecrec_version' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vecrec.kernels(OUT name text, OUT supported boolean, OUT active boolean)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'vecrec_kernels' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION vecrec.version() IS 'version of the loaded vecrec library';
COMMENT ON FUNCTION vecrec.kernels() IS 'distance kernels compiled in: supported by this CPU, active now (GUC vecrec.kernel)';

-- hnsw access method

CREATE FUNCTION hnswhandler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER hnswhandler;

COMMENT ON ACCESS METHOD hnsw IS 'hnsw index access method: approximate nearest neighbours on a navigable small-world graph';
COMMENT ON FUNCTION hnswhandler(internal) IS 'hnsw index access method handler';

CREATE OPERATOR CLASS vector_l2_ops
	DEFAULT FOR TYPE vector USING hnsw AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_l2_squared_distance(vector, vector);

CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_negative_inner_product(vector, vector);

CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_negative_inner_product(vector, vector),
	FUNCTION 2 vector_norm(vector);

CREATE OPERATOR CLASS vector_l1_ops
	FOR TYPE vector USING hnsw AS
	OPERATOR 1 <+> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 l1_distance(vector, vector);

COMMENT ON OPERATOR CLASS vector_l2_ops USING hnsw IS 'hnsw by Euclidean distance (<->)';
COMMENT ON OPERATOR FAMILY vector_l2_ops USING hnsw IS 'hnsw by Euclidean distance (<->)';
COMMENT ON OPERATOR CLASS vector_ip_ops USING hnsw IS 'hnsw by negative inner product (<#>)';
COMMENT ON OPERATOR FAMILY vector_ip_ops USING hnsw IS 'hnsw by negative inner product (<#>)';
COMMENT ON OPERATOR CLASS vector_cosine_ops USING hnsw IS 'hnsw by cosine distance (<=>); vectors normalised, zero vectors not indexed';
COMMENT ON OPERATOR FAMILY vector_cosine_ops USING hnsw IS 'hnsw by cosine distance (<=>)';
COMMENT ON OPERATOR CLASS vector_l1_ops USING hnsw IS 'hnsw by Manhattan distance (<+>)';
COMMENT ON OPERATOR FAMILY vector_l1_ops USING hnsw IS 'hnsw by Manhattan distance (<+>)';

-- Filter key columns of hnsw indexes: USING hnsw (embedding vector_cosine_ops, category)
-- keeps one partition of exact entries per key (src/hnsw/hnswpart.c).  Strategy 1 is the
-- type's equality, support function 3 its extended hash (that of its hash operator class).
-- int2, int4 and int8 share a family, with the cross-type equalities, as their hashes
-- agree on equal values (so that int8_column = 5 finds the partition too).
CREATE OPERATOR FAMILY vecrec.integer_hnsw_key_ops USING hnsw;
COMMENT ON OPERATOR FAMILY vecrec.integer_hnsw_key_ops USING hnsw IS 'hnsw filter key columns of integer types';

CREATE OPERATOR CLASS vecrec.int2_hnsw_key_ops
	DEFAULT FOR TYPE int2 USING hnsw FAMILY vecrec.integer_hnsw_key_ops AS
	OPERATOR 1 = (int2, int2),
	FUNCTION 3 hashint2extended(int2, int8);
COMMENT ON OPERATOR CLASS vecrec.int2_hnsw_key_ops USING hnsw IS 'hnsw filter key column of type int2: a partition per value, read in exact distance order for WHERE column = value';

CREATE OPERATOR CLASS vecrec.int4_hnsw_key_ops
	DEFAULT FOR TYPE int4 USING hnsw FAMILY vecrec.integer_hnsw_key_ops AS
	OPERATOR 1 = (int4, int4),
	FUNCTION 3 hashint4extended(int4, int8);
COMMENT ON OPERATOR CLASS vecrec.int4_hnsw_key_ops USING hnsw IS 'hnsw filter key column of type int4: a partition per value, read in exact distance order for WHERE column = value';

CREATE OPERATOR CLASS vecrec.int8_hnsw_key_ops
	DEFAULT FOR TYPE int8 USING hnsw FAMILY vecrec.integer_hnsw_key_ops AS
	OPERATOR 1 = (int8, int8),
	FUNCTION 3 hashint8extended(int8, int8);
COMMENT ON OPERATOR CLASS vecrec.int8_hnsw_key_ops USING hnsw IS 'hnsw filter key column of type int8: a partition per value, read in exact distance order for WHERE column = value';

CREATE OPERATOR CLASS vecrec.bool_hnsw_key_ops
	DEFAULT FOR TYPE bool USING hnsw AS
	OPERATOR 1 = (bool, bool),
	FUNCTION 3 (bool, bool) hashcharextended("char", int8);
COMMENT ON OPERATOR CLASS vecrec.bool_hnsw_key_ops USING hnsw IS 'hnsw filter key column of type bool: a partition per value, read in exact distance order for WHERE column = value';
COMMENT ON OPERATOR FAMILY vecrec.bool_hnsw_key_ops USING hnsw IS 'hnsw filter key columns of type bool';

CREATE OPERATOR CLASS vecrec.text_hnsw_key_ops
	DEFAULT FOR TYPE text USING hnsw AS
	OPERATOR 1 = (text, text),
	FUNCTION 3 hashtextextended(text, int8);
COMMENT ON OPERATOR CLASS vecrec.text_hnsw_key_ops USING hnsw IS 'hnsw filter key column of type text: a partition per value, read in exact distance order for WHERE column = value';
COMMENT ON OPERATOR FAMILY vecrec.text_hnsw_key_ops USING hnsw IS 'hnsw filter key columns of type text';

CREATE OPERATOR CLASS vecrec.uuid_hnsw_key_ops
	DEFAULT FOR TYPE uuid USING hnsw AS
	OPERATOR 1 = (uuid, uuid),
	FUNCTION 3 uuid_hash_extended(uuid, int8);
COMMENT ON OPERATOR CLASS vecrec.uuid_hnsw_key_ops USING hnsw IS 'hnsw filter key column of type uuid: a partition per value, read in exact distance order for WHERE column = value';
COMMENT ON OPERATOR FAMILY vecrec.uuid_hnsw_key_ops USING hnsw IS 'hnsw filter key columns of type uuid';

ALTER OPERATOR FAMILY vecrec.integer_hnsw_key_ops USING hnsw ADD
	OPERATOR 1 = (int2, int4),
	OPERATOR 1 = (int2, int8),
	OPERATOR 1 = (int4, int2),
	OPERATOR 1 = (int4, int8),
	OPERATOR 1 = (int8, int2),
	OPERATOR 1 = (int8, int4);

-- ivfflat access method

CREATE FUNCTION ivfflathandler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER ivfflathandler;

COMMENT ON ACCESS METHOD ivfflat IS 'ivfflat index access method: approximate nearest neighbours in inverted lists around k-means centroids';
COMMENT ON FUNCTION ivfflathandler(internal) IS 'ivfflat index access method handler';

CREATE OPERATOR CLASS vector_l2_ops
	DEFAULT FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_l2_squared_distance(vector, vector);

CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_negative_inner_product(vector, vector);

CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_negative_inner_product(vector, vector),
	FUNCTION 2 vector_norm(vector);

COMMENT ON OPERATOR CLASS vector_l2_ops USING ivfflat IS 'ivfflat by Euclidean distance (<->)';
COMMENT ON OPERATOR FAMILY vector_l2_ops USING ivfflat IS 'ivfflat by Euclidean distance (<->)';
COMMENT ON OPERATOR CLASS vector_ip_ops USING ivfflat IS 'ivfflat by negative inner product (<#>); lists trained by Euclidean distance';
COMMENT ON OPERATOR FAMILY vector_ip_ops USING ivfflat IS 'ivfflat by negative inner product (<#>)';
COMMENT ON OPERATOR CLASS vector_cosine_ops USING ivfflat IS 'ivfflat by cosine distance (<=>); spherical k-means, zero vectors not indexed';
COMMENT ON OPERATOR FAMILY vector_cosine_ops USING ivfflat IS 'ivfflat by cosine distance (<=>)';

-- index verification

CREATE FUNCTION vecrec.verify_index(index regclass, strict boolean DEFAULT false,
									 heapallindexed boolean DEFAULT false)
	RETURNS TABLE ("check" text, ok boolean, detail text)
	AS 'MODULE_PATHNAME', 'vecrec_verify_index' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION vecrec.verify_index(regclass, boolean, boolean) IS 'structural checks of an hnsw or ivfflat index, one row per check; strict raises the first problem as an error; heapallindexed checks that every live table row is in the index';

-- ===========================================================================
-- recommendation primitives (src/rec/): session and profile vectors,
-- event weights, blending, MMR re-ranking, intra-list diversity
-- ===========================================================================

-- weighted aggregates: the state is {count, ref, sum_w, sum_1, ..., sum_n} in
-- double precision (see src/rec/session.c)

CREATE FUNCTION vecrec.weighted_avg_accum(double precision[], vector, double precision)
	RETURNS double precision[]
	AS 'MODULE_PATHNAME', 'rec_weighted_avg_accum' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vecrec.session_vector_accum(double precision[], vector, double precision,
		timestamptz, interval, timestamptz)
	RETURNS double precision[]
	AS 'MODULE_PATHNAME', 'rec_session_accum' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vecrec.session_vector_accum(double precision[], vector, double precision,
		timestamptz, interval)
	RETURNS double precision[]
	AS 'MODULE_PATHNAME', 'rec_session_accum_now' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vecrec.weighted_combine(double precision[], double precision[])
	RETURNS double precision[]
	AS 'MODULE_PATHNAME', 'rec_weighted_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vecrec.weighted_avg_final(double precision[]) RETURNS vector
	AS 'MODULE_PATHNAME', 'rec_weighted_avg_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vecrec.session_vector_final(double precision[]) RETURNS vector
	AS 'MODULE_PATHNAME', 'rec_session_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION vecrec.weighted_avg_accum(double precision[], vector, double precision)
	IS 'vecrec.weighted_avg transition function';
COMMENT ON FUNCTION vecrec.session_vector_accum(double precision[], vector, double precision, timestamptz, interval, timestamptz)
	IS 'vecrec.session_vector transition function (ages up to as_of)';
COMMENT ON FUNCTION vecrec.session_vector_accum(double precision[], vector, double precision, timestamptz, interval)
	IS 'vecrec.session_vector transition function (ages up to now())';
COMMENT ON FUNCTION vecrec.weighted_combine(double precision[], double precision[])
	IS 'vecrec.weighted_avg and vecrec.session_vector combine function';
COMMENT ON FUNCTION vecrec.weighted_avg_final(double precision[])
	IS 'vecrec.weighted_avg final function';
COMMENT ON FUNCTION vecrec.session_vector_final(double precision[])
	IS 'vecrec.session_vector final function';

CREATE AGGREGATE vecrec.weighted_avg(v vector, w double precision) (
	SFUNC = vecrec.weighted_avg_accum,
	STYPE = double precision[],
	FINALFUNC = vecrec.weighted_avg_final,
	COMBINEFUNC = vecrec.weighted_combine,
	INITCOND = '{0,0,0}',
	PARALLEL = SAFE
);

CREATE AGGREGATE vecrec.session_vector(v vector, weight double precision, at timestamptz,
		half_life interval) (
	SFUNC = vecrec.session_vector_accum,
	STYPE = double precision[],
	FINALFUNC = vecrec.session_vector_final,
	COMBINEFUNC = vecrec.weighted_combine,
	INITCOND = '{0,0,0}',
	PARALLEL = SAFE
);

CREATE AGGREGATE vecrec.session_vector(v vector, weight double precision, at timestamptz,
		half_life interval, as_of timestamptz) (
	SFUNC = vecrec.session_vector_accum,
	STYPE = double precision[],
	FINALFUNC = vecrec.session_vector_final,
	COMBINEFUNC = vecrec.weighted_combine,
	INITCOND = '{0,0,0}',
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE vecrec.weighted_avg(vector, double precision)
	IS 'sum(w * v) / sum(w) over the non-null rows; NULL for none or all weights zero';
COMMENT ON AGGREGATE vecrec.session_vector(vector, double precision, timestamptz, interval)
	IS 'unit-length sum of weight * 0.5 ^ ((now() - at) / half_life) * v';
COMMENT ON AGGREGATE vecrec.session_vector(vector, double precision, timestamptz, interval, timestamptz)
	IS 'unit-length sum of weight * 0.5 ^ ((as_of - at) / half_life) * v';

-- event weights: shipped rows have builtin = true; a row a user inserts or
-- updates becomes builtin = false, and only those are dumped by pg_dump (the
-- shipped ones come back with CREATE EXTENSION, and an inserted row replaces
-- a shipped row of the same event, so a restore reproduces the edits)

CREATE TABLE vecrec.event_weights (
	event text PRIMARY KEY,
	weight double precision NOT NULL CHECK (weight >= 0 AND weight < 'Infinity'),
	builtin boolean NOT NULL DEFAULT false
);

INSERT INTO vecrec.event_weights (event, weight, builtin) VALUES
	('view', 1, true),
	('click', 2, true),
	('wishlist', 3, true),
	('add_to_cart', 4, true),
	('review', 5, true),
	('purchase', 8, true);

CREATE FUNCTION vecrec.event_weights_edit() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
	IF TG_OP = 'INSERT' THEN
		DELETE FROM vecrec.event_weights w WHERE w.event = NEW.event AND w.builtin;
	END IF;
	NEW.builtin := false;
	RETURN NEW;
END
$$;

CREATE TRIGGER event_weights_edit BEFORE INSERT OR UPDATE ON vecrec.event_weights
	FOR EACH ROW EXECUTE FUNCTION vecrec.event_weights_edit();

SELECT pg_catalog.pg_extension_config_dump('vecrec.event_weights', 'WHERE NOT builtin');
-- log_event(), event_weight() and refresh_profiles() read it as their caller
GRANT SELECT ON vecrec.event_weights TO PUBLIC;

CREATE FUNCTION vecrec.event_weight(event text) RETURNS double precision
	AS 'MODULE_PATHNAME', 'rec_event_weight' LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON TABLE vecrec.event_weights IS 'weight of each event type for vecrec.session_vector; editable';
COMMENT ON FUNCTION vecrec.event_weights_edit() IS 'marks edited rows of vecrec.event_weights as user rows (dumped by pg_dump)';
COMMENT ON FUNCTION vecrec.event_weight(text) IS 'weight of an event type from vecrec.event_weights; an error for an unknown event';

-- blending, re-ranking, diversity

CREATE FUNCTION vecrec.blend(vectors vector[], weights double precision[]) RETURNS vector
	AS 'MODULE_PATHNAME', 'rec_blend' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION vecrec.mmr(query vector, ids bigint[], embeddings vector[], k integer,
		lambda double precision DEFAULT 0.7)
	RETURNS TABLE (id bigint, rank integer, relevance double precision, score double precision)
	AS 'MODULE_PATHNAME', 'rec_mmr' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12;

CREATE FUNCTION vecrec.diversity(vectors vector[]) RETURNS double precision
	AS 'MODULE_PATHNAME', 'rec_diversity' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION vecrec.blend(vector[], double precision[])
	IS 'unit-length weighted sum of the unit-length non-null vectors; NULL if all are null or the sum is zero';
COMMENT ON FUNCTION vecrec.mmr(vector, bigint[], vector[], integer, double precision)
	IS 'maximal marginal relevance re-ranking (cosine similarity): min(k, n) rows, ties to the lower id';
COMMENT ON FUNCTION vecrec.diversity(vector[])
	IS 'mean pairwise cosine distance of the non-null vectors; NULL for fewer than two';

-- catalog registration: vecrec.track / vecrec.untrack
--
-- A catalog is an ordinary table of products with an integer or bigint id
-- column and a vector embedding column.  vecrec.catalogs remembers which
-- tables are registered; recommend() and the freshness triggers read it.

CREATE TABLE vecrec.catalogs (
	catalog          regclass PRIMARY KEY,
	id_column        name NOT NULL,
	embedding_column name NOT NULL,
	source_columns   name[],
	embedder         regproc,
	tracked_at       timestamptz NOT NULL DEFAULT now(),
	tracked_by       name NOT NULL DEFAULT current_user
);
COMMENT ON TABLE vecrec.catalogs IS 'catalog tables registered with vecrec.track()';
SELECT pg_catalog.pg_extension_config_dump('vecrec.catalogs', '');
-- Anyone may read the registrations; a table's owners may register it.
GRANT SELECT, INSERT, UPDATE, DELETE ON vecrec.catalogs TO PUBLIC;
ALTER TABLE vecrec.catalogs ENABLE ROW LEVEL SECURITY;
CREATE POLICY catalogs_read ON vecrec.catalogs FOR SELECT USING (true);
CREATE POLICY catalogs_owner ON vecrec.catalogs FOR ALL
	USING (pg_catalog.pg_has_role((SELECT relowner FROM pg_catalog.pg_class WHERE oid = catalog), 'USAGE'))
	WITH CHECK (pg_catalog.pg_has_role((SELECT relowner FROM pg_catalog.pg_class WHERE oid = catalog), 'USAGE'));

-- type of a live column of a table, or an error naming table and column
CREATE FUNCTION vecrec._column_type(tbl regclass, col name, what text) RETURNS regtype
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	t regtype;
BEGIN
	IF col IS NULL THEN
		RAISE EXCEPTION '% column must not be NULL', what
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT a.atttypid::regtype INTO t
	  FROM pg_attribute a
	 WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'column "%" of relation % does not exist', col, tbl
			USING ERRCODE = 'undefined_column',
			      HINT = format('The %s column must be a column of the catalog table.', what);
	END IF;
	RETURN t;
END
$$;
COMMENT ON FUNCTION vecrec._column_type(regclass, name, text) IS 'internal: type of a live column of a table (used by vecrec.track)';

CREATE FUNCTION vecrec.track(catalog regclass,
							 source_columns name[] DEFAULT NULL,
							 embedding_column name DEFAULT 'embedding',
							 id_column name DEFAULT 'id',
							 embedder regproc DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	kind "char";
	t regtype;
	c name;
	fn record;
BEGIN
	IF catalog IS NULL THEN
		RAISE EXCEPTION 'catalog must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT relkind INTO kind FROM pg_class WHERE oid = catalog;
	IF kind IS NULL OR kind NOT IN ('r', 'p') THEN
		RAISE EXCEPTION '% is not a table', catalog
			USING ERRCODE = 'wrong_object_type',
			      HINT = 'Only ordinary and partitioned tables can be tracked.';
	END IF;
	IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = catalog), 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of table %', catalog
			USING ERRCODE = 'insufficient_privilege';
	END IF;

	t := vecrec._column_type(catalog, id_column, 'id');
	IF t NOT IN ('integer'::regtype, 'bigint'::regtype) THEN
		RAISE EXCEPTION 'id column "%" of % has type %', id_column, catalog, t
			USING ERRCODE = 'datatype_mismatch',
			      HINT = 'The id column must be integer or bigint.';
	END IF;
	t := vecrec._column_type(catalog, embedding_column, 'embedding');
	IF t <> '@extschema@.vector'::regtype THEN
		RAISE EXCEPTION 'embedding column "%" of % has type %', embedding_column, catalog, t
			USING ERRCODE = 'datatype_mismatch',
			      HINT = 'The embedding column must be of type vector.';
	END IF;
	IF source_columns IS NOT NULL THEN
		IF cardinality(source_columns) = 0 THEN
			RAISE EXCEPTION 'source_columns must not be empty'
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'Pass NULL to track a catalog without source columns.';
		END IF;
		FOREACH c IN ARRAY source_columns LOOP
			PERFORM vecrec._column_type(catalog, c, 'source');
			IF c = embedding_column THEN
				RAISE EXCEPTION 'source column "%" is the embedding column', c
					USING ERRCODE = 'invalid_parameter_value';
			END IF;
		END LOOP;
	END IF;
	IF embedder IS NOT NULL THEN
		SELECT p.pronargs, p.proargtypes, p.prorettype::regtype AS rettype, p.proretset, p.prokind
		  INTO fn FROM pg_proc p WHERE p.oid = embedder;
		IF fn.prokind <> 'f' OR fn.proretset OR fn.pronargs <> 1
		   OR fn.proargtypes[0] <> 'text'::regtype
		   OR fn.rettype <> '@extschema@.vector'::regtype THEN
			RAISE EXCEPTION 'embedder % must be a function taking text and returning vector', embedder
				USING ERRCODE = 'wrong_object_type',
				      HINT = 'For example vecrec.embed_text(text).';
		END IF;
		IF source_columns IS NULL THEN
			RAISE EXCEPTION 'an embedder needs source columns'
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'Pass the columns whose text the embedder reads in source_columns.';
		END IF;
	END IF;

	INSERT INTO vecrec.catalogs AS c (catalog, id_column, embedding_column, source_columns, embedder)
	VALUES (catalog, id_column, embedding_column, source_columns, embedder)
	ON CONFLICT ON CONSTRAINT catalogs_pkey DO UPDATE
	   SET id_column = EXCLUDED.id_column,
	       embedding_column = EXCLUDED.embedding_column,
	       source_columns = EXCLUDED.source_columns,
	       embedder = EXCLUDED.embedder,
	       tracked_at = now(),
	       tracked_by = current_user;
	-- freshness triggers (section "catalog freshness" below); replaced on re-track
	PERFORM vecrec._install_fresh_triggers(catalog, source_columns, embedding_column,
										   id_column, embedder);
END
$$;
COMMENT ON FUNCTION vecrec.track(regclass, name[], name, name, regproc) IS
	'register a catalog table (id and embedding columns, optional source columns and embedder); with source columns, install the freshness triggers';

CREATE FUNCTION vecrec.untrack(catalog regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM FROM vecrec.catalogs c WHERE c.catalog = untrack.catalog;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'table % is not tracked', catalog
			USING ERRCODE = 'undefined_object',
			      HINT = 'SELECT catalog FROM vecrec.catalogs lists the tracked tables.';
	END IF;
	DELETE FROM vecrec.catalogs c WHERE c.catalog = untrack.catalog;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'must be owner of table %', catalog
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	-- freshness triggers, pending jobs and backfill progress go with it
	PERFORM vecrec._drop_fresh_triggers(catalog);
	DELETE FROM vecrec.embedding_queue q WHERE q.catalog = untrack.catalog;
	DELETE FROM vecrec.reembed_progress p WHERE p.catalog = untrack.catalog;
END
$$;
COMMENT ON FUNCTION vecrec.untrack(regclass) IS 'remove a catalog registration, its freshness triggers and its pending embedding jobs';

-- ===========================================================================
-- recommendations: vecrec.recommend(), the rule overlay, feedback and metrics
-- ===========================================================================
--
-- recommend() fetches the nearest rows of a tracked catalog through its
-- index (iterative scans, so a selective filter still yields enough rows),
-- applies the surface's live merchandising rules from vecrec.rules
-- (block, boost, cap, pin), diversifies with vecrec.mmr() and logs one
-- impression per returned row.  Rule matches are jsonb, compiled once, when
-- a rule is written, by vecrec.compile_match() into SQL made only of quoted
-- identifiers, schema-qualified operators and typed, quoted literals.  The
-- application's filter is SQL by design; it runs with the caller's rights
-- and vecrec._check_filter() keeps it inside its parentheses.

CREATE FUNCTION vecrec._check_filter(filter text) RETURNS void
	AS 'MODULE_PATHNAME', 'vecrec_check_filter' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecrec._check_filter(text) IS
	'error unless the text is one self-contained SQL expression (no ;, balanced parentheses, terminated literals)';
CREATE FUNCTION vecrec._set_request_id(uuid) RETURNS void
	AS 'MODULE_PATHNAME', 'vecrec_set_request_id' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION vecrec._set_request_id(uuid) IS 'internal: remember the request id of this session''s last recommend() call';
CREATE FUNCTION vecrec.last_request_id() RETURNS uuid
	AS 'MODULE_PATHNAME', 'vecrec_last_request_id' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION vecrec.last_request_id() IS
	'request id of this session''s last recommend() call (pass it to vecrec.log_event), NULL before the first';

-- the role of people who manage rules (cluster-wide, so created only once)
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'vecrec_merchandiser') THEN
		CREATE ROLE vecrec_merchandiser NOLOGIN;
	END IF;
END
$$;

-- match compiler ------------------------------------------------------------

-- qualified operator "op" between two values of type typ, or an error
CREATE FUNCTION vecrec._match_operator(col name, typ oid, op text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	opref text;
	rt regtype;
BEGIN
	-- op comes from a fixed list (the caller checked it), so %s is safe here
	SELECT format('OPERATOR(%I.%s)', n.nspname, o.oprname) INTO opref
	  FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
	 WHERE o.oprname = op AND o.oprleft = typ AND o.oprright = typ
	 ORDER BY n.nspname = 'pg_catalog' DESC, n.nspname LIMIT 1;
	opref := coalesce(opref, format('OPERATOR(pg_catalog.%s)', op));
	BEGIN
		EXECUTE format('SELECT pg_catalog.pg_typeof(NULL::%1$s %2$s NULL::%1$s)', format_type(typ, NULL), opref)
		   INTO rt;
	EXCEPTION WHEN undefined_function THEN
		rt := NULL;
	END;
	IF rt IS DISTINCT FROM 'boolean'::regtype THEN
		RAISE EXCEPTION 'operator % is not available for column "%" of type %', op, col, format_type(typ, NULL)
			USING ERRCODE = 'undefined_function',
			      HINT = 'Use an operator the column''s type supports: =, <> and "in" need equality, <, <=, >, >= need an ordering.';
	END IF;
	RETURN opref;
END
$$;

-- a JSON scalar as a typed, quoted SQL literal of type typ, or an error
CREATE FUNCTION vecrec._match_literal(col name, typ oid, val jsonb) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s text;
	lit text;
BEGIN
	IF jsonb_typeof(val) NOT IN ('string', 'number', 'boolean') THEN
		RAISE EXCEPTION 'match value for column "%" must be a string, number or boolean, not %', col, jsonb_typeof(val)
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Write {"column": value}, {"column": {"<": value}} or {"column": {"in": [value, ...]}}.';
	END IF;
	s := val #>> '{}';
	lit := format('%L::%s', s, format_type(typ, NULL));
	BEGIN
		EXECUTE 'SELECT ' || lit;
	EXCEPTION WHEN data_exception OR invalid_parameter_value THEN
		RAISE EXCEPTION 'match value % for column "%" is not a valid %', val, col, format_type(typ, NULL)
			USING ERRCODE = 'invalid_text_representation',
			      DETAIL = SQLERRM,
			      HINT = 'Match values must cast to the type of their column.';
	END;
	RETURN lit;
END
$$;

-- the parsing and the SQL it builds are C (src/rec/matchc.c, libc only and
-- fuzzed outside the server by test/fuzz/fuzz_match.c); the type's operator
-- and the test-cast of each value are the two helpers above, called
-- through SPI by src/rec/compilematch.c
CREATE FUNCTION vecrec.compile_match(catalog regclass, match jsonb) RETURNS text
	AS 'MODULE_PATHNAME', 'vecrec_compile_match'
	LANGUAGE C STABLE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION vecrec.compile_match(regclass, jsonb) IS
	'the SQL condition (over alias t) a rule''s match compiles to; errors on unknown columns, operators or values that do not cast';

-- rules ---------------------------------------------------------------------

CREATE TABLE vecrec.rules (
	id         bigserial PRIMARY KEY,
	catalog    regclass NOT NULL REFERENCES vecrec.catalogs (catalog) ON DELETE CASCADE,
	surface    text,
	action     text NOT NULL CHECK (action IN ('pin', 'boost', 'block', 'cap')),
	item_id    bigint,
	match      jsonb,
	value      float8,
	group_by   name,
	starts_at  timestamptz,
	ends_at    timestamptz,
	enabled    boolean NOT NULL DEFAULT true,
	note       text,
	created_by name NOT NULL DEFAULT current_user,
	created_at timestamptz NOT NULL DEFAULT now(),
	match_sql  text,
	CONSTRAINT rules_window CHECK (starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at)
);
CREATE INDEX rules_catalog_idx ON vecrec.rules (catalog);
COMMENT ON TABLE vecrec.rules IS 'merchandising rules applied by vecrec.recommend(): pin, boost, block, cap';
COMMENT ON COLUMN vecrec.rules.match_sql IS 'match compiled by vecrec.compile_match(); set by a trigger on every write';
SELECT pg_catalog.pg_extension_config_dump('vecrec.rules', '');
SELECT pg_catalog.pg_extension_config_dump('vecrec.rules_id_seq', '');
GRANT SELECT ON vecrec.rules TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON vecrec.rules TO vecrec_merchandiser;
GRANT USAGE, SELECT ON SEQUENCE vecrec.rules_id_seq TO vecrec_merchandiser;

-- validate a rule per action and compile its match
CREATE FUNCTION vecrec._rules_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM FROM vecrec.catalogs c WHERE c.catalog = NEW.catalog;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'table % is not tracked', NEW.catalog
			USING ERRCODE = 'undefined_object',
			      HINT = 'Register the catalog with vecrec.track() before adding rules for it.';
	END IF;
	IF NEW.value IS NOT NULL AND (NEW.value = 'NaN'::float8 OR NEW.value IN ('Infinity'::float8, '-Infinity'::float8)) THEN
		RAISE EXCEPTION 'rule value must be a finite number'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NEW.action IS NULL OR NEW.action NOT IN ('pin', 'boost', 'block', 'cap') THEN
		RAISE EXCEPTION 'unknown rule action "%"', NEW.action
			USING ERRCODE = 'check_violation',
			      HINT = 'Actions are pin, boost, block and cap.';
	END IF;
	IF NEW.starts_at >= NEW.ends_at THEN
		RAISE EXCEPTION 'a rule must start before it ends'
			USING ERRCODE = 'check_violation',
			      HINT = 'starts_at and ends_at bound the time the rule is live; either may be NULL.';
	END IF;
	IF NEW.group_by IS NOT NULL AND NEW.action <> 'cap' THEN
		RAISE EXCEPTION 'only cap rules take group_by'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	CASE NEW.action
	WHEN 'pin' THEN
		IF NEW.item_id IS NULL OR NEW.value IS NULL OR NEW.value < 1 OR NEW.value <> trunc(NEW.value)
		   OR NEW.value > 2147483647 THEN
			RAISE EXCEPTION 'a pin rule needs item_id and a slot number of 1 or more in value'
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'For example action => ''pin'', item_id => 42, value => 1 puts item 42 first.';
		END IF;
		IF NEW.match IS NOT NULL THEN
			RAISE EXCEPTION 'a pin rule pins one item and takes no match'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	WHEN 'boost' THEN
		IF NEW.value IS NULL OR NEW.value <= 0 THEN
			RAISE EXCEPTION 'a boost rule needs a positive factor in value'
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'Scores are multiplied by value: 1.5 promotes, 0.5 demotes.';
		END IF;
		IF NEW.match IS NULL AND NEW.item_id IS NULL THEN
			RAISE EXCEPTION 'a boost rule needs match or item_id'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	WHEN 'block' THEN
		IF NEW.match IS NULL AND NEW.item_id IS NULL THEN
			RAISE EXCEPTION 'a block rule needs match or item_id'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		IF NEW.value IS NOT NULL THEN
			RAISE EXCEPTION 'a block rule takes no value'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	WHEN 'cap' THEN
		IF NEW.group_by IS NULL OR NEW.value IS NULL OR NEW.value < 1 OR NEW.value <> trunc(NEW.value)
		   OR NEW.value > 2147483647 THEN
			RAISE EXCEPTION 'a cap rule needs group_by and a whole number of 1 or more in value'
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'For example group_by => ''category'', value => 2: at most two rows per category.';
		END IF;
		PERFORM vecrec._column_type(NEW.catalog, NEW.group_by, 'group_by');
		IF NEW.item_id IS NOT NULL THEN
			RAISE EXCEPTION 'a cap rule takes no item_id'
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END CASE;
	NEW.match_sql := vecrec.compile_match(NEW.catalog, NEW.match);
	RETURN NEW;
END
$$;
CREATE TRIGGER rules_check BEFORE INSERT OR UPDATE ON vecrec.rules
	FOR EACH ROW EXECUTE FUNCTION vecrec._rules_check();

-- feedback tables -------------------------------------------------------------

CREATE TABLE vecrec.impressions (
	request_id uuid NOT NULL,
	at         timestamptz NOT NULL DEFAULT now(),
	catalog    regclass NOT NULL,
	surface    text,
	item_id    bigint NOT NULL,
	rank       int NOT NULL,
	reason     text
);
CREATE INDEX impressions_request_idx ON vecrec.impressions (request_id);
CREATE INDEX impressions_at_idx ON vecrec.impressions USING brin (at);
COMMENT ON TABLE vecrec.impressions IS 'one row per item returned by vecrec.recommend() (GUC vecrec.log_impressions)';
SELECT pg_catalog.pg_extension_config_dump('vecrec.impressions', '');
GRANT SELECT, INSERT ON vecrec.impressions TO PUBLIC;

CREATE TABLE vecrec.events (
	id         bigserial PRIMARY KEY,
	at         timestamptz NOT NULL DEFAULT now(),
	catalog    regclass NOT NULL,
	user_id    text,
	session_id text,
	item_id    bigint NOT NULL,
	event      text NOT NULL,
	surface    text,
	request_id uuid
);
CREATE INDEX events_catalog_item_idx ON vecrec.events (catalog, item_id);
CREATE INDEX events_at_idx ON vecrec.events USING brin (at);
COMMENT ON TABLE vecrec.events IS 'user interactions (view, click, purchase, ...) written by vecrec.log_event()';
SELECT pg_catalog.pg_extension_config_dump('vecrec.events', '');
SELECT pg_catalog.pg_extension_config_dump('vecrec.events_id_seq', '');
GRANT SELECT, INSERT ON vecrec.events TO PUBLIC;
GRANT USAGE, SELECT ON SEQUENCE vecrec.events_id_seq TO PUBLIC;

CREATE TABLE vecrec.user_profiles (
	catalog    regclass NOT NULL,
	user_id    text NOT NULL,
	embedding  @extschema@.vector NOT NULL,
	events     bigint NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (catalog, user_id)
);
COMMENT ON TABLE vecrec.user_profiles IS 'per catalog and user: decayed, event-weighted mean of the embeddings of the items the user interacted with';
SELECT pg_catalog.pg_extension_config_dump('vecrec.user_profiles', '');
GRANT SELECT ON vecrec.user_profiles TO PUBLIC;

-- recommend -------------------------------------------------------------------

-- p_shadow: disabled rules apply too; p_rules: exactly these rules apply
-- (enabled or not); p_as_of: the time rule windows are checked against.
CREATE FUNCTION vecrec._recommend(p_catalog regclass, p_query @extschema@.vector, p_k int,
								  p_surface text, p_filter text, p_exclude bigint[],
								  p_candidates int, p_lambda float8, p_shadow boolean,
								  p_rules bigint[], p_as_of timestamptz, p_log boolean,
								  p_search_path text)
	RETURNS TABLE (id bigint, rank int, score float8, reason text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET hnsw.iterative_scan = relaxed_order
SET hnsw.ef_search = 20
SET ivfflat.iterative_scan = relaxed_order
AS $$
#variable_conflict use_variable
DECLARE
	idc name;
	embc name;
	asof timestamptz := coalesce(p_as_of, now());
	rid uuid;
	r record;
	cond text;
	blocks text := '';
	boost_sql text := '1::pg_catalog.float8';
	nboost int := 0;
	cap_exprs text[] := '{}';
	cap_limits int[] := '{}';
	ncaps int := 0;
	pin_ids bigint[] := '{}';
	pin_slots int[] := '{}';
	where_sql text;
	grp_sql text;
	q text;
	lim int := p_candidates;
	exhaustive boolean := false;
	nfetched int;
	-- organic candidates (o_*) and pinned rows (p_*)
	o_ids bigint[]; o_embs @extschema@.vector[]; o_vals float8[]; o_boost float8[]; o_grp text[];
	p_ids bigint[]; p_vals float8[]; p_grp text[];
	ord int[];
	ord_score float8[];
	need int;
	keys text[];
	sel_i int[];
	sel_s float8[];
	ok boolean;
	g text;
	total int;
	f_ids bigint[];
	f_scores float8[];
	f_reasons text[];
	pos int;
	i int;
	j int;
BEGIN
	-- arguments
	IF p_catalog IS NULL THEN
		RAISE EXCEPTION 'catalog must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT c.id_column, c.embedding_column INTO idc, embc FROM vecrec.catalogs c WHERE c.catalog = p_catalog;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'table % is not tracked', p_catalog
			USING ERRCODE = 'undefined_object',
			      HINT = 'Register the catalog first: SELECT vecrec.track(''table'');';
	END IF;
	IF p_k IS NULL OR p_k < 1 THEN
		RAISE EXCEPTION 'k must be at least 1'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'k is the number of rows to return.';
	END IF;
	IF p_candidates IS NULL OR p_candidates < p_k THEN
		RAISE EXCEPTION 'candidates (%) must be at least k (%)', p_candidates, p_k
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'candidates is how many nearest rows are re-ranked; 10 times k is typical.';
	END IF;
	IF p_lambda IS NULL OR NOT (p_lambda >= 0 AND p_lambda <= 1) THEN
		RAISE EXCEPTION 'lambda must be between 0 and 1'
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'lambda = 1 ranks by similarity alone; lower values favour diversity.';
	END IF;
	IF p_filter IS NOT NULL THEN
		PERFORM vecrec._check_filter(p_filter);
	END IF;

	-- the rules that apply, as SQL conditions built only from compiled matches
	FOR r IN
		SELECT ru.id, ru.action, ru.item_id, ru.match_sql, ru.value, ru.group_by
		  FROM vecrec.rules ru
		 WHERE ru.catalog = p_catalog
		   AND (ru.surface IS NULL OR ru.surface = p_surface)
		   AND (ru.starts_at IS NULL OR ru.starts_at <= asof)
		   AND (ru.ends_at IS NULL OR ru.ends_at > asof)
		   AND CASE WHEN p_rules IS NOT NULL THEN ru.id = ANY (p_rules)
		            ELSE ru.enabled OR p_shadow END
		 ORDER BY ru.id
	LOOP
		cond := nullif(concat_ws(' AND ', r.match_sql,
								 CASE WHEN r.item_id IS NOT NULL
								      THEN format('t.%I OPERATOR(pg_catalog.=) %L::pg_catalog.int8', idc, r.item_id) END), '');
		CASE r.action
		WHEN 'block' THEN
			blocks := blocks || format(' AND NOT coalesce(%s, false)', cond);
		WHEN 'boost' THEN
			boost_sql := boost_sql || format(' OPERATOR(pg_catalog.*) CASE WHEN %s THEN %L::pg_catalog.float8 ELSE 1::pg_catalog.float8 END',
											 cond, r.value);
			nboost := nboost + 1;
		WHEN 'cap' THEN
			cap_exprs := cap_exprs || format('CASE WHEN %s THEN t.%I::pg_catalog.text END', coalesce(cond, 'true'), r.group_by);
			cap_limits := cap_limits || r.value::int;
			ncaps := ncaps + 1;
		WHEN 'pin' THEN
			IF r.value <= p_k AND NOT (r.item_id = ANY (pin_ids)) THEN
				pin_ids := pin_ids || r.item_id;
				pin_slots := pin_slots || r.value::int;
			END IF;
		END CASE;
	END LOOP;

	where_sql := format('NOT (t.%I OPERATOR(pg_catalog.=) ANY ($2))', idc) || blocks;
	IF p_filter IS NOT NULL THEN
		where_sql := where_sql || E' AND (' || p_filter || E'\n)';
	END IF;
	grp_sql := CASE WHEN ncaps > 0 THEN 'ARRAY[' || array_to_string(cap_exprs, ', ') || ']'
	                ELSE 'ARRAY[NULL::pg_catalog.text]' END;

	LOOP
		-- an iterative hnsw scan hands out its r-th row from a search with
		-- ef >= r * ef_search / 10, rows past the tenth from one 1.5 times
		-- as wide (src/hnsw/hnswscan.c): 20 means ef = 2 to 3 x the rows
		-- taken, whatever the number of candidates
		PERFORM set_config('hnsw.ef_search', '20', true);
		-- organic candidates: nearest first through the index, or (exhaustive)
		-- an expression the index cannot serve, so all filtered rows are ranked;
		-- without a query, the most interacted rows, then the newest
		IF p_query IS NOT NULL THEN
			q := format($q$
				SELECT pg_catalog.count(*)::pg_catalog.int4, pg_catalog.array_agg(c.id), pg_catalog.array_agg(c.emb),
				       pg_catalog.array_agg(1::pg_catalog.float8 OPERATOR(pg_catalog.-) c.dist),
				       pg_catalog.array_agg(c.boost), pg_catalog.array_agg(c.grp)
				  FROM (SELECT t.%1$I::pg_catalog.int8 AS id, t.%2$I AS emb,
				               (t.%2$I OPERATOR(@extschema@.<=>) $1)::pg_catalog.float8 AS dist,
				               %3$s AS boost, %4$s::pg_catalog.text[] AS grp
				          FROM %5$s t
				         WHERE t.%2$I IS NOT NULL AND NOT (t.%1$I OPERATOR(pg_catalog.=) ANY ($4)) AND %6$s
				         ORDER BY %7$s
				         LIMIT $3) c$q$,
				idc, embc, boost_sql, grp_sql, p_catalog, where_sql,
				format(CASE WHEN exhaustive
				            THEN '(t.%I OPERATOR(@extschema@.<=>) $1)::pg_catalog.float8 OPERATOR(pg_catalog.+) 0::pg_catalog.float8'
				            ELSE 't.%I OPERATOR(@extschema@.<=>) $1' END, embc));
		ELSE
			q := format($q$
				SELECT pg_catalog.count(*)::pg_catalog.int4, pg_catalog.array_agg(c.id), NULL::@extschema@.vector[],
				       pg_catalog.array_agg(c.n), pg_catalog.array_agg(c.boost), pg_catalog.array_agg(c.grp)
				  FROM (SELECT t.%1$I::pg_catalog.int8 AS id,
				               coalesce(e.n, 0)::pg_catalog.float8 OPERATOR(pg_catalog.+) 1::pg_catalog.float8 AS n,
				               %3$s AS boost, %4$s::pg_catalog.text[] AS grp
				          FROM %5$s t
				          LEFT JOIN (SELECT ev.item_id, pg_catalog.count(*) AS n FROM vecrec.events ev
				                      WHERE ev.catalog OPERATOR(pg_catalog.=) $5 GROUP BY ev.item_id) e
				                 ON e.item_id OPERATOR(pg_catalog.=) t.%1$I::pg_catalog.int8
				         WHERE NOT (t.%1$I OPERATOR(pg_catalog.=) ANY ($4)) AND %6$s
				         ORDER BY coalesce(e.n, 0) DESC, t.%1$I DESC
				         LIMIT $3) c$q$,
				idc, embc, boost_sql, grp_sql, p_catalog, where_sql);
			exhaustive := true;
		END IF;
		-- the filter is the caller's SQL: resolve its names with the caller's
		-- search_path, behind pg_catalog (as when it is not named); the SQL
		-- around the filter qualifies every operator, function and type name,
		-- so nothing in the caller's schemas can stand in for them
		PERFORM set_config('search_path', concat_ws(', ', 'pg_catalog', nullif(p_search_path, '')), true);
		BEGIN
			EXECUTE q INTO nfetched, o_ids, o_embs, o_vals, o_boost, o_grp
				USING p_query, coalesce(p_exclude, '{}'), lim, pin_ids, p_catalog;
			-- pinned rows still obey the filter, the exclusions and the blocks
			p_ids := NULL;
			IF pg_catalog.cardinality(pin_ids) OPERATOR(pg_catalog.>) 0 THEN
				EXECUTE format($q$
					SELECT pg_catalog.array_agg(c.id), pg_catalog.array_agg(c.val), pg_catalog.array_agg(c.grp)
					  FROM (SELECT t.%1$I::pg_catalog.int8 AS id,
					               CASE WHEN $1 IS NULL THEN NULL
					                    ELSE 1::pg_catalog.float8 OPERATOR(pg_catalog.-)
					                         (t.%2$I OPERATOR(@extschema@.<=>) $1)::pg_catalog.float8 END AS val,
					               %3$s::pg_catalog.text[] AS grp
					          FROM %4$s t WHERE t.%1$I OPERATOR(pg_catalog.=) ANY ($4) AND %5$s) c$q$,
					idc, embc, grp_sql, p_catalog, where_sql)
					INTO p_ids, p_vals, p_grp
					USING p_query, coalesce(p_exclude, '{}'), lim, pin_ids;
			END IF;
		EXCEPTION WHEN syntax_error_or_access_rule_violation OR data_exception THEN
			IF p_filter IS NULL THEN
				RAISE;
			END IF;
			RAISE EXCEPTION 'invalid filter for %: %', p_catalog, SQLERRM
				USING ERRCODE = SQLSTATE,
				      HINT = 'The filter must be one boolean SQL expression over the catalog''s columns, such as in_stock AND price < 100.';
		END;
		PERFORM set_config('search_path', 'pg_catalog, pg_temp', true);
		p_ids := coalesce(p_ids, '{}');
		need := p_k - cardinality(p_ids);

		-- order the organic rows: MMR (or similarity alone when lambda = 1,
		-- or popularity without a query), then boosts: a factor v scales a
		-- positive score by v and a negative one by 1/v, so v > 1 promotes
		ord := '{}';
		ord_score := '{}';
		IF nfetched > 0 AND need > 0 THEN
			IF p_query IS NULL OR p_lambda = 1 THEN
				SELECT array_agg(u.i ORDER BY u.s DESC, CASE WHEN p_query IS NULL THEN -u.id ELSE u.id END),
				       array_agg(u.s ORDER BY u.s DESC, CASE WHEN p_query IS NULL THEN -u.id ELSE u.id END)
				  INTO ord, ord_score
				  FROM (SELECT x.i, x.id, CASE WHEN x.v >= 0 THEN x.v * x.b ELSE x.v / x.b END AS s
				          FROM unnest(o_ids, o_vals, o_boost) WITH ORDINALITY x(id, v, b, i)) u;
			ELSE
				-- MMR picks the first rows (all of them when boosts or caps may
				-- reorder or skip, but never more than candidates: MMR costs
				-- picks x rows); rows past that follow by similarity
				SELECT array_agg(u.i ORDER BY u.tier, u.s DESC, u.rank),
				       array_agg(u.s ORDER BY u.tier, u.s DESC, u.rank)
				  INTO ord, ord_score
				  FROM (SELECT x.i, coalesce(m.rank, nfetched + x.i) AS rank, (m.id IS NULL)::int AS tier,
				               CASE WHEN coalesce(m.score, x.v) >= 0 THEN coalesce(m.score, x.v) * x.b
				                    ELSE coalesce(m.score, x.v) / x.b END AS s
				          FROM unnest(o_ids, o_vals, o_boost) WITH ORDINALITY x(id, v, b, i)
				          LEFT JOIN vecrec.mmr(p_query, o_ids, o_embs,
				                               CASE WHEN nboost = 0 AND ncaps = 0 THEN least(need, nfetched)
				                                    ELSE least(nfetched, greatest(need, p_candidates)) END,
				                               p_lambda) m ON m.id = x.id) u
				 WHERE u.tier = 0 OR nboost > 0 OR ncaps > 0;
			END IF;
		END IF;

		-- take rows in that order while the caps allow (pinned rows count)
		keys := '{}';
		IF ncaps > 0 THEN
			FOR i IN 1 .. cardinality(p_ids) LOOP
				FOR j IN 1 .. ncaps LOOP
					IF p_grp[i][j] IS NOT NULL THEN
						keys := keys || (j || ':' || p_grp[i][j]);
					END IF;
				END LOOP;
			END LOOP;
		END IF;
		sel_i := '{}';
		sel_s := '{}';
		FOR pos IN 1 .. coalesce(cardinality(ord), 0) LOOP
			EXIT WHEN cardinality(sel_i) >= need;
			i := ord[pos];
			ok := true;
			FOR j IN 1 .. ncaps LOOP
				g := o_grp[i][j];
				IF g IS NOT NULL
				   AND coalesce(cardinality(array_positions(keys, j || ':' || g)), 0) >= cap_limits[j] THEN
					ok := false;
					EXIT;
				END IF;
			END LOOP;
			CONTINUE WHEN NOT ok;
			FOR j IN 1 .. ncaps LOOP
				IF o_grp[i][j] IS NOT NULL THEN
					keys := keys || (j || ':' || o_grp[i][j]);
				END IF;
			END LOOP;
			sel_i := sel_i || i;
			sel_s := sel_s || ord_score[pos];
		END LOOP;

		-- enough, or nothing more to fetch?  Otherwise fetch more candidates,
		-- and once the index has run dry, rank all filtered rows exactly
		EXIT WHEN cardinality(sel_i) >= need;
		IF nfetched < lim THEN
			EXIT WHEN exhaustive;
			exhaustive := true;
		ELSE
			lim := lim * 4;
		END IF;
	END LOOP;

	-- pins at their slots (an occupied slot passes the pin to the next free one)
	total := least(p_k, cardinality(sel_i) + cardinality(p_ids));
	f_ids := array_fill(NULL::bigint, ARRAY[total]);
	f_scores := array_fill(NULL::float8, ARRAY[total]);
	f_reasons := array_fill(NULL::text, ARRAY[total]);
	FOR r IN
		SELECT x.pid, x.pval, s.slot
		  FROM unnest(p_ids, p_vals) x(pid, pval)
		  JOIN unnest(pin_ids, pin_slots) WITH ORDINALITY s(pid, slot, n) ON s.pid = x.pid
		 ORDER BY s.slot, s.n
	LOOP
		pos := least(r.slot, total);
		WHILE pos <= total AND f_ids[pos] IS NOT NULL LOOP
			pos := pos + 1;
		END LOOP;
		IF pos > total THEN
			pos := total;
			WHILE f_ids[pos] IS NOT NULL LOOP
				pos := pos - 1;
			END LOOP;
		END IF;
		f_ids[pos] := r.pid;
		f_scores[pos] := r.pval;
		f_reasons[pos] := 'pinned';
	END LOOP;
	j := 1;
	FOR pos IN 1 .. total LOOP
		CONTINUE WHEN f_ids[pos] IS NOT NULL;
		i := sel_i[j];
		f_ids[pos] := o_ids[i];
		f_scores[pos] := sel_s[j];
		f_reasons[pos] := CASE WHEN o_boost[i] <> 1 THEN 'boosted'
		                       WHEN p_query IS NULL THEN 'popular' ELSE 'similar' END;
		j := j + 1;
	END LOOP;

	rid := gen_random_uuid();
	PERFORM vecrec._set_request_id(rid);
	IF p_log AND total > 0 THEN
		INSERT INTO vecrec.impressions (request_id, at, catalog, surface, item_id, rank, reason)
		SELECT rid, now(), p_catalog, p_surface, u.id, u.n, u.reason
		  FROM unnest(f_ids, f_reasons) WITH ORDINALITY u(id, reason, n);
	END IF;
	RETURN QUERY SELECT u.id, u.n::int, u.s, u.reason
	               FROM unnest(f_ids, f_scores, f_reasons) WITH ORDINALITY u(id, s, reason, n);
END
$$;
COMMENT ON FUNCTION vecrec._recommend(regclass, @extschema@.vector, int, text, text, bigint[], int, float8, boolean, bigint[], timestamptz, boolean, text) IS
	'internal: the body of vecrec.recommend() and vecrec.preview()';

-- recommend() and preview() do not pin search_path: they hand the caller's
-- to _recommend(), which resolves the filter's names with it (the filter is
-- the caller's SQL, run with the caller's rights) and everything else, all
-- schema-qualified, under pg_catalog, pg_temp.
CREATE FUNCTION vecrec.recommend(catalog regclass, query @extschema@.vector, k int DEFAULT 12,
								 surface text DEFAULT NULL, filter text DEFAULT NULL,
								 exclude bigint[] DEFAULT NULL, candidates int DEFAULT 120,
								 lambda float8 DEFAULT 0.7)
	RETURNS TABLE (id bigint, rank int, score float8, reason text)
LANGUAGE sql VOLATILE AS $$
	SELECT * FROM vecrec._recommend($1, $2, $3, $4, $5, $6, $7, $8, false, NULL, NULL,
									pg_catalog.current_setting('vecrec.log_impressions')::pg_catalog.bool,
									pg_catalog.current_setting('search_path'))
$$;
COMMENT ON FUNCTION vecrec.recommend(regclass, @extschema@.vector, int, text, text, bigint[], int, float8) IS
	'k recommendations from a tracked catalog: nearest rows under the filter, live rules of the surface, MMR, pins; NULL query = most popular';

CREATE FUNCTION vecrec.preview(catalog regclass, query @extschema@.vector, k int DEFAULT 12,
							   surface text DEFAULT NULL, filter text DEFAULT NULL,
							   exclude bigint[] DEFAULT NULL, candidates int DEFAULT 120,
							   lambda float8 DEFAULT 0.7, rules bigint[] DEFAULT NULL,
							   as_of timestamptz DEFAULT NULL)
	RETURNS TABLE (id bigint, rank int, score float8, reason text)
LANGUAGE sql VOLATILE AS $$
	SELECT * FROM vecrec._recommend($1, $2, $3, $4, $5, $6, $7, $8, true, $9, $10, false,
									pg_catalog.current_setting('search_path'))
$$;
COMMENT ON FUNCTION vecrec.preview(regclass, @extschema@.vector, int, text, text, bigint[], int, float8, bigint[], timestamptz) IS
	'recommend() with shadow rules: disabled rules apply too (or exactly the rules listed), windows checked at as_of; logs nothing';

-- feedback and metrics ----------------------------------------------------------

-- The catalog of an event: the catalog argument, else the catalog of the
-- recommend() call named by request_id, else the only tracked catalog.
CREATE FUNCTION vecrec.log_event(user_id text, session_id text, item_id bigint, event text,
								 surface text DEFAULT NULL, request_id uuid DEFAULT NULL,
								 catalog regclass DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
	cat regclass := catalog;
	surf text := surface;
	imp record;
	eid bigint;
BEGIN
	IF item_id IS NULL OR event IS NULL THEN
		RAISE EXCEPTION 'item_id and event must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	PERFORM FROM vecrec.event_weights w WHERE w.event = event;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown event type "%"', event
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = format('Event types are the rows of vecrec.event_weights: %s.',
			                    (SELECT string_agg(w.event, ', ' ORDER BY w.event) FROM vecrec.event_weights w));
	END IF;
	IF request_id IS NOT NULL AND (cat IS NULL OR surf IS NULL) THEN
		SELECT i.catalog, i.surface INTO imp FROM vecrec.impressions i WHERE i.request_id = request_id LIMIT 1;
		cat := coalesce(cat, imp.catalog);
		surf := coalesce(surf, imp.surface);
	END IF;
	IF cat IS NULL AND (SELECT count(*) FROM vecrec.catalogs) = 1 THEN
		SELECT c.catalog INTO cat FROM vecrec.catalogs c;
	END IF;
	IF cat IS NULL THEN
		RAISE EXCEPTION 'cannot tell which catalog item % belongs to', item_id
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Pass catalog => ''table'', or the request_id of the recommend() call that showed the item.';
	END IF;
	INSERT INTO vecrec.events (catalog, user_id, session_id, item_id, event, surface, request_id)
	VALUES (cat, user_id, session_id, item_id, event, surf, request_id)
	RETURNING id INTO eid;
	RETURN eid;
END
$$;
COMMENT ON FUNCTION vecrec.log_event(text, text, bigint, text, text, uuid, regclass) IS
	'record a user interaction; the event type must be in vecrec.event_weights; returns the event id';

-- clicks per impression on a surface (NULL: all surfaces) over the last "since"
CREATE FUNCTION vecrec.ctr(surface text, since interval) RETURNS float8
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT (SELECT count(*) FROM vecrec.events e
	         WHERE e.event = 'click' AND e.at >= now() - $2 AND ($1 IS NULL OR e.surface = $1))::float8
	       / nullif((SELECT count(*) FROM vecrec.impressions i
	                  WHERE i.at >= now() - $2 AND ($1 IS NULL OR i.surface = $1)), 0)
$$;
COMMENT ON FUNCTION vecrec.ctr(text, interval) IS
	'click-through rate of a surface (NULL: all) over the last interval: click events / impressions; NULL without impressions';

-- the id and embedding columns of a tracked catalog, or an error
CREATE FUNCTION vecrec._catalog_columns(catalog regclass, OUT id_column name, OUT embedding_column name)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	SELECT c.id_column, c.embedding_column INTO id_column, embedding_column
	  FROM vecrec.catalogs c WHERE c.catalog = _catalog_columns.catalog;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'table % is not tracked', catalog
			USING ERRCODE = 'undefined_object',
			      HINT = 'Register the catalog first: SELECT vecrec.track(''table'');';
	END IF;
END
$$;

CREATE FUNCTION vecrec.coverage(catalog regclass, since interval) RETURNS float8
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	idc name := (vecrec._catalog_columns(catalog)).id_column;
	result float8;
BEGIN
	EXECUTE format($q$
		SELECT count(*) FILTER (WHERE t.%1$I IN (SELECT i.item_id FROM vecrec.impressions i
		                                          WHERE i.catalog = $1 AND i.at >= now() - $2))::float8
		       / nullif(count(*), 0)
		  FROM %2$s t$q$, idc, catalog)
		INTO result USING catalog, since;
	RETURN result;
END
$$;
COMMENT ON FUNCTION vecrec.coverage(regclass, interval) IS
	'share of the catalog''s rows shown at least once over the last interval (NULL for an empty catalog)';

CREATE FUNCTION vecrec.zero_impression_items(catalog regclass, older_than interval DEFAULT '72 hours')
	RETURNS TABLE (id bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	idc name := (vecrec._catalog_columns(catalog)).id_column;
BEGIN
	RETURN QUERY EXECUTE format($q$
		SELECT t.%1$I::bigint FROM %2$s t
		 WHERE NOT EXISTS (SELECT FROM vecrec.impressions i
		                    WHERE i.catalog = $1 AND i.item_id = t.%1$I AND i.at >= now() - $2)
		 ORDER BY 1$q$, idc, catalog)
		USING catalog, older_than;
END
$$;
COMMENT ON FUNCTION vecrec.zero_impression_items(regclass, interval) IS
	'ids of catalog rows without any impression over the last interval (default 72 hours)';

-- one profile per user with events on the catalog's items: the event-weighted,
-- time-decayed mean of their embeddings (vecrec.session_vector)
CREATE FUNCTION vecrec.refresh_profiles(catalog regclass, half_life interval DEFAULT '7 days') RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	cols record := vecrec._catalog_columns(catalog);
	n bigint;
BEGIN
	IF half_life IS NULL OR half_life <= interval '0' THEN
		RAISE EXCEPTION 'half_life must be positive' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE format($q$
		INSERT INTO vecrec.user_profiles AS p (catalog, user_id, embedding, events, updated_at)
		SELECT $1, s.user_id, s.v, s.n, now()
		  FROM (SELECT e.user_id, count(*) AS n,
		               vecrec.session_vector(t.%2$I, w.weight, e.at, $2) AS v
		          FROM vecrec.events e
		          JOIN vecrec.event_weights w ON w.event = e.event
		          JOIN %3$s t ON t.%1$I = e.item_id
		         WHERE e.catalog = $1 AND e.user_id IS NOT NULL AND t.%2$I IS NOT NULL
		         GROUP BY e.user_id) s
		 WHERE s.v IS NOT NULL
		ON CONFLICT (catalog, user_id) DO UPDATE
		   SET embedding = EXCLUDED.embedding, events = EXCLUDED.events, updated_at = EXCLUDED.updated_at$q$,
		cols.id_column, cols.embedding_column, catalog)
		USING catalog, half_life;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION vecrec.refresh_profiles(regclass, interval) IS
	'write vecrec.user_profiles from vecrec.events: per user, the event-weighted, decayed mean embedding; returns the profiles written';

-- comments on the helpers of the recommendation layer
COMMENT ON FUNCTION vecrec._catalog_columns(regclass) IS 'internal: id and embedding column of a tracked catalog';
COMMENT ON FUNCTION vecrec._match_literal(name, oid, jsonb) IS 'internal: a rule match value as a quoted literal cast to the column type';
COMMENT ON FUNCTION vecrec._match_operator(name, oid, text) IS 'internal: a rule match operator as a schema-qualified operator';
COMMENT ON FUNCTION vecrec._rules_check() IS 'internal: trigger validating vecrec.rules rows and compiling their match';
COMMENT ON SEQUENCE vecrec.events_id_seq IS 'ids of vecrec.events';
COMMENT ON SEQUENCE vecrec.rules_id_seq IS 'ids of vecrec.rules';


-- catalog freshness: the in-database text embedder, the embedding queue and
-- the triggers that keep catalog embeddings current (README "Catalog
-- freshness"; C code in src/rec/)

-- word vectors for vecrec.embed_text: one model at a time
CREATE TABLE vecrec.word_vectors (
	word      text PRIMARY KEY,
	v         @extschema@.vector NOT NULL,
	freq_rank int CHECK (freq_rank > 0)
);
COMMENT ON TABLE vecrec.word_vectors IS 'word vectors of vecrec.embed_text; freq_rank 1 = most frequent word';
SELECT pg_catalog.pg_extension_config_dump('vecrec.word_vectors', '');
GRANT SELECT ON vecrec.word_vectors TO PUBLIC;

-- bumped by every statement changing vecrec.word_vectors; embed_text's
-- per-backend cache compares it (and its xmin) to decide whether to reload
CREATE TABLE vecrec.word_vectors_version (version bigint NOT NULL);
INSERT INTO vecrec.word_vectors_version VALUES (0);
COMMENT ON TABLE vecrec.word_vectors_version IS 'change counter of vecrec.word_vectors (one row)';
GRANT SELECT ON vecrec.word_vectors_version TO PUBLIC;

CREATE FUNCTION vecrec._word_vectors_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	UPDATE vecrec.word_vectors_version SET version = version + 1;
	RETURN NULL;
END
$$;
CREATE TRIGGER word_vectors_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON vecrec.word_vectors
	FOR EACH STATEMENT EXECUTE FUNCTION vecrec._word_vectors_changed();

CREATE FUNCTION vecrec.embed_text(t text) RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME', 'vecrec_embed_text' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
CREATE FUNCTION vecrec.tokenize(t text) RETURNS text[]
	AS 'MODULE_PATHNAME', 'vecrec_tokenize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vecrec.embed_text(text) IS
	'SIF-weighted, L2-normalised sum of the word vectors of the words of a text; NULL when no word is known';
COMMENT ON FUNCTION vecrec.tokenize(text) IS 'the lower-cased words vecrec.embed_text looks up';

-- Load a word-vector text file on the server: "word x1 x2 ... xd" per line
-- (GloVe, word2vec/fastText text; a "count dims" header line is skipped).
-- Replaces the vocabulary; the first line of a duplicated word wins;
-- freq_rank = position in the file when frequency_ordered.
CREATE FUNCTION vecrec.load_word_vectors(path text, frequency_ordered boolean DEFAULT true)
	RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	dims int;
	bad record;
	n bigint;
BEGIN
	IF NOT (pg_has_role('pg_read_server_files', 'MEMBER')
			OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)) THEN
		RAISE EXCEPTION 'permission denied to read file "%"', path
			USING ERRCODE = 'insufficient_privilege',
			      DETAIL = 'Reading a file on the database server needs superuser or membership in pg_read_server_files.',
			      HINT = 'Load the file from the client with psql''s \copy instead (README, "Catalog freshness").';
	END IF;
	CREATE TEMP TABLE vecrec_wv_lines (line_no bigint GENERATED ALWAYS AS IDENTITY, line text)
		ON COMMIT DROP;
	-- whole lines: CSV with delimiter and quote characters no text file uses
	EXECUTE format('COPY pg_temp.vecrec_wv_lines (line) FROM %L WITH (FORMAT csv, DELIMITER E''\x01'', QUOTE E''\x02'')',
				   path);
	CREATE TEMP TABLE vecrec_wv_rows ON COMMIT DROP AS
		SELECT s.line_no, split_part(s.l, ' ', 1) AS word,
			   array_remove(string_to_array(substr(s.l, length(split_part(s.l, ' ', 1)) + 2), ' '), '') AS nums
		  FROM (SELECT line_no, btrim(translate(line, E'\t\r', '  '), ' ') AS l
				  FROM pg_temp.vecrec_wv_lines) s
		 WHERE s.l <> '';
	-- word2vec/fastText header "count dims"
	DELETE FROM pg_temp.vecrec_wv_rows r
	 WHERE r.line_no = (SELECT min(line_no) FROM pg_temp.vecrec_wv_rows)
	   AND r.word ~ '^[0-9]+$' AND cardinality(r.nums) = 1 AND r.nums[1] ~ '^[0-9]+$';
	SELECT cardinality(r.nums) INTO dims FROM pg_temp.vecrec_wv_rows r ORDER BY r.line_no LIMIT 1;
	IF dims IS NULL THEN
		RAISE EXCEPTION 'file "%" holds no word vectors', path
			USING ERRCODE = 'no_data_found',
			      HINT = 'Each line must hold a word followed by its numbers, separated by spaces.';
	END IF;
	SELECT r.line_no, cardinality(r.nums) AS d INTO bad
	  FROM pg_temp.vecrec_wv_rows r WHERE cardinality(r.nums) <> dims ORDER BY r.line_no LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'line % of file "%" has % numbers, earlier lines %', bad.line_no, path, bad.d, dims
			USING ERRCODE = 'invalid_text_representation',
			      HINT = 'All vectors of a file must have the same number of dimensions.';
	END IF;
	DELETE FROM vecrec.word_vectors;
	BEGIN
		INSERT INTO vecrec.word_vectors (word, v, freq_rank)
		SELECT f.word, f.nums::real[]::@extschema@.vector,
			   CASE WHEN frequency_ordered THEN row_number() OVER (ORDER BY f.line_no) END
		  FROM (SELECT DISTINCT ON (r.word) r.word, r.nums, r.line_no
				  FROM pg_temp.vecrec_wv_rows r ORDER BY r.word, r.line_no) f
		 ORDER BY f.line_no;
	EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range OR data_exception THEN
		-- find the first bad line, to name it
		FOR bad IN SELECT r.line_no, r.nums FROM pg_temp.vecrec_wv_rows r ORDER BY r.line_no LOOP
			BEGIN
				PERFORM bad.nums::real[]::@extschema@.vector;
			EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range OR data_exception THEN
				RAISE EXCEPTION 'line % of file "%" has a value that is not a finite real number', bad.line_no, path
					USING ERRCODE = 'invalid_text_representation',
					      HINT = 'Each line must hold a word followed by its numbers, separated by spaces.';
			END;
		END LOOP;
		RAISE;
	END;
	GET DIAGNOSTICS n = ROW_COUNT;
	DROP TABLE pg_temp.vecrec_wv_lines, pg_temp.vecrec_wv_rows;
	RETURN n;
END
$$;
COMMENT ON FUNCTION vecrec.load_word_vectors(text, boolean) IS
	'replace vecrec.word_vectors with a word-vector text file on the server (GloVe/word2vec/fastText text format)';

-- the embedding queue of catalogs without an embedder
CREATE TABLE vecrec.embedding_queue (
	catalog     regclass NOT NULL,
	item_id     bigint NOT NULL,
	text        text NOT NULL,
	enqueued_at timestamptz NOT NULL DEFAULT now(),
	claimed_at  timestamptz,
	attempts    int NOT NULL DEFAULT 0,
	PRIMARY KEY (catalog, item_id)
) WITH (fillfactor = 50);   -- room for HOT updates when jobs are coalesced or claimed
COMMENT ON TABLE vecrec.embedding_queue IS
	'one pending embedding job per changed catalog row; complete when the row''s embedding is written';
SELECT pg_catalog.pg_extension_config_dump('vecrec.embedding_queue', '');
-- a catalog's jobs are visible to, and may be claimed by, whoever may update the catalog
GRANT SELECT, INSERT, UPDATE, DELETE ON vecrec.embedding_queue TO PUBLIC;
ALTER TABLE vecrec.embedding_queue ENABLE ROW LEVEL SECURITY;
CREATE POLICY embedding_queue_updaters ON vecrec.embedding_queue FOR ALL
	USING (pg_catalog.has_table_privilege(catalog, 'UPDATE'))
	WITH CHECK (pg_catalog.has_table_privilege(catalog, 'UPDATE'));

-- where an interrupted CALL vecrec.reembed_in_batches() resumes
CREATE TABLE vecrec.reembed_progress (
	catalog    regclass PRIMARY KEY,
	last_id    bigint NOT NULL,
	done       bigint NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE vecrec.reembed_progress IS 'last id re-embedded by an unfinished vecrec.reembed_in_batches()';
GRANT SELECT, INSERT, UPDATE, DELETE ON vecrec.reembed_progress TO PUBLIC;
ALTER TABLE vecrec.reembed_progress ENABLE ROW LEVEL SECURITY;
CREATE POLICY reembed_progress_updaters ON vecrec.reembed_progress FOR ALL
	USING (pg_catalog.has_table_privilege(catalog, 'UPDATE'))
	WITH CHECK (pg_catalog.has_table_privilege(catalog, 'UPDATE'));

CREATE FUNCTION vecrec._embedding_lease() RETURNS interval
	AS 'MODULE_PATHNAME', 'vecrec_embedding_lease_interval' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION vecrec._embedding_lease() IS 'the GUC vecrec.embedding_lease as an interval';

-- Row triggers in C (src/rec/triggers.c).  _embed_row runs as the user
-- changing the catalog; _embedding_written deletes queue rows, so it runs
-- as the extension's owner, and only for the catalog it is attached to.
-- The C row triggers that run no SQL (_embed_row, _collect_job) do not pin
-- search_path: they look nothing up by name (columns come from the
-- trigger arguments, the embedder by OID), and a SET clause would cost a
-- GUC save and restore per row.  Those that run SQL pin it and qualify
-- every name.
CREATE FUNCTION vecrec._embed_row() RETURNS trigger
	AS 'MODULE_PATHNAME', 'vecrec_embed_row' LANGUAGE C;
CREATE FUNCTION vecrec._embedding_written() RETURNS trigger
	AS 'MODULE_PATHNAME', 'vecrec_embedding_written' LANGUAGE C SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION vecrec._embed_row() IS 'BEFORE ROW trigger of tracked catalogs with an embedder (see vecrec.track)';
COMMENT ON FUNCTION vecrec._embedding_written() IS 'AFTER ROW trigger: writing a catalog row''s embedding completes its job';

-- Row and statement triggers in C that queue jobs for inserted and updated
-- rows (src/rec/triggers.c explains the split): _collect_job notes jobs in
-- backend memory, _flush_jobs writes them with one INSERT per statement
-- as the extension's owner (any user who may write the catalog queues
-- jobs), only for the catalog it is attached to.
CREATE FUNCTION vecrec._collect_job() RETURNS trigger
	AS 'MODULE_PATHNAME', 'vecrec_collect_job' LANGUAGE C;
CREATE FUNCTION vecrec._flush_jobs() RETURNS trigger
	AS 'MODULE_PATHNAME', 'vecrec_flush_jobs' LANGUAGE C SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION vecrec._collect_job() IS 'AFTER ROW trigger of tracked catalogs without an embedder: notes the jobs of changed rows';
COMMENT ON FUNCTION vecrec._flush_jobs() IS 'AFTER STATEMENT trigger of tracked catalogs without an embedder: queues the noted jobs, NOTIFY vecrec_embedding';

-- AFTER DELETE (transition table vecrec_old) and AFTER TRUNCATE statement
-- trigger dropping the jobs of removed rows.  Argument: the id column.
-- Runs as the extension's owner, touching only jobs of the table it fires on.
CREATE FUNCTION vecrec._drop_jobs() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_LEVEL <> 'STATEMENT' OR TG_WHEN <> 'AFTER' OR TG_NARGS <> 1 THEN
		RAISE EXCEPTION 'vecrec._drop_jobs must be an AFTER ... FOR EACH STATEMENT trigger with an argument'
			USING ERRCODE = 'triggered_action_exception', HINT = 'Install it with vecrec.track().';
	END IF;
	IF TG_OP = 'TRUNCATE' THEN
		DELETE FROM vecrec.embedding_queue q WHERE q.catalog = TG_RELID;
	ELSIF TG_OP = 'DELETE' THEN
		EXECUTE format('DELETE FROM vecrec.embedding_queue q USING vecrec_old o
						 WHERE q.catalog = $1 AND q.item_id = o.%I', TG_ARGV[0]) USING TG_RELID;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION vecrec._drop_jobs() IS 'AFTER DELETE/TRUNCATE statement trigger of tracked catalogs without an embedder: drops their jobs';

CREATE FUNCTION vecrec._drop_fresh_triggers(catalog regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	t name;
BEGIN
	FOR t IN SELECT g.tgname FROM pg_trigger g
			  WHERE g.tgrelid = catalog AND g.tgparentid = 0
				AND g.tgname IN ('vecrec_fresh_embed', 'vecrec_fresh_collect', 'vecrec_fresh_flush',
								 'vecrec_fresh_delete', 'vecrec_fresh_truncate', 'vecrec_fresh_written')
	LOOP
		EXECUTE format('DROP TRIGGER %I ON %s', t, catalog);
	END LOOP;
END
$$;

CREATE FUNCTION vecrec._install_fresh_triggers(catalog regclass, source_columns name[],
											   embedding_column name, id_column name,
											   embedder regproc) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	cols text;
	args text;
BEGIN
	PERFORM vecrec._drop_fresh_triggers(catalog);
	IF source_columns IS NULL THEN
		RETURN;
	END IF;
	SELECT string_agg(quote_ident(c), ', ' ORDER BY o), string_agg(quote_literal(c), ', ' ORDER BY o)
	  INTO cols, args FROM unnest(source_columns) WITH ORDINALITY AS u(c, o);
	IF embedder IS NOT NULL THEN
		EXECUTE format('CREATE TRIGGER vecrec_fresh_embed BEFORE INSERT OR UPDATE OF %s ON %s
						FOR EACH ROW EXECUTE FUNCTION vecrec._embed_row(%L, %L, %s)',
					   cols, catalog, embedding_column, embedder::oid, args);
		RETURN;
	END IF;
	EXECUTE format('CREATE TRIGGER vecrec_fresh_collect AFTER INSERT OR UPDATE OF %s ON %s
					FOR EACH ROW EXECUTE FUNCTION vecrec._collect_job(%L, %L, %L, %s)',
				   cols, catalog, catalog::oid, id_column, embedding_column, args);
	EXECUTE format('CREATE TRIGGER vecrec_fresh_flush AFTER INSERT OR UPDATE ON %s
					FOR EACH STATEMENT EXECUTE FUNCTION vecrec._flush_jobs(%L)',
				   catalog, catalog::oid);
	EXECUTE format('CREATE TRIGGER vecrec_fresh_delete AFTER DELETE ON %s
					REFERENCING OLD TABLE AS vecrec_old
					FOR EACH STATEMENT EXECUTE FUNCTION vecrec._drop_jobs(%L)',
				   catalog, id_column);
	EXECUTE format('CREATE TRIGGER vecrec_fresh_truncate AFTER TRUNCATE ON %s
					FOR EACH STATEMENT EXECUTE FUNCTION vecrec._drop_jobs(%L)',
				   catalog, id_column);
	EXECUTE format('CREATE TRIGGER vecrec_fresh_written AFTER UPDATE OF %I ON %s
					FOR EACH ROW EXECUTE FUNCTION vecrec._embedding_written(%L, %L)',
				   embedding_column, catalog, catalog::oid, id_column);
END
$$;

-- Hand out up to batch pending jobs (never claimed, or claimed longer than
-- vecrec.embedding_lease ago); concurrent callers get different jobs
CREATE FUNCTION vecrec.claim_embedding_jobs(batch int)
	RETURNS TABLE (catalog regclass, item_id bigint, text text)
LANGUAGE plpgsql VOLATILE STRICT SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	lease interval := vecrec._embedding_lease();
BEGIN
	IF batch < 1 THEN
		RAISE EXCEPTION 'batch must be at least 1' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY
	WITH c AS (
		SELECT q.catalog, q.item_id FROM vecrec.embedding_queue q
		 WHERE q.claimed_at IS NULL OR q.claimed_at <= clock_timestamp() - lease
		 LIMIT batch FOR UPDATE SKIP LOCKED)
	UPDATE vecrec.embedding_queue q
	   SET claimed_at = clock_timestamp(), attempts = q.attempts + 1
	  FROM c WHERE q.catalog = c.catalog AND q.item_id = c.item_id
	RETURNING q.catalog, q.item_id, q.text;
END
$$;
COMMENT ON FUNCTION vecrec.claim_embedding_jobs(int) IS
	'claim up to batch embedding jobs (SKIP LOCKED; handed out again after vecrec.embedding_lease)';

-- the registration of a catalog reembed can work on, or an error
CREATE FUNCTION vecrec._reembed_config(catalog regclass, batch int) RETURNS vecrec.catalogs
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	cfg vecrec.catalogs;
BEGIN
	IF batch IS NULL OR batch < 1 THEN
		RAISE EXCEPTION 'batch must be at least 1' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO cfg FROM vecrec.catalogs c WHERE c.catalog = _reembed_config.catalog;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'table % is not tracked', catalog
			USING ERRCODE = 'undefined_object',
			      HINT = 'Register it with vecrec.track(catalog, source_columns => ...).';
	END IF;
	IF cfg.source_columns IS NULL THEN
		RAISE EXCEPTION 'table % is tracked without source columns', catalog
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Run vecrec.track() again with source_columns (and an embedder).';
	END IF;
	RETURN cfg;
END
$$;

-- One batch of reembed: the next batch rows after id "after", in id order.
-- With an embedder their embeddings are recomputed; without one they are
-- queued.  n = rows done, last_id = the largest id done.
CREATE FUNCTION vecrec._reembed_batch(catalog regclass, batch int, after bigint,
									  OUT n bigint, OUT last_id bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	cfg vecrec.catalogs := vecrec._reembed_config(catalog, batch);
	src text;
	fn text;
	queued bigint;
BEGIN
	SELECT string_agg(format('t.%I', c), ', ' ORDER BY o) INTO src
	  FROM unnest(cfg.source_columns) WITH ORDINALITY AS u(c, o);
	IF cfg.embedder IS NOT NULL THEN
		SELECT format('%I.%I', s.nspname, p.proname) INTO fn
		  FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace WHERE p.oid = cfg.embedder;
		EXECUTE format($q$
			WITH b AS (SELECT t.%1$I AS id FROM %2$s t WHERE t.%1$I > $1 ORDER BY t.%1$I LIMIT $2),
			u AS (
				UPDATE %2$s t
				   SET %3$I = CASE WHEN NULLIF(concat_ws(' ', %4$s), '') IS NOT NULL
								   THEN %5$s(NULLIF(concat_ws(' ', %4$s), '')) END
				  FROM b WHERE t.%1$I = b.id
				RETURNING t.%1$I AS id)
			SELECT count(*), max(id) FROM u$q$,
			cfg.id_column, catalog, cfg.embedding_column, src, fn)
		INTO n, last_id USING after, batch;
	ELSE
		EXECUTE format($q$
			WITH b AS (SELECT t.%1$I AS id, NULLIF(concat_ws(' ', %3$s), '') AS t
						 FROM %2$s t WHERE t.%1$I > $1 ORDER BY t.%1$I LIMIT $2),
			j AS (
				INSERT INTO vecrec.embedding_queue AS q (catalog, item_id, text)
				SELECT $3, b.id, b.t FROM b WHERE b.t IS NOT NULL
				ON CONFLICT (catalog, item_id) DO UPDATE
				   SET text = EXCLUDED.text, enqueued_at = EXCLUDED.enqueued_at,
				       claimed_at = NULL, attempts = 0
				RETURNING 1)
			SELECT count(*), max(id), (SELECT count(*) FROM j) FROM b$q$,
			cfg.id_column, catalog, src)
		INTO n, last_id, queued USING after, batch, catalog;
		IF queued > 0 THEN
			PERFORM pg_notify('vecrec_embedding', catalog::text);
		END IF;
	END IF;
END
$$;

CREATE FUNCTION vecrec.reembed(catalog regclass, batch int DEFAULT 1000) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	total bigint := 0;
	after bigint := -9223372036854775808;
	r record;
BEGIN
	PERFORM vecrec._reembed_config(catalog, batch);
	LOOP
		r := vecrec._reembed_batch(catalog, batch, after);
		EXIT WHEN r.n = 0;
		total := total + r.n;
		after := r.last_id;
	END LOOP;
	RETURN total;
END
$$;
COMMENT ON FUNCTION vecrec.reembed(regclass, int) IS
	'recompute every embedding of a catalog with its embedder (or queue every row without one), batch rows per statement, in one transaction';

CREATE FUNCTION vecrec._reembed_progress(catalog regclass, last_id bigint, done bigint)
	RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
	INSERT INTO vecrec.reembed_progress AS p (catalog, last_id, done) VALUES ($1, $2, $3)
	ON CONFLICT (catalog) DO UPDATE SET last_id = EXCLUDED.last_id, done = EXCLUDED.done,
	                                    updated_at = now();
$$;

-- Like reembed(), committing after each batch (a procedure cannot pin
-- search_path and commit, so everything below is schema-qualified)
CREATE PROCEDURE vecrec.reembed_in_batches(catalog regclass, batch int DEFAULT 1000)
LANGUAGE plpgsql AS $$
DECLARE
	p vecrec.reembed_progress;
	r record;
	after bigint := -9223372036854775808;
	done bigint := 0;
BEGIN
	PERFORM vecrec._reembed_config(catalog, batch);
	SELECT * INTO p FROM vecrec.reembed_progress x WHERE x.catalog OPERATOR(pg_catalog.=) $1;
	IF FOUND THEN
		after := p.last_id;
		done := p.done;
		RAISE NOTICE 'resuming after id % (% rows done before)', after, done;
	END IF;
	LOOP
		r := vecrec._reembed_batch(catalog, batch, after);
		EXIT WHEN r.n OPERATOR(pg_catalog.=) 0;
		after := r.last_id;
		done := done OPERATOR(pg_catalog.+) r.n;
		PERFORM vecrec._reembed_progress(catalog, after, done);
		COMMIT;
	END LOOP;
	DELETE FROM vecrec.reembed_progress x WHERE x.catalog OPERATOR(pg_catalog.=) $1;
	RAISE NOTICE '% rows done', done;
END
$$;
COMMENT ON PROCEDURE vecrec.reembed_in_batches(regclass, int) IS
	'reembed() committing after each batch; an interrupted call resumes where it stopped';

-- comments on the helpers of catalog freshness
COMMENT ON FUNCTION vecrec._drop_fresh_triggers(regclass) IS 'internal: drop the freshness triggers of a catalog';
COMMENT ON FUNCTION vecrec._install_fresh_triggers(regclass, name[], name, name, regproc) IS 'internal: create the freshness triggers of a catalog (embedder or queue mode)';
COMMENT ON FUNCTION vecrec._reembed_batch(regclass, integer, bigint) IS 'internal: re-embed or queue one batch of catalog rows after an id';
COMMENT ON FUNCTION vecrec._reembed_config(regclass, integer) IS 'internal: the registration of a catalog for reembed, checked';
COMMENT ON FUNCTION vecrec._reembed_progress(regclass, bigint, bigint) IS 'internal: remember how far reembed_in_batches got';
COMMENT ON FUNCTION vecrec._word_vectors_changed() IS 'internal: statement trigger bumping vecrec.word_vectors_version';
