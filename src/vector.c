/*-------------------------------------------------------------------------
 *
 * vector.c
 *		The vector type: text and binary I/O, typmods, casts, arithmetic,
 *		comparison, hashing and the avg/sum aggregates.
 *
 * Every value that reaches a Vector is finite and fits in float4; input
 * functions and arithmetic reject anything else with an error, never by
 * truncating.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/vector.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "compat.h"
#include "distance.h"
#include "vector.h"
#include "vecparse.h"

/*
 * Allocate a zeroed vector of the given number of dimensions
 */
Vector *
InitVector(int dim)
{
	Size		size = VECTOR_SIZE(dim);
	Vector	   *result = (Vector *) palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	return result;
}

/*
 * Error unless the dimension count is storable
 */
void
CheckVectorDim(int dim)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector must have at least 1 dimension")));
	if (dim > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vector cannot have more than %d dimensions", VECTOR_MAX_DIM)));
}

/*
 * The error CheckVectorDims raises
 */
void
ReportVectorDimsMismatch(const Vector *a, const Vector *b)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("different vector dimensions %d and %d", a->dim, b->dim),
			 errhint("Both operands must have the same number of dimensions.")));
}

/*
 * Error unless an element is finite
 */
void
CheckVectorElement(float value)
{
	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in vector")));
	if (isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value not allowed in vector")));
}

/*
 * Error unless a vector has the dimensions its typmod asks for
 */
static void
check_typmod(int dim, int32 typmod)
{
	if (typmod != -1 && typmod != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

/*
 * Error if arithmetic produced a value float4 cannot hold
 */
static void
check_result(const Vector *r)
{
	for (int i = 0; i < r->dim; i++)
		if (isinf(r->x[i]) || isnan(r->x[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value out of range: overflow")));
}

PG_FUNCTION_INFO_V1(vector_in);

StaticAssertDecl(VECPARSE_MAX_DIM == VECTOR_MAX_DIM, "vecparse.h and vector.h disagree on the maximum dimensions");

/*
 * Text input: '[1, 2.5, -3e-2]'.  The parsing is in vecparse.c; here the
 * datum and the errors.  Reports soft errors where the server supports
 * them, so pg_input_is_valid() works.
 */
Datum
vector_in(PG_FUNCTION_ARGS)
{
	char	   *lit = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	Node	   *escontext = fcinfo->context;
	int			capacity = VecParseTextCapacity(lit);
	Vector	   *result = capacity > 0 ? InitVector(capacity) : NULL;
	VecParseResult res;

	switch (VecParseText(lit, result ? result->x : NULL, capacity, &res))
	{
		case VP_OK:
			break;
		case VP_NO_BRACKET:
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type vector: \"%s\"", lit),
					 errdetail("Vector contents must start with \"[\".")));
		case VP_EMPTY:
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("vector must have at least 1 dimension")));
		case VP_TOO_MANY:
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("vector cannot have more than %d dimensions", VECTOR_MAX_DIM)));
		case VP_EXPECTED_NUMBER:
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type vector: \"%s\"", lit),
					 errdetail("Expected a number at position %d.", res.pos + 1)));
		case VP_NAN:
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("NaN not allowed in vector")));
		case VP_OUT_OF_RANGE:
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%.*s\" is out of range for type vector", res.toklen, lit + res.pos),
					 errhint("Vector elements must fit in real (float4): magnitudes from about 1e-45 to 3.4e38.")));
		case VP_INFINITE:
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("infinite value not allowed in vector")));
		case VP_EXPECTED_SEPARATOR:
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type vector: \"%s\"", lit),
					 errdetail("Expected \",\" or \"]\" at position %d.", res.pos + 1)));
		case VP_JUNK:
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type vector: \"%s\"", lit),
					 errdetail("Junk after closing right bracket.")));
		default:
			elog(ERROR, "unexpected vector text parser status at position %d", res.pos + 1);
	}
	if (typmod != -1 && typmod != res.dim)
		ereturn(escontext, (Datum) 0,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, res.dim)));

	result->dim = res.dim;
	SET_VARSIZE(result, VECTOR_SIZE(res.dim));
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_out);

/*
 * Text output, each element in the shortest form that reads back exactly
 */
Datum
vector_out(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	char	   *buf = palloc((Size) vec->dim * (FLOAT_SHORTEST_DECIMAL_LEN + 1) + 2);
	char	   *p = buf;

	*p++ = '[';
	for (int i = 0; i < vec->dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += float_to_shortest_decimal_bufn(vec->x[i], p);
	}
	*p++ = ']';
	*p = '\0';
	PG_FREE_IF_COPY(vec, 0);
	PG_RETURN_CSTRING(buf);
}

PG_FUNCTION_INFO_V1(vector_typmod_in);

/*
 * Type modifier input: vector(n), 1 <= n <= 16000
 */
Datum
vector_typmod_in(PG_FUNCTION_ARGS)
{
	ArrayType  *ta = PG_GETARG_ARRAYTYPE_P(0);
	int32	   *tl;
	int			n;

	tl = ArrayGetIntegerTypmods(ta, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errhint("Give one number, the dimensions: vector(384).")));
	if (tl[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type vector must be at least 1")));
	if (tl[0] > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type vector cannot exceed %d", VECTOR_MAX_DIM)));
	PG_RETURN_INT32(tl[0]);
}

PG_FUNCTION_INFO_V1(vector_recv);

/*
 * Report a binary input error of vecparse.c
 */
static void
report_binary_error(VecParseStatus status, const VecParseResult *res)
{
	switch (status)
	{
		case VP_SHORT_HEADER:
			/* what pq_getmsgint says */
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("insufficient data left in message")));
			break;
		case VP_BAD_DIM:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid number of dimensions in binary vector: %d", res->dim),
					 errdetail("Dimensions must be between 1 and %d.", VECTOR_MAX_DIM)));
			break;
		case VP_BAD_RESERVED:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid binary vector: reserved field is %d", res->reserved),
					 errdetail("The reserved field after the dimensions must be zero.")));
			break;
		case VP_SHORT_DATA:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid binary vector: %d dimensions but %d bytes of data",
							res->dim, (int) res->avail)));
			break;
		case VP_NAN:
			CheckVectorElement(NAN);
			break;
		case VP_INFINITE:
			CheckVectorElement(INFINITY);
			break;
		default:
			elog(ERROR, "unexpected vector binary parser status %d", (int) status);
	}
}

/*
 * Binary input: int16 dim, int16 reserved (zero), dim float4s (vecparse.c)
 */
Datum
vector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	const unsigned char *data = (const unsigned char *) buf->data + buf->cursor;
	size_t		len = buf->len - buf->cursor;
	VecParseResult res;
	VecParseStatus status;
	Vector	   *result;

	status = VecParseBinaryHeader(data, len, &res);
	if (status != VP_OK)
		report_binary_error(status, &res);
	check_typmod(res.dim, typmod);

	result = InitVector(res.dim);
	status = VecParseBinary(data, len, result->x, res.dim, &res);
	if (status != VP_OK)
		report_binary_error(status, &res);
	buf->cursor += res.consumed;
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_send);

/*
 * Binary output, the layout vector_recv reads
 */
Datum
vector_send(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, vec->dim);
	pq_sendint16(&buf, vec->unused);
	for (int i = 0; i < vec->dim; i++)
		pq_sendfloat4(&buf, vec->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(vector);

/*
 * Cast to vector(n): check the dimensions
 */
Datum
vector(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);

	check_typmod(vec->dim, PG_GETARG_INT32(1));
	PG_RETURN_VECTOR_P(vec);
}

/*
 * One array element as float4, with range checks
 */
static float
array_element_to_float(Datum d, Oid elemtype)
{
	float		v;

	switch (elemtype)
	{
		case INT4OID:
			v = (float) DatumGetInt32(d);
			break;
		case FLOAT4OID:
			v = DatumGetFloat4(d);
			break;
		case FLOAT8OID:
			{
				double		f = DatumGetFloat8(d);

				v = (float) f;
				if ((isinf(v) && !isinf(f)) || (v == 0 && f != 0))
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("\"%g\" is out of range for type vector", f),
							 errhint("Vector elements must fit in real (float4).")));
				break;
			}
		case NUMERICOID:
			v = DatumGetFloat4(DirectFunctionCall1(numeric_float4, d));
			break;
		default:
			elog(ERROR, "unsupported array element type %u", elemtype);
	}
	CheckVectorElement(v);
	return v;
}

PG_FUNCTION_INFO_V1(array_to_vector);

/*
 * Cast from integer[], real[], double precision[] or numeric[]
 */
Datum
array_to_vector(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	Vector	   *result;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("array must be 1-D"),
				 errhint("Use a one-dimensional array such as ARRAY[1,2,3].")));
	if (array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array must not contain nulls")));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign, &elems, &nulls, &n);
	CheckVectorDim(n);
	check_typmod(n, typmod);

	result = InitVector(n);
	for (int i = 0; i < n; i++)
		result->x[i] = array_element_to_float(elems[i], elemtype);
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_to_float4);

/*
 * Cast to real[]
 */
Datum
vector_to_float4(PG_FUNCTION_ARGS)
{
	Vector	   *vec = PG_GETARG_VECTOR_P(0);
	Datum	   *d = palloc(sizeof(Datum) * vec->dim);

	for (int i = 0; i < vec->dim; i++)
		d[i] = Float4GetDatum(vec->x[i]);
	PG_RETURN_POINTER(construct_array(d, vec->dim, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT));
}

typedef enum ElementOp
{
	ELEMENT_ADD,
	ELEMENT_SUB,
	ELEMENT_MUL
} ElementOp;

/*
 * Element-wise arithmetic on two vectors of equal dimensions, with the
 * range checks of real: overflow, and for products underflow to zero
 */
static Vector *
elementwise(FunctionCallInfo fcinfo, ElementOp op)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *r;

	CheckVectorDims(a, b);
	r = InitVector(a->dim);
	switch (op)
	{
		case ELEMENT_ADD:
			for (int i = 0; i < a->dim; i++)
				r->x[i] = a->x[i] + b->x[i];
			break;
		case ELEMENT_SUB:
			for (int i = 0; i < a->dim; i++)
				r->x[i] = a->x[i] - b->x[i];
			break;
		case ELEMENT_MUL:
			for (int i = 0; i < a->dim; i++)
				r->x[i] = a->x[i] * b->x[i];
			break;
	}
	check_result(r);
	if (op == ELEMENT_MUL)
		for (int i = 0; i < a->dim; i++)
			if (r->x[i] == 0 && a->x[i] != 0 && b->x[i] != 0)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("value out of range: underflow")));
	return r;
}

PG_FUNCTION_INFO_V1(vector_add);

/*
 * Element-wise sum
 */
Datum
vector_add(PG_FUNCTION_ARGS)
{
	PG_RETURN_VECTOR_P(elementwise(fcinfo, ELEMENT_ADD));
}

PG_FUNCTION_INFO_V1(vector_sub);

/*
 * Element-wise difference
 */
Datum
vector_sub(PG_FUNCTION_ARGS)
{
	PG_RETURN_VECTOR_P(elementwise(fcinfo, ELEMENT_SUB));
}

PG_FUNCTION_INFO_V1(vector_mul);

/*
 * Element-wise product; an underflow to zero is an error, as for real
 */
Datum
vector_mul(PG_FUNCTION_ARGS)
{
	PG_RETURN_VECTOR_P(elementwise(fcinfo, ELEMENT_MUL));
}

PG_FUNCTION_INFO_V1(vector_concat);

/*
 * Concatenation
 */
Datum
vector_concat(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *r;

	CheckVectorDim(a->dim + b->dim);
	r = InitVector(a->dim + b->dim);
	memcpy(r->x, a->x, sizeof(float) * a->dim);
	memcpy(r->x + a->dim, b->x, sizeof(float) * b->dim);
	PG_RETURN_VECTOR_P(r);
}

/*
 * Total order: element by element, then the shorter vector first
 */
static int
vector_cmp_internal(const Vector *a, const Vector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	if (a->dim != b->dim)
		return a->dim < b->dim ? -1 : 1;
	return 0;
}

#define VECTOR_CMP_FUNC(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	Vector	   *a = PG_GETARG_VECTOR_P(0); \
	Vector	   *b = PG_GETARG_VECTOR_P(1); \
	int			c = vector_cmp_internal(a, b); \
\
	PG_FREE_IF_COPY(a, 0); \
	PG_FREE_IF_COPY(b, 1); \
	expr; \
}

/* Comparison operators and the btree support function */
VECTOR_CMP_FUNC(vector_lt, PG_RETURN_BOOL(c < 0))
VECTOR_CMP_FUNC(vector_le, PG_RETURN_BOOL(c <= 0))
VECTOR_CMP_FUNC(vector_eq, PG_RETURN_BOOL(c == 0))
VECTOR_CMP_FUNC(vector_ne, PG_RETURN_BOOL(c != 0))
VECTOR_CMP_FUNC(vector_ge, PG_RETURN_BOOL(c >= 0))
VECTOR_CMP_FUNC(vector_gt, PG_RETURN_BOOL(c > 0))
VECTOR_CMP_FUNC(vector_cmp, PG_RETURN_INT32(c))

/*
 * Bits of an element for hashing; -0 and 0 are equal, so hash alike
 */
static inline uint32
element_bits(float f)
{
	union
	{
		float		f;
		uint32		u;
	}			v;

	v.f = (f == 0) ? 0.0f : f;
	return v.u;
}

/*
 * Seeded 64-bit hash of a vector; -0 and 0 hash alike
 */
static uint64
vector_hash_internal(const Vector *v, uint64 seed)
{
	uint64		h = hash_bytes_uint32_extended((uint32) v->dim, seed);

	for (int i = 0; i < v->dim; i++)
		h = hash_combine64(h, hash_bytes_uint32_extended(element_bits(v->x[i]), seed));
	return h;
}

PG_FUNCTION_INFO_V1(vector_hash);

/*
 * Hash opclass support: the low 32 bits of the seed-0 extended hash
 */
Datum
vector_hash(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	uint32		h = (uint32) vector_hash_internal(v, 0);

	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_UINT32(h);
}

PG_FUNCTION_INFO_V1(vector_hash_extended);

/*
 * 64-bit seeded hash, for hash partitioning
 */
Datum
vector_hash_extended(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	uint64		h = vector_hash_internal(v, PG_GETARG_INT64(1));

	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_UINT64(h);
}

PG_FUNCTION_INFO_V1(vector_dims);

/*
 * Number of dimensions
 */
Datum
vector_dims(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	PG_RETURN_INT32(v->dim);
}

PG_FUNCTION_INFO_V1(vector_norm);

/*
 * Euclidean norm
 */
Datum
vector_norm(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	PG_RETURN_FLOAT8(VectorNorm(v->dim, v->x));
}

PG_FUNCTION_INFO_V1(l2_normalize);

/*
 * Scale to unit length; the zero vector stays zero
 */
Datum
l2_normalize(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	double		norm = VectorNorm(v->dim, v->x);
	Vector	   *r = InitVector(v->dim);

	if (norm > 0)
		for (int i = 0; i < v->dim; i++)
			r->x[i] = (float) (v->x[i] / norm);
	PG_RETURN_VECTOR_P(r);
}

PG_FUNCTION_INFO_V1(subvector);

/*
 * Elements start .. start + count - 1 (1-based), clipped to the vector
 */
Datum
subvector(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	int64		start = PG_GETARG_INT32(1);
	int64		end = start + (int64) PG_GETARG_INT32(2);
	Vector	   *r;

	if (start < 1)
		start = 1;
	if (end > (int64) v->dim + 1)
		end = (int64) v->dim + 1;
	if (end <= start)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector must have at least 1 dimension"),
				 errhint("The range given to subvector does not overlap the vector's %d dimensions.", v->dim)));
	r = InitVector((int) (end - start));
	memcpy(r->x, v->x + (start - 1), sizeof(float) * r->dim);
	PG_RETURN_VECTOR_P(r);
}

/*
 * Aggregate state: a float8[] of {count, sum_1, ..., sum_dim}.  It starts
 * as '{0}' and grows to dim + 1 elements at the first row.  Inside an
 * aggregate the state is updated in place.
 */
static ArrayType *
new_agg_state(int dim)
{
	Datum	   *d = palloc(sizeof(Datum) * (dim + 1));

	for (int i = 0; i <= dim; i++)
		d[i] = Float8GetDatum(0.0);
	return construct_array(d, dim + 1, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * The state's elements, after checking it is a plain float8 array
 */
static float8 *
agg_state_values(ArrayType *state, int *n)
{
	float8	   *s;

	if (ARR_NDIM(state) != 1 || ARR_HASNULL(state) || ARR_ELEMTYPE(state) != FLOAT8OID ||
		ARR_DIMS(state)[0] < 1 || ARR_DIMS(state)[0] > VECTOR_MAX_DIM + 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid vector aggregate state"),
				 errdetail("The state must be a one-dimensional double precision array {count, sum_1, ..., sum_n} without nulls.")));
	*n = ARR_DIMS(state)[0];
	s = (float8 *) ARR_DATA_PTR(state);
	if (!(s[0] >= 0) || isinf(s[0]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid vector aggregate state"),
				 errdetail("The count must be a finite number of at least zero.")));
	return s;
}

PG_FUNCTION_INFO_V1(vector_accum);

/*
 * Transition function of avg(vector) and sum(vector)
 */
Datum
vector_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	Vector	   *v = PG_GETARG_VECTOR_P(1);
	float8	   *s;
	int			n;

	s = agg_state_values(state, &n);
	if (s[0] == 0 || n == 1)
	{
		/* first row: a state of the right size */
		state = new_agg_state(v->dim);
		s = agg_state_values(state, &n);
	}
	else if (!AggCheckCallContext(fcinfo, NULL))
	{
		/* called outside an aggregate: never scribble on the input */
		state = DatumGetArrayTypePCopy(PG_GETARG_DATUM(0));
		s = agg_state_values(state, &n);
	}
	if (n - 1 != v->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", n - 1, v->dim),
				 errhint("All vectors in an aggregate must have the same number of dimensions.")));
	s[0] += 1;
	for (int i = 0; i < v->dim; i++)
		s[i + 1] += v->x[i];
	PG_RETURN_ARRAYTYPE_P(state);
}

PG_FUNCTION_INFO_V1(vector_combine);

/*
 * Combine function: merge two partial states (parallel aggregation)
 */
Datum
vector_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *s1 = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *s2 = PG_GETARG_ARRAYTYPE_P(1);
	float8	   *a;
	float8	   *b;
	int			na;
	int			nb;

	a = agg_state_values(s1, &na);
	b = agg_state_values(s2, &nb);
	if (b[0] == 0)
		PG_RETURN_ARRAYTYPE_P(s1);
	if (a[0] == 0)
		PG_RETURN_ARRAYTYPE_P(s2);
	if (na != nb)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", na - 1, nb - 1),
				 errhint("All vectors in an aggregate must have the same number of dimensions.")));
	if (!AggCheckCallContext(fcinfo, NULL))
	{
		s1 = DatumGetArrayTypePCopy(PG_GETARG_DATUM(0));
		a = agg_state_values(s1, &na);
	}
	for (int i = 0; i < na; i++)
		a[i] += b[i];
	PG_RETURN_ARRAYTYPE_P(s1);
}

/*
 * Final step shared by avg and sum: divide the sums by divisor
 */
static Datum
agg_final(ArrayType *state, bool average)
{
	int			n;
	float8	   *s = agg_state_values(state, &n);
	Vector	   *r;

	if (s[0] == 0)
		return (Datum) 0;
	r = InitVector(n - 1);
	for (int i = 1; i < n; i++)
	{
		double		v = average ? s[i] / s[0] : s[i];

		if (isnan(v))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("NaN not allowed in vector")));
		if (fabs(v) > FLT_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value out of range: overflow")));
		r->x[i - 1] = (float) v;
	}
	return PointerGetDatum(r);
}

PG_FUNCTION_INFO_V1(vector_avg);

/*
 * Final function of avg(vector); NULL for no rows
 */
Datum
vector_avg(PG_FUNCTION_ARGS)
{
	Datum		r = agg_final(PG_GETARG_ARRAYTYPE_P(0), true);

	if (r == (Datum) 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(r);
}

PG_FUNCTION_INFO_V1(vector_sum);

/*
 * Final function of sum(vector); NULL for no rows
 */
Datum
vector_sum(PG_FUNCTION_ARGS)
{
	Datum		r = agg_final(PG_GETARG_ARRAYTYPE_P(0), false);

	if (r == (Datum) 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(r);
}
