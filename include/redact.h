/*-------------------------------------------------------------------------
 *
 * redact.h
 *		  Mask secret option values in SQL text.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * include/redact.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef USERMAP_REDACT_H
#define USERMAP_REDACT_H

#include "nodes/pg_list.h"

/* GUC usermap.redact */
extern bool usermap_redact_enabled;

/* Learn the running lexer's token codes; called from _PG_init */
extern void usermap_redact_init(void);

/*
 * Note the settings the lexer reads, now in force, among those texts may
 * have been lexed under; see redact_lexer.c.
 */
extern void usermap_redact_observe_settings(void);

/*
 * Cheap test, no lexing, one pass over the bytes: could "text" hold a
 * CREATE or ALTER USER MAPPING statement, directly or in the value of a
 * string constant at any depth?  It is true whenever "text" contains
 * "mapping" in any case, a backslash, "U&", or a quote followed by
 * whitespace with a newline and another quote: without those the keyword
 * MAPPING cannot be spelled at any depth.  False means usermap_redact()
 * returns NULL.
 */
extern bool usermap_redact_needed(const char *text);

/*
 * Return a palloc'd copy of "text" with the value of every secret option
 * in every CREATE / ALTER USER MAPPING statement replaced by the quoted
 * mask, or NULL if nothing had to change.  Statements that cannot be
 * parsed are masked from their option list (or from MAPPING) to the end of
 * the text.  Ignores usermap.redact.  Raises no error and emits no message,
 * whatever the text, so it may be called from emit_log_hook.
 */
extern char *usermap_redact(const char *text);

/*
 * The same for a log message, prose that may quote statements in double
 * quotes (PL/pgSQL's error context, pgaudit's CSV field) where the SQL
 * rules would not see them: such a statement is redacted from its first
 * keyword, and ends at the closing quote.
 */
extern char *usermap_redact_message(const char *text);

/*
 * Does "text" spell out CREATE or ALTER USER MAPPING FOR (or IF), as
 * words, anywhere?  No lexing: words in comments and constants count.
 */
extern bool usermap_redact_spells_statement(const char *text);

/*
 * Masking "text", one user-mapping statement the server parsed, from its
 * parse tree's secret values, without lexing, where that is exact; see
 * redact_cache.c.
 */
extern bool usermap_redact_remember_parsed(const char *text, int stmt_len,
										   List *secrets);

/* usermap_redact() with every option value masked, secret or not */
extern char *usermap_redact_every_value(const char *text);

#endif							/* USERMAP_REDACT_H */
