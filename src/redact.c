/*-------------------------------------------------------------------------
 *
 * redact.c
 *		  Mask secret option values in SQL text.
 *
 * usermap_redact() rewrites the text of a query so that the value of every
 * secret option (usermap.secret_options) in every CREATE USER MAPPING and
 * ALTER USER MAPPING statement reads '********'.  Everything else is kept
 * byte for byte: comments, whitespace, case, other statements and other
 * option values.  The text is cut into tokens by the server's own lexer
 * (core_yylex, as pg_stat_statements does), so that every quoting form the
 * server accepts is recognised exactly as the server recognises it.
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
 * Text the lexer rejects.  core_yylex() reports malformed input with
 * ereport(ERROR), and this code is also meant to run from emit_log_hook,
 * while another error is being reported, where raising an error (even one
 * caught at once) would destroy the error being reported, or turn into a
 * FATAL one.  So before lexing, lexable_prefix() scans the text with the
 * lexer's own rules and finds the first token the lexer might reject or
 * warn about (unterminated strings, comments and quoted identifiers, some
 * escapes, trailing junk after numbers and parameters, names long enough
 * to draw the truncation NOTICE), and only the text before that token is
 * lexed.  The rest is unlexable: inside a user-mapping statement it is
 * masked by the rule above; elsewhere it is masked whole when it may hide
 * a statement (it could spell MAPPING, and the text says USER or the rest
 * uses escapes), and kept otherwise.  PG_TRY around the lexer remains as
 * a backstop for normal contexts, treating an error as the end of what
 * could be lexed.
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

#include "common/keywords.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "redact.h"
#include "secrets.h"
#include "usermap_compat.h"

bool		usermap_redact_enabled = true;

/* How many string constants deep statements are looked for. */
#define REDACT_MAX_DEPTH	4

/* What a masked stretch of text is replaced by. */
#define QUOTED_MASK		"'" USERMAP_MASK "'"

/*
 * Token codes.  core_yylex() returns a character for a one-character token
 * and a code from the grammar's gram.h for the others, but gram.h is not
 * installed from PostgreSQL 16 on and its numbering moves between majors
 * (every keyword does).  So the redactor has codes of its own, named as
 * gram.h names them, above every code the grammar uses: the lexer returns
 * them for keywords itself, through the keyword_tokens table that
 * scanner_init() takes, and lex_text() translates the few other tokens it
 * needs, whose codes redact_learn_tokens() learns from the running lexer.
 */
typedef enum RedactTokenCode
{
	OTHER_TOKEN = 2000,			/* numbers, operators, parameters, ... */
	IDENT,
	UIDENT,
	SCONST,
	USCONST,
	OTHER_KEYWORD,				/* every keyword not named below */
	ADD_P,
	ALTER,
	CREATE,
	DROP,
	EXISTS,
	FOR,
	IF_P,
	MAPPING,
	NOT,
	OPTIONS,
	SERVER,
	SET,
	UESCAPE,
	USER
} RedactTokenCode;

/* The keywords the redactor tells apart, with their codes */
static const struct
{
	const char *keyword;
	RedactTokenCode code;
}			redact_keywords[] =
{
	{"add", ADD_P},
	{"alter", ALTER},
	{"create", CREATE},
	{"drop", DROP},
	{"exists", EXISTS},
	{"for", FOR},
	{"if", IF_P},
	{"mapping", MAPPING},
	{"not", NOT},
	{"options", OPTIONS},
	{"server", SERVER},
	{"set", SET},
	{"uescape", UESCAPE},
	{"user", USER},
};

/* keyword number -> code, for scanner_init(); see redact_learn_tokens() */
static uint16 *redact_keyword_tokens = NULL;

/* The running lexer's codes for the non-keyword tokens we need */
static int	lexer_ident = -1;
static int	lexer_uident = -1;
static int	lexer_sconst = -1;
static int	lexer_usconst = -1;

/* One token from core_yylex, with where it starts and ends in the text. */
typedef struct RedactToken
{
	int			tok;			/* a character or a RedactTokenCode */
	int			start;			/* byte offset of the first byte */
	int			end;			/* byte offset just past the last byte */
	const char *str;			/* identifier, keyword or string value */
} RedactToken;

/* Replace text[start, end) by replacement. */
typedef struct RedactEdit
{
	int			start;
	int			end;
	const char *replacement;
} RedactEdit;

/* The redaction of one text (the query, or a constant's value). */
typedef struct RedactState
{
	const char *sql;
	int			len;
	int			depth;			/* 0 for the query, +1 per constant */

	RedactToken *tokens;
	int			ntokens;
	int			maxtokens;
	int			lexed;			/* tokens cover text[0, lexed) */
	bool		truncated;		/* lexed < len: the rest is unlexable */

	RedactEdit *edits;			/* in text order, not overlapping */
	int			nedits;
	int			maxedits;
	bool		masked_to_end;	/* an edit reaches the end of the text */
	bool		failed_closed;	/* a statement had to be masked whole */
	bool		open_end;		/* a CREATE without options ends the text */
	bool		in_quotes;		/* a statement quoted in a log message */
} RedactState;

/*
 * The settings the lexer reads, as one reading of a text applies them.
 * Both change how a '...' literal holding a backslash lexes, and a query
 * string is lexed once, when it arrives, while it may be redacted later,
 * after a statement in it changed them (or in a later query, for the
 * extended protocol's Bind after a SET).  So the redactor does not trust
 * the values now in force: it reads a text with a backslash under every
 * combination of values this backend has lexed under, and masks whatever
 * any reading takes for a secret.  A backend that never changes them, the
 * usual case, reads every text once.
 */
typedef struct LexerSettings
{
	bool		standard_conforming_strings;
	bool		backslash_quote_allowed;	/* \' is not an "unsafe use" */
} LexerSettings;

/* The reading under way; see redact_text_ex() */
static LexerSettings reading;

/* Bit masks of the values of each setting this backend has lexed under */
static uint8 seen_scs = 0;
static uint8 seen_backslash_quote = 0;

static char *redact_text(const char *sql, int depth, bool *failed_closed,
						 bool *open_end);
static char *redact_text_ex(const char *sql, int depth, bool message,
							bool *failed_closed, bool *open_end);

/*
 * While set (usermap_redact_every_value), every option value is masked,
 * not only the secrets' ones.  Such results are never cached.
 */
static bool redact_every_value = false;

/*
 * Character classes of scan.l.  The lexer treats every byte with the high
 * bit set as a letter.
 */
#define IS_SPACE(c)			((c) == ' ' || (c) == '\t' || (c) == '\n' || \
							 (c) == '\r' || (c) == '\f')
#define IS_HORIZ_SPACE(c)	((c) == ' ' || (c) == '\t' || (c) == '\f')
#define IS_NEWLINE(c)		((c) == '\n' || (c) == '\r')
#define IS_DIGIT(c)			((c) >= '0' && (c) <= '9')
#define IS_IDENT_START(c)	(((c) >= 'A' && (c) <= 'Z') || \
							 ((c) >= 'a' && (c) <= 'z') || \
							 (c) == '_' || IS_HIGHBIT_SET(c))
#define IS_IDENT_CONT(c)	(IS_IDENT_START(c) || IS_DIGIT(c) || (c) == '$')
#define IS_DOLQ_CONT(c)		(IS_IDENT_START(c) || IS_DIGIT(c))
#define IS_OP_CHAR(c)		((c) != '\0' && strchr("~!@#^&|`?+-*/%<>=", (c)) != NULL)

/* ASCII-only case-insensitive prefix test, as keyword lookup folds case */
static inline bool
ascii_prefix_ci(const char *s, const char *lower)
{
	for (; *lower; s++, lower++)
		if ((*s >= 'A' && *s <= 'Z' ? *s + ('a' - 'A') : *s) != *lower)
			return false;
	return true;
}

static bool
contains_ci(const char *s, const char *lower)
{
	for (; *s; s++)
		if (ascii_prefix_ci(s, lower))
			return true;
	return false;
}

/*
 * Option names the text being redacted makes secret itself.  A SET (or
 * set_config()) of usermap.secret_options takes effect when it runs, but
 * the server logs and publishes the query string holding it when the
 * string arrives, and statements later in the string, or in the DO block
 * or function body holding the SET, are masked for what they will be.
 * Found by a scan of the bytes, in constants too; allocated in the
 * redaction's own memory context.
 */
static List *declared_secret_names = NIL;

static bool
is_secret_name(const char *name)
{
	ListCell   *lc;

	if (usermap_is_secret_option(name))
		return true;
	foreach(lc, declared_secret_names)
		if (strcmp((const char *) lfirst(lc), name) == 0)
			return true;
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
			declared_secret_names = lappend(declared_secret_names,
											pnstrdup(a, b - a));
		p = stop + 1;
	}
}

/*
 * Find "secret_options = '...'", "... TO ...", and set_config(...,
 * '...secret_options', '...') in "text", quoted at any depth ('' or more
 * quotes for a constant in a constant), and declare the names listed.
 */
static void
collect_declared_secret_names(const char *text)
{
	const char *p = text;

	declared_secret_names = NIL;
	while ((p = strstr(p, "secret_options")) != NULL)
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

			if (end != NULL)
				declare_secret_names(q + quotes, end);
		}
		else
			declare_secret_names(q, q + strcspn(q, ";\n"));
	}
}

/*
 * If "p", just past the closing quote of a string, starts the whitespace
 * that continues the string ({quotecontinue} in scan.l: whitespace holding
 * a newline, then a quote), return the position just past that quote;
 * otherwise NULL.  Comments count as whitespace, but one after the newline
 * must itself end in a newline.
 */
static const char *
quote_continuation(const char *p)
{
	for (;;)
	{
		if (IS_HORIZ_SPACE(*p))
			p++;
		else if (p[0] == '-' && p[1] == '-')
		{
			while (*p && !IS_NEWLINE(*p))
				p++;
		}
		else
			break;
	}
	if (!IS_NEWLINE(*p))
		return NULL;
	p++;
	for (;;)
	{
		if (IS_SPACE(*p))
			p++;
		else if (p[0] == '-' && p[1] == '-')
		{
			const char *q = p;

			while (*q && !IS_NEWLINE(*q))
				q++;
			if (!*q)
				return NULL;
			p = q + 1;
		}
		else
			break;
	}
	return *p == '\'' ? p + 1 : NULL;
}

/*
 * Could "text" hold a CREATE or ALTER USER MAPPING statement, at top level
 * or in the decoded value of a string constant at any depth?
 *
 * Such a statement holds the keyword MAPPING, which the lexer only
 * recognises spelled with the ASCII letters m-a-p-p-i-n-g in any case, in
 * one piece.  A string constant's value differs from its body in the text
 * only by quote doubling (which cannot produce letters), backslash
 * escapes (E'...', or '...' with standard_conforming_strings off), Unicode
 * escapes (U&'...', with any UESCAPE character) and continuation ('...'
 * newline '...'); dollar-quoted bodies are verbatim.  So a text with none
 * of "mapping", a backslash, "U&" or quote-newline-quote has no such
 * statement at any depth: no decoded value can contain MAPPING, and none
 * can contain the constructs that could spell it one level further down.
 * False positives are harmless; the scan touches each byte once and most
 * bytes only by the switch.
 */
bool
usermap_redact_needed(const char *text)
{
	/*
	 * strcspn() skips the bytes that cannot matter many at a time (libc
	 * vectorises it); this runs on every log line and every statement.
	 */
	for (const char *p = text;; p++)
	{
		p += strcspn(p, "mMuU\\'");
		switch (*p)
		{
			case '\0':
				return false;
			case 'm':
			case 'M':
				if (ascii_prefix_ci(p + 1, "apping"))
					return true;
				break;
			case 'u':
			case 'U':
				if (p[1] == '&')
					return true;
				break;
			case '\\':
				return true;
			case '\'':
				if (quote_continuation(p + 1) != NULL)
					return true;
				break;
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
 * A log message is prose around SQL (see below), and its rest is mostly
 * prose: a JSON error's context ends in "\u000g...", a hint reads "Target
 * server's authentication method must be changed or password_required=false
 * set in the user mapping attributes."  There a statement counts as hidden
 * only if it is spelled out as one (CREATE or ALTER USER MAPPING FOR, or
 * IF): the masker rewrites statement text, never other messages.
 * Statements the server ran do not reach a message's unlexable rest, and
 * one spelled with escapes in a syntax error is not user-mapping DDL.
 */
static bool statement_spelled_at(const char *msg, int at);

/* Does "s" spell out a CREATE or ALTER USER MAPPING statement anywhere? */
bool
usermap_redact_spells_statement(const char *s)
{
	for (int at = 0; s[at] != '\0'; at++)
	{
		char		c = s[at] | 0x20;

		if ((c == 'c' || c == 'a') && statement_spelled_at(s, at))
			return true;
	}
	return false;
}

static bool
rest_may_hide_statement(const char *sql, const char *rest, bool message)
{
	if (!usermap_redact_needed(rest))
		return false;
	if (message)
		return usermap_redact_spells_statement(rest);
	return contains_ci(sql, "user") || strchr(rest, '\\') != NULL ||
		contains_ci(rest, "u&");
}

/*
 * Read exactly n hex digits at p into *value.
 */
static bool
parse_hex(const char *p, int n, pg_wchar *value)
{
	*value = 0;
	for (int k = 0; k < n; k++)
	{
		if (!isxdigit((unsigned char) p[k]))
			return false;
		*value = (*value << 4) +
			(IS_DIGIT(p[k]) ? p[k] - '0' : (p[k] | 0x20) - 'a' + 10);
	}
	return true;
}

/*
 * Scan a quoted string body starting at s[i], just past the opening quote,
 * as the lexer's xq/xe/xus/xb states would, continuations included.  Return
 * the offset just past the closing quote, or -1 if the lexer might raise an
 * error or a warning on it.  "escapes" selects the xe state (backslash
 * escapes); "doubling" whether '' stands for a quote (not so in B'' and
 * X'').
 */
static int
scan_quoted(const char *s, int i, bool escapes, bool doubling)
{
	for (;;)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '\0')
			return -1;			/* unterminated quoted string */
		if (c == '\'')
		{
			const char *next;

			if (doubling && s[i + 1] == '\'')
			{
				i += 2;
				continue;
			}
			next = quote_continuation(s + i + 1);
			if (next == NULL)
				return i + 1;
			i = next - s;
			continue;
		}
		if (c == '\\' && escapes)
		{
			unsigned char e = (unsigned char) s[i + 1];

			if (e >= '0' && e <= '7')
			{
				int			value = 0;
				int			n;

				for (n = 1; n <= 3 && s[i + n] >= '0' && s[i + n] <= '7'; n++)
					value = value * 8 + (s[i + n] - '0');
				/* a zero or non-ASCII byte makes the lexer verify encoding */
				if (value == 0 || value >= 0x80)
					return -1;
				i += n;
				continue;
			}
			if (e == 'x' && isxdigit((unsigned char) s[i + 2]))
			{
				int			value = 0;
				int			n;

				for (n = 2; n <= 3 && isxdigit((unsigned char) s[i + n]); n++)
					value = value * 16 +
						(IS_DIGIT(s[i + n]) ? s[i + n] - '0' :
						 (s[i + n] | 0x20) - 'a' + 10);
				if (value == 0 || value >= 0x80)
					return -1;
				i += n;
				continue;
			}
			if (e == 'u' || e == 'U')
			{
				pg_wchar	uc;
				pg_wchar	second;

				/* addunicode() and the xeu state in scan.l */
				if (!parse_hex(s + i + 2, e == 'u' ? 4 : 8, &uc))
					return -1;
				i += e == 'u' ? 6 : 10;
				if (is_utf16_surrogate_first(uc))
				{
					if (s[i] != '\\' || (s[i + 1] != 'u' && s[i + 1] != 'U') ||
						!parse_hex(s + i + 2, s[i + 1] == 'u' ? 4 : 8, &second) ||
						!is_utf16_surrogate_second(second))
						return -1;
					uc = surrogate_pair_to_codepoint(uc, second);
					i += s[i + 1] == 'u' ? 6 : 10;
				}
				else if (is_utf16_surrogate_second(uc))
					return -1;
				/* conversion to a server encoding other than UTF-8 may fail */
				if (!is_valid_unicode_codepoint(uc) ||
					(uc > 0x7F && GetDatabaseEncoding() != PG_UTF8))
					return -1;
				continue;
			}
			/* a backslash before a non-ASCII byte makes the lexer verify */
			if (e == '\0' || IS_HIGHBIT_SET(e))
				return -1;
			if (e == '\'' && !reading.backslash_quote_allowed)
				return -1;		/* unsafe use of \' */
			i += 2;
			continue;
		}
		i++;
	}
}

/*
 * The radix of a non-decimal integer literal whose "0" is followed by "c",
 * or 0 if there is none: PostgreSQL 15 reads "0x1" as trailing junk.
 */
static inline int
radix_of(char c)
{
	if (!USERMAP_LEXER_NONDECIMAL_INTEGERS)
		return 0;
	switch (c)
	{
		case 'x':
		case 'X':
			return 16;
		case 'o':
		case 'O':
			return 8;
		case 'b':
		case 'B':
			return 2;
		default:
			return 0;
	}
}

static inline bool
is_radix_digit(char c, int radix)
{
	if (radix == 16)
		return IS_DIGIT(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	return c >= '0' && c < '0' + radix;
}

/*
 * Skip the {decinteger} at s[i], if a digit starts one: digits, with
 * single underscores between them where the server's lexer allows them.
 */
static int
skip_decinteger(const char *s, int i)
{
	if (!IS_DIGIT(s[i]))
		return i;
	for (i++; IS_DIGIT(s[i]) ||
		 (USERMAP_LEXER_NUMERIC_UNDERSCORES && s[i] == '_' && IS_DIGIT(s[i + 1]));
		 i++)
		;
	return i;
}

/*
 * Return the length of the longest prefix of "s" that core_yylex() lexes
 * without raising an error or emitting a message: "len" if that is all of
 * it, otherwise the offset of the first token it might complain about.
 *
 * This follows scan.l's rules closely enough to agree with the lexer on
 * where every token starts, and errs on the side of distrust: an escape it
 * is not sure about makes it stop, never the lexer fail.
 */
static int
lexable_prefix(const char *s, int len)
{
	bool		scs = reading.standard_conforming_strings;
	int			i = 0;

	while (i < len)
	{
		unsigned char c = (unsigned char) s[i];
		unsigned char c1 = (unsigned char) s[i + 1];
		int			start = i;

		if (IS_SPACE(c))
		{
			i++;
			continue;
		}
		if (c == '-' && c1 == '-')
		{
			while (i < len && !IS_NEWLINE(s[i]))
				i++;
			continue;
		}
		if (c == '/' && c1 == '*')
		{
			int			depth = 0;

			for (i += 2;; i++)
			{
				if (i >= len)
					return start;	/* unterminated comment */
				if (s[i] == '/' && s[i + 1] == '*')
				{
					depth++;
					i++;
				}
				else if (s[i] == '*' && s[i + 1] == '/')
				{
					i++;
					if (depth-- == 0)
						break;
				}
			}
			i++;
			continue;
		}

		/* String constants, with the prefixes that may start them */
		if (c == '\'')
			i = scan_quoted(s, i + 1, !scs, true);
		else if ((c == 'e' || c == 'E') && c1 == '\'')
			i = scan_quoted(s, i + 2, true, true);
		else if ((c == 'n' || c == 'N') && c1 == '\'')
			i = scan_quoted(s, i + 2, !scs, true);
		else if ((c == 'b' || c == 'B' || c == 'x' || c == 'X') && c1 == '\'')
			i = scan_quoted(s, i + 2, false, false);
		else if ((c == 'u' || c == 'U') && c1 == '&' && s[i + 2] == '\'')
			i = scs ? scan_quoted(s, i + 3, false, true) : -1;
		else if (c == '"' || ((c == 'u' || c == 'U') && c1 == '&' &&
							  s[i + 2] == '"'))
		{
			/*
			 * Quoted identifier: none may be empty, and a "..." one long
			 * enough to be truncated draws a NOTICE (U&"..." ones are
			 * truncated by the grammar, not the lexer).
			 */
			bool		plain = (c == '"');
			int			n = 0;

			for (i += plain ? 1 : 3;; i++)
			{
				if (s[i] == '\0')
					return start;
				if (s[i] == '"')
				{
					if (s[i + 1] != '"')
						break;
					i++;
				}
				n++;
			}
			if (n == 0 || (plain && n >= NAMEDATALEN))
				return start;
			i++;
			continue;
		}
		else if (c == '$')
		{
			if (IS_DIGIT(c1))
			{
				/* parameter; "$1abc" is trailing junk */
				for (i++; IS_DIGIT(s[i]); i++)
					;
				if (IS_IDENT_START((unsigned char) s[i]))
					return start;
				continue;
			}
			if (c1 == '$' || IS_IDENT_START(c1))
			{
				int			j = i + 1;

				if (c1 != '$')
					while (IS_DOLQ_CONT((unsigned char) s[j]))
						j++;
				if (s[j] == '$')
				{
					/* dollar quote: its body ends at the first $tag$ */
					char	   *tag = pnstrdup(s + i, j + 1 - i);
					const char *close = strstr(s + j + 1, tag);

					if (close == NULL)
						return start;
					i = (close - s) + strlen(tag);
					pfree(tag);
					continue;
				}
			}
			i++;				/* a lone "$" */
			continue;
		}
		else if (IS_IDENT_START(c))
		{
			/* longer identifiers are truncated with a NOTICE */
			for (i++; IS_IDENT_CONT((unsigned char) s[i]); i++)
				;
			if (i - start >= NAMEDATALEN)
				return start;
			continue;
		}
		else if (c == '0' && radix_of(c1) != 0)
		{
			/*
			 * {hexinteger}, {octinteger}, {bininteger} (16 on): "0x" must be
			 * followed by a digit, and an identifier character right after
			 * the digits makes {integer_junk} the longer match.
			 */
			int			radix = radix_of(c1);

			i += 2;
			if (s[i] == '_')
				i++;
			if (!is_radix_digit(s[i], radix))
				return start;
			while (is_radix_digit(s[i], radix) ||
				   (s[i] == '_' && is_radix_digit(s[i + 1], radix)))
				i++;
			if (IS_IDENT_CONT((unsigned char) s[i]))
				return start;
			continue;
		}
		else if (IS_DIGIT(c) || (c == '.' && IS_DIGIT(c1)))
		{
			i = skip_decinteger(s, i);
			if (s[i] == '.' && s[i + 1] == '.')
				continue;		/* "1..": an integer, then ".." */
			if (s[i] == '.')
				i = skip_decinteger(s, i + 1);
			if (IS_IDENT_START((unsigned char) s[i]))
			{
				/*
				 * A letter after the digits is trailing junk, unless it
				 * starts an exponent that the {real} rule matches at least as
				 * far as {integer_junk} or {decimal_junk} would: "1e5" is a
				 * number, "1e5$x" and "1e+5x" are junk.
				 */
				int			idlen = 1;
				int			explen = 0;
				bool		sign = false;

				while (IS_IDENT_CONT((unsigned char) s[i + idlen]))
					idlen++;
				if (s[i] == 'e' || s[i] == 'E')
				{
					sign = (s[i + 1] == '+' || s[i + 1] == '-');
					explen = sign ? 2 : 1;
					if (!IS_DIGIT(s[i + explen]))
						return start;
					explen = skip_decinteger(s, i + explen) - i;
				}
				if (explen == 0 || (!sign && idlen > explen))
					return start;
				i += explen;
				if (IS_IDENT_START((unsigned char) s[i]))
					return start;
			}
			continue;
		}
		else if (c == '.' && c1 == '.')
		{
			i += 2;
			continue;
		}
		else if (IS_OP_CHAR(c))
		{
			/* an operator ends where a comment starts */
			for (; IS_OP_CHAR(s[i]); i++)
				if ((s[i] == '/' && s[i + 1] == '*') ||
					(s[i] == '-' && s[i + 1] == '-'))
					break;
			if (i - start >= NAMEDATALEN)
				return start;	/* operator too long */
			continue;
		}
		else
		{
			i++;
			continue;
		}

		/* string constants land here */
		if (i < 0)
			return start;
	}
	return len;
}

static void
add_token(RedactState *st, int tok, int start, int end, const char *str)
{
	if (st->ntokens == st->maxtokens)
	{
		st->maxtokens = st->maxtokens ? st->maxtokens * 2 : 64;
		st->tokens = st->tokens
			? repalloc(st->tokens, st->maxtokens * sizeof(RedactToken))
			: palloc(st->maxtokens * sizeof(RedactToken));
	}
	st->tokens[st->ntokens].tok = tok;
	st->tokens[st->ntokens].start = start;
	st->tokens[st->ntokens].end = end;
	st->tokens[st->ntokens].str = str;
	st->ntokens++;
}

static inline bool
is_keyword(int tok)
{
	return tok >= OTHER_KEYWORD;
}

/*
 * The redactor's code for a token core_yylex() returned: keywords already
 * come as RedactTokenCodes, characters stay as they are.
 */
static inline int
redact_token_code(int lexer_code)
{
	if (lexer_code < 256 || lexer_code >= OTHER_KEYWORD)
		return lexer_code;
	if (lexer_code == lexer_ident)
		return IDENT;
	if (lexer_code == lexer_uident)
		return UIDENT;
	if (lexer_code == lexer_sconst)
		return SCONST;
	if (lexer_code == lexer_usconst)
		return USCONST;
	return OTHER_TOKEN;
}

/* The lexer's settings in force now */
static LexerSettings
current_lexer_settings(void)
{
	LexerSettings now;

	now.standard_conforming_strings = standard_conforming_strings;
	now.backslash_quote_allowed =
		(backslash_quote == BACKSLASH_QUOTE_ON ||
		 (backslash_quote == BACKSLASH_QUOTE_SAFE_ENCODING &&
		  !PG_ENCODING_IS_CLIENT_ONLY(pg_get_client_encoding())));
	return now;
}

/*
 * Note the lexer's settings in force now among those this backend has
 * lexed under.  Called wherever the server may just have lexed a text:
 * parse analysis follows every raw parse, and a text that does not parse
 * is reported right away.
 */
void
usermap_redact_observe_settings(void)
{
	LexerSettings now = current_lexer_settings();

	seen_scs |= 1 << now.standard_conforming_strings;
	seen_backslash_quote |= 1 << now.backslash_quote_allowed;
}

/*
 * Build the keyword table and learn the lexer's codes for identifiers and
 * string constants by lexing one of each.  Run once, when the library is
 * loaded: the answers hold for the life of the server binary.
 */
void
usermap_redact_init(void)
{
	static const char sample[] = "x U&\"x\" 'x' U&'x'";
	int		   *learned[] = {&lexer_ident, &lexer_uident, &lexer_sconst, &lexer_usconst};
	MemoryContext oldcxt;
	core_yy_extra_type yyextra;
	core_yyscan_t yyscanner;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			code;
	int			n = 0;

	if (redact_keyword_tokens != NULL)
		return;

	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	redact_keyword_tokens = palloc(ScanKeywords.num_keywords * sizeof(uint16));
	MemoryContextSwitchTo(oldcxt);
	for (int i = 0; i < ScanKeywords.num_keywords; i++)
		redact_keyword_tokens[i] = OTHER_KEYWORD;
	for (size_t i = 0; i < lengthof(redact_keywords); i++)
	{
		int			kwnum = ScanKeywordLookup(redact_keywords[i].keyword,
											  &ScanKeywords);

		if (kwnum < 0)
			elog(ERROR, "usermap: \"%s\" is not a keyword of this server",
				 redact_keywords[i].keyword);
		redact_keyword_tokens[kwnum] = redact_keywords[i].code;
	}

	yyscanner = scanner_init(sample, &yyextra, &ScanKeywords,
							 redact_keyword_tokens);
	/* U&'...' is valid only with standard_conforming_strings on */
	yyextra.standard_conforming_strings = true;
	while ((code = core_yylex(&yylval, &yylloc, yyscanner)) != 0)
	{
		if (n >= (int) lengthof(learned) || code < 256 || code >= OTHER_TOKEN)
			elog(ERROR, "usermap: unexpected token code %d from the lexer", code);
		*learned[n++] = code;
	}
	scanner_finish(yyscanner);
	if (n != (int) lengthof(learned))
		elog(ERROR, "usermap: the lexer returned %d tokens for \"%s\"", n, sample);
}

/*
 * Cut st->sql into tokens with the server's lexer, as far as it can be
 * lexed without complaint (see lexable_prefix).
 *
 * A token's end is found as pg_stat_statements finds it: core_yylex()
 * leaves a '\0' just past the token it returns in its copy of the text.
 */
static void
lex_text(RedactState *st)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			lexable = lexable_prefix(st->sql, st->len);
	char	   *prefix = pnstrdup(st->sql, lexable);

	st->lexed = lexable;
	st->truncated = (lexable < st->len);

	PG_TRY();
	{
		core_yy_extra_type yyextra;
		core_yyscan_t yyscanner;
		core_YYSTYPE yylval;
		YYLTYPE		yylloc;
		int			tok;

		yyscanner = scanner_init(prefix, &yyextra, &ScanKeywords,
								 redact_keyword_tokens);
		/* the server warns once, when it runs the statement */
		yyextra.escape_string_warning = false;
		yyextra.standard_conforming_strings = reading.standard_conforming_strings;
		yyextra.backslash_quote = reading.backslash_quote_allowed ?
			BACKSLASH_QUOTE_ON : BACKSLASH_QUOTE_OFF;

		while ((tok = core_yylex(&yylval, &yylloc, yyscanner)) != 0)
		{
			const char *str = NULL;

			tok = redact_token_code(tok);
			if (tok == IDENT || tok == UIDENT || tok == SCONST ||
				tok == USCONST)
				str = yylval.str;
			else if (is_keyword(tok))
				str = yylval.keyword;
			add_token(st, tok, yylloc,
					  yylloc + strlen(yyextra.scanbuf + yylloc), str);
		}
		scanner_finish(yyscanner);
	}
	PG_CATCH();
	{
		/*
		 * lexable_prefix() should have kept us from getting here.  Treat the
		 * error as the end of what could be lexed.
		 */
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		st->truncated = true;
		st->lexed = st->ntokens > 0 ? st->tokens[st->ntokens - 1].end : 0;
	}
	PG_END_TRY();
}

static void
add_edit(RedactState *st, int start, int end, const char *replacement)
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
static void
mask_span(RedactState *st, int start, int end)
{
	while (st->nedits > 0 && st->edits[st->nedits - 1].end > start)
	{
		st->nedits--;
		start = Min(start, st->edits[st->nedits].start);
	}
	if (start < end)
		add_edit(st, start, end, QUOTED_MASK);
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
	mask_span(st, from, st->len);
	return st->ntokens;
}

/*
 * Does a CREATE or ALTER USER MAPPING statement start at token i?  A text
 * that stops right after "ALTER USER MAPPING" counts: the statement may be
 * cut short, and nothing is lost by treating it as one.
 */
static bool
starts_user_mapping(RedactState *st, int i)
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
			if (!parse_hex(in + 2, 6, &c))
				return NULL;
			in += 8;
		}
		else
		{
			if (!parse_hex(in + 1, 4, &c))
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
 * ("$...$") if the value does not end the quote early.
 */
static char *
dollar_quote(const char *value, const char *tag)
{
	char	   *candidate = pstrdup(tag);

	for (int n = 0;; n++)
	{
		char	   *quoted = psprintf("%s%s%s", candidate, value, candidate);
		const char *body = quoted + strlen(candidate);

		/* the lexer ends the body at the first occurrence of the tag */
		if (strstr(body, candidate) == body + strlen(value))
			return quoted;
		pfree(quoted);
		pfree(candidate);
		candidate = n == 0 ? pstrdup("$redacted$") : psprintf("$redacted%d$", n);
	}
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
	escapes = !reading.standard_conforming_strings && strchr(value, '\\') != NULL;
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

	if (value != NULL && !usermap_redact_needed(value))
		return next;

	if (value == NULL || st->depth >= REDACT_MAX_DEPTH)
	{
		/* the server cannot read it, or we may not look: mask it all */
		mask_span(st, t->start, end);
		failed_closed = true;
	}
	else
	{
		bool		open_end = false;
		char	   *redacted = redact_text(value, st->depth + 1, &failed_closed,
										   &open_end);

		if (redacted != NULL)
			add_edit(st, t->start, end,
					 requote(st->sql + t->start, t->end - t->start, redacted));

		/*
		 * A value that ends in a CREATE without options, concatenated with
		 * more text ('...SERVER s' || ' OPTIONS (...)', concat(..., ...)),
		 * is a statement assembled at run time: its options, secret
		 * included, are somewhere in what follows.
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
static int
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
				add_edit(st, t[j].start, t[k - 1].end, QUOTED_MASK);
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
	bool		result = (quote_continuation(gap) == gap + strlen(gap));

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
static char *
apply_edits(RedactState *st)
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
						   quote_continuation(st->sql + e->end) != NULL))
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
static char *
redact_text(const char *sql, int depth, bool *failed_closed, bool *open_end)
{
	return redact_text_ex(sql, depth, false, failed_closed, open_end);
}

/*
 * The same, where "message" says that "sql" is a log message (see
 * rest_may_hide_statement).
 */
static void
redact_one_reading(RedactState *st, const char *sql, int depth, bool message)
{
	int			i = 0;

	memset(st, 0, sizeof(*st));
	st->sql = sql;
	st->len = strlen(sql);
	st->depth = depth;

	lex_text(st);

	while (i < st->ntokens)
	{
		int			tok = st->tokens[i].tok;

		if ((tok == CREATE || tok == ALTER) && starts_user_mapping(st, i))
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
		mask_span(st, st->lexed, st->len);
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

static char *
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
		LexerSettings first = reading;
		bool		quote_escape = (strstr(sql, "\\'") != NULL);

		for (int scs = 0; scs <= 1; scs++)
			for (int bq = 0; bq <= 1; bq++)
			{
				RedactState other;

				if (!(seen_scs & (1 << scs)) ||
					!(seen_backslash_quote & (1 << bq)) ||
					(bq != first.backslash_quote_allowed && !quote_escape) ||
					(scs == first.standard_conforming_strings &&
					 bq == first.backslash_quote_allowed))
					continue;
				reading.standard_conforming_strings = scs;
				reading.backslash_quote_allowed = bq;
				redact_one_reading(&other, sql, depth, message);
				merge_reading(&st, &other);
				reading = first;
			}
	}

	*failed_closed = st.failed_closed;
	if (open_end != NULL)
		*open_end = st.open_end;
	return st.nedits > 0 ? apply_edits(&st) : NULL;
}

/*
 * Log messages.
 *
 * A log message is prose that quotes SQL.  Most messages quote it bare, at
 * the end ("statement: ...", "duration: ... statement: ..."), and the SQL
 * rules above apply to the whole message.  Some put it in double quotes:
 * PL/pgSQL's error context (SQL statement "..."), pgaudit's CSV field.  To
 * the lexer that is a quoted identifier, or, once it is longer than a
 * name, the start of unlexable text, and a secret inside would be kept or
 * the rest of the message masked.  So a message is searched for statements
 * the lexer cannot see, and each is redacted as SQL from its first keyword,
 * with the closing double quote counting as the end of the statement: the
 * quote may or may not be doubled inside, so where the statement does not
 * end cleanly, the fail-closed rule masks the rest of the message.
 */

/* At most this many quoted statements are followed in one message. */
#define REDACT_MAX_QUOTED	16

/* Skip whitespace and comments, which may separate keywords. */
static const char *
skip_blanks(const char *p)
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
	lex_text(&st);

	for (int at = 0; at < st.len; at++)
	{
		char		c = msg[at] | 0x20;

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

static char *redact_message_text(const char *msg, int quoted);

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
	lex_text(&st);

	if (!starts_user_mapping(&st, 0))
	{
		mask_span(&st, 0, st.len);	/* cannot happen: the words lex */
		return apply_edits(&st);
	}

	next = redact_statement(&st, 0);
	if (st.masked_to_end)
		return apply_edits(&st);

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
			add_edit(&st, rest, st.len, redacted);
	}
	return st.nedits > 0 ? apply_edits(&st) : NULL;
}

/*
 * Redact log message "msg": the SQL rules, and the quoted statements they
 * cannot see (see above).  Return NULL if nothing changed.
 */
static char *
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
		e->settings.standard_conforming_strings == reading.standard_conforming_strings &&
		e->settings.backslash_quote_allowed == reading.backslash_quote_allowed &&
		e->seen_scs == seen_scs &&
		e->seen_backslash_quote == seen_backslash_quote &&
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
	e->settings = reading;
	e->seen_scs = seen_scs;
	e->seen_backslash_quote = seen_backslash_quote;
	redact_cache_next = (redact_cache_next + 1) % REDACT_CACHE_SIZE;
}

/*
 * Run "redact" on "text" in a memory context of its own, and return a copy
 * of the result in the caller's context, or NULL.
 */
static char *
redact_in_own_context(const char *text, bool message)
{
	MemoryContext cxt;
	MemoryContext oldcxt;
	char	   *redacted;
	char	   *result = NULL;
	bool		failed_closed;
	size_t		len;

	if (text == NULL || !usermap_redact_needed(text))
		return NULL;

	usermap_redact_observe_settings();
	reading = current_lexer_settings();
	len = strlen(text);
	for (int i = 0; i < REDACT_CACHE_SIZE; i++)
		if (redact_cache_matches(&redact_cache[i], text, len, message))
			return redact_cache[i].result ? pstrdup(redact_cache[i].result) : NULL;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "usermap redact",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	if (strstr(text, "secret_options") != NULL)
		collect_declared_secret_names(text);
	if (message)
		redacted = redact_message_text(text, 0);
	else
		redacted = redact_text(text, 0, &failed_closed, NULL);
	MemoryContextSwitchTo(oldcxt);
	if (redacted != NULL)
		result = pstrdup(redacted);
	declared_secret_names = NIL;
	MemoryContextDelete(cxt);

	redact_cache_store(text, len, result, message);
	if (result != NULL)
		redact_cache_store(result, strlen(result), NULL, message);
	return result;
}

/*
 * Does the text allow literals whose value differs from their spelling, or
 * a second statement we would not see without lexing?
 */
static bool
needs_lexing(const char *text)
{
	const char *q;

	if (strpbrk(text, "\\$") != NULL)
		return true;
	for (q = strchr(text, '&'); q != NULL; q = strchr(q + 1, '&'))
		if (q > text && (q[-1] == 'u' || q[-1] == 'U'))
			return true;
	/* "mapping" more than once: a statement in a value or a comment */
	q = text;
	for (int n = 0; (q = strpbrk(q, "mM")) != NULL; q++)
		if (ascii_prefix_ci(q, "mapping") && ++n > 1)
			return true;
	for (q = strchr(text, '\''); q != NULL; q = strchr(q + 1, '\''))
		if (quote_continuation(q + 1) != NULL)
			return true;
	return false;
}

/*
 * The server parsed "text" as one user-mapping statement (its first
 * "stmt_len" bytes; 0 for all of it) and "secrets" holds the values the
 * parse tree gives its secret options.  When no literal in the text can
 * mean other than it says (no backslash, dollar quote, U&, continued
 * string, and no second statement in a value), each secret is spelled in
 * it as a plain '...' literal, and the masked text is the text with those
 * literals replaced by the mask: remember it, for the text and for the
 * statement alone, so that usermap_redact() need not lex either.  Returns
 * whether it did; if not, usermap_redact() lexes as usual.
 */
bool
usermap_redact_remember_parsed(const char *text, int stmt_len, List *secrets)
{
	StringInfoData masked;
	size_t		len = strlen(text);
	ListCell   *lc;

	if (!usermap_redact_needed(text) || needs_lexing(text))
		return false;

	initStringInfo(&masked);
	appendStringInfoString(&masked, text);
	foreach(lc, secrets)
	{
		const char *value = strVal(lfirst(lc));
		StringInfoData literal;
		StringInfoData out;
		const char *p;
		const char *hit;
		bool		found = false;

		initStringInfo(&literal);
		appendStringInfoChar(&literal, '\'');
		for (p = value; *p; p++)
		{
			if (*p == '\'')
				appendStringInfoChar(&literal, '\'');
			appendStringInfoChar(&literal, *p);
		}
		appendStringInfoChar(&literal, '\'');

		initStringInfo(&out);
		for (p = masked.data; (hit = strstr(p, literal.data)) != NULL;
			 p = hit + literal.len)
		{
			appendBinaryStringInfo(&out, p, hit - p);
			appendStringInfoString(&out, QUOTED_MASK);
			found = true;
		}
		appendStringInfoString(&out, p);
		if (!found)
			return false;		/* spelled otherwise: lex it */
		masked = out;
	}

	usermap_redact_observe_settings();
	reading = current_lexer_settings();
	redact_cache_store(text, len, secrets != NIL ? masked.data : NULL, false);
	if (stmt_len > 0 && (size_t) stmt_len < len)
	{
		/* the statement alone: what follows it is only ";" and blanks */
		int			tail = len - stmt_len;
		char	   *slice = pnstrdup(text, stmt_len);

		redact_cache_store(slice, stmt_len,
						   secrets != NIL ? pnstrdup(masked.data, masked.len - tail) : NULL,
						   false);
	}
	return true;
}

/*
 * Return a palloc'd copy of "text" with the value of every secret option
 * in every CREATE / ALTER USER MAPPING statement replaced by the quoted
 * mask, or NULL if nothing had to change.
 *
 * Raises no error and emits no message for any text (see the file header),
 * so it may be called while an error is being reported.  The work is done
 * in a memory context of its own.
 */
char *
usermap_redact(const char *text)
{
	return redact_in_own_context(text, false);
}

/*
 * The same for a log message (see above), which may also quote statements
 * in double quotes.
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
 */
char *
usermap_redact_every_value(const char *text)
{
	MemoryContext cxt;
	MemoryContext oldcxt;
	char	   *redacted;
	char	   *result = NULL;
	bool		failed_closed;

	if (text == NULL || !usermap_redact_needed(text))
		return NULL;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "usermap redact",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);

	/*
	 * The redactor raises no error (see above); should memory run out, the
	 * flag stays set and later results mask more than they need, never less.
	 */
	usermap_redact_observe_settings();
	reading = current_lexer_settings();
	redact_every_value = true;
	redacted = redact_text(text, 0, &failed_closed, NULL);
	redact_every_value = false;
	MemoryContextSwitchTo(oldcxt);
	if (redacted != NULL)
		result = pstrdup(redacted);
	MemoryContextDelete(cxt);
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
