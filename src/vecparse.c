/*-------------------------------------------------------------------------
 *
 * vecparse.c
 *		The text and binary parsers of the vector type, independent of
 *		PostgreSQL (see vecparse.h).
 *
 * Text:	optional spaces, "[", numbers separated by ",", "]", optional
 *			spaces.  A number is what strtof() accepts, except that it must
 *			not start with a space or be NaN, and must fit in float4 without
 *			overflowing or underflowing to zero (denormals are kept).
 * Binary:	int16 dim, int16 reserved (zero), dim float4s, all big-endian;
 *			every element finite.
 *
 * No allocation and no global state: the caller gives the output buffer,
 * sized with VecParseTextCapacity or the binary header's dim.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/vecparse.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vecparse.h"

/* The white space the text format allows around elements and brackets */
static inline int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* First non-space at or after p */
static inline const char *
skip_space(const char *p)
{
	while (is_space(*p))
		p++;
	return p;
}

/* Record an error at p and return it */
static VecParseStatus
text_error(VecParseResult *res, VecParseStatus status, const char *lit, const char *p)
{
	res->pos = (int) (p - lit);
	return status;
}

/*
 * One more than the commas after the opening bracket, capped at the
 * maximum; 0 when the literal fails before its first element
 */
int
VecParseTextCapacity(const char *lit)
{
	const char *p = skip_space(lit);
	int			n = 1;

	if (*p != '[')
		return 0;
	p = skip_space(p + 1);
	if (*p == ']')
		return 0;
	for (; *p && n <= VECPARSE_MAX_DIM; p++)
		if (*p == ',')
			n++;
	return n < VECPARSE_MAX_DIM ? n : VECPARSE_MAX_DIM;
}

/*
 * Parse a text literal (see the file header)
 */
VecParseStatus
VecParseText(const char *lit, float *x, int capacity, VecParseResult *res)
{
	const char *p = skip_space(lit);
	int			dim = 0;

	memset(res, 0, sizeof(*res));
	if (*p != '[')
		return text_error(res, VP_NO_BRACKET, lit, p);
	p = skip_space(p + 1);
	if (*p == ']')
		return text_error(res, VP_EMPTY, lit, p);

	for (;;)
	{
		char	   *end;
		float		val;

		if (dim == VECPARSE_MAX_DIM)
			return text_error(res, VP_TOO_MANY, lit, p);
		if (dim >= capacity)
			return text_error(res, VP_NO_ROOM, lit, p);

		/* strtof would skip leading spaces and accept "nan"; be strict */
		if (*p == '\0' || is_space(*p) || *p == ',' || *p == ']')
			return text_error(res, VP_EXPECTED_NUMBER, lit, p);
		errno = 0;
		val = strtof(p, &end);
		if (end == p)
			return text_error(res, VP_EXPECTED_NUMBER, lit, p);
		if (isnan(val))
			return text_error(res, VP_NAN, lit, p);
		if (errno == ERANGE && (val == 0 || isinf(val)))
		{
			res->toklen = (int) (end - p);
			return text_error(res, VP_OUT_OF_RANGE, lit, p);
		}
		if (isinf(val))
			return text_error(res, VP_INFINITE, lit, p);
		x[dim++] = val;

		p = skip_space(end);
		if (*p == ',')
			p = skip_space(p + 1);
		else if (*p == ']')
			break;
		else
			return text_error(res, VP_EXPECTED_SEPARATOR, lit, p);
	}

	p = skip_space(p + 1);
	if (*p != '\0')
		return text_error(res, VP_JUNK, lit, p);
	res->dim = dim;
	return VP_OK;
}

/* Big-endian int16 at p */
static inline int
get_int16(const unsigned char *p)
{
	return (int16_t) (uint16_t) ((p[0] << 8) | p[1]);
}

/* Big-endian float4 at p */
static inline float
get_float4(const unsigned char *p)
{
	uint32_t	u = ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | (uint32_t) p[3];
	float		f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/*
 * Check the binary header and that the data holds dim elements
 */
VecParseStatus
VecParseBinaryHeader(const unsigned char *data, size_t len, VecParseResult *res)
{
	memset(res, 0, sizeof(*res));
	if (len < 4)
		return VP_SHORT_HEADER;
	res->dim = get_int16(data);
	res->reserved = get_int16(data + 2);
	res->avail = len - 4;
	if (res->dim < 1 || res->dim > VECPARSE_MAX_DIM)
		return VP_BAD_DIM;
	if (res->reserved != 0)
		return VP_BAD_RESERVED;
	if (res->avail < sizeof(float) * (size_t) res->dim)
		return VP_SHORT_DATA;
	return VP_OK;
}

/*
 * Parse a binary vector (see the file header)
 */
VecParseStatus
VecParseBinary(const unsigned char *data, size_t len, float *x, int capacity,
			   VecParseResult *res)
{
	VecParseStatus status = VecParseBinaryHeader(data, len, res);

	if (status != VP_OK)
		return status;
	if (res->dim > capacity)
		return VP_NO_ROOM;
	for (int i = 0; i < res->dim; i++)
	{
		float		val = get_float4(data + 4 + 4 * (size_t) i);

		if (isnan(val))
			return VP_NAN;
		if (isinf(val))
			return VP_INFINITE;
		x[i] = val;
	}
	res->consumed = 4 + sizeof(float) * (size_t) res->dim;
	return VP_OK;
}
