/*-------------------------------------------------------------------------
 *
 * hygiene.c
 *		  Keep the secrets of user-mapping statements out of the server log,
 *		  pg_stat_activity and the text other libraries see.
 *
 * The server hands the text of a statement to several places before and
 * after usermap executes it; each is masked with the redactor (redact_*.c)
 * at the earliest point an extension can reach it:
 *
 * - The server log.  emit_log_hook rewrites every message, detail, hint,
 *	 context and internal query before it is written, whatever the log
 *	 format, and points debug_query_string, which the STATEMENT line (and
 *	 the statement field of csvlog and jsonlog) prints, at a masked copy.
 *
 * - pg_stat_activity.  The server publishes the raw text before parsing
 *	 it.  post_parse_analyze_hook, the first hook to run after that,
 *	 publishes the masked text instead.  The extended protocol's Bind and
 *	 Execute publish a prepared statement's text again, with no parse
 *	 analysis after: the masking ProcessUtility hook (utility statements)
 *	 and the ExecutorStart and ExecutorRun hooks (the others, and the
 *	 part of a plan a parallel worker runs, whose row shows its leader's
 *	 text) mask it then, and the end of the transaction masks what a Bind
 *	 without Execute left.  The abort callbacks and the log hook mask the
 *	 text of statements that fail before parse analysis.  A text found
 *	 clean is not looked at again in the same client message
 *	 (handled_client_text).
 *
 * - Other libraries: pg_stat_statements, pgaudit, anything with a
 *	 ProcessUtility hook.  A second ProcessUtility hook, installed once
 *	 every library in shared_preload_libraries has installed its own (from
 *	 shmem_request_hook), sits outside all of them and passes the masked
 *	 text down the chain, so that they store and log only that.  The
 *	 statement's query id, which core computes from its text and which
 *	 would let anyone who can read pg_stat_statements test guesses of the
 *	 secret, is recomputed from the masked text.
 *
 * Everything here is off when usermap.redact is; the audit trail
 * (catalog.c) is masked regardless.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/hygiene.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/xact.h"
#include "executor/executor.h"
#include "common/keywords.h"
#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/analyze.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/backend_status.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "usermap.h"
#include "usermap_compat.h"

static emit_log_hook_type prev_emit_log_hook = NULL;
static post_parse_analyze_hook_type prev_post_parse_analyze_hook = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static ExecutorStart_hook_type prev_ExecutorStart_hook = NULL;
static ExecutorRun_hook_type prev_ExecutorRun_hook = NULL;

/* The hook chains below the masking hooks, once they are installed. */
static ProcessUtility_hook_type below_masking_hook = NULL;
static ExecutorEnd_hook_type below_masking_ExecutorEnd = NULL;

/*
 * Is usermap's own ProcessUtility hook right below the masking hook?  Then
 * no library sees the text of a statement usermap executes, and there is
 * no masked copy of it to make.
 */
static bool main_hook_below = false;

/* The masked copy debug_query_string points at, in TopMemoryContext. */
static char *masked_debug_query = NULL;

/* The text it replaced: the server's, valid while it runs that query */
static const char *unmasked_debug_query = NULL;

/* st_changecount of our pg_stat_activity entry when it was last checked. */
static bool activity_checked = false;
static int	activity_checked_changecount;

/* The masked query text we last published there, in TopMemoryContext. */
static char *published_activity = NULL;

/*
 * What debug_query_string pointed at when the client's query string and
 * its pg_stat_activity entry were last found to hold nothing to mask, or
 * were masked: by parse analysis of one of its statements, or after the
 * extended protocol published it again (handle_published_text); NULL if
 * none.  While debug_query_string still points at it, in the same client
 * message, pg_stat_activity shows that same text, and the hooks that run
 * at execution need not look at either again.
 *
 * A pointer alone would not do across messages: the server frees a
 * message's texts when the next message arrives, and Execute copies its
 * portal's text into the same place every time, republishing it raw, so
 * two messages' texts often share an address.  So the note is forgotten
 * when the next message arrives: the server resets MessageContext then,
 * and a reset callback registered there with the note clears it.  Outside
 * a client backend's message loop (no MessageContext) nothing is noted.
 * The note is also forgotten at the end of every transaction and when the
 * masked copy it may point at is freed, and the log hook and the abort
 * callback never use it.
 */
static const char *handled_client_text = NULL;

/* ... and found clean by parse analysis: no secret in it at any depth */
static bool handled_text_clean = false;

/* Is forget_at_next_message() registered for this message? */
static bool handled_reset_registered = false;

/* MessageContext's reset callback: a new client message has arrived */
static void
forget_at_next_message(void *arg)
{
	handled_client_text = NULL;
	handled_reset_registered = false;
}

/*
 * Its registration.  A reset unlinks every callback before it calls them,
 * so one static struct serves every message, registered anew each time.
 */
static MemoryContextCallback forget_callback = {forget_at_next_message, NULL, NULL};

/*
 * Note "query", the client's query string now, as handled; "clean" if it
 * holds nothing to mask at all.
 */
static inline void
note_handled_text(const char *query, bool clean)
{
	if (!handled_reset_registered)
	{
		if (MessageContext == NULL)
			return;
		MemoryContextRegisterResetCallback(MessageContext, &forget_callback);
		handled_reset_registered = true;
	}
	handled_client_text = query;
	handled_text_clean = clean;
}

static inline void
forget_handled_text(void)
{
	handled_client_text = NULL;
}

/* Is "query" the client text handled in this message? */
static inline bool
is_handled_text(const char *query)
{
	return query != NULL && query == handled_client_text;
}

/* Has this backend said that a later library sees unmasked text? */
static bool warned_not_outermost = false;

/* The statement being passed down the chain masked; see usermap.h */
MaskedStatement usermap_in_flight = {NULL, NULL, NULL, NULL};

/*
 * Statements whose own text is masked for other libraries and whose query
 * id is recomputed: those that can hold a secret option value as a
 * literal, and DO, whose body can.
 */
static bool
statement_may_hold_secret(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_CreateUserMappingStmt:
		case T_AlterUserMappingStmt:
		case T_DoStmt:
			return true;
		default:
			return false;
	}
}

/*
 * Point debug_query_string at a masked copy if it holds a secret.
 *
 * The server prints debug_query_string as the STATEMENT of a logged error
 * and current_query() returns it.  The copy lives until the next one is
 * made: by then the server has pointed debug_query_string at another query
 * (or at NULL), and nothing keeps the old pointer.
 */
static void
mask_debug_query_string(void)
{
	const char *query = debug_query_string;
	char	   *redacted;

	if (query == NULL || query == masked_debug_query)
		return;
	if ((redacted = usermap_redact(query)) == NULL)
		return;

	/*
	 * An interrupt served while the text was masked may have reported a
	 * message, and the log hook then masked the same text and published its
	 * copy: keep that one (the copy freed below would be the one
	 * debug_query_string points at).
	 */
	if (debug_query_string != query)
	{
		pfree(redacted);
		return;
	}

	if (masked_debug_query != NULL)
	{
		if (handled_client_text == masked_debug_query)
			forget_handled_text();
		pfree(masked_debug_query);
	}
	masked_debug_query = MemoryContextStrdup(TopMemoryContext, redacted);
	unmasked_debug_query = debug_query_string;
	pfree(redacted);
	debug_query_string = masked_debug_query;
}

/*
 * Keep a copy of the masked text now published, as stored there (cut to
 * track_activity_query_size).  The copy only saves work, so it is given up
 * rather than raise an error for lack of memory: this may run while an
 * error is being reported.
 */
static void
remember_published_activity(const char *activity)
{
	size_t		len = strlen(activity) + 1;

	if (published_activity != NULL)
		pfree(published_activity);
	published_activity = MemoryContextAllocExtended(TopMemoryContext, len,
													MCXT_ALLOC_NO_OOM);
	if (published_activity != NULL)
		memcpy(published_activity, activity, len);
}

/*
 * Note that the text now published in pg_stat_activity holds nothing to
 * mask: mask_activity() looked at it (and masked it), or the caller knows
 * it to be a text found clean.
 */
static inline void
note_activity_checked(void)
{
	volatile PgBackendStatus *beentry = MyBEEntry;

	if (beentry != NULL && pgstat_track_activities)
	{
		activity_checked = true;
		activity_checked_changecount = beentry->st_changecount;
	}
}

/*
 * Publish a masked copy of this backend's pg_stat_activity query if it
 * holds a secret.
 *
 * We are the only writer of our entry, so it can be read without the
 * changecount protocol; the changecount only tells whether anything was
 * written since the last check, which keeps the common case to one
 * comparison.  The text is what the server published, cut to
 * track_activity_query_size: a secret cut in two is masked with the rest
 * of its statement by the fail-closed rule.
 */
static void
mask_activity(void)
{
	volatile PgBackendStatus *beentry = MyBEEntry;
	char	   *redacted;

	if (beentry == NULL || !pgstat_track_activities)
		return;
	if (activity_checked && beentry->st_changecount == activity_checked_changecount)
		return;

	/*
	 * The count also moves when the server reports the query id or a
	 * transaction timestamp; the text may still be the one we published.
	 */
	if (published_activity == NULL ||
		strcmp((const char *) beentry->st_activity_raw, published_activity) != 0)
	{
		redacted = usermap_redact((const char *) beentry->st_activity_raw);
		if (redacted != NULL)
		{
			pgstat_report_activity(beentry->st_state, redacted);
			pfree(redacted);
			remember_published_activity((const char *) beentry->st_activity_raw);

			/* the same text may be the STATEMENT of a later log line */
			mask_debug_query_string();
		}
	}

	note_activity_checked();
}

/*
 * Replace a text field of an error report by its masked copy, allocated
 * where the field was.
 */
static void
mask_error_field(char **field, bool message)
{
	char	   *redacted;
	char	   *escaped;

	if (*field == NULL || !usermap_redact_needed(*field))
		return;
	redacted = message ? usermap_redact_message(*field) : usermap_redact(*field);
	if (redacted != NULL)
	{
		pfree(*field);
		*field = redacted;
	}
	/* a statement the server escaped on its way into the message */
	if (message && (escaped = usermap_mask_escaped_text(*field)) != NULL)
	{
		pfree(*field);
		*field = escaped;
	}
}

/*
 * Where does the text that "query" has from byte "offset" on appear in
 * "msg", quoted, at the greatest length?  Return that length, and its
 * place in *at; 0 if not even its first byte does.
 */
static int
quoted_query_text(const char *msg, const char *query, int offset, int *at)
{
	const char *fragment = query + offset;
	int			best = 0;
	int64		budget = 4 * (int64) strlen(msg) + 1024;

	for (const char *m = strchr(msg, fragment[0]);
		 fragment[0] != '\0' && m != NULL; m = strchr(m + 1, fragment[0]))
	{
		int			k = 0;

		/* quoted: after a quotation mark, ASCII or not (a translation's) */
		if (m == msg || (m[-1] != '"' && !IS_HIGHBIT_SET(m[-1])))
			continue;

		while (m[k] != '\0' && m[k] == fragment[k])
			k++;

		/*
		 * A message made of many quoted copies of the query's text would make
		 * this quadratic: past a budget linear in the message, take
		 * everything from its first quotation mark as quoted.
		 */
		if ((budget -= k + 1) < 0)
		{
			const char *quote = strchr(msg, '"');

			*at = quote ? quote + 1 - msg : 0;
			return strlen(msg + *at);
		}
		if (k > best)
		{
			best = k;
			*at = m - msg;
		}
	}
	return best;
}

/*
 * Is the quoted text, "len" bytes at "p", one no secret can be part of:
 * punctuation of the statement, a keyword, or an empty delimited
 * identifier ("", the whole token of the scanner's "zero-length delimited
 * identifier" error)?  The server then quotes it as it is, though the
 * redactor masked the statement around it, so that an ordinary syntax
 * error ("OPTIONS ()", "FOR \"\"") reads as in core.
 */
static bool
harmless_quote(const char *p, int len)
{
	char	   *word;
	bool		keyword;

	if ((int) strspn(p, "(),;= \t\n") >= len)
		return true;
	if (len == 2 && p[0] == '"' && p[1] == '"')
		return true;
	for (int i = 0; i < len; i++)
		if (!IS_HIGHBIT_SET(p[i]) && !isalpha((unsigned char) p[i]) && p[i] != '_')
			return false;
	word = pnstrdup(p, len);
	keyword = ScanKeywordLookup(word, &ScanKeywords) >= 0;
	pfree(word);
	return keyword;
}

/*
 * A syntax error quotes the query from the error position on: the token
 * ("at or near ..."), and for an unterminated constant or comment the rest
 * of the text, a secret included.  Mask what the message quotes if it
 * overlaps the stretch of the query the redactor changed: the quoted text
 * is then part of what was masked, or lies where the fail-closed rule
 * masked the rest of the text after a mistyped quote.  The query is the one the
 * position counts in, the client's or an internal one.
 */
static void
mask_quoted_query_text(ErrorData *edata)
{
	const char *query;
	int			position;
	char	   *redacted;
	int			offset;
	int			at = 0;
	int			len;
	int			same = 0;
	int			same_tail = 0;
	int			qlen;
	int			rlen;

	if (edata->message == NULL)
		return;
	if (edata->internalpos > 0 && edata->internalquery != NULL)
	{
		query = edata->internalquery;
		position = edata->internalpos;
	}
	else if (edata->cursorpos > 0 && debug_query_string != NULL)
	{
		query = (debug_query_string == masked_debug_query) ?
			unmasked_debug_query : debug_query_string;
		position = edata->cursorpos;
	}
	else
		return;
	/* only text with a statement in it holds a secret to mask */
	if (!usermap_redact_spells_statement(query) ||
		(redacted = usermap_redact(query)) == NULL)
		return;

	/* the position counts characters from 1 */
	offset = pg_mbcharcliplen(query, strlen(query), position - 1);
	len = quoted_query_text(edata->message, query, offset, &at);
	/* what the redactor changed lies between "same" and "qlen - same_tail" */
	while (query[same] != '\0' && query[same] == redacted[same])
		same++;
	qlen = strlen(query);
	rlen = strlen(redacted);
	while (same_tail < qlen - same && same_tail < rlen - same &&
		   query[qlen - 1 - same_tail] == redacted[rlen - 1 - same_tail])
		same_tail++;
	if (len > 0 && offset < qlen - same_tail && offset + len > same &&
		!harmless_quote(edata->message + at, len))
	{
		char	   *masked = psprintf("%.*s%s%s", at, edata->message,
									  USERMAP_MASK, edata->message + at + len);

		pfree(edata->message);
		edata->message = masked;
	}
	pfree(redacted);
}

/*
 * The end of the node-dump token at "p", and in *decoded (if not NULL) its
 * text.  outToken() writes a token with a backslash before each byte that
 * would end it (white space, parentheses, braces) or be misread, and a
 * pretty-printed dump indents the line after an escaped newline.
 */
static const char *
node_token_end(const char *p, StringInfo decoded)
{
	/* outToken() escapes these; a carriage return or form feed it does not */
	while (*p != '\0' && strchr(" \t\n(){}", *p) == NULL)
	{
		if (*p == '\\' && p[1] != '\0')
		{
			p++;
			if (decoded)
				appendStringInfoChar(decoded, *p);
			if (*p++ == '\n')
				while (*p == ' ' || *p == '\t')
					p++;
			continue;
		}
		if (decoded)
			appendStringInfoChar(decoded, *p);
		p++;
	}
	return p;
}

static const char *
skip_space(const char *p)
{
	while (isspace((unsigned char) *p))
		p++;
	return p;
}

/*
 * Is this the LOG line of debug_print_parse, _rewritten or _plan, whose
 * DETAIL is a node dump?  (elog_node_display's titles are not translated.)
 */
static bool
is_node_dump(ErrorData *edata)
{
	return edata->message != NULL && edata->detail != NULL &&
		(strcmp(edata->message, "parse tree:") == 0 ||
		 strcmp(edata->message, "rewritten parse tree:") == 0 ||
		 strcmp(edata->message, "plan:") == 0);
}

/*
 * debug_print_parse, _rewritten and _plan write a statement's parse tree
 * in the DETAIL of a LOG line titled "parse tree:", "rewritten parse
 * tree:" or "plan:", every option value in it:
 *
 *	{DEFELEM :defnamespace <> :defname password :arg "secret" ...}
 *
 * Mask the value of each secret option, and the body of a DO statement
 * (option "as") if it holds a statement with a secret.  Pretty-printed
 * (debug_pretty_print, the default) the dump breaks long tokens across
 * lines wherever they reach the line's width, so its values cannot be
 * told apart: then the whole dump of a user-mapping statement, or of a DO
 * statement that may hold one, is masked.
 */
static void
mask_node_dump(ErrorData *edata)
{
	StringInfoData buf;
	const char *p;
	const char *def;
	bool		changed = false;

	if (!is_node_dump(edata))
		return;

	if (Debug_pretty_print)
	{
		/* undo the line breaks, which may fall inside a word */
		StringInfoData joined;
		bool		mask;

		initStringInfo(&joined);
		for (p = edata->detail; *p != '\0'; p++)
		{
			if (*p == '\n')
			{
				while (p[1] == ' ' || p[1] == '\t')
					p++;
				continue;
			}
			appendStringInfoChar(&joined, *p);
		}
		mask = (strstr(joined.data, "USERMAPPINGSTMT") != NULL ||
				(strstr(joined.data, "{DOSTMT") != NULL &&
				 usermap_redact_needed(joined.data)));
		pfree(joined.data);
		if (mask)
		{
			pfree(edata->detail);
			edata->detail = pstrdup(USERMAP_MASK);
		}
		return;
	}

	initStringInfo(&buf);
	p = edata->detail;
	while ((def = strstr(p, ":defname")) != NULL)
	{
		StringInfoData name;
		StringInfoData value;
		const char *arg;
		const char *end;
		bool		mask;

		initStringInfo(&name);
		arg = skip_space(node_token_end(skip_space(def + strlen(":defname")),
										&name));
		if (strncmp(arg, ":arg", 4) != 0 || !isspace((unsigned char) arg[4]))
		{
			appendBinaryStringInfo(&buf, p, arg - p);
			p = arg;
			continue;
		}
		arg = skip_space(arg + 4);
		initStringInfo(&value);
		end = node_token_end(arg, &value);
		if (*arg != '"' || value.len < 2 || value.data[value.len - 1] != '"')
		{
			appendBinaryStringInfo(&buf, p, end - p);
			p = end;
			continue;
		}
		value.data[--value.len] = '\0'; /* the quotes around a String */
		if (strcmp(name.data, "as") == 0)
			mask = (usermap_redact(value.data + 1) != NULL);
		else
			mask = usermap_is_secret_option(name.data);
		appendBinaryStringInfo(&buf, p, arg - p);
		appendStringInfoString(&buf, mask ? "\"" USERMAP_MASK "\"" : "");
		if (!mask)
			appendBinaryStringInfo(&buf, arg, end - arg);
		changed |= mask;
		p = end;
	}
	appendStringInfoString(&buf, p);
	if (changed)
	{
		pfree(edata->detail);
		edata->detail = buf.data;
	}
	else
		pfree(buf.data);
}

/*
 * What the server rewrote on its way into a message, beyond the fields'
 * own escaping (hygiene_log.c): a node dump's string constants, written as
 * bytes, and an identifier the lexer is about to truncate, which may be a
 * secret where a string belongs.
 */
static void
mask_rewritten_text(ErrorData *edata)
{
	const char *client_query = debug_query_string;
	char	   *masked;

	if (debug_query_string != NULL && debug_query_string == masked_debug_query)
		client_query = unmasked_debug_query;

	if (edata->message == NULL)
		return;
	if (is_node_dump(edata) &&
		(masked = usermap_mask_dumped_constants(edata->detail, client_query,
												Debug_pretty_print)) != NULL)
	{
		pfree(edata->detail);
		edata->detail = masked;
	}
	if (edata->sqlerrcode == ERRCODE_NAME_TOO_LONG &&
		(masked = usermap_mask_truncated_identifier(edata->message,
													client_query)) != NULL)
	{
		pfree(edata->message);
		edata->message = masked;
	}
}

/*
 * emit_log_hook: mask what is about to be written to the server log.
 *
 * Core calls the hook in the error's own memory context, before the
 * message goes to the log and to the client, and reads the fields again
 * afterwards, so rewriting them reaches every log destination and format.
 * The redactor raises no error of its own: reporting one here would
 * replace the message being reported.  In error recursion (an error while
 * reporting an error) nothing is attempted beyond hiding the statement.
 */
static void
usermap_emit_log(ErrorData *edata)
{
	if (usermap_redact_enabled)
	{
		/*
		 * Nothing may end the report half masked: a query cancel served by
		 * the redactor would raise an error inside error reporting.  Its work
		 * is bounded instead (redact_internal.h).
		 */
		HOLD_INTERRUPTS();

		/*
		 * A text that did not parse is reported under its settings.  Only
		 * while a statement runs: the postmaster's messages, or a backend's
		 * before its startup options are applied, lexed nothing.
		 */
		if (debug_query_string != NULL)
			usermap_redact_observe_settings();
		if (in_error_recursion_trouble())
			edata->hide_stmt = true;
		else
		{
			mask_quoted_query_text(edata);
			mask_node_dump(edata);
			mask_rewritten_text(edata);
			mask_error_field(&edata->message, true);
			mask_error_field(&edata->detail, true);
			mask_error_field(&edata->detail_log, true);
			mask_error_field(&edata->hint, true);
			mask_error_field(&edata->context, true);
			mask_error_field(&edata->internalquery, false);
			if (!edata->hide_stmt)
				mask_debug_query_string();

			/* a statement that failed before parse analysis, or on it */
			if (edata->elevel >= ERROR)
				mask_activity();
		}
		RESUME_INTERRUPTS();
	}

	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/*
 * A copy of a user-mapping statement's parse tree with every secret option
 * value replaced by the mask, or of a DO statement's with its body
 * redacted; NULL if nothing in it is secret.
 */
static Node *
mask_utility_tree(Node *parsetree)
{
	List	  **options;
	Node	   *copy;
	bool		changed = false;
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_CreateUserMappingStmt:
			copy = copyObject(parsetree);
			options = &((CreateUserMappingStmt *) copy)->options;
			break;
		case T_AlterUserMappingStmt:
			copy = copyObject(parsetree);
			options = &((AlterUserMappingStmt *) copy)->options;
			break;
		case T_DoStmt:
			copy = copyObject(parsetree);
			options = &((DoStmt *) copy)->args;
			break;
		default:
			return NULL;
	}

	foreach(lc, *options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);
		char	   *masked;

		if (def->arg == NULL || !IsA(def->arg, String))
			continue;
		if (IsA(parsetree, DoStmt))
		{
			if (strcmp(def->defname, "as") != 0 ||
				(masked = usermap_redact(strVal(def->arg))) == NULL)
				continue;
		}
		else if (usermap_is_secret_option(def->defname))
			masked = pstrdup(USERMAP_MASK);
		else
			continue;
		def->arg = (Node *) makeString(masked);
		changed = true;
	}
	return changed ? copy : NULL;
}

/*
 * The query id core gives a utility statement includes the secret: from
 * 16 on it is a jumble of the parse tree, in 15 a hash of the text.  Give
 * the statement the id core would have given it with the secret masked,
 * so that statements differing only in their secret share one id, and a
 * reader of pg_stat_statements, pg_stat_activity.query_id or a log line's
 * %Q cannot test guesses of the secret against it.
 *
 * A user-mapping or DO statement gets the jumble of its tree masked
 * (mask_utility_tree), as core would compute it.  Any other utility
 * statement that quotes a user-mapping statement in a string (COMMENT ...
 * IS '...', CREATE FUNCTION's body, CALL's arguments), whose tree jumble
 * (16 on) holds the quoted text as it was, gets the hash of its masked
 * text instead, as 15 computes it.  A plannable statement needs nothing:
 * its jumble records where its constants are, not their values.
 */
static void
mask_query_id(ParseState *pstate, Query *query)
{
	if (USERMAP_UTILITY_QUERY_ID_FROM_TREE &&
		statement_may_hold_secret(query->utilityStmt))
	{
		Node	   *masked = mask_utility_tree(query->utilityStmt);
		Query		copy;

		if (masked == NULL)
			return;
		copy = *query;
		copy.utilityStmt = masked;
		(void) usermap_jumble_query(&copy);
		query->queryId = copy.queryId;
	}
	else
	{
		int			location = query->stmt_location;
		int			len = query->stmt_len;
		const char *sql = CleanQuerytext(pstate->p_sourcetext, &location, &len);
		char	   *text = pnstrdup(sql, len);
		char	   *redacted = usermap_redact(text);

		if (redacted != NULL)
		{
			query->queryId = (usermap_query_id)
				DatumGetUInt64(hash_any_extended((const unsigned char *) redacted,
												 strlen(redacted), 0));
			/* as core: zero is invalid, and 1 is taken by normal statements */
			if (query->queryId == 0)
				query->queryId = 2;
			pfree(redacted);
		}
		pfree(text);
	}
}

/*
 * A user-mapping statement that is the whole of its text: mask the text
 * from the parse tree, which knows every secret value the server read,
 * rather than lex it (see usermap_redact_remember_parsed).  Options named
 * like actions (add, set, drop) count as secrets, as the redactor has them.
 */
static void
remember_parsed_statement(ParseState *pstate, Query *query)
{
	const char *source = pstate->p_sourcetext;
	List	   *options;
	List	   *secrets = NIL;
	ListCell   *lc;
	int			len = query->stmt_len;

	switch (nodeTag(query->utilityStmt))
	{
		case T_CreateUserMappingStmt:
			options = ((CreateUserMappingStmt *) query->utilityStmt)->options;
			break;
		case T_AlterUserMappingStmt:
			options = ((AlterUserMappingStmt *) query->utilityStmt)->options;
			break;
		case T_DropUserMappingStmt:
			options = NIL;
			break;
		default:
			return;
	}
	/* the first statement, followed by nothing but ";" and blanks */
	if (query->stmt_location > 0 ||
		(len > 0 && source[len + strspn(source + len, " \t\n\r\f;")] != '\0'))
		return;

	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (def->arg != NULL && IsA(def->arg, String) &&
			(usermap_is_secret_option(def->defname) ||
			 strcmp(def->defname, "add") == 0 ||
			 strcmp(def->defname, "set") == 0 ||
			 strcmp(def->defname, "drop") == 0))
			secrets = lappend(secrets, def->arg);
	}
	(void) usermap_redact_remember_parsed(source, len, secrets);
	list_free(secrets);
}

/*
 * Mask the text published in pg_stat_activity and debug_query_string, and
 * note that they hold nothing more to mask.  After parse analysis found a
 * text that may hold a secret, and where the extended protocol's Bind (and
 * Execute) published the text of a prepared statement again, raw, and
 * pointed debug_query_string at it, with no parse analysis since.
 */
static void
handle_published_text(void)
{
	mask_activity();
	mask_debug_query_string();
	note_handled_text(debug_query_string, false);
}

/*
 * The post-parse-analysis work for a statement whose query string may
 * hold a secret.
 */
static pg_noinline void
mask_analyzed_statement(ParseState *pstate, Query *query)
{
	if (query->utilityStmt != NULL)
		remember_parsed_statement(pstate, query);

	if (query->utilityStmt != NULL && query->queryId != 0)
		mask_query_id(pstate, query);

	/*
	 * Whatever the statement, its query string may hold another that has a
	 * secret: mask pg_stat_activity, and debug_query_string, under the
	 * settings it was lexed under, for current_query() and the STATEMENT of a
	 * log line.  With track_activities off, only the latter.
	 */
	handle_published_text();
}

/*
 * post_parse_analyze_hook: the first point after the server published the
 * raw text of a statement at which an extension runs.  It runs for every
 * statement, so the common case, a text with nothing to mask, is kept to
 * one scan of the text (usermap_redact_needed).
 */
static void
usermap_post_parse_analyze(ParseState *pstate, Query *query,
						   usermap_jumble_state *jstate)
{
	if (prev_post_parse_analyze_hook)
		prev_post_parse_analyze_hook(pstate, query, jstate);

	/* the server lexed this statement's text under the settings now */
	usermap_redact_observe_settings();

	if (!usermap_redact_enabled)
		return;

	if (pstate->p_sourcetext != NULL &&
		usermap_redact_needed(pstate->p_sourcetext))
		mask_analyzed_statement(pstate, query);
	else if (pstate->p_sourcetext == debug_query_string)
	{
		/*
		 * pg_stat_activity shows the client's query string, and this is it:
		 * nothing there to mask.
		 */
		note_handled_text(debug_query_string, true);
		note_activity_checked();
	}
	else
		mask_activity();
}

/*
 * Is there anything the hooks that run at execution must look at?  Not
 * while debug_query_string is the text handled in this client message.
 */
static inline bool
client_text_unchecked(void)
{
	return !is_handled_text(debug_query_string);
}

/* The executor hooks' work: what Bind or Execute published again */
static inline void
handle_republished_text(void)
{
	if (usermap_redact_enabled && client_text_unchecked())
		handle_published_text();
}

/*
 * ExecutorStart_hook: a plannable statement starts, at Execute, or at Bind
 * for a SELECT (PortalStart).  Through the extended protocol this is the
 * first point after Bind republished a raw text at which usermap runs: a
 * SELECT whose string constant quotes a user-mapping statement.
 */
static void
usermap_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	handle_republished_text();

	if (prev_ExecutorStart_hook)
		prev_ExecutorStart_hook(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/*
 * ExecutorRun_hook: each Execute of a plannable statement.  Execute
 * publishes the portal's text again, raw, before it runs it, also when it
 * resumes a suspended portal.
 */
static void
usermap_ExecutorRun(USERMAP_EXECUTOR_RUN_PARAMS)
{
	handle_republished_text();

	if (prev_ExecutorRun_hook)
		usermap_call_executor_run(prev_ExecutorRun_hook);
	else
		usermap_call_executor_run(standard_ExecutorRun);
}

/*
 * Where "pstmt"'s statement lies in its query string of "total" bytes, as
 * pg_stat_statements' CleanQuerytext() reads it: an unknown location means
 * the whole string, an unknown (or overlong) length the rest of it.
 */
static void
statement_bounds(PlannedStmt *pstmt, int total, int *location, int *len)
{
	*location = pstmt->stmt_location;
	*len = pstmt->stmt_len;
	if (*location < 0 || *location > total)
	{
		*location = 0;
		*len = total;
	}
	else if (*len <= 0 || *location + *len > total)
		*len = total - *location;
}

/*
 * The text of "queryString" with the statement "pstmt" points into masked,
 * and a flat copy of "pstmt" that points into the new text; or NULL if
 * nothing needed masking.  The text before and after the statement (other
 * statements of the same query string) is masked on its own: statement
 * boundaries are ";" tokens, so each part lexes as it did in the whole.
 */
/* not inlined into the masking hook, whose PG_TRY would clobber its locals */
static pg_noinline const char *
mask_statement_text(const char *queryString, PlannedStmt *pstmt,
					PlannedStmt **masked_pstmt)
{
	int			total = strlen(queryString);
	int			location;
	int			len;
	char	   *parts[3];
	char	   *masked[3];
	PlannedStmt *copy;

	statement_bounds(pstmt, total, &location, &len);

	/*
	 * The statement at the start of its query string, followed by nothing
	 * with a secret (blanks and ";", usually): its text masked is the query
	 * string's, which is usually known already.  Checked in place, without
	 * copying the parts.
	 */
	if (location == 0 && !usermap_redact_needed(queryString + len))
	{
		const char *suffix = queryString + len;
		int			slen = total - len;
		char	   *whole = usermap_redact(queryString);
		int			wlen;

		if (whole == NULL)
			return NULL;
		wlen = strlen(whole);
		if (wlen >= slen && strcmp(whole + wlen - slen, suffix) == 0)
		{
			copy = makeNode(PlannedStmt);
			memcpy(copy, pstmt, sizeof(PlannedStmt));
			if (pstmt->stmt_len > 0)
				copy->stmt_len = wlen - slen;
			*masked_pstmt = copy;
			return whole;
		}
		pfree(whole);
	}

	parts[0] = pnstrdup(queryString, location);
	parts[1] = pnstrdup(queryString + location, len);
	parts[2] = pstrdup(queryString + location + len);

	for (int i = 0; i < 3; i++)
		masked[i] = usermap_redact(parts[i]);
	if (masked[0] == NULL && masked[1] == NULL && masked[2] == NULL)
		return NULL;
	for (int i = 0; i < 3; i++)
		if (masked[i] == NULL)
			masked[i] = parts[i];

	copy = makeNode(PlannedStmt);
	memcpy(copy, pstmt, sizeof(PlannedStmt));
	if (pstmt->stmt_location >= 0)
		copy->stmt_location = strlen(masked[0]);
	if (pstmt->stmt_len > 0)
		copy->stmt_len = strlen(masked[1]);
	*masked_pstmt = copy;

	return psprintf("%s%s%s", masked[0], masked[1], masked[2]);
}

static void usermap_masking_ProcessUtility(PlannedStmt *pstmt,
										   const char *queryString,
										   bool readOnlyTree,
										   ProcessUtilityContext context,
										   ParamListInfo params,
										   QueryEnvironment *queryEnv,
										   DestReceiver *dest,
										   QueryCompletion *qc);

/*
 * The masking hook's work for a statement that may hold a secret: publish
 * its text masked, and pass it down the chain masked.
 */
static pg_noinline void
pass_down_masked(PlannedStmt *pstmt, const char *queryString,
				 bool readOnlyTree, ProcessUtilityContext context,
				 ParamListInfo params, QueryEnvironment *queryEnv,
				 DestReceiver *dest, QueryCompletion *qc)
{
	/*
	 * The extended protocol's Bind published the statement's text again and
	 * pointed debug_query_string at it, with no parse analysis since.
	 */
	if (client_text_unchecked())
		handle_published_text();

	if (queryString != NULL && !is_handled_text(queryString) &&
		!(main_hook_below && usermap_owns_statement(pstmt->utilityStmt)) &&
		usermap_redact_needed(queryString))
	{
		PlannedStmt *masked_pstmt;
		const char *masked = mask_statement_text(queryString, pstmt,
												 &masked_pstmt);

		if (masked != NULL)
		{
			MaskedStatement saved = usermap_in_flight;

			usermap_in_flight.masked_query = masked;
			usermap_in_flight.masked_pstmt = masked_pstmt;
			usermap_in_flight.query = queryString;
			usermap_in_flight.pstmt = pstmt;
			PG_TRY();
			{
				below_masking_hook(masked_pstmt, masked, readOnlyTree,
								   context, params, queryEnv, dest, qc);
			}
			PG_FINALLY();
			{
				usermap_in_flight = saved;
			}
			PG_END_TRY();
			return;
		}
	}

	/*
	 * A library loaded after shared_preload_libraries (by
	 * session_preload_libraries, local_preload_libraries or LOAD) put its
	 * hook outside this one and saw the text unmasked.  A line for the
	 * administrator, in the server log alone, about the configuration: the
	 * statement, which may hold a secret, is not attached to it.
	 */
	if (ProcessUtility_hook != usermap_masking_ProcessUtility &&
		!warned_not_outermost && statement_may_hold_secret(pstmt->utilityStmt))
	{
		warned_not_outermost = true;
		ereport(LOG_SERVER_ONLY,
				(errmsg("a library loaded after usermap sees user-mapping statements before usermap masks their secrets"),
				 errhint("Load libraries that hook utility statements from shared_preload_libraries."),
				 errhidestmt(true)));
	}

	below_masking_hook(pstmt, queryString, readOnlyTree, context, params,
					   queryEnv, dest, qc);
}

/*
 * The masking ProcessUtility hook, outermost of all: hand the libraries
 * below it the masked text of a statement that holds a secret, whether as
 * a user-mapping statement's option, in a DO block, or quoted in a string
 * constant of any other statement (COMMENT ... IS '...').  A statement of
 * the client's query string that parse analysis found clean costs two
 * comparisons.
 */
static void
usermap_masking_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
							   bool readOnlyTree,
							   ProcessUtilityContext context,
							   ParamListInfo params,
							   QueryEnvironment *queryEnv,
							   DestReceiver *dest, QueryCompletion *qc)
{
	if (usermap_redact_enabled &&
		(statement_may_hold_secret(pstmt->utilityStmt) ||
		 queryString != debug_query_string || client_text_unchecked()))
		pass_down_masked(pstmt, queryString, readOnlyTree, context, params,
						 queryEnv, dest, qc);
	else
		below_masking_hook(pstmt, queryString, readOnlyTree, context, params,
						   queryEnv, dest, qc);
}

/*
 * ExecutorEnd below the masking hook, handed the statement's own text,
 * masked, in place of its query string, with a copy of the plan whose
 * statement location covers it.  The statement alone, not the whole
 * string masked: each statement of a string of many would otherwise mask
 * the whole string again, work quadratic in the string.  What the
 * libraries below read of the text is that statement anyway
 * (pg_stat_statements cuts it out by the location; auto_explain's Query
 * Text shows it alone).
 */
static pg_noinline void
end_with_masked_text(QueryDesc *queryDesc)
{
	const char *source = queryDesc->sourceText;
	PlannedStmt *pstmt = queryDesc->plannedstmt;
	PlannedStmt *copy;
	int			location;
	int			len;
	char	   *stmt;
	char	   *masked;

	statement_bounds(pstmt, strlen(source), &location, &len);
	stmt = pnstrdup(source + location, len);
	if ((masked = usermap_redact(stmt)) != NULL)
	{
		pfree(stmt);
		stmt = masked;
	}
	copy = makeNode(PlannedStmt);
	memcpy(copy, pstmt, sizeof(PlannedStmt));
	copy->stmt_location = 0;
	copy->stmt_len = strlen(stmt);

	queryDesc->sourceText = stmt;
	queryDesc->plannedstmt = copy;
	PG_TRY();
	{
		below_masking_ExecutorEnd(queryDesc);
	}
	PG_FINALLY();
	{
		queryDesc->sourceText = source;
		queryDesc->plannedstmt = pstmt;
	}
	PG_END_TRY();
}

/*
 * The masking ExecutorEnd hook, outermost of all, as the masking
 * ProcessUtility hook is: the libraries below it read the statement's
 * text at ExecutorEnd, and must see it masked.  pg_stat_statements stores
 * an entry there from queryDesc->sourceText when the one parse analysis
 * made is gone (evicted, or reset, between a Parse and its Execute), and
 * auto_explain writes that text as the plan's "Query Text", escaped for
 * JSON or YAML where the log hook could no longer read it as SQL.  They
 * get the statement's own text, masked (end_with_masked_text).
 */
static void
usermap_masking_ExecutorEnd(QueryDesc *queryDesc)
{
	const char *source = queryDesc->sourceText;

	if (usermap_redact_enabled && source != NULL &&
		!(source == handled_client_text && handled_text_clean) &&
		usermap_redact_needed(source))
		end_with_masked_text(queryDesc);
	else
		below_masking_ExecutorEnd(queryDesc);
}

/*
 * shmem_request_hook runs in the postmaster once every library in
 * shared_preload_libraries is loaded: the place to put hooks outside all
 * of theirs.
 */
static void
usermap_install_masking_hook(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	if (ProcessUtility_hook == usermap_masking_ProcessUtility)
		return;
	below_masking_hook = ProcessUtility_hook ? ProcessUtility_hook
		: standard_ProcessUtility;
	main_hook_below = usermap_is_main_hook(below_masking_hook);
	ProcessUtility_hook = usermap_masking_ProcessUtility;

	below_masking_ExecutorEnd = ExecutorEnd_hook ? ExecutorEnd_hook
		: standard_ExecutorEnd;
	ExecutorEnd_hook = usermap_masking_ExecutorEnd;
}

/*
 * The end of a transaction, from usermap.c's transaction callback.
 *
 * On abort: a statement that failed before parse analysis (a syntax error)
 * left its raw text published.  The log hook sees the error too, but only
 * if log_min_messages lets it through.
 *
 * On commit: the extended protocol's Bind published a raw text, and Sync
 * ended the transaction without an Execute (or the statement ran no hook
 * of usermap's); the session would show it while idle.
 */
void
usermap_hygiene_end_xact(bool abort)
{
	if (usermap_redact_enabled && (abort || client_text_unchecked()))
	{
		/* no error may escape a commit or abort callback: see the log hook */
		HOLD_INTERRUPTS();
		mask_activity();
		RESUME_INTERRUPTS();
	}
	forget_handled_text();
}

static void
usermap_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && usermap_redact_enabled)
	{
		HOLD_INTERRUPTS();
		mask_activity();
		RESUME_INTERRUPTS();
	}
}

/*
 * Install the hooks, from _PG_init in shared_preload_libraries.
 */
void
usermap_hygiene_install_hooks(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = usermap_emit_log;

	prev_post_parse_analyze_hook = post_parse_analyze_hook;
	post_parse_analyze_hook = usermap_post_parse_analyze;

	prev_ExecutorStart_hook = ExecutorStart_hook;
	ExecutorStart_hook = usermap_ExecutorStart;

	prev_ExecutorRun_hook = ExecutorRun_hook;
	ExecutorRun_hook = usermap_ExecutorRun;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = usermap_install_masking_hook;

	RegisterSubXactCallback(usermap_subxact_callback, NULL);
}
