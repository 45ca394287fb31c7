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
