/*-------------------------------------------------------------------------
 *
 * usermap_compat.h
 *		  Every difference between the PostgreSQL majors usermap supports.
 *
 * usermap supports PostgreSQL 15, 16, 17, 18 and 19 from one source tree.  The
 * rest of the code is written against the newest server API; each guard
 * below maps it onto the older majors and names the upstream change it
 * follows, so that porting to a new major starts here.  No other file
 * tests PG_VERSION_NUM.
 *
 * Differences that need no code here, because usermap calls the server's
 * own functions for them, are listed in the README's porting notes
 * (renamed settings, changed validator hints, the 16 lexer's new integer
 * literals, per-grant INHERIT / SET options, the event_triggers setting).
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * include/usermap_compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef USERMAP_COMPAT_H
#define USERMAP_COMPAT_H

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 200000
#error "usermap supports PostgreSQL 15 to 19 only: a new major must be ported first (see include/usermap_compat.h and the README's \"Porting to a new major\")"
#endif

#include "catalog/pg_foreign_server.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

/*
 * 16: "Generate code for query jumbling through gen_node_support.pl"
 * moved queryjumble.h from utils/ to nodes/, and from then on the query
 * id of a utility statement is a jumble of its parse tree, not a hash of
 * its text.  JumbleQuery() lost its query-text argument.
 */
#if PG_VERSION_NUM >= 160000
#include "nodes/queryjumble.h"
#define USERMAP_UTILITY_QUERY_ID_FROM_TREE true
#define usermap_jumble_query(query) JumbleQuery(query)
#else
#include "utils/queryjumble.h"
#define USERMAP_UTILITY_QUERY_ID_FROM_TREE false
/* never called on 15, where the id is computed from the text instead */
#define usermap_jumble_query(query) JumbleQuery((query), NULL)
#endif

/*
 * 19: post_parse_analyze_hook's JumbleState became "const JumbleState *":
 * hooks may read the constants' locations, no longer change them.
 */
#if PG_VERSION_NUM >= 190000
typedef const JumbleState usermap_jumble_state;
#else
typedef JumbleState usermap_jumble_state;
#endif

/*
 * 18: Query.queryId and PlannedStmt.queryId became int64 (they were
 * uint64), as pg_stat_statements' queryid column always was.
 */
#if PG_VERSION_NUM >= 180000
typedef int64 usermap_query_id;
#else
typedef uint64 usermap_query_id;
#endif

/*
 * 16: "Non-decimal integer literals" added 0x, 0o and 0b integers, and
 * "Allow underscores in integer and numeric constants" 1_000.  The
 * redactor's model of scan.l (redact_lexer.c, lexable_prefix) must accept
 * exactly what the running server's lexer accepts.
 */
#define USERMAP_LEXER_NONDECIMAL_INTEGERS (PG_VERSION_NUM >= 160000)
#define USERMAP_LEXER_NUMERIC_UNDERSCORES (PG_VERSION_NUM >= 160000)

/*
 * 17: "Handle \\v as a whitespace character in parsers" (ae6d06f09) made the
 * vertical tab whitespace to scan.l ({space}, {non_newline_space}), and so
 * a separator of continued string constants too.  The redactor's model of
 * scan.l (redact_internal.h) follows.
 */
#define USERMAP_LEXER_VT_IS_SPACE (PG_VERSION_NUM >= 170000)

/*
 * 19: "Force standard_conforming_strings to always be ON" and "Remove
 * escape_string_warning" (Tom Lane, for 19): the setting still exists but
 * accepts only on, so a plain '...' constant never reads backslash escapes
 * (only E'...' does, where backslash_quote still governs \'); its C
 * variable and core_yy_extra_type's standard_conforming_strings and
 * escape_string_warning fields are gone, as is the lexer's "nonstandard
 * use of escape" warning.  The redactor (redact_lexer.c, redact.c) reads a
 * text as the running lexer does: from 19 on only ever with
 * standard_conforming_strings on, whatever the text says about it.
 */
#if PG_VERSION_NUM >= 190000
#define USERMAP_LEXER_SCS_SETTABLE false
#define usermap_standard_conforming_strings() true
#define usermap_scanner_set_scs(yyextra, scs) ((void) (scs))
#define usermap_scanner_quiet(yyextra) ((void) 0)
#else
#define USERMAP_LEXER_SCS_SETTABLE true
#define usermap_standard_conforming_strings() standard_conforming_strings
#define usermap_scanner_set_scs(yyextra, scs) \
	((yyextra)->standard_conforming_strings = (scs))
/* the server warns once, when it runs the statement */
#define usermap_scanner_quiet(yyextra) \
	((yyextra)->escape_string_warning = false)
#endif

/*
 * 19: pushJsonbValue() builds into a JsonbInState, which holds the parse
 * stack and the completed value, and returns nothing; before, it took the
 * address of a JsonbParseState pointer and returned the value built so
 * far.  usermap_jsonb_builder is either, zero-initialised by its user, and
 * usermap_push_jsonb_value() leaves the value built so far in ->result.
 */
#if PG_VERSION_NUM >= 190000
typedef JsonbInState usermap_jsonb_builder;
#define usermap_push_jsonb_value(builder, seq, jbval) \
	pushJsonbValue((builder), (seq), (jbval))
#else
typedef struct usermap_jsonb_builder
{
	JsonbValue *result;
	JsonbParseState *parseState;
} usermap_jsonb_builder;
#define usermap_push_jsonb_value(builder, seq, jbval) \
	((void) ((builder)->result = \
			 pushJsonbValue(&(builder)->parseState, (seq), (jbval))))
#endif

/*
 * 16: "Refactor ownercheck functions" and "Refactor aclcheck functions"
 * replaced pg_foreign_server_ownercheck() and pg_foreign_server_aclcheck()
 * by the generic object_ownercheck() and object_aclcheck().
 */
#if PG_VERSION_NUM >= 160000
#define usermap_server_ownercheck(serverid, roleid) \
	object_ownercheck(ForeignServerRelationId, (serverid), (roleid))
#define usermap_server_aclcheck(serverid, roleid, mode) \
	object_aclcheck(ForeignServerRelationId, (serverid), (roleid), (mode))
#define usermap_namespace_aclcheck(nspid, roleid, mode) \
	object_aclcheck(NamespaceRelationId, (nspid), (roleid), (mode))
#else
#define usermap_server_ownercheck(serverid, roleid) \
	pg_foreign_server_ownercheck((serverid), (roleid))
#define usermap_server_aclcheck(serverid, roleid, mode) \
	pg_foreign_server_aclcheck((serverid), (roleid), (mode))
#define usermap_namespace_aclcheck(nspid, roleid, mode) \
	pg_namespace_aclcheck((nspid), (roleid), (mode))
#endif

/*
 * 18: ExecutorRun() and its hook lost the execute_once argument, when the
 * executor stopped supporting plans run only once.  The parameter list and
 * the call of the next hook, for the hygiene hook (hygiene.c).
 */
#if PG_VERSION_NUM >= 180000
#define USERMAP_EXECUTOR_RUN_PARAMS \
	QueryDesc *queryDesc, ScanDirection direction, uint64 count
#define usermap_call_executor_run(fn) (fn) (queryDesc, direction, count)
#else
#define USERMAP_EXECUTOR_RUN_PARAMS \
	QueryDesc *queryDesc, ScanDirection direction, uint64 count, \
	bool execute_once
#define usermap_call_executor_run(fn) \
	(fn) (queryDesc, direction, count, execute_once)
#endif

/*
 * 18: "Add GUC option to log lock acquisition failures" (6d376c3b0) added
 * LockAcquireExtended()'s logLockFailure argument.  usermap never asks for
 * a conditional lock, so there is no failure to log.
 */
#if PG_VERSION_NUM >= 180000
#define usermap_lock_acquire(tag, mode, locallockp) \
	LockAcquireExtended((tag), (mode), false, false, true, (locallockp), false)
#else
#define usermap_lock_acquire(tag, mode, locallockp) \
	LockAcquireExtended((tag), (mode), false, false, true, (locallockp))
#endif

/*
 * 16: "Store GUC data in a memory context, instead of using malloc()"
 * made the GUC machinery release a check hook's "extra" with guc_free(),
 * which pfree()s: it must come from guc_malloc().  Before 16 it had to be
 * malloc()'d, and guc_malloc() was static to guc.c.
 */
#if PG_VERSION_NUM >= 160000
#define usermap_guc_extra_alloc(size) guc_malloc(LOG, (size))
#define usermap_guc_extra_free(ptr) guc_free(ptr)
#else
#define usermap_guc_extra_alloc(size) malloc(size)
#define usermap_guc_extra_free(ptr) free(ptr)
#endif

#endif							/* USERMAP_COMPAT_H */
