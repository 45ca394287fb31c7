/*-------------------------------------------------------------------------
 *
 * matchc.c
 *		The rule match compiler of vecrec.compile_match(): a strict JSON
 *		parser and the SQL it builds, independent of PostgreSQL.
 *
 * The output is what the PL/pgSQL compiler of vecrec 0.1.0 produced:
 *
 *	- the keys of the match in the collation's order (compare callback),
 *	  each a column (column callback); duplicate keys: the last wins, as
 *	  in jsonb;
 *	- a value that is not an object is {"=": value}; the operators of an
 *	  object, in the same order, lower-cased (lower callback), != is <>
 *	  and not_in is "not in";
 *	- = and <> with null: (t.col IS [NOT ]NULL); = <> < <= > >=:
 *	  (t.col OPERATOR(s.op) 'lit'::type); in / not in with a non-empty
 *	  array: (t.col OPERATOR(s.=) ANY (ARRAY['a'::type, ...])) (<> and ALL);
 *	- the parts joined with " AND ".
 *
 * Identifiers are quoted as quote_ident does (is_keyword callback for the
 * keywords), literals as quote_literal does.  Errors come in the order the
 * PL/pgSQL met them: for an operator, its reference (op_ref) before its
 * value; for in / not in the array, then each element, then the operator.
 *
 * The parser is strict JSON (RFC 8259): no trailing commas, no control
 * characters in strings, no \u0000 and no lone surrogates (jsonb rejects
 * them too).  Only the first three levels (match, spec, in-array) are kept;
 * deeper values are checked without recursion and kept as their kind.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/matchc.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matchc.h"

typedef enum JKind
{
	JK_NULL,
	JK_BOOL,
	JK_NUM,
	JK_STR,
	JK_ARR,
	JK_OBJ
} JKind;

typedef struct JVal JVal;

struct JVal
{
	JKind		kind;
	char	   *s;				/* STR: unescaped; NUM: its text; BOOL: true/false */
	size_t		len;
	int			n;				/* ARR, OBJ: elements, when kept */
	char	  **keys;			/* OBJ: member names */
	size_t	   *keylens;
	JVal	   *items;			/* ARR, OBJ (kept levels): the values */
};

/* An allocation of the arena: all freed at the end */
typedef struct Chunk
{
	struct Chunk *next;
	/* then the memory, aligned like a double */
	double		align[];
} Chunk;

typedef struct Ctx
{
	const VrMatchCallbacks *cb;
	Chunk	   *chunks;
	const char *in;
	const char *p;
	const char *end;
	int			max_depth;
	char	   *stack;			/* skip_value's open brackets, input length */
	VrMatchResult *res;
} Ctx;

typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

#define KEEP_LEVELS 3

static const char *
kind_name(JKind k)
{
	switch (k)
	{
		case JK_NULL:
			return "null";
		case JK_BOOL:
			return "boolean";
		case JK_NUM:
			return "number";
		case JK_STR:
			return "string";
		case JK_ARR:
			return "array";
		case JK_OBJ:
			return "object";
	}
	return "?";
}

static void *
arena_alloc(Ctx *c, size_t size)
{
	Chunk	   *ch = c->cb->alloc(c->cb->arg, sizeof(Chunk) + size);

	ch->next = c->chunks;
	c->chunks = ch;
	return ch->align;
}

static void
arena_free(Ctx *c)
{
	while (c->chunks)
	{
		Chunk	   *next = c->chunks->next;

		c->cb->dealloc(c->cb->arg, c->chunks);
		c->chunks = next;
	}
}

/* A copy allocated with the caller's alloc (outlives the arena) */
static char *
out_strdup(const VrMatchCallbacks *cb, const char *s, size_t len)
{
	char	   *r = cb->alloc(cb->arg, len + 1);

	memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

/* ---------------------------------------------------------------- buffers */

static void
buf_reserve(Ctx *c, Buf *b, size_t more)
{
	if (b->len + more + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 64;
		char	   *d;

		while (cap < b->len + more + 1)
			cap *= 2;
		d = arena_alloc(c, cap);
		if (b->len)
			memcpy(d, b->data, b->len);
		b->data = d;
		b->cap = cap;
	}
}

static void
buf_add(Ctx *c, Buf *b, const char *s, size_t len)
{
	buf_reserve(c, b, len);
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static void
buf_str(Ctx *c, Buf *b, const char *s)
{
	buf_add(c, b, s, strlen(s));
}

static void
buf_ch(Ctx *c, Buf *b, char ch)
{
	buf_add(c, b, &ch, 1);
}

/* ------------------------------------------------------------------ quoting */

/* quote_ident: unquoted if [a-z_][a-z0-9_]* and not a keyword */
static void
quote_ident(Ctx *c, Buf *b, const char *ident)
{
	int			safe = (ident[0] >= 'a' && ident[0] <= 'z') || ident[0] == '_';

	for (const char *p = ident; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			safe = 0;
	if (safe && c->cb->is_keyword && c->cb->is_keyword(c->cb->arg, ident))
		safe = 0;
	if (safe)
	{
		buf_str(c, b, ident);
		return;
	}
	buf_ch(c, b, '"');
	for (const char *p = ident; *p; p++)
	{
		if (*p == '"')
			buf_ch(c, b, '"');
		buf_ch(c, b, *p);
	}
	buf_ch(c, b, '"');
}

/* quote_literal: '...' with ' and \ doubled, E'...' if there is a \ */
static void
quote_literal(Ctx *c, Buf *b, const char *s)
{
	if (strchr(s, '\\'))
		buf_ch(c, b, 'E');
	buf_ch(c, b, '\'');
	for (; *s; s++)
	{
		if (*s == '\'' || *s == '\\')
			buf_ch(c, b, *s);
		buf_ch(c, b, *s);
	}
	buf_ch(c, b, '\'');
}

/* escape_json: a string as jsonb prints it */
static void
escape_json(Ctx *c, Buf *b, const char *s)
{
	buf_ch(c, b, '"');
	for (; *s; s++)
	{
		switch (*s)
		{
			case '\b':
				buf_str(c, b, "\\b");
				break;
			case '\f':
				buf_str(c, b, "\\f");
				break;
			case '\n':
				buf_str(c, b, "\\n");
				break;
			case '\r':
				buf_str(c, b, "\\r");
				break;
			case '\t':
				buf_str(c, b, "\\t");
				break;
			case '"':
				buf_str(c, b, "\\\"");
				break;
			case '\\':
				buf_str(c, b, "\\\\");
				break;
			default:
				if ((unsigned char) *s < ' ')
				{
					char		u[8];

					snprintf(u, sizeof(u), "\\u%04x", (int) *s);
					buf_str(c, b, u);
				}
				else
					buf_ch(c, b, *s);
		}
	}
	buf_ch(c, b, '"');
}

char *
VrMatchQuoteIdent(const VrMatchCallbacks *cb, const char *ident)
{
	Ctx			c = {.cb = cb};
	Buf			b = {0};
	char	   *r;

	quote_ident(&c, &b, ident);
	r = out_strdup(cb, b.data, b.len);
	arena_free(&c);
	return r;
}

char *
VrMatchQuoteLiteral(const VrMatchCallbacks *cb, const char *s)
{
	Ctx			c = {.cb = cb};
	Buf			b = {0};
	char	   *r;

	quote_literal(&c, &b, s);
	r = out_strdup(cb, b.data, b.len);
	arena_free(&c);
	return r;
}

/* ------------------------------------------------------------------ parser */

static int
syntax(Ctx *c, const char *what)
{
	c->res->status = VM_SYNTAX;
	c->res->pos = c->p - c->in;
	snprintf(c->res->msg, sizeof(c->res->msg), "%s", what);
	return -1;
}

static void
skip_ws(Ctx *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int
hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++)
	{
		char		h = p[i];

		*v <<= 4;
		if (h >= '0' && h <= '9')
			*v |= h - '0';
		else if (h >= 'a' && h <= 'f')
			*v |= h - 'a' + 10;
		else if (h >= 'A' && h <= 'F')
			*v |= h - 'A' + 10;
		else
			return -1;
	}
	return 0;
}

/* A string at c->p (the opening quote); out (may be NULL) gets it unescaped */
static int
parse_string(Ctx *c, char **out, size_t *outlen)
{
	const char *start = ++c->p;
	char	   *d = NULL;
	size_t		n = 0;

	/* the unescaped string is never longer than the escaped one */
	if (out)
	{
		const char *q = start;

		while (q < c->end && *q != '"')
			q += (*q == '\\' && q + 1 < c->end) ? 2 : 1;
		d = arena_alloc(c, (q - start) + 1);
	}
	for (;;)
	{
		unsigned char ch;

		if (c->p >= c->end)
			return syntax(c, "unterminated string");
		ch = (unsigned char) *c->p;
		if (ch == '"')
			break;
		if (ch < 0x20)
			return syntax(c, "control character in string");
		if (ch != '\\')
		{
			if (d)
				d[n++] = ch;
			c->p++;
			continue;
		}
		if (c->p + 1 >= c->end)
			return syntax(c, "unterminated string");
		ch = (unsigned char) c->p[1];
		c->p += 2;
		if (ch == 'u')
		{
			unsigned	u;
			unsigned char enc[4];
			int			elen;

			if (c->end - c->p < 4 || hex4(c->p, &u) != 0)
				return syntax(c, "bad \\u escape");
			c->p += 4;
			if (u == 0)
				return syntax(c, "\\u0000 is not allowed");
			if (u >= 0xDC00 && u <= 0xDFFF)
				return syntax(c, "lone low surrogate");
			if (u >= 0xD800 && u <= 0xDBFF)
			{
				unsigned	lo;

				if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' ||
					hex4(c->p + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
					return syntax(c, "lone high surrogate");
				c->p += 6;
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			}
			if (u < 0x80)
			{
				enc[0] = u;
				elen = 1;
			}
			else if (u < 0x800)
			{
				enc[0] = 0xC0 | (u >> 6);
				enc[1] = 0x80 | (u & 0x3F);
				elen = 2;
			}
			else if (u < 0x10000)
			{
				enc[0] = 0xE0 | (u >> 12);
				enc[1] = 0x80 | ((u >> 6) & 0x3F);
				enc[2] = 0x80 | (u & 0x3F);
				elen = 3;
			}
			else
			{
				enc[0] = 0xF0 | (u >> 18);
				enc[1] = 0x80 | ((u >> 12) & 0x3F);
				enc[2] = 0x80 | ((u >> 6) & 0x3F);
				enc[3] = 0x80 | (u & 0x3F);
				elen = 4;
			}
			if (d)
			{
				memcpy(d + n, enc, elen);
				n += elen;
			}
			continue;
		}
		switch (ch)
		{
			case '"':
			case '\\':
			case '/':
				break;
			case 'b':
				ch = '\b';
				break;
			case 'f':
				ch = '\f';
				break;
			case 'n':
				ch = '\n';
				break;
			case 'r':
				ch = '\r';
				break;
			case 't':
				ch = '\t';
				break;
			default:
				c->p -= 2;
				return syntax(c, "bad escape");
		}
		if (d)
			d[n++] = ch;
	}
	c->p++;						/* the closing quote */
	if (d)
	{
		d[n] = '\0';
		*out = d;
		*outlen = n;
	}
	return 0;
}

static int
is_digit(const Ctx *c, const char *p)
{
	return p < c->end && *p >= '0' && *p <= '9';
}

static int
parse_number(Ctx *c, JVal *v)
{
	const char *start = c->p;

	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (!is_digit(c, c->p))
		return syntax(c, "bad number");
	if (*c->p == '0')
		c->p++;
	else
		while (is_digit(c, c->p))
			c->p++;
	if (c->p < c->end && *c->p == '.')
	{
		c->p++;
		if (!is_digit(c, c->p))
			return syntax(c, "bad number");
		while (is_digit(c, c->p))
			c->p++;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E'))
	{
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (!is_digit(c, c->p))
			return syntax(c, "bad number");
		while (is_digit(c, c->p))
			c->p++;
	}
	if (v)
	{
		v->kind = JK_NUM;
		v->len = c->p - start;
		v->s = arena_alloc(c, v->len + 1);
		memcpy(v->s, start, v->len);
		v->s[v->len] = '\0';
	}
	return 0;
}

static int
parse_word(Ctx *c, const char *w, JVal *v, JKind kind)
{
	size_t		n = strlen(w);

	if ((size_t) (c->end - c->p) < n || memcmp(c->p, w, n) != 0)
		return syntax(c, "unexpected character");
	c->p += n;
	v->kind = kind;
	v->s = (char *) w;
	v->len = n;
	return 0;
}

/*
 * A scalar or a container that is not kept: checked without recursion
 * (a stack of the open brackets), depth is the level of the value
 */
static int
skip_value(Ctx *c, JVal *v, int depth)
{
	char	   *stack = c->stack;
	int			top = 0;
	int			first = 1;		/* nothing in the innermost container yet */

	v->kind = JK_NULL;
	for (;;)
	{
		JVal		scratch;

		skip_ws(c);
		if (c->p >= c->end)
			return syntax(c, "unexpected end");
		if (top > 0 && first && *c->p == (stack[top - 1] == '{' ? '}' : ']'))
		{
			c->p++;
			top--;
			first = 0;
			goto after_value;
		}
		if (top > 0 && stack[top - 1] == '{')
		{
			if (*c->p != '"')
				return syntax(c, "expected a member name");
			if (parse_string(c, NULL, NULL) != 0)
				return -1;
			skip_ws(c);
			if (c->p >= c->end || *c->p != ':')
				return syntax(c, "expected \":\"");
			c->p++;
			skip_ws(c);
			if (c->p >= c->end)
				return syntax(c, "unexpected end");
		}
		if (*c->p == '{' || *c->p == '[')
		{
			if (top == 0)
				v->kind = *c->p == '{' ? JK_OBJ : JK_ARR;
			if (c->max_depth > 0 && depth + top + 1 > c->max_depth)
				return (c->res->status = VM_TOO_DEEP), -1;
			if (stack == NULL)
				stack = c->stack = arena_alloc(c, (c->end - c->in) + 1);
			stack[top++] = *c->p;
			c->p++;
			first = 1;
			continue;
		}
		if (*c->p == '"')
		{
			if (parse_string(c, top == 0 ? &v->s : NULL, &v->len) != 0)
				return -1;
			if (top == 0)
				v->kind = JK_STR;
		}
		else if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
		{
			if (parse_number(c, top == 0 ? v : NULL) != 0)
				return -1;
		}
		else if (*c->p == 't')
		{
			if (parse_word(c, "true", &scratch, JK_BOOL) != 0)
				return -1;
			if (top == 0)
				*v = scratch;
		}
		else if (*c->p == 'f')
		{
			if (parse_word(c, "false", &scratch, JK_BOOL) != 0)
				return -1;
			if (top == 0)
				*v = scratch;
		}
		else if (*c->p == 'n')
		{
			if (parse_word(c, "null", &scratch, JK_NULL) != 0)
				return -1;
			if (top == 0)
				*v = scratch;
		}
		else
			return syntax(c, "unexpected character");
after_value:
		/* after a value: done, or "," or the closing bracket */
		for (;;)
		{
			if (top == 0)
				return 0;
			skip_ws(c);
			if (c->p >= c->end)
				return syntax(c, "unexpected end");
			if (*c->p == ',')
			{
				c->p++;
				first = 0;
				break;
			}
			if (*c->p == (stack[top - 1] == '{' ? '}' : ']'))
			{
				c->p++;
				top--;
				continue;
			}
			return syntax(c, "expected \",\" or a closing bracket");
		}
	}
}

static int	parse_value(Ctx *c, JVal *v, int depth);

/* An array or object that is kept, at c->p */
static int
parse_container(Ctx *c, JVal *v, int depth)
{
	int			obj = *c->p == '{';
	char		close = obj ? '}' : ']';
	int			cap = 0;

	if (c->max_depth > 0 && depth + 1 > c->max_depth)
		return (c->res->status = VM_TOO_DEEP), -1;
	v->kind = obj ? JK_OBJ : JK_ARR;
	v->n = 0;
	v->items = NULL;
	v->keys = NULL;
	v->keylens = NULL;
	c->p++;
	skip_ws(c);
	if (c->p < c->end && *c->p == close)
	{
		c->p++;
		return 0;
	}
	for (;;)
	{
		char	   *key = NULL;
		size_t		keylen = 0;

		skip_ws(c);
		if (obj)
		{
			if (c->p >= c->end || *c->p != '"')
				return syntax(c, "expected a member name");
			if (parse_string(c, &key, &keylen) != 0)
				return -1;
			skip_ws(c);
			if (c->p >= c->end || *c->p != ':')
				return syntax(c, "expected \":\"");
			c->p++;
		}
		if (v->n == cap)
		{
			int			ncap = cap ? cap * 2 : 8;
			JVal	   *items = arena_alloc(c, ncap * sizeof(JVal));

			if (cap)
				memcpy(items, v->items, cap * sizeof(JVal));
			v->items = items;
			if (obj)
			{
				char	  **keys = arena_alloc(c, ncap * sizeof(char *));
				size_t	   *keylens = arena_alloc(c, ncap * sizeof(size_t));

				if (cap)
				{
					memcpy(keys, v->keys, cap * sizeof(char *));
					memcpy(keylens, v->keylens, cap * sizeof(size_t));
				}
				v->keys = keys;
				v->keylens = keylens;
			}
			cap = ncap;
		}
		if (obj)
		{
			v->keys[v->n] = key;
			v->keylens[v->n] = keylen;
		}
		if (parse_value(c, &v->items[v->n], depth + 1) != 0)
			return -1;
		v->n++;
		skip_ws(c);
		if (c->p < c->end && *c->p == ',')
		{
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == close)
		{
			c->p++;
			return 0;
		}
		return syntax(c, "expected \",\" or a closing bracket");
	}
}

static int
parse_value(Ctx *c, JVal *v, int depth)
{
	skip_ws(c);
	memset(v, 0, sizeof(*v));
	if (depth < KEEP_LEVELS && c->p < c->end && (*c->p == '{' || *c->p == '['))
		return parse_container(c, v, depth);
	return skip_value(c, v, depth);
}

/* ------------------------------------------------------------ the compiler */

typedef struct Member
{
	char	   *key;
	size_t		keylen;
	JVal	   *val;
	int			idx;
} Member;

static int
member_cmp(Ctx *c, const Member *a, const Member *b)
{
	int			r;

	if (c->cb->compare)
		r = c->cb->compare(c->cb->arg, a->key, a->keylen, b->key, b->keylen);
	else
	{
		size_t		n = a->keylen < b->keylen ? a->keylen : b->keylen;

		r = memcmp(a->key, b->key, n);
		if (r == 0)
			r = (a->keylen > b->keylen) - (a->keylen < b->keylen);
	}
	if (r == 0)
		r = (a->idx > b->idx) - (a->idx < b->idx);
	return r;
}

/* The members of an object sorted (merge sort), duplicates: the last kept */
static Member *
sorted_members(Ctx *c, const JVal *obj, int *np)
{
	int			n = obj->n;
	Member	   *m = arena_alloc(c, (n ? n : 1) * sizeof(Member));
	Member	   *tmp = arena_alloc(c, (n ? n : 1) * sizeof(Member));
	int			out = 0;

	for (int i = 0; i < n; i++)
	{
		m[i].key = obj->keys[i];
		m[i].keylen = obj->keylens[i];
		m[i].val = &obj->items[i];
		m[i].idx = i;
	}
	for (int w = 1; w < n; w *= 2)
	{
		for (int lo = 0; lo < n; lo += 2 * w)
		{
			int			mid = lo + w < n ? lo + w : n;
			int			hi = lo + 2 * w < n ? lo + 2 * w : n;
			int			i = lo,
						j = mid,
						k = lo;

			while (i < mid && j < hi)
				tmp[k++] = member_cmp(c, &m[i], &m[j]) <= 0 ? m[i++] : m[j++];
			while (i < mid)
				tmp[k++] = m[i++];
			while (j < hi)
				tmp[k++] = m[j++];
		}
		memcpy(m, tmp, n * sizeof(Member));
	}
	/* equal keys are adjacent, in input order: keep the last of each run */
	for (int i = 0; i < n; i++)
	{
		if (i + 1 < n && m[i].keylen == m[i + 1].keylen &&
			memcmp(m[i].key, m[i + 1].key, m[i].keylen) == 0)
			continue;
		m[out++] = m[i];
	}
	*np = out;
	return m;
}

static void
set_col(Ctx *c, const char *col)
{
	c->res->col = out_strdup(c->cb, col, strlen(col));
}

static char *
lower_op(Ctx *c, const char *s, size_t len)
{
	char	   *r;

	if (c->cb->lower)
	{
		char	   *l = c->cb->lower(c->cb->arg, s, len);
		size_t		ln = strlen(l);

		r = arena_alloc(c, ln + 1);
		memcpy(r, l, ln + 1);
		c->cb->dealloc(c->cb->arg, l);
		return r;
	}
	r = arena_alloc(c, len + 1);
	for (size_t i = 0; i < len; i++)
		r[i] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] + ('a' - 'A') : s[i];
	r[len] = '\0';
	return r;
}

/* The operator reference of op for col, or NULL (error set) */
static char *
op_ref(Ctx *c, const char *col, const VrMatchColumn *ci, const char *op)
{
	char	   *r = c->cb->op_ref(c->cb->arg, col, ci, op, c->res->msg, sizeof(c->res->msg));
	char	   *copy;

	if (r == NULL)
	{
		c->res->status = VM_CALLBACK;
		set_col(c, col);
		c->res->op = out_strdup(c->cb, op, strlen(op));
		return NULL;
	}
	copy = arena_alloc(c, strlen(r) + 1);
	strcpy(copy, r);
	c->cb->dealloc(c->cb->arg, r);
	return copy;
}

/* Append the literal of value v (a scalar) for col; -1 on error */
static int
literal(Ctx *c, Buf *b, const char *col, const VrMatchColumn *ci, const JVal *v)
{
	Buf			lit = {0};
	Buf			json = {0};

	if (v->kind != JK_STR && v->kind != JK_NUM && v->kind != JK_BOOL)
	{
		c->res->status = VM_VALUE_KIND;
		c->res->kind = kind_name(v->kind);
		set_col(c, col);
		return -1;
	}
	quote_literal(c, &lit, v->s);
	buf_str(c, &lit, "::");
	buf_str(c, &lit, ci->typname);
	if (v->kind == JK_STR)
		escape_json(c, &json, v->s);
	else
		buf_str(c, &json, v->s);
	if (c->cb->check_value &&
		c->cb->check_value(c->cb->arg, col, ci, v->s, json.data, lit.data,
						   c->res->msg, sizeof(c->res->msg)) != 0)
	{
		c->res->status = VM_CALLBACK;
		set_col(c, col);
		return -1;
	}
	buf_add(c, b, lit.data, lit.len);
	return 0;
}

/* One column's spec; appends its parts to out (joined with " AND ") */
static int
compile_column(Ctx *c, Buf *out, const char *col, const VrMatchColumn *ci, JVal *spec)
{
	JVal		wrap;
	char	   *eq = "=";
	size_t		eqlen = 1;
	Member	   *ops;
	int			nops;

	if (spec->kind != JK_OBJ)
	{
		wrap.kind = JK_OBJ;
		wrap.n = 1;
		wrap.keys = &eq;
		wrap.keylens = &eqlen;
		wrap.items = spec;
		spec = &wrap;
	}
	else if (spec->n == 0)
	{
		c->res->status = VM_NO_OPERATOR;
		set_col(c, col);
		return -1;
	}
	ops = sorted_members(c, spec, &nops);
	for (int i = 0; i < nops; i++)
	{
		char	   *op = lower_op(c, ops[i].key, ops[i].keylen);
		JVal	   *arg = ops[i].val;

		if (strcmp(op, "!=") == 0)
			op = "<>";
		else if (strcmp(op, "not_in") == 0)
			op = "not in";
		if (out->len > 0)
			buf_str(c, out, " AND ");
		if ((strcmp(op, "=") == 0 || strcmp(op, "<>") == 0) && arg->kind == JK_NULL)
		{
			buf_str(c, out, "(t.");
			quote_ident(c, out, col);
			buf_str(c, out, strcmp(op, "<>") == 0 ? " IS NOT NULL)" : " IS NULL)");
		}
		else if (strcmp(op, "=") == 0 || strcmp(op, "<>") == 0 || strcmp(op, "<") == 0 ||
				 strcmp(op, "<=") == 0 || strcmp(op, ">") == 0 || strcmp(op, ">=") == 0)
		{
			char	   *ref = op_ref(c, col, ci, op);

			if (ref == NULL)
				return -1;
			buf_str(c, out, "(t.");
			quote_ident(c, out, col);
			buf_ch(c, out, ' ');
			buf_str(c, out, ref);
			buf_ch(c, out, ' ');
			if (literal(c, out, col, ci, arg) != 0)
				return -1;
			buf_ch(c, out, ')');
		}
		else if (strcmp(op, "in") == 0 || strcmp(op, "not in") == 0)
		{
			int			in = strcmp(op, "in") == 0;
			Buf			lits = {0};
			char	   *ref;

			if (arg->kind != JK_ARR || arg->n == 0)
			{
				c->res->status = VM_NEED_ARRAY;
				set_col(c, col);
				c->res->op = out_strdup(c->cb, op, strlen(op));
				return -1;
			}
			for (int j = 0; j < arg->n; j++)
			{
				if (j > 0)
					buf_str(c, &lits, ", ");
				if (literal(c, &lits, col, ci, &arg->items[j]) != 0)
					return -1;
			}
			if ((ref = op_ref(c, col, ci, in ? "=" : "<>")) == NULL)
				return -1;
			buf_str(c, out, "(t.");
			quote_ident(c, out, col);
			buf_ch(c, out, ' ');
			buf_str(c, out, ref);
			buf_str(c, out, in ? " ANY (ARRAY[" : " ALL (ARRAY[");
			buf_add(c, out, lits.data, lits.len);
			buf_str(c, out, "]))");
		}
		else
		{
			c->res->status = VM_UNKNOWN_OPERATOR;
			set_col(c, col);
			c->res->op = out_strdup(c->cb, op, strlen(op));
			return -1;
		}
	}
	return 0;
}

void
VrMatchCompile(const char *json, size_t len, const VrMatchCallbacks *cb,
			   int max_depth, size_t max_size, VrMatchResult *res)
{
	Ctx			c;
	JVal		top;
	Member	   *cols;
	int			ncols;
	Buf			out = {0};

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	c.cb = cb;
	c.in = c.p = json;
	c.end = json + len;
	c.max_depth = max_depth;
	c.res = res;

	if (max_size > 0 && len > max_size)
	{
		res->status = VM_TOO_BIG;
		return;
	}
	if (parse_value(&c, &top, 0) != 0)
		goto done;
	skip_ws(&c);
	if (c.p != c.end)
	{
		syntax(&c, "junk after the value");
		goto done;
	}
	if (top.kind != JK_OBJ || top.n == 0)
	{
		res->status = VM_NOT_OBJECT;
		goto done;
	}
	cols = sorted_members(&c, &top, &ncols);
	for (int i = 0; i < ncols; i++)
	{
		VrMatchColumn ci = {0};

		if (!cb->column(cb->arg, cols[i].key, &ci))
		{
			res->status = VM_NO_COLUMN;
			set_col(&c, cols[i].key);
			goto done;
		}
		if (compile_column(&c, &out, cols[i].key, &ci, cols[i].val) != 0)
			goto done;
	}
	res->status = VM_OK;
	res->sql = out_strdup(cb, out.data, out.len);
done:
	arena_free(&c);
}
