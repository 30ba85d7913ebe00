/*-------------------------------------------------------------------------
 *
 * redact_lexer.c
 *		  The redactor's model of scan.l's rules, and its use of the lexer.
 *
 * The redactor cuts a text into tokens by the server's own lexer
 * (core_yylex, as pg_stat_statements does), so that every quoting form the
 * server accepts is recognised exactly as the server recognises it.  This
 * file is all of the redactor that knows scan.l.  redact_lex_text() lexes
 * a text into RedactTokens, whose codes are the redactor's own
 * (RedactTokenCode, learnt from the running lexer by usermap_redact_init()
 * when the library loads), under the lexer settings of the reading under
 * way (redact_reading; see LexerSettings), and raises no error and emits
 * no message for any text.  usermap_redact_needed() tells, without
 * lexing, whether a text could hold a user-mapping statement at any
 * depth; redact_quote_continuation() and redact_parse_hex() are scan.l's
 * rules for continued strings and hex digits, for the other files.
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
 * lexed.  The rest is unlexable, and left to the masker (redact.c).
 * Nothing here catches an error: an error caught inside error reporting
 * could not be recovered from (FlushErrorState() would free the report
 * under way), and one caught elsewhere without a subtransaction would
 * swallow a query cancel.  lexable_prefix() is what keeps the lexer from
 * raising one, and the redactor's budget (redact_internal.h) what keeps
 * its allocations far below the allocation limit: at most REDACT_MAX_LEN
 * bytes are lexed, into at most as many tokens.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/redact_lexer.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/keywords.h"
#include "mb/pg_wchar.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "utils/memutils.h"

#include "usermap.h"
#include "redact_internal.h"
#include "usermap_compat.h"

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

/* keyword number -> code, for scanner_init(); see usermap_redact_init() */
static uint16 *redact_keyword_tokens = NULL;

/* The running lexer's codes for the non-keyword tokens we need */
static int	lexer_ident = -1;
static int	lexer_uident = -1;
static int	lexer_sconst = -1;
static int	lexer_usconst = -1;

/* The reading under way; see redact_text_ex() */
LexerSettings redact_reading;

/* What is left of the budget of the text being redacted */
int64		redact_work_left = 0;

static const char *quote_continuation(const char *p, const char **scanned);

/* Bit masks of the values of each setting this backend has lexed under */
uint8		redact_seen_scs = 0;
uint8		redact_seen_backslash_quote = 0;

/*
 * If "p", just past the closing quote of a string, starts the whitespace
 * that continues the string ({quotecontinue} in scan.l: whitespace holding
 * a newline, then a quote), return the position just past that quote;
 * otherwise NULL.  Comments count as whitespace, but one after the newline
 * must itself end in a newline.
 */
const char *
redact_quote_continuation(const char *p)
{
	const char *scanned;
	const char *result = quote_continuation(p, &scanned);

	/* a scan ahead, which the callers may repeat: charge what it read */
	(void) redact_charge(scanned - p);
	return result;
}

static const char *
quote_continuation(const char *p, const char **scanned)
{
	const char *result = NULL;

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
	if (IS_NEWLINE(*p))
	{
		for (p++;;)
		{
			if (IS_SPACE(*p))
				p++;
			else if (p[0] == '-' && p[1] == '-')
			{
				while (*p && !IS_NEWLINE(*p))
					p++;
				if (!*p)
					break;
				p++;
			}
			else
			{
				if (*p == '\'')
					result = p + 1;
				break;
			}
		}
	}
	*scanned = p;
	return result;
}

/*
 * Could "str" hold a CREATE or ALTER USER MAPPING statement, at top level
 * or in the decoded value of a string constant at any depth?
 *
 * Such a statement holds the keyword MAPPING, which the lexer only
 * recognises spelled with the ASCII letters m-a-p-p-i-n-g in any case, in
 * one piece.  A string constant's value differs from its body in the text
 * only by quote doubling (which cannot produce letters), backslash
 * escapes (E'...', or '...' with standard_conforming_strings off), Unicode
 * escapes (U&'...', with any UESCAPE character) and continuation ('...'
 * newline '...'); dollar-quoted bodies are verbatim.  So a text with none
 * of "mapping", a backslash, "U&" or a newline followed by blanks and a
 * quote has no such statement at any depth: no decoded value can contain
 * MAPPING, and none can contain the constructs that could spell it one
 * level further down.  (A continuation is quote, blanks or a comment,
 * newline, blanks or comment lines, quote: the newline before its second
 * quote is followed by nothing but blanks.)
 *
 * False positives are harmless, and what the scan stops at is chosen to
 * be rare in SQL, because this runs on every statement and every log line:
 * the last letter of "mapping" rather than the first, the "&" of "U&", and
 * newlines rather than quotes.  strcspn() skips the other bytes many at a
 * time (libc vectorises it), so a statement without newlines is usually
 * one call.
 */
bool
usermap_redact_needed(const char *str)
{
	for (const char *p = str;; p++)
	{
		p += strcspn(p, "gG&\\\n\r");
		switch (*p)
		{
			case '\0':
				return false;
			case 'g':
			case 'G':
				if (p - str >= 6 && ascii_prefix_ci(p - 6, "mappin"))
					return true;
				break;
			case '&':
				if (p > str && (p[-1] == 'u' || p[-1] == 'U'))
					return true;
				break;
			case '\\':
				return true;
			default:			/* a newline */
				{
					const char *q = p + 1;

					while (IS_SPACE(*q))
						q++;
					if (*q == '\'')
						return true;
					if (*q == '\0')
						return false;	/* the usual trailing newline */
					p = q - 1;
				}
				break;
		}
	}
}

/*
 * Read exactly n hex digits at p into *value.
 */
bool
redact_parse_hex(const char *p, int n, pg_wchar *value)
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
			next = redact_quote_continuation(s + i + 1);
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
				if (!redact_parse_hex(s + i + 2, e == 'u' ? 4 : 8, &uc))
					return -1;
				i += e == 'u' ? 6 : 10;
				if (is_utf16_surrogate_first(uc))
				{
					if (s[i] != '\\' || (s[i + 1] != 'u' && s[i + 1] != 'U') ||
						!redact_parse_hex(s + i + 2, s[i + 1] == 'u' ? 4 : 8, &second) ||
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
			if (e == '\'' && !redact_reading.backslash_quote_allowed)
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
	bool		scs = redact_reading.standard_conforming_strings;
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

/*
 * Would the lexer, with backslash_quote at its value now, accept \' in an
 * escape string?  Only safe_encoding depends on the client encoding.
 */
static inline bool
backslash_quote_allowed_now(void)
{
	if (backslash_quote == BACKSLASH_QUOTE_ON)
		return true;
	if (backslash_quote == BACKSLASH_QUOTE_SAFE_ENCODING)
	{
		int			encoding = pg_get_client_encoding();

		return !PG_ENCODING_IS_CLIENT_ONLY(encoding);
	}
	return false;
}

/* The lexer's settings in force now */
LexerSettings
redact_current_lexer_settings(void)
{
	LexerSettings now;

	now.standard_conforming_strings = usermap_standard_conforming_strings();
	now.backslash_quote_allowed = backslash_quote_allowed_now();
	return now;
}

/*
 * Note the lexer's settings in force now among those this backend has
 * lexed under.  Called wherever the server may just have lexed a text:
 * parse analysis follows every raw parse, and a text that does not parse
 * is reported right away.  This runs for every statement, so it is kept
 * to a few loads and stores.
 */
void
usermap_redact_observe_settings(void)
{
	redact_seen_scs |= 1 << (usermap_standard_conforming_strings() ? 1 : 0);
	redact_seen_backslash_quote |= 1 << (backslash_quote_allowed_now() ? 1 : 0);
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
	usermap_scanner_set_scs(&yyextra, true);
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
 * lexed without complaint (see lexable_prefix).  The work is charged to
 * the redactor's budget; once it is spent, nothing more is lexed, and the
 * text counts as unlexable from there.
 *
 * A token's end is found as pg_stat_statements finds it: core_yylex()
 * leaves a '\0' just past the token it returns in its copy of the text.
 */
void
redact_lex_text(RedactState *st)
{
	int			lexable;
	char	   *prefix;
	core_yy_extra_type yyextra;
	core_yyscan_t yyscanner;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			tok;

	/* lexable_prefix() and the lexer each read the text once */
	if (!redact_charge(2 * (int64) st->len))
	{
		st->lexed = 0;
		st->truncated = (st->len > 0);
		return;
	}
	lexable = lexable_prefix(st->sql, st->len);
	prefix = pnstrdup(st->sql, lexable);
	st->lexed = lexable;
	st->truncated = (lexable < st->len);

	yyscanner = scanner_init(prefix, &yyextra, &ScanKeywords,
							 redact_keyword_tokens);
	usermap_scanner_quiet(&yyextra);
	usermap_scanner_set_scs(&yyextra,
							redact_reading.standard_conforming_strings);
	yyextra.backslash_quote = redact_reading.backslash_quote_allowed ?
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

		/* a token costs a unit on top of its bytes; and serve a cancel */
		if ((st->ntokens & 1023) == 0 && !redact_charge(1024))
		{
			st->truncated = true;
			st->lexed = st->tokens[st->ntokens - 1].end;
			break;
		}
	}
	scanner_finish(yyscanner);
}
