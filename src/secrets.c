/*-------------------------------------------------------------------------
 *
 * secrets.c
 *		  The usermap.secret_options setting.
 *
 * The setting is a comma-separated list of option names.  Names are
 * matched exactly (case included), because option names are exactly what
 * the foreign-data wrapper compares: postgres_fdw's "password" is not
 * "Password".  Whitespace around each name is ignored.  The list is parsed
 * once, when the setting changes, into a NULL-terminated array kept as the
 * GUC's "extra" data, so each lookup is a short scan of a few strings.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/secrets.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/xact.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "usermap.h"
#include "usermap_compat.h"

/* bumped whenever the list in force changes; see usermap.h */
uint64		usermap_secret_options_generation = 0;

/* parsed form of usermap_secret_options: NULL-terminated array of names */
static char **secret_option_names = NULL;

/*
 * Names a SET, RESET or set_config() took out of the list in the current
 * transaction.  They stay secret until it ends: the server lexed the rest
 * of the query string, and the statements of a DO block or a function,
 * before the change, and the masking of those statements must not depend
 * on when it happens to run.  In TopMemoryContext.
 */
typedef struct ReplacedName
{
	struct ReplacedName *next;
	char		name[FLEXIBLE_ARRAY_MEMBER];
} ReplacedName;

static ReplacedName *replaced_names = NULL;

static bool
is_replaced_name(const char *name)
{
	for (ReplacedName *r = replaced_names; r != NULL; r = r->next)
		if (strcmp(r->name, name) == 0)
			return true;
	return false;
}

/*
 * Parse the list into one block: the pointer array followed by the names.
 * GUC "extra" data must be a single chunk.
 */
bool
usermap_check_secret_options(char **newval, void **extra, GucSource source)
{
	const char *p;
	int			nnames = 0;
	size_t		size;
	char	  **names;
	char	   *strings;
	int			i = 0;

	/* Count names: one per comma, plus one. */
	for (p = *newval; *p; p++)
		if (*p == ',')
			nnames++;
	nnames++;

	size = (nnames + 1) * sizeof(char *) + strlen(*newval) + 1;
	/* the GUC machinery releases "extra" itself; see usermap_compat.h */
	names = (char **) usermap_guc_extra_alloc(size);
	if (names == NULL)
	{
		GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
		GUC_check_errmsg("out of memory");
		return false;
	}
	strings = (char *) (names + nnames + 1);
	strcpy(strings, *newval);

	for (char *tok = strings; tok != NULL;)
	{
		char	   *comma = strchr(tok, ',');
		char	   *end;

		if (comma)
			*comma = '\0';
		while (isspace((unsigned char) *tok))
			tok++;
		end = tok + strlen(tok);
		while (end > tok && isspace((unsigned char) end[-1]))
			*--end = '\0';

		if (*tok == '\0' && (comma != NULL || i > 0))
		{
			GUC_check_errdetail("Option names in usermap.secret_options must not be empty.");
			usermap_guc_extra_free(names);
			return false;
		}
		if (*tok != '\0')
			names[i++] = tok;
		tok = comma ? comma + 1 : NULL;
	}
	names[i] = NULL;

	*extra = names;
	return true;
}

void
usermap_assign_secret_options(const char *newval, void *extra)
{
	/*
	 * Only changes made by a running transaction count; the end of a
	 * transaction restoring the value it started with does not.  A copy that
	 * fails for lack of memory is not kept: an assign hook may not fail.
	 */
	if (secret_option_names != NULL && IsTransactionState())
	{
		for (char **n = secret_option_names; *n != NULL; n++)
		{
			ReplacedName *r;

			if (is_replaced_name(*n))
				continue;
			r = MemoryContextAllocExtended(TopMemoryContext,
										   offsetof(ReplacedName, name) + strlen(*n) + 1,
										   MCXT_ALLOC_NO_OOM);
			if (r == NULL)
				continue;
			strcpy(r->name, *n);
			r->next = replaced_names;
			replaced_names = r;
		}
	}
	secret_option_names = (char **) extra;
	usermap_secret_options_generation++;
}

/*
 * Forget the names replaced during the transaction that ends; called by
 * usermap.c's transaction callback at every transaction end.
 */
void
usermap_secrets_end_xact(void)
{
	if (replaced_names == NULL)
		return;
	while (replaced_names != NULL)
	{
		ReplacedName *next = replaced_names->next;

		pfree(replaced_names);
		replaced_names = next;
	}
	usermap_secret_options_generation++;
}

/*
 * Is "name" one of the secret options?
 */
bool
usermap_is_secret_option(const char *name)
{
	if (secret_option_names != NULL)
		for (char **n = secret_option_names; *n != NULL; n++)
			if (strcmp(*n, name) == 0)
				return true;
	return replaced_names != NULL && is_replaced_name(name);
}
