/*-------------------------------------------------------------------------
 *
 * fuzz_match.c
 *		libFuzzer harness for the rule match compiler of
 *		vecrec.compile_match (src/rec/matchc.c), built outside the server.
 *
 * The catalog callbacks are stubs: a column exists unless its name hashes
 * to 3 (mod 4), and is text, numeric or boolean by the same hash; boolean
 * has only = and <>; a numeric value must read as a number (strtod), a
 * boolean one as true/false/t/f/yes/no/on/off/1/0; a few keywords.
 *
 * Properties checked on every input (abort() on a violation):
 *	- no crash, no read or write outside the buffers (ASan; the input is
 *	  copied to a buffer of exactly its size, without a NUL);
 *	- SQL, when produced, is made of parenthesised parts joined with
 *	  " AND ": its quotes ('...', E'...', "...") terminate, its parentheses
 *	  and brackets balance outside them and never close more than they
 *	  opened, and it has no ';' outside them;
 *	- compiling is deterministic (twice: the same status and SQL);
 *	- every allocation is freed but what the result hands back.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * test/fuzz/fuzz_match.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matchc.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long live = 0;

static void *
stub_alloc(void *arg, size_t size)
{
	void	   *p = malloc(size ? size : 1);

	(void) arg;
	if (p == NULL)
		abort();
	live++;
	return p;
}

static void
stub_dealloc(void *arg, void *p)
{
	(void) arg;
	live--;
	free(p);
}

static unsigned
name_hash(const char *s)
{
	unsigned	h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 16777619u;
	return h;
}

static const char *const types[] = {"text", "numeric", "boolean"};

static int
stub_column(void *arg, const char *name, VrMatchColumn *col)
{
	unsigned	h = name_hash(name) % 4;

	(void) arg;
	if (h == 3)
		return 0;
	col->typname = types[h];
	col->type = (void *) types[h];
	return 1;
}

static int
stub_is_keyword(void *arg, const char *ident)
{
	static const char *const kw[] = {"all", "and", "any", "array", "false", "from", "in", "not",
	"null", "or", "select", "table", "true", "user", "where"};

	(void) arg;
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (strcmp(kw[i], ident) == 0)
			return 1;
	return 0;
}

static char *
stub_op_ref(void *arg, const char *colname, const VrMatchColumn *col,
			const char *op, char *msg, size_t msglen)
{
	char	   *r;

	if (col->type == (void *) types[2] && strcmp(op, "=") != 0 && strcmp(op, "<>") != 0)
	{
		snprintf(msg, msglen, "operator %s is not available for column \"%s\" of type %s",
				 op, colname, col->typname);
		return NULL;
	}
	r = stub_alloc(arg, strlen(op) + 32);
	sprintf(r, "OPERATOR(pg_catalog.%s)", op);
	return r;
}

static int
stub_check_value(void *arg, const char *colname, const VrMatchColumn *col,
				 const char *value, const char *json, const char *lit,
				 char *msg, size_t msglen)
{
	int			ok = 1;

	(void) arg;
	(void) lit;
	if (col->type == (void *) types[1])
	{
		char	   *end;

		(void) strtod(value, &end);
		ok = end != value && *end == '\0';
	}
	else if (col->type == (void *) types[2])
	{
		static const char *const b[] = {"true", "false", "t", "f", "yes", "no", "on", "off", "1", "0"};

		ok = 0;
		for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++)
			ok |= strcmp(b[i], value) == 0;
	}
	if (!ok)
		snprintf(msg, msglen, "match value %s for column \"%s\" is not a valid %s",
				 json, colname, col->typname);
	return !ok;
}

static const VrMatchCallbacks stubs = {
	.alloc = stub_alloc,
	.dealloc = stub_dealloc,
	.column = stub_column,
	.is_keyword = stub_is_keyword,
	.op_ref = stub_op_ref,
	.check_value = stub_check_value,
};

/* quotes terminate, brackets balance, no ; outside quotes, parts in () */
static void
check_sql(const char *s)
{
	int			depth = 0;

	if (s[0] != '(')
		abort();
	for (const char *p = s; *p; p++)
	{
		if (*p == '\'' || (*p == 'E' && p[1] == '\''))
		{
			int			esc = *p == 'E';

			p += esc ? 2 : 1;
			for (;; p++)
			{
				if (*p == '\0')
					abort();
				if (esc && *p == '\\')
				{
					if (*++p == '\0')
						abort();
					continue;
				}
				if (*p == '\'')
				{
					if (p[1] == '\'')
					{
						p++;
						continue;
					}
					break;
				}
			}
		}
		else if (*p == '"')
		{
			for (p++;; p++)
			{
				if (*p == '\0')
					abort();
				if (*p == '"')
				{
					if (p[1] == '"')
					{
						p++;
						continue;
					}
					break;
				}
			}
		}
		else if (*p == '(' || *p == '[')
			depth++;
		else if (*p == ')' || *p == ']')
		{
			if (--depth < 0)
				abort();
			/* between parts: " AND (" */
			if (depth == 0 && p[1] != '\0' && strncmp(p + 1, " AND (", 6) != 0)
				abort();
		}
		else if (*p == ';')
			abort();
		else if (depth == 0 && !(p > s && strncmp(p - 1, ") AND (", 7) == 0) &&
				 !(*p == ' ' || *p == 'A' || *p == 'N' || *p == 'D'))
			abort();
	}
	if (depth != 0)
		abort();
}

static void
free_result(VrMatchResult *r)
{
	if (r->sql)
		stub_dealloc(NULL, r->sql);
	if (r->col)
		stub_dealloc(NULL, r->col);
	if (r->op)
		stub_dealloc(NULL, r->op);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *in = malloc(size ? size : 1);
	VrMatchResult r1;
	VrMatchResult r2;
	long		handed;

	memcpy(in, data, size);
	live = 0;
	VrMatchCompile(in, size, &stubs, VM_DEFAULT_MAX_DEPTH, VM_DEFAULT_MAX_SIZE, &r1);
	handed = (r1.sql != NULL) + (r1.col != NULL) + (r1.op != NULL);
	if (live != handed)
		abort();
	if ((r1.status == VM_OK) != (r1.sql != NULL))
		abort();
	if (r1.sql)
		check_sql(r1.sql);

	VrMatchCompile(in, size, &stubs, VM_DEFAULT_MAX_DEPTH, VM_DEFAULT_MAX_SIZE, &r2);
	if (r1.status != r2.status || (r1.sql && strcmp(r1.sql, r2.sql) != 0) ||
		(r1.col && strcmp(r1.col, r2.col) != 0) || (r1.op && strcmp(r1.op, r2.op) != 0) ||
		r1.pos != r2.pos)
		abort();
	free_result(&r1);
	free_result(&r2);
	if (live != 0)
		abort();
	free(in);
	return 0;
}
