/*-------------------------------------------------------------------------
 *
 * vecparse.h
 *		The text and binary parsers of the vector type, independent of
 *		PostgreSQL.
 *
 * vector_in and vector_recv (vector.c) allocate the datum and turn the
 * status codes below into ereport calls; everything that looks at the
 * input bytes is here.  Only libc is used, so the fuzzers in test/fuzz
 * link vecparse.c outside the server (as test/tokenize does with
 * src/rec/tokenize.c).
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/vecparse.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECREC_VECPARSE_H
#define VECREC_VECPARSE_H

#include <stddef.h>

/* the same as VECTOR_MAX_DIM (vector.c checks that they agree) */
#define VECPARSE_MAX_DIM 16000

/* Outcome of a parse; VP_OK or the error vector.c reports */
typedef enum VecParseStatus
{
	VP_OK = 0,
	VP_NO_BRACKET,				/* text: does not start with "[" */
	VP_EMPTY,					/* text: "[]" */
	VP_TOO_MANY,				/* more than VECPARSE_MAX_DIM elements */
	VP_EXPECTED_NUMBER,			/* text: no number at pos */
	VP_NAN,						/* an element is NaN */
	VP_OUT_OF_RANGE,			/* text: overflow or underflow of the token at pos */
	VP_INFINITE,				/* an element is infinite */
	VP_EXPECTED_SEPARATOR,		/* text: no "," or "]" at pos */
	VP_JUNK,					/* text: something after "]" */
	VP_SHORT_HEADER,			/* binary: fewer than 4 bytes */
	VP_BAD_DIM,					/* binary: dim outside 1 .. VECPARSE_MAX_DIM */
	VP_BAD_RESERVED,			/* binary: reserved field not zero */
	VP_SHORT_DATA,				/* binary: fewer bytes than dim floats */
	VP_NO_ROOM					/* the caller's buffer is too small (a bug) */
} VecParseStatus;

/* What a parse found */
typedef struct VecParseResult
{
	int			dim;			/* elements written (VP_OK), or the binary header's */
	int			reserved;		/* binary: the reserved field */
	int			pos;			/* text: 0-based offset of the error */
	int			toklen;			/* text: length of the out-of-range token */
	size_t		consumed;		/* binary: bytes read (VP_OK) */
	size_t		avail;			/* binary: bytes left after the header */
} VecParseResult;

/*
 * Room a text literal needs: an upper bound for its elements (one more
 * than its commas, at most VECPARSE_MAX_DIM), or 0 when VecParseText will
 * fail before writing any element.
 */
extern int	VecParseTextCapacity(const char *lit);

/*
 * Parse a NUL-terminated text literal such as '[1, 2.5, -3e-2]' into
 * x[0 .. capacity - 1]
 */
extern VecParseStatus VecParseText(const char *lit, float *x, int capacity,
								   VecParseResult *res);

/*
 * Read the binary header (int16 dim, int16 reserved, both big-endian) of
 * len bytes at data: VP_OK and res->dim, or an error
 */
extern VecParseStatus VecParseBinaryHeader(const unsigned char *data, size_t len,
										   VecParseResult *res);

/*
 * Parse a whole binary vector (header, then dim big-endian float4s) into
 * x[0 .. capacity - 1]; res->consumed is the bytes read
 */
extern VecParseStatus VecParseBinary(const unsigned char *data, size_t len,
									 float *x, int capacity, VecParseResult *res);

#endif							/* VECREC_VECPARSE_H */
