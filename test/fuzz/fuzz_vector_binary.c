/*-------------------------------------------------------------------------
 *
 * fuzz_vector_binary.c
 *		libFuzzer harness for the vector type's binary (recv) parser
 *		(src/vecparse.c), built outside the server.
 *
 * Properties checked on every input (abort() on a violation):
 *	- the header check and the full parse agree on dim and on the error;
 *	- a parsed vector consumed exactly 4 + 4 * dim bytes, no more than
 *	  were given, has finite elements, and its big-endian encoding is the
 *	  input's prefix byte for byte (no value is altered);
 *	- a buffer of exactly dim floats is never overrun (ASan).
 *
 * Copyright (c) 2026, vecrec developers
 *
 * test/fuzz/fuzz_vector_binary.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vecparse.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	VecParseResult head;
	VecParseResult res;
	VecParseStatus hstatus = VecParseBinaryHeader(data, size, &head);
	VecParseStatus status;
	float	   *x;

	if (hstatus != VP_OK)
	{
		/* the full parse must fail the same way, writing nothing */
		if (VecParseBinary(data, size, NULL, 0, &res) != hstatus)
			abort();
		return 0;
	}
	if (head.dim < 1 || head.dim > VECPARSE_MAX_DIM || 4 + 4 * (size_t) head.dim > size)
		abort();
	/* too small a buffer is refused before anything is written */
	if (VecParseBinary(data, size, NULL, head.dim - 1, &res) != VP_NO_ROOM)
		abort();

	x = malloc(sizeof(float) * (size_t) head.dim);
	status = VecParseBinary(data, size, x, head.dim, &res);
	if (status == VP_OK)
	{
		if (res.dim != head.dim || res.consumed != 4 + 4 * (size_t) res.dim)
			abort();
		for (int i = 0; i < res.dim; i++)
		{
			uint32_t	u;
			const uint8_t *p = data + 4 + 4 * (size_t) i;

			if (!isfinite(x[i]))
				abort();
			memcpy(&u, &x[i], 4);
			if (p[0] != (u >> 24) || p[1] != ((u >> 16) & 0xff) ||
				p[2] != ((u >> 8) & 0xff) || p[3] != (u & 0xff))
				abort();
		}
	}
	else if (status != VP_NAN && status != VP_INFINITE)
		abort();
	free(x);
	return 0;
}
