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

/* What the redactor writes in place of a secret, quoted. */
#define QUOTED_MASK		"'" USERMAP_MASK "'"

/*
 * A copy of "field", of the same length, that reads as the statement read
 * before the server escaped it: every JSON escape (\n, \r, \t, \f, \b,
 * \uXXXX) becomes blanks, \" and \\ a blank and the character, and every
 * '?' a blank.  Byte i of the copy stands for byte i of the field, so a
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
			if (e == '"' || e == '\\')
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
	return psprintf("%.*s%s", (int) same, field, QUOTED_MASK);
}

/*
 * Read the byte list of a dumped Const datum, "[ 60 0 0 0 67 ... ]", at
 * "p" (just past its "["), into "bytes" as a C string, every byte that
 * would end one or could not be part of a statement made a blank.  Return
 * the position just past the closing "]", or NULL if it is not one.
 */
static const char *
read_dumped_bytes(const char *p, StringInfo bytes)
{
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
		p = end;
	}
}

/*
 * Does the byte list at "open" (its "[") spell a text that holds a
 * user-mapping statement with a secret?  Set *close past its "]".
 */
static bool
dumped_bytes_hold_secret(const char *open, const char **close)
{
	StringInfoData bytes;
	char	   *redacted = NULL;

	initStringInfo(&bytes);
	*close = read_dumped_bytes(open + 1, &bytes);
	if (*close != NULL && usermap_redact_needed(bytes.data))
		redacted = usermap_redact(bytes.data);
	pfree(bytes.data);
	if (redacted == NULL)
		return false;
	pfree(redacted);
	return true;
}

/*
 * A debug_print_parse, _rewritten or _plan dump of a statement of "query"
 * (the client's text), with the bytes of string constants masked, or NULL
 * if nothing needed it.
 *
 * When the query holds a secret, every constant of the dump is masked: a
 * constant's bytes are the value of a literal of the query, and which
 * literal, and whether its value was the secret, the dump does not say.
 * A constant whose own bytes spell a user-mapping statement with a secret
 * is masked too, whatever the query (a statement run by a function).
 * Pretty-printed (debug_pretty_print), the dump breaks lines anywhere,
 * inside a field name or a number, so its bytes cannot be read reliably:
 * then the whole dump is masked if the query holds a secret or any byte
 * list as printed does.
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
	char	   *masked_query;

	if (query != NULL && usermap_redact_needed(query) &&
		(masked_query = usermap_redact(query)) != NULL)
	{
		query_secret = true;
		pfree(masked_query);
	}

	initStringInfo(&buf);
	while ((hit = strstr(p, pretty ? "[" : ":constvalue")) != NULL)
	{
		const char *open = pretty ? hit : strchr(hit, '[');
		const char *close;

		/* ":constvalue <>" (NULL) has no bytes; the next field has a ":" */
		if (open == NULL ||
			(!pretty && memchr(hit + 1, ':', open - hit - 1) != NULL))
		{
			appendBinaryStringInfo(&buf, p, hit + 1 - p);
			p = hit + 1;
			continue;
		}
		if (!dumped_bytes_hold_secret(open, &close) &&
			(!query_secret || close == NULL || pretty))
		{
			appendBinaryStringInfo(&buf, p, open + 1 - p);
			p = open + 1;
			continue;
		}
		if (pretty)
		{
			pfree(buf.data);
			return pstrdup(USERMAP_MASK);
		}
		appendBinaryStringInfo(&buf, p, open - p);
		appendStringInfoString(&buf, "[ " USERMAP_MASK " ]");
		p = close;
		changed = true;
	}
	if (pretty && query_secret && strstr(dump, "constvalue") != NULL)
		changed = true;
	if (!changed)
	{
		pfree(buf.data);
		return NULL;
	}
	if (pretty)
	{
		pfree(buf.data);
		return pstrdup(USERMAP_MASK);
	}
	appendStringInfoString(&buf, p);
	return buf.data;
}

/*
 * The lexer's NOTICE "identifier \"X\" will be truncated to \"Y\"" about
 * "query", the statement being lexed: if the query holds a secret and X
 * is not in its masked text, X may be that secret (written in double
 * quotes, or bare, where a string belongs: a statement that then fails),
 * and every quoted part of the message that X begins with is masked.
 * Return the masked message, or NULL if nothing changed.
 */
char *
usermap_mask_truncated_identifier(const char *message, const char *query)
{
	const char *open = strchr(message, '"');
	const char *close = open ? strchr(open + 1, '"') : NULL;
	char	   *masked_query;
	char	   *ident;
	StringInfoData buf;
	const char *p;
	bool		secret;

	if (close == NULL || query == NULL || !usermap_redact_needed(query) ||
		(masked_query = usermap_redact(query)) == NULL)
		return NULL;
	ident = pnstrdup(open + 1, close - open - 1);
	secret = strstr(masked_query, ident) == NULL;
	pfree(masked_query);
	if (!secret)
		return NULL;

	/* mask "X" and every "Y" that X starts with */
	initStringInfo(&buf);
	p = message;
	while ((open = strchr(p, '"')) != NULL &&
		   (close = strchr(open + 1, '"')) != NULL)
	{
		appendBinaryStringInfo(&buf, p, open + 1 - p);
		if (close > open + 1 &&
			strncmp(ident, open + 1, close - open - 1) == 0)
			appendStringInfoString(&buf, USERMAP_MASK);
		else
			appendBinaryStringInfo(&buf, open + 1, close - open - 1);
		appendStringInfoChar(&buf, '"');
		p = close + 1;
	}
	appendStringInfoString(&buf, p);
	return buf.data;
}
