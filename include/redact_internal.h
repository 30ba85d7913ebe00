/*-------------------------------------------------------------------------
 *
 * redact_internal.h
 *		  What the four files of the redactor share with one another.
 *
 * The redactor (its section of usermap.h) is split along its seams:
 * redact_lexer.c models scan.l and runs the server's lexer, redact.c masks
 * the user-mapping statements of a token stream, redact_message.c finds
 * the statements a log message quotes where the SQL rules cannot see them,
 * and redact_cache.c keeps recent results and holds the entry points.
 * This header is for those four files only; the rest of usermap uses
 * usermap.h.
 * Every name they share with one another through the linker starts with
 * redact_, so that none can collide with a symbol of the server.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * include/redact_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef USERMAP_REDACT_INTERNAL_H
#define USERMAP_REDACT_INTERNAL_H

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"

#include "usermap.h"
#include "usermap_compat.h"

/* What a masked stretch of text is replaced by. */
#define QUOTED_MASK		USERMAP_QUOTED_MASK

/*
 * Token codes.  core_yylex() returns a character for a one-character token
 * and a code from the grammar's gram.h for the others, but gram.h is not
 * installed from PostgreSQL 16 on and its numbering moves between majors
 * (every keyword does).  So the redactor has codes of its own, named as
 * gram.h names them, above every code the grammar uses: the lexer returns
 * them for keywords itself, through the keyword_tokens table that
 * scanner_init() takes, and redact_lex_text() translates the few other
 * tokens it needs, whose codes usermap_redact_init() learns from the
 * running lexer.
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
extern LexerSettings redact_reading;

/* Bit masks of the values of each setting this backend has lexed under */
extern uint8 redact_seen_scs;
extern uint8 redact_seen_backslash_quote;

/*
 * Character classes of scan.l.  The lexer treats every byte with the high
 * bit set as a letter.
 */
#define IS_SPACE(c)			((c) == ' ' || (c) == '\t' || (c) == '\n' || \
							 (c) == '\r' || (c) == '\f' || IS_VT_SPACE(c))
#define IS_HORIZ_SPACE(c)	((c) == ' ' || (c) == '\t' || (c) == '\f' || \
							 IS_VT_SPACE(c))
/* a vertical tab is whitespace from 17 on (usermap_compat.h) */
#define IS_VT_SPACE(c)		(USERMAP_LEXER_VT_IS_SPACE && (c) == '\v')
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

static inline bool
is_keyword(int tok)
{
	return tok >= OTHER_KEYWORD;
}

/*
 * The redactor's budget.  Every entry point (redact_cache.c) may be called
 * from emit_log_hook, where nothing can interrupt it and no error may be
 * raised, on any text a client sends, so its work is bounded whatever the
 * text: a text longer than REDACT_MAX_LEN bytes is not read at all, and a
 * shorter one gets REDACT_WORK_PER_BYTE units of work per byte (plus
 * REDACT_WORK_BASE), a unit being about one byte scanned.  Every loop that
 * may look at a byte more than once (each reading of the text, each
 * nesting level, each quoted statement of a log message, every scan ahead)
 * charges what it scans with redact_charge(), and stops early once the
 * budget is spent.  The entry point then fails closed: the whole text is
 * replaced by USERMAP_HIDDEN_TEXT (usermap.h), never by a guess.
 *
 * redact_charge() also honours query cancel, termination and
 * statement_timeout outside error reporting; the log hook holds interrupts
 * while it masks, which makes that a no-op there.
 */
#define REDACT_MAX_LEN			(1024 * 1024)
#define REDACT_WORK_PER_BYTE	64
#define REDACT_WORK_BASE		((int64) 1024 * 1024)

/* At most this many names a text makes secret itself (see redact.c) */
#define REDACT_MAX_DECLARED_NAMES	16

extern int64 redact_work_left;

/* Start the budget of a text of "len" bytes */
static inline void
redact_budget_start(size_t len)
{
	redact_work_left = REDACT_WORK_BASE + (int64) len * REDACT_WORK_PER_BYTE;
}

/* Is the budget spent?  Then every loop stops, and the text is hidden. */
static inline bool
redact_over_budget(void)
{
	return redact_work_left < 0;
}

/*
 * Charge "units" of work; false once the budget is spent.  A pending
 * interrupt is served here (outside error reporting, see above).
 */
static inline bool
redact_charge(int64 units)
{
	CHECK_FOR_INTERRUPTS();
	redact_work_left -= units;
	return redact_work_left >= 0;
}

/* redact_lexer.c: the model of scan.l, and the server's lexer */
extern const char *redact_quote_continuation(const char *p);
extern bool redact_parse_hex(const char *p, int n, pg_wchar *value);
extern LexerSettings redact_current_lexer_settings(void);
extern void redact_lex_text(RedactState *st);

/* redact.c: the statement masker */
extern bool redact_every_value;
extern List *redact_declared_secret_names;
extern bool redact_declared_overflow;
extern void redact_collect_declared_secret_names(const char *text);
extern void redact_add_edit(RedactState *st, int start, int end,
							const char *replacement);
extern void redact_mask_span(RedactState *st, int start, int end);
extern char *redact_apply_edits(RedactState *st);
extern bool redact_starts_user_mapping(RedactState *st, int i);
extern int	redact_statement(RedactState *st, int i);
extern char *redact_text(const char *sql, int depth, bool *failed_closed,
						 bool *open_end);
extern char *redact_text_ex(const char *sql, int depth, bool message,
							bool *failed_closed, bool *open_end);

/*
 * The redactor's state for the text under way: redact.c's globals above,
 * the reading (redact_reading) and the budget (redact_work_left).  Every entry
 * point saves its caller's and restores it when it returns, for a
 * redaction may start inside another: an interrupt served by
 * redact_charge() can report a message (a parallel worker's WARNING,
 * pg_log_backend_memory_contexts' LOG lines) through the log hook, which
 * masks it before the outer redaction goes on.  Left to the inner one,
 * the outer would go on with every_value off (showing the values a reader
 * may not see), another reading, a fresh budget, or no declared names.
 */
typedef struct RedactSavedState
{
	bool		every_value;
	LexerSettings reading;
	int64		work_left;
	List	   *declared_names;
	bool		declared_overflow;
} RedactSavedState;

static inline void
redact_save_state(RedactSavedState *saved)
{
	saved->every_value = redact_every_value;
	saved->reading = redact_reading;
	saved->work_left = redact_work_left;
	saved->declared_names = redact_declared_secret_names;
	saved->declared_overflow = redact_declared_overflow;
}

static inline void
redact_restore_state(const RedactSavedState *saved)
{
	redact_every_value = saved->every_value;
	redact_reading = saved->reading;
	redact_work_left = saved->work_left;
	redact_declared_secret_names = saved->declared_names;
	redact_declared_overflow = saved->declared_overflow;
}

/* redact_message.c: the log-message layer */
extern char *redact_message_text(const char *msg, int quoted);
extern bool redact_spells_statement(const char *s);

#endif							/* USERMAP_REDACT_INTERNAL_H */
