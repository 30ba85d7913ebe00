/*-------------------------------------------------------------------------
 *
 * hygiene_log.c
 *		  Statement text the server rewrote on its way into a log message.
 *
 * The log hook (hygiene.c) masks the statements a message quotes as the
 * client wrote them.  Some messages quote a statement, or part of one, in
 * a form the redactor cannot read as SQL:
 *
 * - escaped for JSON or YAML (auto_explain's "Query Text" in those
 *	 formats, a JSON error context): a newline between two keywords is
 *	 "\n", and the statement is no longer recognised;
 * - with control characters and non-ASCII bytes turned into '?' (the
 *	 postmaster's "Failed process was running" line, which it copies from
 *	 the crashed backend's pg_stat_activity entry): a form feed between two
 *	 keywords is "?";
 * - as the bytes of a Const (debug_print_parse, _rewritten and _plan write
 *	 a string constant's datum as decimal bytes, "[ 60 0 0 0 67 82 ... ]");
 * - as an identifier the lexer is about to truncate (the NOTICE "identifier
 *	 ... will be truncated to ..."), which may be a secret written in
 *	 double quotes, or bare, in a user-mapping statement that then fails.
 *
 * Each is masked here, failing closed: what cannot be masked exactly is
 * masked to the end of the message.  Like the redactor, nothing here
 * raises an error, and the work is linear in the message.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/hygiene_log.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "utils/elog.h"

#include "usermap.h"

/*
 * A copy of "field", of the same length, that reads as the statement read
 * before the server escaped it: \n and \r become a blank and the line
 * break (which ends a "--" comment), every other JSON escape (\t, \f, \b,
 * \uXXXX) blanks, \" and \\ a blank and the character, and every '?' a
 * blank.  Byte i of the copy stands for byte i of the field, so a
 * position found in the one is a position in the other.  NULL if the field
 * has nothing of the kind.
 */
static char *
unescaped_variant(const char *field)
{
	size_t		len = strlen(field);
	char	   *v;
	bool		changed = false;

	if (strpbrk(field, "?\\") == NULL)
		return NULL;
	v = palloc(len + 1);
	for (size_t i = 0; i < len; i++)
	{
		char		c = field[i];
		char		e = field[i + 1];

		v[i] = c;
		if (c == '?')
		{
			v[i] = ' ';
			changed = true;
		}
		else if (c == '\\' && e != '\0' && strchr("nrtfb\"\\u", e) != NULL)
		{
			int			n = 2;

			if (e == 'u')
			{
				for (n = 2; n < 6 && isxdigit((unsigned char) field[i + n]); n++)
					;
				if (n < 6)
					continue;	/* not an escape: leave it */
			}
			memset(v + i, ' ', n);
			/* a line break still ends a "--" comment */
			if (e == 'n' || e == 'r')
				v[i + 1] = e == 'n' ? '\n' : '\r';
			else if (e == '"' || e == '\\')
				v[i + 1] = e;
			i += n - 1;
			changed = true;
		}
	}
	v[len] = '\0';
	if (!changed)
	{
		pfree(v);
		return NULL;
	}
	return v;
}

/*
 * The log message field "field", already masked as SQL and prose
 * (usermap_redact_message), masked further where it quotes a statement
 * the server escaped for JSON or YAML, or whose control characters it made
 * '?' (see above); NULL if there is no such statement with a secret.
 *
 * The redactor reads the unescaped variant; where its result first
 * differs from the variant, a secret or a statement it could not follow
 * starts, and the text is masked from there to its end.  Reading the
 * masked text rather than the original keeps what the first pass masked
 * exactly (a secret written E'a\nb') from being found again.
 */
char *
usermap_mask_escaped_text(const char *field)
{
	char	   *variant = unescaped_variant(field);
	char	   *redacted;
	size_t		same = 0;

	if (variant == NULL || !usermap_redact_needed(variant))
		return NULL;
	redacted = usermap_redact_message(variant);
	if (redacted == NULL)
		return NULL;
	while (variant[same] != '\0' && variant[same] == redacted[same])
		same++;
	return psprintf("%.*s%s", (int) same, field, USERMAP_QUOTED_MASK);
}

/*
 * Read the byte list of a dumped Const datum, "[ 60 0 0 0 67 ... ]", at
 * "p" (just past its "["), into "bytes" as a C string, every byte that
 * would end one or could not be part of a statement made a blank, and
 * count its numbers in *n.  Return the position just past the closing
 * "]", or NULL if it is not one.
 */
static const char *
read_dumped_bytes(const char *p, StringInfo bytes, int *n)
{
	*n = 0;
	for (;;)
	{
		char	   *end;
		long		b;

		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		if (*p == ']')
			return p + 1;
		b = strtol(p, &end, 10);
		if (end == p || b < -128 || b > 255)
			return NULL;
		appendStringInfoChar(bytes, (b == 0 || (b > 0 && b < 32)) ? ' ' : (char) b);
		(*n)++;
		p = end;
	}
}

/*
 * The byte list of the Const whose ":constvalue" is at "hit": the "[" of
 * the token right after the datum's length, or NULL (":constvalue <>", a
 * NULL constant, has none).  Only that token: searching further for a "["
 * would make a dump of many NULL constants quadratic.
 */
static const char *
constvalue_bytes(const char *hit)
{
	const char *q = hit + strlen(":constvalue");

	while (*q == ' ' || *q == '\n' || *q == '\t')
		q++;
	while (isdigit((unsigned char) *q))
		q++;
	while (*q == ' ' || *q == '\n' || *q == '\t')
		q++;
	return *q == '[' ? q : NULL;
}

/* At most this many constants of one dump are read as statements. */
#define DUMP_MAX_REDACTIONS		64

/* A byte list this long may hold a statement ("CREATE USER MAPPING ...") */
#define DUMP_MIN_STATEMENT_BYTES	16

/*
 * A debug_print_parse, _rewritten or _plan dump of a statement of "query"
 * (the client's text), with the bytes of string constants masked, or NULL
 * if nothing needed it.
 *
 * When the query holds a secret, every constant of the dump is masked: a
 * constant's bytes are the value of a literal of the query, and which
 * literal, and whether its value was the secret, the dump does not say.
 * A constant whose own bytes spell a user-mapping statement with a secret
 * is masked too, whatever the query (a statement run by a function, or a
 * parameter a custom plan folded into a constant).  At most
 * DUMP_MAX_REDACTIONS constants are read so; past that, the whole dump is
 * masked.
 *
 * Pretty-printed (debug_pretty_print), the dump breaks its lines every 78
 * columns, inside numbers too, so its bytes cannot be read back: every
 * byte list long enough to hold a statement is masked, and the whole dump
 * when the query holds a secret.
 */
char *
usermap_mask_dumped_constants(const char *dump, const char *query,
							  bool pretty)
{
	StringInfoData buf;
	const char *p = dump;
	const char *hit;
	bool		changed = false;
	bool		query_secret = false;
	int			redactions = 0;
	char	   *masked_query;

	if (query != NULL && usermap_redact_needed(query) &&
		(masked_query = usermap_redact(query)) != NULL)
	{
		query_secret = true;
		pfree(masked_query);
	}
	if (pretty && query_secret && strstr(dump, "constvalue") != NULL)
		return pstrdup(USERMAP_MASK);

	initStringInfo(&buf);
	while ((hit = strstr(p, pretty ? "[" : ":constvalue")) != NULL)
	{
		const char *open = pretty ? hit : constvalue_bytes(hit);
		const char *close;
		StringInfoData bytes;
		int			n;
		bool		mask;

		if (open == NULL)
		{
			appendBinaryStringInfo(&buf, p, hit + 1 - p);
			p = hit + 1;
			continue;
		}
		initStringInfo(&bytes);
		close = read_dumped_bytes(open + 1, &bytes, &n);
		if (close == NULL)
			mask = false;
		else if (pretty)
			mask = (n >= DUMP_MIN_STATEMENT_BYTES);
		else if (query_secret)
			mask = true;
		else if (!usermap_redact_needed(bytes.data))
			mask = false;
		else if (++redactions > DUMP_MAX_REDACTIONS)
		{
			pfree(bytes.data);
			pfree(buf.data);
			return pstrdup(USERMAP_MASK);
		}
		else
		{
			char	   *redacted = usermap_redact(bytes.data);

			mask = (redacted != NULL);
			if (redacted)
				pfree(redacted);
		}
		pfree(bytes.data);
		if (!mask)
		{
			appendBinaryStringInfo(&buf, p, open + 1 - p);
			p = open + 1;
			continue;
		}
		appendBinaryStringInfo(&buf, p, open - p);
		appendStringInfoString(&buf, "[ " USERMAP_MASK " ]");
		p = close;
		changed = true;
	}
	if (!changed)
	{
		pfree(buf.data);
		return NULL;
	}
	appendStringInfoString(&buf, p);
	return buf.data;
}

/*
 * The lexer's NOTICE "identifier \"X\" will be truncated to \"Y\"" about
 * the statement being lexed.  X may be a secret written in double quotes,
 * or bare, where a string belongs (in a statement that then fails), in
 * the client's text "query" or in a statement a function runs, which the
 * log hook cannot see.  So X is kept only where it is plainly not one: it
 * appears as it is both in the client's text and in its masked copy.
 * Otherwise X and Y are masked, whatever quotes X holds; in a message
 * whose words are not the English ones, everything between its first and
 * last double quote.  Return the masked message,
 * or NULL if nothing changed.
 */
char *
usermap_mask_truncated_identifier(const char *message, const char *query)
{
	const char *open = strchr(message, '"');
	const char *close = strrchr(message, '"');
	const char *marker;
	char	   *ident;
	char	   *masked_query = NULL;
	bool		keep = false;

	if (open == NULL || close <= open)
		return NULL;

	/* X ends where the message's own words resume (English, or all) */
	marker = strstr(open + 1, "\" will be truncated to \"");
	ident = pnstrdup(open + 1, (marker ? marker : close) - open - 1);
	if (query != NULL && strstr(query, ident) != NULL)
	{
		if (!usermap_redact_needed(query))
			keep = true;
		else if ((masked_query = usermap_redact(query)) == NULL ||
				 strstr(masked_query, ident) != NULL)
			keep = true;
	}
	pfree(ident);
	if (masked_query)
		pfree(masked_query);
	if (keep)
		return NULL;
	/* "identifier "********" will be truncated to "********"" */
	if (marker != NULL)
		return psprintf("%.*s%s%.*s%s%s", (int) (open + 1 - message), message,
						USERMAP_MASK,
						(int) strlen("\" will be truncated to \""), marker,
						USERMAP_MASK, close);
	return psprintf("%.*s%s%s", (int) (open + 1 - message), message,
					USERMAP_MASK, close);
}
