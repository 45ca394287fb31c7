/*-------------------------------------------------------------------------
 *
 * fuzz_tokenize.c
 *		libFuzzer harness for the tokenizer of vecrec.embed_text
 *		(src/rec/tokenize.c), built outside the server.
 *
 * Properties checked on every input (abort() on a violation):
 *	- words are non-empty, well-formed UTF-8, made only of word characters
 *	  that are already lower case, and no longer in total than the input;
 *	- the tokenizer always advances and stops within the input;
 *	- tokenizing the concatenated words (space separated) gives the same
 *	  words again (tokenizing is idempotent);
 *	- VrLowerUtf8 never lengthens the text and is idempotent;
 *	- no read or write outside the buffers (ASan; the input is copied to a
 *	  buffer of exactly its size, without a NUL).
 *
 * Copyright (c) 2026, vecrec developers
 *
 * test/fuzz/fuzz_tokenize.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenize.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Check one word: well-formed, word characters only, lower case */
static void
check_word(const char *w, size_t n)
{
	size_t		i = 0;

	if (n == 0)
		abort();
	while (i < n)
	{
		uint32_t	cp;
		uint32_t	lower;
		int			len = VrUtf8Decode((const unsigned char *) w + i, n - i, &cp);

		if (len <= 0)
			abort();
		if (VrClassify(cp, &lower) != VR_CP_WORD || lower != cp)
			abort();
		i += len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *in = malloc(size ? size : 1);
	char	   *word = malloc(size ? size : 1);
	char	   *all = malloc(2 * size + 1);
	char	   *again = malloc(2 * size + 1);
	char	   *low = malloc(size ? size : 1);
	char	   *low2 = malloc(size ? size : 1);
	size_t		alllen = 0;
	size_t		total = 0;
	size_t		n;
	size_t		lowlen;
	VrTokenizer t;

	memcpy(in, data, size);
	VrTokenizerInit(&t, in, size);
	while ((n = VrTokenNext(&t, word)) > 0)
	{
		check_word(word, n);
		total += n;
		if (total > size || t.p > t.end)
			abort();
		memcpy(all + alllen, word, n);
		alllen += n;
		all[alllen++] = ' ';
	}

	/* the words, tokenized again, are the same words */
	all[alllen] = '\0';
	VrTokenizerInit(&t, all, alllen);
	for (size_t off = 0; off < alllen;)
	{
		size_t		len = strchr(all + off, ' ') - (all + off);

		if (VrTokenNext(&t, again) != len || memcmp(again, all + off, len) != 0)
			abort();
		off += len + 1;
	}
	if (VrTokenNext(&t, again) != 0)
		abort();

	/* lower-casing: never longer, idempotent */
	lowlen = VrLowerUtf8(in, size, low);
	if (lowlen > size || VrLowerUtf8(low, lowlen, low2) != lowlen ||
		memcmp(low, low2, lowlen) != 0)
		abort();

	free(in);
	free(word);
	free(all);
	free(again);
	free(low);
	free(low2);
	return 0;
}
