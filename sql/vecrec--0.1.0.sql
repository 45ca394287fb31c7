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

CREATE FUNCTION vecrec.verify_index(index regclass, strict boolean DEFAULT false)
	RETURNS TABLE ("check" text, ok boolean, detail text)
	AS 'MODULE_PATHNAME', 'vecrec_verify_index' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION vecrec.verify_index(regclass, boolean) IS 'structural checks of an hnsw or ivfflat index, one row per check; strict raises the first problem as an error';

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
END
$$;
COMMENT ON FUNCTION vecrec.track(regclass, name[], name, name, regproc) IS
	'register a catalog table (id and embedding columns, optional source columns and embedder)';

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
END
$$;
COMMENT ON FUNCTION vecrec.untrack(regclass) IS 'remove a catalog registration';

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
	LANGUAGE plpgsql SET search_path = pg_catalog AS
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
