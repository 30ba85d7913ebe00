/*-------------------------------------------------------------------------
 *
 * redact.c
 *		  Mask secret option values in SQL text: the statement masker.
 *
 * usermap_redact() (redact_cache.c) rewrites the text of a query so that
 * the value of every secret option (usermap.secret_options) in every
 * CREATE USER MAPPING and ALTER USER MAPPING statement reads '********'.
 * Everything else is kept byte for byte: comments, whitespace, case, other
 * statements and other option values.  The text is cut into tokens by the
 * server's own lexer (redact_lexer.c); this file decides, over those
 * tokens, what is masked, and writes the masked text.  redact_text() is
 * its contract: the redacted text, or NULL if nothing changed, for any
 * text, without raising an error or emitting a message.  Log messages,
 * which may quote statements where the SQL rules cannot see them, are
 * redact_message.c's; the cache and the entry points redact_cache.c's.
 *
 * Statements.  Over the token stream a small state machine follows the
 * grammar's CreateUserMappingStmt and AlterUserMappingStmt:
 *
 *	CREATE USER MAPPING [IF NOT EXISTS] FOR role SERVER name
 *		[OPTIONS ( [ADD|SET] name 'value' | DROP name [, ...] )]
 *	ALTER USER MAPPING FOR role SERVER name OPTIONS ( ... )
 *
 * A statement is recognised wherever its first three keywords and FOR (or
 * IF) appear, not only at the start of a command, because PL/pgSQL bodies
 * put SQL statements after BEGIN, THEN, LOOP and labels.  "ALTER USER
 * mapping PASSWORD 'x'" is ALTER ROLE and is left alone.  Role and server
 * names are single tokens (an identifier, a keyword, or U&"..." with an
 * optional UESCAPE clause).  Option names are compared with
 * usermap_is_secret_option() exactly as the grammar passes them on:
 * unquoted names downcased by the lexer, keywords in their canonical
 * spelling, quoted names as written, U&"..." names decoded.  A secret
 * value, any string constant the grammar accepts there (U&'...' with its
 * UESCAPE clause included), is replaced by the quoted mask.  So is the
 * value of an option named ADD, SET or DROP, which is an action whose
 * option name was left out.  Nothing else in the statement changes.
 *
 * Failing closed.  The state machine accepts every statement the grammar
 * does.  When a user-mapping statement stops following it (an unexpected
 * token, a text that ends or cannot be lexed before the statement is
 * complete, ALTER without OPTIONS, a ";" right before OPTIONS), the text
 * holding it is a syntax error, and we no longer know which token is a
 * value: a mistyped quote can swallow a value into a name, a "--" can turn
 * it into a comment, a stray ";" can push it into what looks like the next
 * statement.  So everything after the parenthesis opening the option
 * list, or, if the list has not begun, after MAPPING, to the end of the
 * text is replaced by the mask.  What is kept held no value: option values
 * only occur inside the option list.
 *
 * Text the lexer rejects.  Only the text before the first token the lexer
 * might reject or warn about is lexed (see redact_lexer.c).  The rest is
 * unlexable: inside a user-mapping statement it is masked by the rule
 * above; elsewhere it is masked whole when it may hide a statement (it
 * could spell MAPPING, and the text says USER or the rest uses escapes),
 * and kept otherwise.
 *
 * Nested statements.  A DO body, a function body or the argument of
 * EXECUTE is a string constant whose value is itself SQL.  Every string
 * constant whose decoded value could hold a user-mapping statement is
 * redacted recursively, and if its value changed the whole constant is
 * replaced by a new literal of the redacted value: dollar-quoted constants
 * stay dollar-quoted (with a tag that does not occur in the new body),
 * others become a standard '...' literal, or E'...' when backslashes in
 * the value would otherwise be read as escapes.  A literal that merely
 * mentions such a statement is therefore redacted too: its text may be
 * executed.  A value whose statement had to be masked by the fail-closed
 * rule is most likely a template, format('... (password %L)', pw) or
 * '... (password ' || pw || ')', or a constant ended early by a mistyped
 * quote; either way the secret may be anywhere after the constant, so the
 * rest of the text holding it is masked as well.  Recursion stops at
 * REDACT_MAX_DEPTH nested constants; a deeper constant that could hold a
 * statement is masked whole, and the rest of its text with it.
 *
 * Replacements never fuse with their neighbours: where a mask would
 * continue a preceding string constant ('...' newline '...') or be
 * continued by a following one, an empty comment keeps them apart.
 *
 * Not handled: statements assembled at run time from pieces that do not
 * each start with CREATE/ALTER USER MAPPING, bodies in languages other
 * than SQL and PL/pgSQL (they are lexed as SQL, which may not see the
 * statement), and statements or values inside comments, which are kept.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/redact.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "usermap.h"
#include "redact_internal.h"

/* How many string constants deep statements are looked for. */
#define REDACT_MAX_DEPTH	4

/*
 * While set (usermap_redact_every_value), every option value is masked,
 * not only the secrets' ones.  Such results are never cached.
 */
bool		redact_every_value = false;

static bool
contains_ci(const char *s, const char *lower)
{
	const char *start = s;
	bool		found = false;

	for (; *s; s++)
		if (ascii_prefix_ci(s, lower))
		{
			found = true;
			break;
		}
	(void) redact_charge(s - start);
	return found;
}

/*
 * Option names the text being redacted makes secret itself.  A SET (or
 * set_config()) of usermap.secret_options takes effect when it runs, but
 * the server logs and publishes the query string holding it when the
 * string arrives, and statements later in the string, or in the DO block
 * or function body holding the SET, are masked for what they will be.
 * Found by a scan of the bytes, in constants too; allocated in the
 * redaction's own memory context.  A text that declares more than
 * REDACT_MAX_DECLARED_NAMES names makes every option secret
 * (redact_declared_overflow), which keeps the test of each option name
 * against the list bounded.
 */
List	   *redact_declared_secret_names = NIL;
bool		redact_declared_overflow = false;

static bool
is_secret_name(const char *name)
{
	ListCell   *lc;

	if (redact_declared_overflow || usermap_is_secret_option(name))
		return true;
	foreach(lc, redact_declared_secret_names)
	{
		if (strcmp((const char *) lfirst(lc), name) == 0)
			return true;
	}
	return false;
}

/* Add the names of the comma-separated list [p, end) */
static void
declare_secret_names(const char *p, const char *end)
{
	while (p < end)
	{
		const char *comma = memchr(p, ',', end - p);
		const char *stop = comma ? comma : end;
		const char *a = p;
		const char *b = stop;

		while (a < b && (IS_SPACE(*a) || *a == '"'))
			a++;
		while (b > a && (IS_SPACE(b[-1]) || b[-1] == '"'))
			b--;
		if (b > a)
		{
			if (list_length(redact_declared_secret_names) >= REDACT_MAX_DECLARED_NAMES)
			{
				redact_declared_overflow = true;
				return;
			}
			redact_declared_secret_names = lappend(redact_declared_secret_names,
												   pnstrdup(a, b - a));
		}
		p = stop + 1;
	}
}

/*
 * Find "secret_options = '...'", "... TO ...", and set_config(...,
 * '...secret_options', '...') in "text", quoted at any depth ('' or more
 * quotes for a constant in a constant), and declare the names listed.
 */
void
redact_collect_declared_secret_names(const char *text)
{
	const char *p = text;

	redact_declared_secret_names = NIL;
	redact_declared_overflow = false;
	while ((p = strstr(p, "secret_options")) != NULL && !redact_declared_overflow)
	{
		const char *q = p + strlen("secret_options");
		int			quotes = 0;

		p = q;
		while (*q == '"' || IS_SPACE(*q))
			q++;
		if (*q == '\'')
		{
			/* set_config('usermap.secret_options', 'list', ...) */
			while (*q == '\'')
				q++;
			while (IS_SPACE(*q))
				q++;
			if (*q++ != ',')
				continue;
		}
		else if (*q == '=')
			q++;
		else if (ascii_prefix_ci(q, "to") && !IS_IDENT_CONT((unsigned char) q[2]))
			q += 2;
		else
			continue;
		while (IS_SPACE(*q))
			q++;
		while (q[quotes] == '\'')
			quotes++;
		if (quotes > 0)
		{
			const char *end = strchr(q + quotes, '\'');

			(void) redact_charge(end ? end - q : (int64) strlen(q));
			if (end != NULL)
				declare_secret_names(q + quotes, end);
		}
		else
		{
			size_t		n = strcspn(q, ";\n");

			(void) redact_charge(n);
			declare_secret_names(q, q + n);
		}
	}
}

/*
 * May the unlexable "rest" of "sql" hide a user-mapping statement?  It
 * must be able to spell MAPPING, and the text must say USER or use escapes
 * that could spell it.  Decoded string values are often prose ("Don't
 * forget the mapping"), whose apostrophes make them unlexable; they are
 * left alone unless they look like the statement.
 *
 * A log message is prose around SQL (see redact_message.c), and its rest
 * is mostly prose: a JSON error's context ends in "\u000g...", a hint
 * reads "Target server's authentication method must be changed or
 * password_required=false set in the user mapping attributes."  There a
 * statement counts as hidden only if it is spelled out as one (CREATE or
 * ALTER USER MAPPING FOR, or IF): the masker rewrites statement text,
 * never other messages.
 * Statements the server ran do not reach a message's unlexable rest, and
 * one spelled with escapes in a syntax error is not user-mapping DDL.
 */
static bool
rest_may_hide_statement(const char *sql, const char *rest, bool message)
{
	if (!usermap_redact_needed(rest))
		return false;
	if (message)
		return redact_spells_statement(rest);
	return contains_ci(sql, "user") || strchr(rest, '\\') != NULL ||
		contains_ci(rest, "u&");
}

void
redact_add_edit(RedactState *st, int start, int end, const char *replacement)
{
	Assert(st->nedits == 0 || st->edits[st->nedits - 1].end <= start);

	if (st->nedits == st->maxedits)
	{
		st->maxedits = st->maxedits ? st->maxedits * 2 : 8;
		st->edits = st->edits
			? repalloc(st->edits, st->maxedits * sizeof(RedactEdit))
			: palloc(st->maxedits * sizeof(RedactEdit));
	}
	st->edits[st->nedits].start = start;
	st->edits[st->nedits].end = end;
	st->edits[st->nedits].replacement = replacement;
	st->nedits++;
}

/*
 * Replace text[start, end) by the mask.  Earlier edits that reach into the
 * stretch are dropped and the stretch grows to cover them.
 */
void
redact_mask_span(RedactState *st, int start, int end)
{
	while (st->nedits > 0 && st->edits[st->nedits - 1].end > start)
	{
		st->nedits--;
		start = Min(start, st->edits[st->nedits].start);
	}
	if (start < end)
		redact_add_edit(st, start, end, QUOTED_MASK);
	if (end >= st->len)
		st->masked_to_end = true;
}

/*
 * Mask from offset "from" to the end of the text, comments included, and
 * return ntokens to end the scan.
 */
static int
mask_to_end(RedactState *st, int from)
{
	/* keep the space after the last good token, for legibility */
	if (from < st->len && IS_SPACE(st->sql[from]))
		from++;
	redact_mask_span(st, from, st->len);
	return st->ntokens;
}

/*
 * Does a CREATE or ALTER USER MAPPING statement start at token i?  A text
 * that stops right after "ALTER USER MAPPING" counts: the statement may be
 * cut short, and nothing is lost by treating it as one.
 */
bool
redact_starts_user_mapping(RedactState *st, int i)
{
	RedactToken *t = st->tokens;

	if (i + 2 >= st->ntokens || t[i + 1].tok != USER || t[i + 2].tok != MAPPING)
		return false;
	if (i + 3 >= st->ntokens)
		return true;
	return t[i + 3].tok == FOR || (t[i].tok == CREATE && t[i + 3].tok == IF_P);
}

/*
 * Decode a U&'...' or U&"..." body as the grammar does (str_udeescape in
 * parser.c), or return NULL where the server would raise an error.  Code
 * points outside ASCII are converted only to UTF-8: conversion to other
 * server encodings can fail with an error.
 */
static char *
decode_unicode_escapes(const char *str, char escape)
{
	StringInfoData buf;
	pg_wchar	pair_first = 0;
	const char *in = str;

	initStringInfo(&buf);
	while (*in)
	{
		pg_wchar	c;

		if (*in != escape)
		{
			if (pair_first)
				return NULL;
			appendStringInfoChar(&buf, *in++);
			continue;
		}
		if (in[1] == escape)
		{
			if (pair_first)
				return NULL;
			appendStringInfoChar(&buf, escape);
			in += 2;
			continue;
		}
		if (in[1] == '+')
		{
			if (!redact_parse_hex(in + 2, 6, &c))
				return NULL;
			in += 8;
		}
		else
		{
			if (!redact_parse_hex(in + 1, 4, &c))
				return NULL;
			in += 5;
		}
		if (!is_valid_unicode_codepoint(c))
			return NULL;
		if (pair_first)
		{
			if (!is_utf16_surrogate_second(c))
				return NULL;
			c = surrogate_pair_to_codepoint(pair_first, c);
			pair_first = 0;
		}
		else if (is_utf16_surrogate_second(c))
			return NULL;
		if (is_utf16_surrogate_first(c))
		{
			pair_first = c;
			continue;
		}
		if (c <= 0x7F)
			appendStringInfoChar(&buf, (char) c);
		else if (GetDatabaseEncoding() == PG_UTF8)
		{
			unsigned char utf8[MAX_UNICODE_EQUIVALENT_STRING + 1];

			unicode_to_utf8(c, utf8);
			appendBinaryStringInfo(&buf, (char *) utf8, pg_utf_mblen(utf8));
		}
		else
			return NULL;
	}
	if (pair_first)
		return NULL;
	return buf.data;
}

/*
 * If token i is UESCAPE followed by a valid escape character, set *escape
 * and return the index past the clause; if there is no UESCAPE, return i;
 * if the clause is malformed, return -1.
 */
static int
uescape_clause(RedactState *st, int i, char *escape)
{
	RedactToken *t = st->tokens;
	const char *e;

	*escape = '\\';
	if (i >= st->ntokens || t[i].tok != UESCAPE)
		return i;
	if (i + 1 >= st->ntokens || t[i + 1].tok != SCONST)
		return -1;
	e = t[i + 1].str;
	/* check_uescapechar() in parser.c */
	if (strlen(e) != 1 || isxdigit((unsigned char) e[0]) || e[0] == '+' ||
		e[0] == '\'' || e[0] == '"' || IS_SPACE(e[0]))
		return -1;
	*escape = e[0];
	return i + 2;
}

/*
 * Accept a role, server or option name at token i: an identifier, a
 * keyword, or U&"..." with an optional UESCAPE clause.  Return the index
 * past it, or i if there is none.  *name, if wanted, gets the name the
 * grammar would see, or NULL if it cannot be decoded.
 */
static int
accept_name(RedactState *st, int i, const char **name)
{
	RedactToken *t = st->tokens;
	char		escape;
	int			next;

	if (i >= st->ntokens)
		return i;
	if (t[i].tok == IDENT || is_keyword(t[i].tok))
	{
		if (name)
			*name = t[i].str;
		return i + 1;
	}
	if (t[i].tok != UIDENT)
		return i;
	next = uescape_clause(st, i + 1, &escape);
	if (next < 0)
		return i;
	if (name)
	{
		char	   *decoded = decode_unicode_escapes(t[i].str, escape);

		/* the grammar truncates a decoded identifier, as any other */
		if (decoded && strlen(decoded) >= NAMEDATALEN)
			decoded[pg_mbcliplen(decoded, strlen(decoded), NAMEDATALEN - 1)] = '\0';
		*name = decoded;
	}
	return next;
}

/*
 * Accept a string constant at token i: SCONST, or USCONST with an optional
 * UESCAPE clause.  Return the index past it, or i if there is none.
 */
static int
accept_string(RedactState *st, int i)
{
	char		escape;
	int			next;

	if (i >= st->ntokens)
		return i;
	if (st->tokens[i].tok == SCONST)
		return i + 1;
	if (st->tokens[i].tok != USCONST)
		return i;
	next = uescape_clause(st, i + 1, &escape);
	return next < 0 ? i : next;
}

/*
 * Write "value" as a dollar-quoted constant, reusing the original's "tag"
 * ("$...$") if the value does not end the quote early, or else one of a
 * few tags of our own.  A value that holds all of them (it was written to
 * make this loop long) gets the mask instead.
 */
#define REDACT_DOLLAR_TAGS	8

static char *
dollar_quote(const char *value, const char *tag)
{
	char	   *candidate = pstrdup(tag);

	for (int n = 0; n < REDACT_DOLLAR_TAGS; n++)
	{
		char	   *quoted = psprintf("%s%s%s", candidate, value, candidate);
		const char *body = quoted + strlen(candidate);

		/* the lexer ends the body at the first occurrence of the tag */
		(void) redact_charge(strlen(quoted));
		if (strstr(body, candidate) == body + strlen(value))
			return quoted;
		pfree(quoted);
		pfree(candidate);
		candidate = n == 0 ? pstrdup("$redacted$") : psprintf("$redacted%d$", n);
	}
	return pstrdup(QUOTED_MASK);
}

/*
 * Write "value" as a string constant that the lexer would read back as
 * "value", in the form of the original constant at raw[0, rawlen).
 */
static char *
requote(const char *raw, int rawlen, const char *value)
{
	StringInfoData buf;
	bool		escapes;

	if (raw[0] == '$')
	{
		const char *close = memchr(raw + 1, '$', rawlen - 1);
		char	   *tag = pnstrdup(raw, close - raw + 1);

		return dollar_quote(value, tag);
	}

	/* with standard_conforming_strings off, '...' reads escapes too */
	escapes = !redact_reading.standard_conforming_strings && strchr(value, '\\') != NULL;
	initStringInfo(&buf);
	if (escapes)
		appendStringInfoChar(&buf, 'E');
	appendStringInfoChar(&buf, '\'');
	for (const char *p = value; *p; p++)
	{
		if (*p == '\'' || (*p == '\\' && escapes))
			appendStringInfoChar(&buf, *p);
		appendStringInfoChar(&buf, *p);
	}
	appendStringInfoChar(&buf, '\'');
	return buf.data;
}

/*
 * Redact the string constant at token i (with its UESCAPE clause) and
 * return the index past it.  If its value needed the fail-closed rule, the
 * rest of the text is masked too (see the file header), unless the
 * constant is an option value of a user-mapping statement, a place that
 * leaves no room for a template's arguments.
 */
static int
redact_constant(RedactState *st, int i, bool option_value)
{
	RedactToken *t = &st->tokens[i];
	int			next = i + 1;
	int			end = t->end;
	char	   *value = (char *) t->str;
	bool		failed_closed = false;

	if (t->tok == USCONST)
	{
		char		escape;

		next = uescape_clause(st, i + 1, &escape);
		if (next < 0)
		{
			next = i + 2;		/* the UESCAPE keyword */
			value = NULL;
		}
		else
			value = decode_unicode_escapes(t->str, escape);
		end = st->tokens[next - 1].end;
	}

	(void) redact_charge(t->end - t->start);
	if (value != NULL && !usermap_redact_needed(value))
		return next;

	if (value == NULL || st->depth >= REDACT_MAX_DEPTH)
	{
		/* the server cannot read it, or we may not look: mask it all */
		redact_mask_span(st, t->start, end);
		failed_closed = true;
	}
	else
	{
		bool		open_end = false;
		char	   *redacted = redact_text(value, st->depth + 1, &failed_closed,
										   &open_end);

		if (redacted != NULL)
			redact_add_edit(st, t->start, end,
							requote(st->sql + t->start, t->end - t->start, redacted));

		/*
		 * A value that ends in a CREATE without options, concatenated with
		 * more text ('...SERVER s' || ' OPTIONS (...)', concat(..., ...)), is
		 * a statement assembled at run time: its options, secret included,
		 * are somewhere in what follows.
		 */
		if (open_end && next < st->ntokens &&
			(st->tokens[next].tok == ',' ||
			 strncmp(st->sql + st->tokens[next].start, "||", 2) == 0))
			failed_closed = true;
	}

	if (failed_closed && !option_value)
		return mask_to_end(st, end);
	return next;
}

/*
 * The fail-closed rule, for a user-mapping statement that stopped following
 * the grammar: mask from offset "from" to the end of the text.
 *
 * The grammar accepts no statement this code rejects, so the text holding
 * it is a syntax error and was not run; a ";" after the failure may just as
 * well be a typo inside the statement as its end, so the mask runs on to
 * the end of the text, taking comments and later statements with it.
 * Return ntokens, to end the scan.
 */
static int
fail_closed(RedactState *st, int from)
{
	st->failed_closed = true;
	return mask_to_end(st, from);
}

/*
 * Is token i the end of a statement (";" or the end of a lexed text)?  A
 * statement quoted in a log message also ends at the closing double quote,
 * which the lexer sees as the start of a quoted identifier.
 */
static inline bool
at_statement_end(RedactState *st, int i)
{
	if (i >= st->ntokens)
		return !st->truncated || (st->in_quotes && st->sql[st->lexed] == '"');
	if (st->in_quotes && st->sql[st->tokens[i].start] == '"')
		return true;
	return st->tokens[i].tok == ';';
}

/*
 * Redact the CREATE or ALTER USER MAPPING statement starting at token i,
 * and return the index of the token after it.
 *
 * Should the statement stop following the grammar, everything after
 * MAPPING is masked, or, once the option list has begun, everything after
 * its parenthesis: a mistyped quote in a name or value can swallow or
 * expose any of what follows, but nothing before.
 */
int
redact_statement(RedactState *st, int i)
{
	RedactToken *t = st->tokens;
	int			n = st->ntokens;
	int			j = i + 3;
	int			k;
	int			from = t[i + 2].end;

	if (t[i].tok == CREATE && j < n && t[j].tok == IF_P)
	{
		if (j + 2 >= n || t[j + 1].tok != NOT || t[j + 2].tok != EXISTS)
			return fail_closed(st, from);
		j += 3;
	}
	if (j >= n || t[j].tok != FOR)
		return fail_closed(st, from);
	j++;
	if ((k = accept_name(st, j, NULL)) == j)
		return fail_closed(st, from);
	j = k;
	if (j >= n || t[j].tok != SERVER)
		return fail_closed(st, from);
	j++;
	if ((k = accept_name(st, j, NULL)) == j)
		return fail_closed(st, from);
	j = k;

	/*
	 * CREATE may end here.  ALTER may not, and neither may a statement whose
	 * options come after a stray ";".
	 */
	if (at_statement_end(st, j) && t[i].tok == CREATE &&
		!(j + 1 < n && t[j + 1].tok == OPTIONS))
	{
		/* text appended to this one could still add the options */
		if (j >= n && !st->truncated)
			st->open_end = true;
		return j;
	}
	if (j >= n || t[j].tok != OPTIONS || j + 1 >= n || t[j + 1].tok != '(')
		return fail_closed(st, from);
	from = t[j + 1].end;
	j += 2;

	for (;;)
	{
		const char *name = NULL;
		bool		drop = false;
		bool		suspect;

		/* "SET 'x'" is an option named set; "SET x 'y'" an action */
		if (j + 1 < n &&
			(t[j].tok == ADD_P || t[j].tok == SET || t[j].tok == DROP) &&
			t[j + 1].tok != SCONST && t[j + 1].tok != USCONST)
		{
			drop = (t[j].tok == DROP);
			j++;
		}

		/*
		 * An option named add, set or drop is an action whose option name was
		 * left out, and an undecodable name may be a secret's: their values
		 * are masked too.
		 */
		suspect = (j < n && (t[j].tok == ADD_P || t[j].tok == SET ||
							 t[j].tok == DROP));
		if ((k = accept_name(st, j, &name)) == j)
			return fail_closed(st, from);
		j = k;
		if (!drop)
		{
			if ((k = accept_string(st, j)) == j)
				return fail_closed(st, from);

			if (suspect || name == NULL || redact_every_value ||
				is_secret_name(name))
				redact_add_edit(st, t[j].start, t[k - 1].end, QUOTED_MASK);
			else
				redact_constant(st, j, true);
			j = k;
		}
		if (j < n && t[j].tok == ',')
			j++;
		else if (j < n && t[j].tok == ')')
			break;
		else
			return fail_closed(st, from);
	}
	j++;
	if (!at_statement_end(st, j))
		return fail_closed(st, from);
	return j;
}

/*
 * Would a quote at offset "to" continue a string constant ending at offset
 * "from"?  It would if only whitespace holding a newline lies between.
 */
static bool
gap_continues_string(const char *sql, int from, int to)
{
	char	   *gap = psprintf("%.*s'", to - from, sql + from);
	bool		result = (redact_quote_continuation(gap) == gap + strlen(gap));

	pfree(gap);
	return result;
}

/*
 * Build the text with st->edits applied.
 *
 * A replacement must not fuse with its neighbours, which the original's
 * token boundaries kept apart: a quote right after a quote, or after a
 * string constant and a line break, would continue that string; a letter
 * after a letter would lengthen an identifier.  Where the replacement would
 * fuse, a space or an empty comment keeps the boundary.
 */
char *
redact_apply_edits(RedactState *st)
{
	StringInfoData buf;
	int			pos = 0;
	int			prev_token = -1;
	int			prev_edit_end = -1;
	bool		prev_edit_quote = false;

	initStringInfo(&buf);
	for (int i = 0; i < st->nedits; i++)
	{
		RedactEdit *e = &st->edits[i];
		const char *r = e->replacement;
		bool		ends_quote = (r[strlen(r) - 1] == '\'');

		appendBinaryStringInfo(&buf, st->sql + pos, e->start - pos);

		/* the last token before the edit, and whether it ends in a quote */
		while (prev_token + 1 < st->ntokens &&
			   st->tokens[prev_token + 1].end <= e->start)
			prev_token++;
		if (r[0] == '\'' && prev_token >= 0)
		{
			RedactToken *t = &st->tokens[prev_token];
			bool		quote;

			if (t->end == prev_edit_end)
				quote = prev_edit_quote;
			else
				quote = (st->sql[t->end - 1] == '\'' &&
						 st->sql[t->start] != '$');
			if (quote && gap_continues_string(st->sql, t->end, e->start))
				appendStringInfoString(&buf, "/**/");
		}
		if (buf.len > 0)
		{
			unsigned char prev = (unsigned char) buf.data[buf.len - 1];

			if ((prev == '\'' && r[0] == '\'') ||
				(IS_IDENT_CONT(prev) && IS_IDENT_CONT((unsigned char) r[0])))
				appendStringInfoChar(&buf, ' ');
		}
		appendStringInfoString(&buf, r);
		if (ends_quote && (st->sql[e->end] == '\'' ||
						   redact_quote_continuation(st->sql + e->end) != NULL))
			appendStringInfoString(&buf, "/**/");
		pos = e->end;
		prev_edit_end = e->end;
		prev_edit_quote = ends_quote;
	}
	appendStringInfoString(&buf, st->sql + pos);
	return buf.data;
}

/*
 * Redact "sql", a query (depth 0) or a constant's decoded value.  Return
 * the redacted text, or NULL if nothing changed.  *failed_closed tells
 * whether a statement in it had to be masked by the fail-closed rule.
 */
char *
redact_text(const char *sql, int depth, bool *failed_closed, bool *open_end)
{
	return redact_text_ex(sql, depth, false, failed_closed, open_end);
}

/* One reading of "sql", under redact_reading, into *st */
static void
redact_one_reading(RedactState *st, const char *sql, int depth, bool message)
{
	int			i = 0;

	memset(st, 0, sizeof(*st));
	st->sql = sql;
	st->len = strlen(sql);
	st->depth = depth;

	redact_lex_text(st);

	while (i < st->ntokens && !redact_over_budget())
	{
		int			tok = st->tokens[i].tok;

		if ((tok == CREATE || tok == ALTER) && redact_starts_user_mapping(st, i))
			i = redact_statement(st, i);
		else if (tok == SCONST || tok == USCONST)
			i = redact_constant(st, i, false);
		else
			i++;
	}

	if (st->truncated && !st->masked_to_end &&
		rest_may_hide_statement(sql, sql + st->lexed, message))
	{
		st->failed_closed = true;
		redact_mask_span(st, st->lexed, st->len);
	}
}

/*
 * Add the edits of another reading of the same text to st's: where two
 * edits overlap and differ, their union is masked whole.
 */
static void
merge_reading(RedactState *st, const RedactState *other)
{
	RedactEdit *merged;
	int			n = 0;
	int			i = 0;
	int			j = 0;

	st->open_end |= other->open_end;
	if (other->nedits == 0)
		return;
	merged = palloc((st->nedits + other->nedits) * sizeof(RedactEdit));
	while (i < st->nedits || j < other->nedits)
	{
		const RedactEdit *e;
		RedactEdit *last = n > 0 ? &merged[n - 1] : NULL;

		if (j >= other->nedits ||
			(i < st->nedits && st->edits[i].start <= other->edits[j].start))
			e = &st->edits[i++];
		else
			e = &other->edits[j++];

		if (last == NULL || e->start >= last->end)
			merged[n++] = *e;
		else if (e->start != last->start || e->end != last->end ||
				 strcmp(e->replacement, last->replacement) != 0)
		{
			last->end = Max(last->end, e->end);
			last->replacement = QUOTED_MASK;
		}
	}
	st->edits = merged;
	st->nedits = n;
	st->maxedits = n;
	st->masked_to_end |= other->masked_to_end;
	st->failed_closed |= other->failed_closed;
	st->open_end |= other->open_end;
}

/*
 * redact_text(), where "message" says that "sql" is a log message (see
 * rest_may_hide_statement).
 */
char *
redact_text_ex(const char *sql, int depth, bool message, bool *failed_closed,
			   bool *open_end)
{
	RedactState st;

	redact_one_reading(&st, sql, depth, message);

	/*
	 * Only a backslash makes the readings differ: standard_conforming_strings
	 * decides whether '...' reads escapes, backslash_quote whether \' is
	 * allowed.  Constants nested in the text are read under the reading of
	 * the text holding them.
	 */
	if (depth == 0 && strchr(sql, '\\') != NULL)
	{
		LexerSettings first = redact_reading;
		bool		quote_escape = (strstr(sql, "\\'") != NULL);

		/*
		 * A text that changes a setting itself (a DO block's SET LOCAL, a
		 * function's SET clause) is lexed later under a value this backend
		 * may never have seen: read it under both.
		 */
		uint8		seen_scs = redact_seen_scs;
		uint8		seen_bq = redact_seen_backslash_quote;

		if (USERMAP_LEXER_SCS_SETTABLE &&
			contains_ci(sql, "standard_conforming_strings"))
			seen_scs = 3;
		if (contains_ci(sql, "backslash_quote"))
			seen_bq = 3;

		for (int scs = 0; scs <= 1; scs++)
			for (int bq = 0; bq <= 1; bq++)
			{
				RedactState other;

				if (!(seen_scs & (1 << scs)) ||
					!(seen_bq & (1 << bq)) ||
					(bq != first.backslash_quote_allowed && !quote_escape) ||
					(scs == first.standard_conforming_strings &&
					 bq == first.backslash_quote_allowed))
					continue;
				if (redact_over_budget())
					break;
				redact_reading.standard_conforming_strings = scs;
				redact_reading.backslash_quote_allowed = bq;
				redact_one_reading(&other, sql, depth, message);
				merge_reading(&st, &other);
				redact_reading = first;
			}
	}

	*failed_closed = st.failed_closed;
	if (open_end != NULL)
		*open_end = st.open_end;
	return st.nedits > 0 ? redact_apply_edits(&st) : NULL;
}
