/*-------------------------------------------------------------------------
 *
 * test_tokenize.c
 *		The tokenizer of vecrec.embed_text, built outside the server from
 *		the same source (src/rec/tokenize.c), checked exhaustively.
 *
 * Prints TAP:
 *	- every code point: its lower case is a word character whenever it is
 *	  one, lower-casing is idempotent, and never lengthens the UTF-8;
 *	- the decoder accepts exactly the well-formed sequences (against an
 *	  encoder round trip for every code point, and rejects surrogates,
 *	  overlong forms, code points above U+10FFFF, stray continuation bytes);
 *	- random byte strings (a fixed seed): words are well-formed UTF-8, no
 *	  longer in total than the input, and never contain a separator;
 *	- a few fixed sentences.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * test/tokenize/test_tokenize.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenize.h"

static int	ntests = 0;
static int	nfailed = 0;

static void
check(int ok, const char *what)
{
	ntests++;
	if (!ok)
		nfailed++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", ntests, what);
}

/* Every code point: classification and lower case */
static void
test_code_points(void)
{
	int			bad_class = 0;
	int			bad_idem = 0;
	int			bad_len = 0;
	int			bad_round = 0;

	for (uint32_t cp = 0; cp <= 0x10FFFF; cp++)
	{
		uint32_t	lower;
		uint32_t	lower2;
		unsigned char a[4];
		unsigned char b[4];
		uint32_t	back;
		int			cls;

		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		cls = VrClassify(cp, &lower);
		if (cls == VR_CP_WORD && VrClassify(lower, &lower2) != VR_CP_WORD)
			bad_class++;
		else if (cls == VR_CP_WORD && lower2 != lower)
			bad_idem++;
		if (VrUtf8Encode(lower, b) > VrUtf8Encode(cp, a))
			bad_len++;
		if (VrUtf8Decode(a, 4, &back) != VrUtf8Encode(cp, a) || back != cp)
			bad_round++;
	}
	check(bad_class == 0, "the lower case of every word character is a word character");
	check(bad_idem == 0, "lower-casing is idempotent");
	check(bad_len == 0, "lower-casing never lengthens a code point's UTF-8");
	check(bad_round == 0, "every code point decodes back from its UTF-8");
}

/* Malformed sequences the decoder must refuse */
static void
test_malformed(void)
{
	static const char *const bad[] = {
		"\x80", "\xBF", "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xE0\x9F\xBF",
		"\xED\xA0\x80", "\xED\xBF\xBF", "\xF0\x80\x80\x80", "\xF0\x8F\xBF\xBF",
		"\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\xC3", "\xE2\x82", "\xF0\x9F\x98",
		"\xC3\x28", "\xE2\x28\xA1",
	};
	int			wrong = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		uint32_t	cp;

		if (VrUtf8Decode((const unsigned char *) bad[i], strlen(bad[i]), &cp) != 0)
			wrong++;
	}
	check(wrong == 0, "malformed UTF-8 sequences are refused");
}

/* Is s[0 .. n - 1] well-formed UTF-8 made of word characters only? */
static int
valid_word(const char *s, size_t n)
{
	size_t		i = 0;

	while (i < n)
	{
		uint32_t	cp;
		uint32_t	lower;
		int			l = VrUtf8Decode((const unsigned char *) s + i, n - i, &cp);

		if (l == 0 || VrClassify(cp, &lower) != VR_CP_WORD)
			return 0;
		i += l;
	}
	return n > 0;
}

/* Random bytes, biased towards UTF-8 lead and continuation bytes */
static void
test_random(void)
{
	char		in[256];
	char		out[256];
	int			bad = 0;

	srand(12345);
	for (int round = 0; round < 200000; round++)
	{
		size_t		len = (size_t) (rand() % 64);
		size_t		total = 0;
		size_t		n;
		VrTokenizer tk;

		for (size_t i = 0; i < len; i++)
		{
			int			r = rand() % 8;

			in[i] = (char) (r < 3 ? 'A' + rand() % 58 : r < 5 ? 0x80 + rand() % 64 : rand() % 256);
		}
		VrTokenizerInit(&tk, in, len);
		while ((n = VrTokenNext(&tk, out + total)) > 0)
		{
			if (!valid_word(out + total, n))
				bad++;
			total += n;
			if (total > len)
				break;
		}
		if (total > len)
			bad++;
		n = VrLowerUtf8(in, len, out);
		if (n > len)
			bad++;
	}
	check(bad == 0, "random bytes: words are well-formed, word characters only, never longer than the input");
}

/* The words of s joined by '|' */
static const char *
words(const char *s)
{
	static char res[512];
	char		buf[256];
	size_t		r = 0;
	size_t		n;
	VrTokenizer tk;

	VrTokenizerInit(&tk, s, strlen(s));
	while ((n = VrTokenNext(&tk, buf)) > 0)
	{
		if (r > 0)
			res[r++] = '|';
		memcpy(res + r, buf, n);
		r += n;
	}
	res[r] = '\0';
	return res;
}

static void
test_fixed(void)
{
	check(strcmp(words("Summer PATIO furniture, under 500!"), "summer|patio|furniture|under|500") == 0,
		  "ASCII sentence");
	check(strcmp(words(""), "") == 0 && strcmp(words(" ,;-- "), "") == 0, "no words");
	check(strcmp(words("\xC3\x9C" "ber Stra\xC3\x9F" "e"), "\xC3\xBC" "ber|stra\xC3\x9F" "e") == 0,
		  "Latin-1 letters are lower-cased");
	check(strcmp(words("\xD0\x9C\xD0\x9E\xD0\xA1\xD0\x9A\xD0\x92\xD0\x90"),
				 "\xD0\xBC\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0") == 0, "Cyrillic is lower-cased");
	check(strcmp(words("ab\xFF" "cd\xC3"), "ab|cd") == 0, "invalid bytes separate words");
	check(strcmp(words("\xF0\x9F\x98\x80smile"), "smile") == 0, "emoji are separators");
}

int
main(void)
{
	test_code_points();
	test_malformed();
	test_random();
	test_fixed();
	printf("1..%d\n", ntests);
	return nfailed != 0;
}
