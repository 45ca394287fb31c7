/*-------------------------------------------------------------------------
 *
 * tokenize.c
 *		Split UTF-8 text into lower-cased words, using only libc.
 *
 * vecrec.embed_text() runs every title through this code, and a fuzzer
 * will link it outside the server:
 *
 *	cc -fsanitize=fuzzer,address -Isrc/rec src/rec/tokenize.c fuzz.c
 *
 * so nothing here may include postgres.h, allocate, or read past the
 * bytes it is given.
 *
 * Decoding follows RFC 3629: overlong forms, surrogates (U+D800..DFFF),
 * code points above U+10FFFF and truncated sequences are invalid.  An
 * invalid lead byte counts as one separator byte and decoding resumes at
 * the next byte, so any input is split without error.
 *
 * Classification is a sorted table of code point ranges, searched by
 * bisection.  It is an approximation of Unicode's Alphabetic and Nd
 * properties good enough for product titles, not a full implementation:
 * letters of the common alphabetic scripts, ASCII and full-width digits,
 * Arabic-Indic digits, combining marks (so decomposed accents stay inside
 * their word), kana, Hangul and CJK ideographs.  Every lower-case mapping
 * in the table encodes to at most as many bytes as its upper-case letter,
 * which is what lets VrTokenNext write into a buffer the size of its input.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/tokenize.c
 *
 *-------------------------------------------------------------------------
 */
#include "tokenize.h"

/* How a range maps to lower case */
typedef enum
{
	CASE_NONE,					/* word characters without case */
	CASE_DELTA,					/* lower = cp + delta */
	CASE_EVEN,					/* even code points are upper case: lower = cp + 1 */
	CASE_ODD					/* odd code points are upper case: lower = cp + 1 */
} CaseKind;

typedef struct CpRange
{
	uint32_t	lo;
	uint32_t	hi;
	CaseKind	kind;
	int32_t		delta;
} CpRange;

/*
 * Word characters, sorted by lo, ranges disjoint.  Anything not listed is a
 * separator.
 */
static const CpRange word_ranges[] = {
	{0x0030, 0x0039, CASE_NONE, 0},	/* 0-9 */
	{0x0041, 0x005A, CASE_DELTA, 0x20},	/* A-Z */
	{0x0061, 0x007A, CASE_NONE, 0},	/* a-z */
	{0x00AA, 0x00AA, CASE_NONE, 0},
	{0x00B5, 0x00B5, CASE_NONE, 0},
	{0x00BA, 0x00BA, CASE_NONE, 0},
	{0x00C0, 0x00D6, CASE_DELTA, 0x20},	/* À-Ö */
	{0x00D8, 0x00DE, CASE_DELTA, 0x20},	/* Ø-Þ */
	{0x00DF, 0x00F6, CASE_NONE, 0},
	{0x00F8, 0x00FF, CASE_NONE, 0},
	{0x0100, 0x012F, CASE_EVEN, 0},	/* Latin Extended-A */
	{0x0130, 0x0130, CASE_DELTA, 0x69 - 0x130},	/* İ -> i */
	{0x0131, 0x0131, CASE_NONE, 0},
	{0x0132, 0x0137, CASE_EVEN, 0},
	{0x0138, 0x0138, CASE_NONE, 0},
	{0x0139, 0x0148, CASE_ODD, 0},
	{0x0149, 0x0149, CASE_NONE, 0},
	{0x014A, 0x0177, CASE_EVEN, 0},
	{0x0178, 0x0178, CASE_DELTA, 0x00FF - 0x0178},	/* Ÿ -> ÿ */
	{0x0179, 0x017E, CASE_ODD, 0},
	{0x017F, 0x01CC, CASE_NONE, 0},	/* Latin Extended-B (partly cased) */
	{0x01CD, 0x01DC, CASE_ODD, 0},
	{0x01DD, 0x01DD, CASE_NONE, 0},
	{0x01DE, 0x01EF, CASE_EVEN, 0},
	{0x01F0, 0x01F7, CASE_NONE, 0},
	{0x01F8, 0x021F, CASE_EVEN, 0},
	{0x0220, 0x0221, CASE_NONE, 0},
	{0x0222, 0x0233, CASE_EVEN, 0},
	{0x0234, 0x02C1, CASE_NONE, 0},	/* rest of Extended-B, IPA, modifier letters */
	{0x0300, 0x036F, CASE_NONE, 0},	/* combining diacritical marks */
	{0x0370, 0x0373, CASE_NONE, 0},
	{0x0376, 0x0377, CASE_NONE, 0},
	{0x037B, 0x037D, CASE_NONE, 0},
	{0x0386, 0x0386, CASE_DELTA, 0x03AC - 0x0386},	/* Greek */
	{0x0388, 0x038A, CASE_DELTA, 0x25},
	{0x038C, 0x038C, CASE_DELTA, 0x40},
	{0x038E, 0x038F, CASE_DELTA, 0x3F},
	{0x0390, 0x0390, CASE_NONE, 0},
	{0x0391, 0x03A1, CASE_DELTA, 0x20},
	{0x03A3, 0x03AB, CASE_DELTA, 0x20},
	{0x03AC, 0x03F5, CASE_NONE, 0},
	{0x03F7, 0x03FF, CASE_NONE, 0},
	{0x0400, 0x040F, CASE_DELTA, 0x50},	/* Cyrillic */
	{0x0410, 0x042F, CASE_DELTA, 0x20},
	{0x0430, 0x045F, CASE_NONE, 0},
	{0x0460, 0x0481, CASE_EVEN, 0},
	{0x0483, 0x0489, CASE_NONE, 0},
	{0x048A, 0x04BF, CASE_EVEN, 0},
	{0x04C0, 0x04C0, CASE_DELTA, 0x0F},
	{0x04C1, 0x04CE, CASE_ODD, 0},
	{0x04CF, 0x04CF, CASE_NONE, 0},
	{0x04D0, 0x052F, CASE_EVEN, 0},
	{0x0531, 0x0556, CASE_DELTA, 0x30},	/* Armenian */
	{0x0559, 0x0559, CASE_NONE, 0},
	{0x0561, 0x0587, CASE_NONE, 0},
	{0x0591, 0x05BD, CASE_NONE, 0},	/* Hebrew points */
	{0x05BF, 0x05BF, CASE_NONE, 0},
	{0x05C1, 0x05C2, CASE_NONE, 0},
	{0x05C4, 0x05C5, CASE_NONE, 0},
	{0x05C7, 0x05C7, CASE_NONE, 0},
	{0x05D0, 0x05EA, CASE_NONE, 0},	/* Hebrew letters */
	{0x05F0, 0x05F2, CASE_NONE, 0},
	{0x0610, 0x061A, CASE_NONE, 0},	/* Arabic marks */
	{0x0620, 0x0669, CASE_NONE, 0},	/* Arabic letters, marks, digits */
	{0x066E, 0x06D3, CASE_NONE, 0},
	{0x06D5, 0x06DC, CASE_NONE, 0},
	{0x06DF, 0x06E8, CASE_NONE, 0},
	{0x06EA, 0x06FC, CASE_NONE, 0},
	{0x0900, 0x0963, CASE_NONE, 0},	/* Devanagari (without dandas) */
	{0x0966, 0x0DFF, CASE_NONE, 0},	/* other Indic scripts, approximately */
	{0x0E01, 0x0E3A, CASE_NONE, 0},	/* Thai */
	{0x0E40, 0x0E4E, CASE_NONE, 0},
	{0x0E50, 0x0E59, CASE_NONE, 0},
	{0x10A0, 0x10FF, CASE_NONE, 0},	/* Georgian */
	{0x1100, 0x11FF, CASE_NONE, 0},	/* Hangul Jamo */
	{0x1E00, 0x1E95, CASE_EVEN, 0},	/* Latin Extended Additional */
	{0x1E96, 0x1E9D, CASE_NONE, 0},
	{0x1E9E, 0x1E9E, CASE_DELTA, 0x00DF - 0x1E9E},	/* ẞ -> ß */
	{0x1E9F, 0x1E9F, CASE_NONE, 0},
	{0x1EA0, 0x1EFF, CASE_EVEN, 0},
	{0x1F00, 0x1FBC, CASE_NONE, 0},	/* Greek Extended, without case */
	{0x1FC2, 0x1FCC, CASE_NONE, 0},
	{0x1FD0, 0x1FDB, CASE_NONE, 0},
	{0x1FE0, 0x1FEC, CASE_NONE, 0},
	{0x1FF2, 0x1FFC, CASE_NONE, 0},
	{0x3041, 0x3096, CASE_NONE, 0},	/* Hiragana */
	{0x3099, 0x309F, CASE_NONE, 0},
	{0x30A1, 0x30FA, CASE_NONE, 0},	/* Katakana */
	{0x30FC, 0x30FF, CASE_NONE, 0},
	{0x3400, 0x4DBF, CASE_NONE, 0},	/* CJK Extension A */
	{0x4E00, 0x9FFF, CASE_NONE, 0},	/* CJK Unified Ideographs */
	{0xAC00, 0xD7A3, CASE_NONE, 0},	/* Hangul syllables */
	{0xF900, 0xFAFF, CASE_NONE, 0},	/* CJK compatibility ideographs */
	{0xFF10, 0xFF19, CASE_NONE, 0},	/* full-width digits */
	{0xFF21, 0xFF3A, CASE_DELTA, 0x20},	/* full-width Latin */
	{0xFF41, 0xFF5A, CASE_NONE, 0},
	{0x20000, 0x2FA1F, CASE_NONE, 0},	/* CJK Extensions B-F, supplement */
};

#define N_WORD_RANGES (sizeof(word_ranges) / sizeof(word_ranges[0]))

/*
 * Start splitting s[0 .. len - 1]
 */
void
VrTokenizerInit(VrTokenizer *t, const char *s, size_t len)
{
	t->p = (const unsigned char *) s;
	t->end = t->p + len;
}

/*
 * Decode one UTF-8 sequence from s, which has n >= 1 bytes: its length in
 * bytes with *cp set, or 0 if s does not start a well-formed sequence
 */
int
VrUtf8Decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	int			len;
	uint32_t	v;
	uint32_t	min;

	if (c < 0x80)
	{
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
	{
		len = 2;
		v = c & 0x1F;
		min = 0x80;
	}
	else if (c >= 0xE0 && c <= 0xEF)
	{
		len = 3;
		v = c & 0x0F;
		min = 0x800;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		len = 4;
		v = c & 0x07;
		min = 0x10000;
	}
	else
		return 0;				/* continuation byte, C0/C1, F5..FF */
	if ((size_t) len > n)
		return 0;
	for (int i = 1; i < len; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

/*
 * Encode cp (at most U+10FFFF) as UTF-8 into out: its length in bytes
 */
int
VrUtf8Encode(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80)
	{
		out[0] = (unsigned char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		out[0] = (unsigned char) (0xC0 | (cp >> 6));
		out[1] = (unsigned char) (0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000)
	{
		out[0] = (unsigned char) (0xE0 | (cp >> 12));
		out[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
		out[2] = (unsigned char) (0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (unsigned char) (0xF0 | (cp >> 18));
	out[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3F));
	out[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
	out[3] = (unsigned char) (0x80 | (cp & 0x3F));
	return 4;
}

/*
 * The range holding cp, or NULL for a separator
 */
static const CpRange *
find_range(uint32_t cp)
{
	size_t		lo = 0;
	size_t		hi = N_WORD_RANGES;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (cp < word_ranges[mid].lo)
			hi = mid;
		else if (cp > word_ranges[mid].hi)
			lo = mid + 1;
		else
			return &word_ranges[mid];
	}
	return NULL;
}

/*
 * Class of cp; *lower gets its lower case (cp itself when it has none)
 */
int
VrClassify(uint32_t cp, uint32_t *lower)
{
	const CpRange *r;

	*lower = cp;
	if (cp < 0x80)
	{
		/* fast path for ASCII */
		if (cp >= 'A' && cp <= 'Z')
		{
			*lower = cp + 0x20;
			return VR_CP_WORD;
		}
		return ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) ?
			VR_CP_WORD : VR_CP_SEPARATOR;
	}
	r = find_range(cp);
	if (r == NULL)
		return VR_CP_SEPARATOR;
	switch (r->kind)
	{
		case CASE_NONE:
			break;
		case CASE_DELTA:
			*lower = (uint32_t) ((int32_t) cp + r->delta);
			break;
		case CASE_EVEN:
			if ((cp & 1) == 0)
				*lower = cp + 1;
			break;
		case CASE_ODD:
			if ((cp & 1) == 1)
				*lower = cp + 1;
			break;
	}
	return VR_CP_WORD;
}

/*
 * Read one code point at t->p: its class, with *lower and *len (bytes
 * consumed) set; an invalid byte is a one-byte separator
 */
static int
read_cp(VrTokenizer *t, uint32_t *lower, int *len)
{
	uint32_t	cp;

	*len = VrUtf8Decode(t->p, (size_t) (t->end - t->p), &cp);
	if (*len == 0)
	{
		*len = 1;
		*lower = 0;
		return VR_CP_SEPARATOR;
	}
	return VrClassify(cp, lower);
}

/*
 * Write the next word, lower-cased, to out; its length, 0 at the end
 */
size_t
VrTokenNext(VrTokenizer *t, char *out)
{
	size_t		n = 0;
	uint32_t	lower;
	int			len;

	/* skip separators */
	while (t->p < t->end)
	{
		if (read_cp(t, &lower, &len) == VR_CP_WORD)
			break;
		t->p += len;
	}
	/* copy the word, lower-cased */
	while (t->p < t->end)
	{
		if (read_cp(t, &lower, &len) != VR_CP_WORD)
			break;
		t->p += len;
		n += VrUtf8Encode(lower, (unsigned char *) out + n);
	}
	return n;
}

/*
 * Lower-case a whole string (vocabulary words); bytes that are not valid
 * UTF-8 are copied unchanged
 */
size_t
VrLowerUtf8(const char *s, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;
	size_t		n = 0;

	while (p < end)
	{
		uint32_t	cp;
		uint32_t	lower;
		int			l = VrUtf8Decode(p, (size_t) (end - p), &cp);

		if (l == 0)
		{
			out[n++] = (char) *p++;
			continue;
		}
		(void) VrClassify(cp, &lower);
		n += VrUtf8Encode(lower, (unsigned char *) out + n);
		p += l;
	}
	return n;
}
