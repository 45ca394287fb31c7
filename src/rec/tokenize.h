/*-------------------------------------------------------------------------
 *
 * tokenize.h
 *		Split UTF-8 text into lower-cased words, independent of PostgreSQL.
 *
 * A word is a maximal run of letters, digits and combining marks; every
 * other code point, and every byte that does not start a well-formed UTF-8
 * sequence, separates words.  Letters are lower-cased with a small table
 * (ASCII, Latin-1, Latin Extended-A/B/Additional, Greek, Cyrillic,
 * Armenian, full-width Latin); scripts without case (CJK, Arabic, Hebrew,
 * Indic, Thai, ...) are kept as they are.
 *
 * Only libc is used, so a fuzzer or a unit test can link tokenize.c outside
 * the server (see the comment in tokenize.c).
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/tokenize.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECREC_TOKENIZE_H
#define VECREC_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

/* Position in the text being split */
typedef struct VrTokenizer
{
	const unsigned char *p;		/* next byte to read */
	const unsigned char *end;	/* one past the last byte */
} VrTokenizer;

/* What a code point is to the tokenizer */
#define VR_CP_SEPARATOR	0
#define VR_CP_WORD		1		/* letter, digit or combining mark */

extern void VrTokenizerInit(VrTokenizer *t, const char *s, size_t len);

/*
 * Write the next word, lower-cased, to out and return its length in bytes;
 * 0 when there is none left.  A word's lower-cased form is never longer
 * than the word, so out needs room for the whole input (len bytes); it is
 * not NUL-terminated.
 */
extern size_t VrTokenNext(VrTokenizer *t, char *out);

/*
 * Lower-case s[0 .. len - 1] into out (len bytes room, not NUL-terminated):
 * every code point VrClassify knows, other bytes copied; the output length
 */
extern size_t VrLowerUtf8(const char *s, size_t len, char *out);

/* Decode one UTF-8 sequence at s (n bytes available): its length, or 0 */
extern int	VrUtf8Decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Class of a code point (VR_CP_*); *lower is set to its lower case */
extern int	VrClassify(uint32_t cp, uint32_t *lower);

/* Encode a code point as UTF-8 into out (4 bytes room): its length */
extern int	VrUtf8Encode(uint32_t cp, unsigned char *out);

#endif							/* VECREC_TOKENIZE_H */
