/*-------------------------------------------------------------------------
 *
 * matchc.h
 *		The rule match compiler of vecrec.compile_match(), independent of
 *		PostgreSQL.
 *
 * A rule's match is JSON ({"column": value}, {"column": {"<": value}},
 * {"column": {"in": [value, ...]}}, several keys ANDed).  VrMatchCompile
 * parses its text (the server passes jsonb's text form), checks it and
 * builds the SQL condition over alias t: quoted identifiers,
 * schema-qualified operators and quoted literals cast to the column's type.
 * Everything that needs the catalog (column types, operators, whether a
 * value casts, keywords, collation order, lower()) goes through the
 * callbacks of VrMatchCallbacks; the server fills them from the catalog
 * (src/rec/reco.c), the fuzz harness (test/fuzz/fuzz_match.c) with stubs.
 * Only libc is used.
 *
 * A callback may also not return (the server's ereport): everything the
 * compiler allocates comes from the alloc callback, so palloc'd memory goes
 * with its memory context.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/rec/matchc.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECREC_MATCHC_H
#define VECREC_MATCHC_H

#include <stddef.h>

/* Outcome of a compile; VM_OK or the error the server reports */
typedef enum VrMatchStatus
{
	VM_OK = 0,
	VM_NOT_OBJECT,				/* match is not a non-empty object */
	VM_NO_COLUMN,				/* key col is not a column */
	VM_NO_OPERATOR,				/* spec of col is {} */
	VM_UNKNOWN_OPERATOR,		/* op (lower-cased) is not one we know */
	VM_NEED_ARRAY,				/* op is in / not in, arg no non-empty array */
	VM_VALUE_KIND,				/* a value of col is kind, not a scalar */
	VM_CALLBACK,				/* a callback failed; message in msg */
	VM_SYNTAX,					/* not JSON (at pos) */
	VM_TOO_DEEP,				/* nesting deeper than max_depth */
	VM_TOO_BIG					/* input longer than max_size */
} VrMatchStatus;

/* What the column callback says about a column */
typedef struct VrMatchColumn
{
	const char *typname;		/* format_type of its type: the cast target */
	void	   *type;			/* anything the callbacks want to keep */
} VrMatchColumn;

typedef struct VrMatchCallbacks
{
	void	   *arg;			/* passed to every callback */

	/* memory; may not fail (return NULL only if it does not return) */
	void	   *(*alloc) (void *arg, size_t size);
	void		(*dealloc) (void *arg, void *p);

	/* < 0, 0, > 0: the order of keys (ORDER BY key: the collation's) */
	int			(*compare) (void *arg, const char *a, size_t alen,
							const char *b, size_t blen);

	/*
	 * lower(op) as the server does it, allocated with alloc; NULL: ASCII
	 * only
	 */
	char	   *(*lower) (void *arg, const char *s, size_t len);

	/* 1 and *col filled if name is a (user) column, 0 if not */
	int			(*column) (void *arg, const char *name, VrMatchColumn *col);

	/* nonzero if ident needs quotes although it is lower case (keywords) */
	int			(*is_keyword) (void *arg, const char *ident);

	/*
	 * op (one of = <> < <= > >=) between two values of col's type: the
	 * operator reference, allocated with alloc ("OPERATOR(schema.op)"), or
	 * NULL with a message in msg (msglen bytes of room)
	 */
	char	   *(*op_ref) (void *arg, const char *colname, const VrMatchColumn *col,
						   const char *op, char *msg, size_t msglen);

	/*
	 * Check that value (kind "string", "number" or "boolean"; its text, and
	 * json, its JSON form as jsonb prints it) casts to col's type.  lit is
	 * the literal the compiler will use.  0 if it does, else nonzero and a
	 * message in msg.
	 */
	int			(*check_value) (void *arg, const char *colname, const VrMatchColumn *col,
								const char *value, const char *json, const char *lit,
								char *msg, size_t msglen);
} VrMatchCallbacks;

#define VM_MSG_LEN 256

typedef struct VrMatchResult
{
	VrMatchStatus status;
	char	   *sql;			/* VM_OK: the condition, allocated with alloc */
	size_t		pos;			/* VM_SYNTAX: offset of the error */
	/* errors: the column and operator (allocated with alloc), the kind */
	char	   *col;
	char	   *op;
	const char *kind;
	char		msg[VM_MSG_LEN];	/* VM_CALLBACK, VM_SYNTAX */
} VrMatchResult;

/* limits: 0 = none */
#define VM_DEFAULT_MAX_DEPTH 64
#define VM_DEFAULT_MAX_SIZE (1024 * 1024)

extern void VrMatchCompile(const char *json, size_t len, const VrMatchCallbacks *cb,
						   int max_depth, size_t max_size, VrMatchResult *res);

/* helpers the callbacks may use: quote_ident / quote_literal in buf (alloc) */
extern char *VrMatchQuoteIdent(const VrMatchCallbacks *cb, const char *ident);
extern char *VrMatchQuoteLiteral(const VrMatchCallbacks *cb, const char *s);

#endif							/* VECREC_MATCHC_H */
