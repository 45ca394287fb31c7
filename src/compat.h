/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Every PostgreSQL version shim vecrec needs, and nothing else.
 *
 * Include after postgres.h and fmgr.h.  Supported: PostgreSQL 13 to 18.
 *
 * Copyright (c) 2026, vecrec developers
 *
 * src/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECREC_COMPAT_H
#define VECREC_COMPAT_H

#include "fmgr.h"
#include "utils/guc.h"

/*
 * We build with -fvisibility=hidden and export only fmgr entry points.
 * PostgreSQL 16 marks those with PGDLLEXPORT (visibility default) itself;
 * older servers leave PGDLLEXPORT empty, so mark them here.
 */
#if PG_VERSION_NUM < 160000 && defined(__GNUC__)
#undef PGDLLEXPORT
#define PGDLLEXPORT __attribute__((visibility("default")))
#undef PG_FUNCTION_INFO_V1
#define PG_FUNCTION_INFO_V1(funcname) \
extern PGDLLEXPORT Datum funcname(PG_FUNCTION_ARGS); \
extern PGDLLEXPORT const Pg_finfo_record * CppConcat(pg_finfo_,funcname)(void); \
const Pg_finfo_record * \
CppConcat(pg_finfo_,funcname) (void) \
{ \
	static const Pg_finfo_record my_finfo = { 1 }; \
	return &my_finfo; \
} \
extern int no_such_variable
#endif

/* PostgreSQL 18 records the module's name and version in its magic block */
#if PG_VERSION_NUM >= 180000
#define VECREC_MODULE_MAGIC PG_MODULE_MAGIC_EXT(.name = "vecrec", .version = VECREC_VERSION)
#else
#define VECREC_MODULE_MAGIC PG_MODULE_MAGIC
#endif

/* Soft errors (pg_input_is_valid) arrived in PostgreSQL 16 */
#if PG_VERSION_NUM < 160000
#define ereturn(context, dummy_value, ...) \
	do { \
		(void) (context); \
		ereport(ERROR, __VA_ARGS__); \
		return dummy_value; \
	} while (0)
#define SOFT_ERROR_OCCURRED(escontext) false
#else
#include "nodes/miscnodes.h"
#endif

/* Reserving a GUC prefix arrived in PostgreSQL 15 */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

#endif							/* VECREC_COMPAT_H */
