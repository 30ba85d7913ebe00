/*-------------------------------------------------------------------------
 *
 * redact_cache.c
 *		  The redactor's entry points, and the cache of its recent results.
 *
 * usermap_redact(), usermap_redact_message() and
 * usermap_redact_every_value() (usermap.h) mask a text as redact.c and
 * redact_message.c do, in a memory context of their own, and return a
 * palloc'd copy of the result in the caller's context, or NULL if nothing
 * had to change.  Like the files below them they raise no error and emit
 * no message for any text, so that they may be called from emit_log_hook.
 * Each reads the text under the lexer settings now in force and those
 * this backend has lexed under (see LexerSettings).  The last few results
 * are kept, so that a text redacted again, as one user-mapping statement
 * is on its way through the server, is not lexed again; and
 * usermap_redact_remember_parsed() lets a statement the server parsed be
 * masked from its parse tree, without lexing, where that is exact.  The
 * SQL function usermap.redact() shows what usermap writes.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/redact_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/value.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "usermap.h"
#include "redact_internal.h"


/*
 * The last few texts redacted, with their results.
 *
 * One user-mapping statement reaches the redactor several times, each time
 * with the same text: as published in pg_stat_activity, as
 * debug_query_string, for its query id, for the libraries below the
 * masking hook and for the audit trail.  Lexing is most of the cost, so the
 * result is kept and the next call with the same text returns a copy.
 *
 * A result is remembered as its own result too: it holds no secret, so
 * redacting it again could only mask what is already masked.  That is the
 * text the masking hook hands to the code below it, which redacts it again
 * for the audit trail.
 *
 * The result depends on more than the text: on the secret option names and
 * on the readings of the text (the settings the lexer reads now and those
 * this backend has lexed under; see LexerSettings).  They are part of the
 * key, so a changed setting can never return a result computed under the
 * old one.
 * Texts longer than REDACT_CACHE_MAX_LEN are not kept, to bound the
 * memory held between statements; the cache lives in TopMemoryContext and
 * copies into it that fail for lack of memory are simply not kept, since
 * the redactor may not raise an error of its own.
 */
#define REDACT_CACHE_SIZE		8
#define REDACT_CACHE_MAX_LEN	8192

typedef struct RedactCacheEntry
{
	char	   *input;			/* NULL: free slot */
	size_t		len;			/* strlen(input) */
	char	   *result;			/* NULL: nothing to mask */
	bool		message;		/* usermap_redact_message() rather than SQL */
	LexerSettings settings;		/* the first reading */
	uint8		seen_scs;		/* and the others */
	uint8		seen_backslash_quote;
	uint64		secret_options_generation;
} RedactCacheEntry;

static RedactCacheEntry redact_cache[REDACT_CACHE_SIZE];

static int	redact_cache_next = 0;	/* slot to fill next, round robin */

/*
 * Does the entry hold the result for "input" under the current settings?
 */
static inline bool
redact_cache_matches(const RedactCacheEntry *e, const char *input, size_t len,
					 bool message)
{
	return e->input != NULL &&
		e->len == len &&
		e->message == message &&
		e->secret_options_generation == usermap_secret_options_generation &&
		e->settings.standard_conforming_strings == redact_reading.standard_conforming_strings &&
		e->settings.backslash_quote_allowed == redact_reading.backslash_quote_allowed &&
		e->seen_scs == redact_seen_scs &&
		e->seen_backslash_quote == redact_seen_backslash_quote &&
		strcmp(e->input, input) == 0;
}

static char *
redact_cache_strdup(const char *s)
{
	size_t		len = strlen(s) + 1;
	char	   *copy = MemoryContextAllocExtended(TopMemoryContext, len,
												  MCXT_ALLOC_NO_OOM);

	if (copy != NULL)
		memcpy(copy, s, len);
	return copy;
}

/*
 * Remember that redacting "input", of length "len", gave "result" (NULL:
 * nothing to mask).
 */
static void
redact_cache_store(const char *input, size_t len, const char *result,
				   bool message)
{
	RedactCacheEntry *e = &redact_cache[redact_cache_next];
	char	   *input_copy;
	char	   *result_copy = NULL;

	if (len > REDACT_CACHE_MAX_LEN)
		return;
	input_copy = redact_cache_strdup(input);
	if (input_copy == NULL)
		return;
	if (result != NULL && (result_copy = redact_cache_strdup(result)) == NULL)
	{
		pfree(input_copy);
		return;
	}

	if (e->input != NULL)
		pfree(e->input);
	if (e->result != NULL)
		pfree(e->result);
	e->input = input_copy;
	e->len = len;
	e->result = result_copy;
	e->message = message;
	e->secret_options_generation = usermap_secret_options_generation;
	e->settings = redact_reading;
	e->seen_scs = redact_seen_scs;
	e->seen_backslash_quote = redact_seen_backslash_quote;
	redact_cache_next = (redact_cache_next + 1) % REDACT_CACHE_SIZE;
}

/*
 * Redact "text" under the reading set up by the caller, in a memory
 * context of the redaction's own, and return a copy of the result in the
 * caller's (NULL: nothing to mask).  A text longer than REDACT_MAX_LEN,
 * or one whose redaction outruns its budget, is hidden whole (see
 * redact_internal.h).
 *
 * The state the files below share for one text is set here, before the
 * work, as well as cleared after it: a query cancel served by
 * redact_charge() leaves by an error, which skips the clearing.
 */
static char *
redact_uncached(const char *text, bool message)
{
	MemoryContext cxt;
	MemoryContext oldcxt;
	char	   *redacted;
	char	   *result = NULL;
	bool		failed_closed;
	size_t		len;

	/* what an earlier call left, had it been interrupted by an error */
	redact_declared_secret_names = NIL;
	redact_declared_overflow = false;

	len = strlen(text);
	if (len > REDACT_MAX_LEN)
		return pstrdup(USERMAP_HIDDEN_TEXT);
	redact_budget_start(len);

	cxt = AllocSetContextCreate(CurrentMemoryContext, "usermap redact",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	if (strstr(text, "secret_options") != NULL)
		redact_collect_declared_secret_names(text);
	if (message)
		redacted = redact_message_text(text, 0);
	else
		redacted = redact_text(text, 0, &failed_closed, NULL);
	MemoryContextSwitchTo(oldcxt);
	if (redact_over_budget())
		result = pstrdup(USERMAP_HIDDEN_TEXT);
	else if (redacted != NULL)
		result = pstrdup(redacted);
	redact_declared_secret_names = NIL;
	redact_declared_overflow = false;
	MemoryContextDelete(cxt);
	return result;
}

/*
 * Run "redact" on "text" in a memory context of its own, and return a copy
 * of the result in the caller's context, or NULL.
 */
static char *
redact_in_own_context(const char *text, bool message)
{
	char	   *result = NULL;
	size_t		len;
	bool		hit = false;
	RedactSavedState saved;

	if (text == NULL || !usermap_redact_needed(text))
		return NULL;

	redact_save_state(&saved);
	usermap_redact_observe_settings();
	redact_reading = redact_current_lexer_settings();
	redact_every_value = false;
	len = strlen(text);
	for (int i = 0; i < REDACT_CACHE_SIZE && !hit; i++)
		if (redact_cache_matches(&redact_cache[i], text, len, message))
		{
			hit = true;
			if (redact_cache[i].result)
				result = pstrdup(redact_cache[i].result);
		}

	if (!hit)
	{
		result = redact_uncached(text, message);
		redact_cache_store(text, len, result, message);
		if (result != NULL)
			redact_cache_store(result, strlen(result), NULL, message);
	}
	redact_restore_state(&saved);
	return result;
}

/*
 * Does the text allow literals whose value differs from their spelling, or
 * a second statement we would not see without lexing?
 */
static bool
needs_lexing(const char *input)
{
	const char *q;

	if (strpbrk(input, "\\$") != NULL)
		return true;
	for (q = strchr(input, '&'); q != NULL; q = strchr(q + 1, '&'))
		if (q > input && (q[-1] == 'u' || q[-1] == 'U'))
			return true;
	/* "mapping" more than once: a statement in a value or a comment */
	q = input;
	for (int n = 0; (q = strpbrk(q, "mM")) != NULL; q++)
		if (ascii_prefix_ci(q, "mapping") && ++n > 1)
			return true;
	for (q = strchr(input, '\''); q != NULL; q = strchr(q + 1, '\''))
		if (redact_quote_continuation(q + 1) != NULL || redact_over_budget())
			return true;
	return false;
}

/*
 * The server parsed "input" as one user-mapping statement (its first
 * "stmt_len" bytes; 0 for all of it) and "secrets" holds the values the
 * parse tree gives its secret options.  When no literal in the text can
 * mean other than it says (no backslash, dollar quote, U&, continued
 * string, and no second statement in a value), each secret is spelled in
 * it as a plain '...' literal, and where that literal occurs just once the
 * masked text is the text with it replaced by the mask: remember it, for
 * the text and for the statement alone, so that usermap_redact() need not
 * lex either.  Returns
 * whether it did; if not, usermap_redact() lexes as usual.
 */
static bool
remember_parsed(const char *input, int stmt_len, List *secrets)
{
	StringInfoData masked;
	size_t		len = strlen(input);
	ListCell   *lc;

	/* the caller found usermap_redact_needed() true of the input */
	if (len > REDACT_MAX_LEN)
		return false;
	redact_budget_start(len);
	if (needs_lexing(input))
		return false;

	initStringInfo(&masked);
	appendStringInfoString(&masked, input);
	foreach(lc, secrets)
	{
		const char *value = strVal(lfirst(lc));
		StringInfoData literal;
		StringInfoData out;
		const char *p;
		const char *hit;

		initStringInfo(&literal);
		appendStringInfoChar(&literal, '\'');
		for (p = value; *p; p++)
		{
			if (*p == '\'')
				appendStringInfoChar(&literal, '\'');
			appendStringInfoChar(&literal, *p);
		}
		appendStringInfoChar(&literal, '\'');

		/*
		 * The literal must occur exactly once in the input, overlaps counted:
		 * then it is the one the server read (nothing in the input can spell
		 * a value otherwise).  A second occurrence may be a stretch between
		 * two other literals that reads the same ("', password '"), or a
		 * doubled quote inside one; the redactor lexes such a input instead.
		 */
		hit = strstr(masked.data, literal.data);
		if (hit == NULL || strstr(hit + 1, literal.data) != NULL)
			return false;

		/* each secret costs a pass over the text: lex one with many */
		if (!redact_charge(2 * masked.len))
			return false;

		initStringInfo(&out);
		p = masked.data;
		appendBinaryStringInfo(&out, p, hit - p);
		appendStringInfoString(&out, QUOTED_MASK);
		appendStringInfoString(&out, hit + literal.len);
		masked = out;
	}

	usermap_redact_observe_settings();
	redact_reading = redact_current_lexer_settings();
	redact_cache_store(input, len, secrets != NIL ? masked.data : NULL, false);
	if (stmt_len > 0 && (size_t) stmt_len < len)
	{
		/* the statement alone: what follows it is only ";" and blanks */
		int			tail = len - stmt_len;
		char	   *slice = pnstrdup(input, stmt_len);

		redact_cache_store(slice, stmt_len,
						   secrets != NIL ? pnstrdup(masked.data, masked.len - tail) : NULL,
						   false);
	}
	return true;
}

/*
 * The entry point: remember_parsed(), with the caller's redaction state
 * kept (see RedactSavedState).
 */
bool
usermap_redact_remember_parsed(const char *input, int stmt_len, List *secrets)
{
	RedactSavedState saved;
	bool		remembered;

	redact_save_state(&saved);
	remembered = remember_parsed(input, stmt_len, secrets);
	redact_restore_state(&saved);
	return remembered;
}

/*
 * Return a palloc'd copy of "text" with the value of every secret option
 * in every CREATE / ALTER USER MAPPING statement replaced by the quoted
 * mask, or NULL if nothing had to change.
 *
 * Raises no error and emits no message for any text (see redact_lexer.c),
 * so it may be called while an error is being reported.  The work is done
 * in a memory context of its own.
 */
char *
usermap_redact(const char *text)
{
	return redact_in_own_context(text, false);
}

/*
 * The same for a log message (see redact_message.c), which may also quote
 * statements in double quotes.
 */
char *
usermap_redact_message(const char *text)
{
	return redact_in_own_context(text, true);
}

/*
 * The same with every option value masked, secret or not: what a reader
 * who may not see a mapping's options is shown of a statement about it.
 * Bypasses the cache, which holds results for secrets only.
 *
 * The text is one the audit trail stores, written in another session,
 * under lexer settings nobody recorded: it is read under every value of
 * standard_conforming_strings and backslash_quote the running lexer can
 * take, and a value any reading finds is masked.  Read under the reader's
 * settings alone, a reader who connects with standard_conforming_strings
 * off could make a value ending in a backslash swallow the next quote, and
 * read a later value's text as option names.
 */
char *
usermap_redact_every_value(const char *text)
{
	char	   *result;
	uint8		seen_scs;
	uint8		seen_bq;
	RedactSavedState saved;

	if (text == NULL || !usermap_redact_needed(text))
		return NULL;

	/*
	 * Should an error (out of memory, a query cancel) interrupt the work, the
	 * readings stay widened: the log hook then masks more than needed until
	 * the end of the session, never less.  Every entry point sets the rest of
	 * the state itself.
	 */
	redact_save_state(&saved);
	usermap_redact_observe_settings();
	seen_scs = redact_seen_scs;
	seen_bq = redact_seen_backslash_quote;
	redact_reading = redact_current_lexer_settings();
	redact_every_value = true;
	if (USERMAP_LEXER_SCS_SETTABLE)
		redact_seen_scs = 3;
	redact_seen_backslash_quote = 3;
	result = redact_uncached(text, false);
	redact_seen_scs = seen_scs;
	redact_seen_backslash_quote = seen_bq;
	redact_restore_state(&saved);
	return result;
}

PG_FUNCTION_INFO_V1(usermap_redact_sql);

/*
 * usermap.redact(query text, log_message boolean) returns text
 *
 * The query, or with log_message the log message, with its secrets
 * masked, whatever usermap.redact says: the function exists to show what
 * usermap writes.
 */
Datum
usermap_redact_sql(PG_FUNCTION_ARGS)
{
	text	   *query = PG_GETARG_TEXT_PP(0);
	bool		message = PG_NARGS() > 1 && PG_GETARG_BOOL(1);
	char	   *redacted = redact_in_own_context(text_to_cstring(query), message);

	if (redacted == NULL)
		PG_RETURN_TEXT_P(query);
	PG_RETURN_TEXT_P(cstring_to_text(redacted));
}
