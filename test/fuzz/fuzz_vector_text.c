/*-------------------------------------------------------------------------
 *
 * fuzz_vector_text.c
 *		libFuzzer harness for the vector type's text parser (src/vecparse.c),
 *		built outside the server.
 *
 * Properties checked on every input (abort() on a violation, which the
 * fuzzer and the corpus replay report as a crash):
 *	- VecParseTextCapacity gives enough room: the parser never reports
 *	  VP_NO_ROOM, and never writes past the buffer (ASan);
 *	- a parsed vector has 1 .. VECPARSE_MAX_DIM finite elements, and the
 *	  text printed with "%.9g" parses back to the same floats;
 *	- an error position lies inside the literal.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * test/fuzz/fuzz_vector_text.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vecparse.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print x as a literal and parse it back */
static void
check_round_trip(const float *x, int dim)
{
	char	   *buf = malloc((size_t) dim * 20 + 3);
	char	   *p = buf;
	float	   *y = malloc(sizeof(float) * (size_t) dim);
	VecParseResult res;

	*p++ = '[';
	for (int i = 0; i < dim; i++)
		p += sprintf(p, "%s%.9g", i ? "," : "", x[i]);
	*p++ = ']';
	*p = '\0';
	if (VecParseTextCapacity(buf) < dim ||
		VecParseText(buf, y, dim, &res) != VP_OK || res.dim != dim)
		abort();
	for (int i = 0; i < dim; i++)
		if (memcmp(&x[i], &y[i], sizeof(float)) != 0 && !(x[i] == 0 && y[i] == 0))
			abort();
	free(buf);
	free(y);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *lit = malloc(size + 1);
	int			capacity;
	float	   *x;
	VecParseResult res;
	VecParseStatus status;

	/* the server hands the parser a NUL-terminated C string */
	memcpy(lit, data, size);
	lit[size] = '\0';
	capacity = VecParseTextCapacity(lit);
	if (capacity < 0 || capacity > VECPARSE_MAX_DIM)
		abort();
	/* exactly capacity floats, so ASan sees any write past them */
	x = capacity > 0 ? malloc(sizeof(float) * (size_t) capacity) : NULL;
	status = VecParseText(lit, x, capacity, &res);
	if (status == VP_NO_ROOM)
		abort();
	if (status == VP_OK)
	{
		if (res.dim < 1 || res.dim > capacity)
			abort();
		for (int i = 0; i < res.dim; i++)
			if (!isfinite(x[i]))
				abort();
		check_round_trip(x, res.dim);
	}
	else if (res.pos < 0 || (size_t) res.pos > strlen(lit) ||
			 (size_t) res.pos + res.toklen > strlen(lit))
		abort();
	free(x);
	free(lit);
	return 0;
}
