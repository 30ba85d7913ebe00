/*-------------------------------------------------------------------------
 *
 * redact_message.c
 *		  Mask secret option values in log messages.
 *
 * A log message is prose that quotes SQL.  Most messages quote it bare, at
 * the end ("statement: ...", "duration: ... statement: ..."), and the SQL
 * rules (redact.c) apply to the whole message.  Some put it in double quotes:
 * PL/pgSQL's error context (SQL statement "..."), pgaudit's CSV field.  To
 * the lexer that is a quoted identifier, or, once it is longer than a
 * name, the start of unlexable text, and a secret inside would be kept or
 * the rest of the message masked.  So a message is searched for statements
 * the lexer cannot see, and each is redacted as SQL from its first keyword,
 * with the closing double quote counting as the end of the statement: the
 * quote may or may not be doubled inside, so where the statement does not
 * end cleanly, the fail-closed rule masks the rest of the message.
 *
 * redact_message_text() is this file's contract: the message redacted, or
 * NULL if nothing changed, for any message, without raising an error or
 * emitting a message.  usermap_redact_spells_statement() tells, without
 * lexing, whether a text spells out a user-mapping statement anywhere.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/redact_message.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "usermap.h"
#include "redact_internal.h"

/* At most this many quoted statements are followed in one message. */
#define REDACT_MAX_QUOTED	16

static const char *skip_blanks_uncharged(const char *p);

/*
 * Skip whitespace and comments, which may separate keywords.  The callers
 * try every letter of a message as the start of a statement, so an
 * unterminated comment would be scanned again from each: what is scanned
 * is charged to the redactor's budget.
 */
static const char *
skip_blanks(const char *p)
{
	const char *start = p;
	const char *end = skip_blanks_uncharged(p);

	(void) redact_charge(end - start);
	return end;
}

static const char *
skip_blanks_uncharged(const char *p)
{
	for (;;)
	{
		if (IS_SPACE(*p))
			p++;
		else if (p[0] == '-' && p[1] == '-')
		{
			while (*p && !IS_NEWLINE(*p))
				p++;
		}
		else if (p[0] == '/' && p[1] == '*')
		{
			int			nesting = 1;	/* SQL comments nest */

			p += 2;
			while (*p && nesting > 0)
			{
				if (p[0] == '/' && p[1] == '*')
					nesting++, p += 2;
				else if (p[0] == '*' && p[1] == '/')
					nesting--, p += 2;
				else
					p++;
			}
		}
		else
			return p;
	}
}

/* Is the keyword "lower" at *p, as a whole word?  Then step past it. */
static bool
accept_word(const char **p, const char *lower)
{
	size_t		len = strlen(lower);

	if (!ascii_prefix_ci(*p, lower) || IS_IDENT_CONT((unsigned char) (*p)[len]))
		return false;
	*p = skip_blanks(*p + len);
	return true;
}

/*
 * Does CREATE or ALTER USER MAPPING FOR (or IF) start at offset "at" of
 * "msg", as words, whatever the lexer makes of the text around it?
 */
static bool
statement_spelled_at(const char *msg, int at)
{
	const char *p = msg + at;

	/*
	 * A keyword right after a letter or digit continues a word; right after
	 * "$" it may start the body of a dollar-quoted constant ($q$ALTER ...),
	 * which a message quotes as it was written.
	 */
	if (at > 0 && IS_IDENT_CONT((unsigned char) msg[at - 1]) && msg[at - 1] != '$')
		return false;
	if (!accept_word(&p, "create") && !accept_word(&p, "alter"))
		return false;
	return accept_word(&p, "user") && accept_word(&p, "mapping") &&
		(accept_word(&p, "for") || accept_word(&p, "if"));
}

/*
 * Does "s" spell out a CREATE or ALTER USER MAPPING statement anywhere?
 * The entry point for callers outside the redactor: a budget of its own.
 */
bool
usermap_redact_spells_statement(const char *s)
{
	size_t		len = strlen(s);
	RedactSavedState saved;
	bool		spells;

	if (len > REDACT_MAX_LEN)
		return true;
	redact_save_state(&saved);
	redact_budget_start(len);
	spells = redact_spells_statement(s);
	redact_restore_state(&saved);
	return spells;
}

/* The same, within the budget of the text being redacted */
bool
redact_spells_statement(const char *s)
{
	for (int at = 0; s[at] != '\0'; at++)
	{
		char		c = s[at] | 0x20;

		if ((c == 'c' || c == 'a') && statement_spelled_at(s, at))
			return true;
		/* past the budget, say yes: the caller then masks (fails closed) */
		if (redact_over_budget())
			return true;
	}
	return false;
}

/*
 * The offset of the first user-mapping statement in "msg" that the SQL
 * rules would miss, or -1.  A statement is seen by them where its first
 * keyword is a token, and inside a string constant, whose value they
 * redact; one inside a quoted identifier, a comment or the unlexable rest
 * is hidden.
 */
static int
first_hidden_statement(const char *msg)
{
	RedactState st;
	int			i = 0;

	memset(&st, 0, sizeof(st));
	st.sql = msg;
	st.len = strlen(msg);
	redact_lex_text(&st);

	for (int at = 0; at < st.len; at++)
	{
		char		c = msg[at] | 0x20;

		if (redact_over_budget())
			return at;			/* the caller stops too */
		if ((c != 'c' && c != 'a') || !statement_spelled_at(msg, at))
			continue;
		if (at >= st.lexed)
			return at;
		while (i < st.ntokens && st.tokens[i].end <= at)
			i++;
		if (i < st.ntokens && st.tokens[i].start <= at)
		{
			RedactToken *t = &st.tokens[i];

			if (t->start == at && (t->tok == CREATE || t->tok == ALTER))
				continue;
			if (t->tok == SCONST || t->tok == USCONST)
				continue;
		}
		return at;
	}
	return -1;
}

/*
 * Redact the statement that starts "sql", a stretch of a log message that
 * begins with its first keyword, and what follows it in the message.
 * "quoted" counts the quoted statements followed so far.
 */
static char *
redact_quoted_statement(const char *sql, int quoted)
{
	RedactState st;
	int			next;
	int			rest;
	bool		another = false;
	char	   *redacted;

	memset(&st, 0, sizeof(st));
	st.sql = sql;
	st.len = strlen(sql);
	st.in_quotes = true;
	redact_lex_text(&st);

	if (!redact_starts_user_mapping(&st, 0))
	{
		redact_mask_span(&st, 0, st.len);	/* cannot happen: the words lex */
		return redact_apply_edits(&st);
	}

	next = redact_statement(&st, 0);
	if (st.masked_to_end)
		return redact_apply_edits(&st);

	/*
	 * The closing quote belongs to this statement's stretch; a statement
	 * after a ";" is in the same stretch.
	 */
	rest = next < st.ntokens ? st.tokens[next].start : st.lexed;
	if (sql[rest] == '"')
		rest++;
	else if (sql[rest] == ';')
	{
		int			after = skip_blanks(sql + rest + 1) - sql;

		if (statement_spelled_at(sql, after))
		{
			rest = after;
			another = true;
		}
	}

	if (rest < st.len)
	{
		if (quoted + 1 >= REDACT_MAX_QUOTED)
			redacted = QUOTED_MASK;
		else if (another)
			redacted = redact_quoted_statement(sql + rest, quoted + 1);
		else
			redacted = redact_message_text(sql + rest, quoted + 1);
		if (redacted != NULL)
			redact_add_edit(&st, rest, st.len, redacted);
	}
	return st.nedits > 0 ? redact_apply_edits(&st) : NULL;
}

/*
 * Redact log message "msg": the SQL rules, and the quoted statements they
 * cannot see (see above).  Return NULL if nothing changed.
 */
char *
redact_message_text(const char *msg, int quoted)
{
	bool		failed_closed;
	int			at;
	char	   *before;
	char	   *redacted_before;
	char	   *redacted_after;

	if (!usermap_redact_needed(msg))
		return NULL;
	if ((at = first_hidden_statement(msg)) < 0)
		return redact_text_ex(msg, 0, true, &failed_closed, NULL);

	before = pnstrdup(msg, at);
	redacted_before = redact_text_ex(before, 0, true, &failed_closed, NULL);
	redacted_after = redact_quoted_statement(msg + at, quoted);
	if (redacted_before == NULL && redacted_after == NULL)
		return NULL;
	return psprintf("%s%s", redacted_before ? redacted_before : before,
					redacted_after ? redacted_after : msg + at);
}
