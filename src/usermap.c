/*-------------------------------------------------------------------------
 *
 * usermap.c
 *		  Module entry point: GUCs, hook installation and dispatch.
 *
 * usermap owns three utility statements: CREATE, ALTER and DROP USER
 * MAPPING.  The ProcessUtility hook below recognises them by node tag and
 * hands them to execute.c; every other statement goes, untouched and
 * without any further work, to the previous hook or to
 * standard_ProcessUtility, with only the statement's place in its query
 * string noted for the audit trail (a mapping dropped by cascade records
 * the statement that caused it).  The object-access hook (catalog.c) records
 * mappings dropped by any statement; the log, parse-analysis and outer
 * ProcessUtility hooks of hygiene.c keep secrets out of the log,
 * pg_stat_activity and other libraries.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/usermap.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "usermap.h"

PG_MODULE_MAGIC;

/* The settings; see usermap.h */
bool		usermap_enabled = true;
bool		usermap_log_unrecorded = true;
bool		usermap_redact_enabled = true;
char	   *usermap_secret_options = NULL;

bool		usermap_preloaded = false;

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(usermap_library_version);
PG_FUNCTION_INFO_V1(usermap_require_preload);

/*
 * Hand a statement to the next hook, or to the server: with the text the
 * client sent, which the masking hook of hygiene.c replaced for the
 * libraries in between.
 */
static inline void
pass_down(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
		  ProcessUtilityContext context, ParamListInfo params,
		  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
	{
		usermap_unmask_statement(&pstmt, &queryString);
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
	}
}

/*
 * Can this statement, which usermap does not execute, drop user mappings
 * by cascade?  DROP SERVER, DROP FOREIGN DATA WRAPPER, DROP EXTENSION,
 * DROP SCHEMA and DROP FUNCTION (of a wrapper's handler or validator) are
 * DropStmts; DROP OWNED BY is another.  ALTER TABLE ... DROP COLUMN and
 * ALTER TYPE ... DROP ATTRIBUTE (AlterTableStmts) reach a validator written
 * in SQL that depends on the column, and DISCARD TEMP one in pg_temp.
 * DROP ROLE cannot: a role's mapping makes it fail.  Statements nested in
 * others (a function's, an extension script's) come through this hook
 * themselves.  A cascade from a statement not listed records no statement
 * rather than a wrong one (catalog.c).
 */
static inline bool
may_drop_mappings(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
		case T_DropOwnedStmt:
		case T_AlterTableStmt:
		case T_DiscardStmt:
			return true;
		default:
			return false;
	}
}

/*
 * Pass down a statement that may drop mappings by cascade, with its own
 * text noted for the audit trail (catalog.c), which then records this
 * statement and not the whole query string around it: not an ALTER ROLE
 * ... PASSWORD next to it.
 */
static pg_noinline void
pass_down_noting_statement(PlannedStmt *pstmt, const char *queryString,
						   bool readOnlyTree, ProcessUtilityContext context,
						   ParamListInfo params, QueryEnvironment *queryEnv,
						   DestReceiver *dest, QueryCompletion *qc)
{
	UserMappingStatement saved;

	saved = usermap_catalog_enter_statement(queryString, pstmt->stmt_location,
											pstmt->stmt_len);
	PG_TRY();
	{
		pass_down(pstmt, queryString, readOnlyTree, context, params,
				  queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		usermap_catalog_leave_statement(saved);
	}
	PG_END_TRY();
}

/*
 * Pass down a RenameStmt; if it renamed a server or a role, keep the names
 * of the metadata rows of its mappings current (renames.c).  The target is
 * looked up after the rename, by its new name.
 */
static pg_noinline void
pass_down_noting_rename(PlannedStmt *pstmt, const char *queryString,
						bool readOnlyTree, ProcessUtilityContext context,
						ParamListInfo params, QueryEnvironment *queryEnv,
						DestReceiver *dest, QueryCompletion *qc)
{
	bool		is_role = false;
	bool		followed = usermap_rename_kind(pstmt->utilityStmt, &is_role);
	char	   *newname = pstrdup(((RenameStmt *) pstmt->utilityStmt)->newname);

	pass_down(pstmt, queryString, readOnlyTree, context, params,
			  queryEnv, dest, qc);
	if (followed)
		usermap_note_rename(is_role, newname);
}

/*
 * ProcessUtility hook.
 *
 * The tests are node-tag comparisons and a bool, so statements usermap
 * does not own pay nothing measurable.  Owned statements are not passed
 * down the hook chain: hooks loaded before usermap never see them, which
 * is why the README asks for usermap to be listed first in
 * shared_preload_libraries.
 */
static void
usermap_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					   bool readOnlyTree, ProcessUtilityContext context,
					   ParamListInfo params, QueryEnvironment *queryEnv,
					   DestReceiver *dest, QueryCompletion *qc)
{
	if (IsA(pstmt->utilityStmt, CopyStmt))
		usermap_check_copy_access(pstmt->utilityStmt);
	if (usermap_enabled)
	{
		if (usermap_owns_statement(pstmt->utilityStmt))
		{
			usermap_unmask_statement(&pstmt, &queryString);
			usermap_execute(pstmt, queryString, context);
			return;
		}
		if (may_drop_mappings(pstmt->utilityStmt))
		{
			pass_down_noting_statement(pstmt, queryString, readOnlyTree,
									   context, params, queryEnv, dest, qc);
			return;
		}
		if (IsA(pstmt->utilityStmt, RenameStmt))
		{
			pass_down_noting_rename(pstmt, queryString, readOnlyTree,
									context, params, queryEnv, dest, qc);
			return;
		}
	}
	pass_down(pstmt, queryString, readOnlyTree, context, params,
			  queryEnv, dest, qc);
}

/*
 * Is "hook" usermap's ProcessUtility hook?  hygiene.c asks of the hook it
 * puts its masking hook above: with nothing in between, no library sees a
 * user-mapping statement's text before usermap executes it.
 */
bool
usermap_is_main_hook(ProcessUtility_hook_type hook)
{
	return hook == usermap_ProcessUtility;
}

/*
 * The one transaction callback, so that a transaction pays for one call:
 * forget the secret option names replaced during it (secrets.c), mask a
 * published text nothing masked yet (hygiene.c), and reset what the
 * catalog layer keeps per transaction (catalog_tables.c).
 */
static void
usermap_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PREPARE:
			if (usermap_preloaded)
			{
				usermap_hygiene_end_xact(event == XACT_EVENT_ABORT);
				usermap_tables_end_xact();
			}
			usermap_secrets_end_xact();
			break;
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			if (usermap_preloaded)
				usermap_tables_end_xact();
			usermap_secrets_end_xact();
			break;
		default:
			break;
	}
}

/*
 * Module load.
 *
 * The GUCs are defined whenever the library is loaded, so that SET and SHOW
 * work even in a backend that merely called one of our SQL functions.  The
 * hook is installed only from shared_preload_libraries: a layer that
 * applied in some sessions and not others would make the history it keeps
 * meaningless.
 */
void
_PG_init(void)
{
	DefineCustomBoolVariable("usermap.enabled",
							 "Lets usermap execute CREATE/ALTER/DROP USER MAPPING.",
							 "When off, these statements run through the server's own code.",
							 &usermap_enabled,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("usermap.secret_options",
							   "User-mapping options whose values are secrets.",
							   "Comma-separated option names, matched exactly as the server stores them.  "
							   "Their values are masked in usermap's audit trail, its log lines and redacted statement text.",
							   &usermap_secret_options,
							   "password,sslpassword",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   usermap_check_secret_options,
							   usermap_assign_secret_options,
							   NULL);

	DefineCustomBoolVariable("usermap.log_unrecorded",
							 "Logs user-mapping changes in databases without the usermap extension.",
							 "One LOG line per change, secrets masked, where the catalog layer cannot record it.",
							 &usermap_log_unrecorded,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("usermap.redact",
							 "Masks secret option values of user-mapping statements in logs and statistics.",
							 "Turn off only to debug; the audit trail is masked regardless.",
							 &usermap_redact_enabled,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	MarkGUCPrefixReserved("usermap");
	RegisterXactCallback(usermap_xact_callback, NULL);

	usermap_redact_init();

	if (!process_shared_preload_libraries_in_progress)
		return;

	usermap_preloaded = true;

	/*
	 * A hook already in place belongs to a library listed before usermap. It
	 * will never see the statements usermap executes: pg_stat_statements does
	 * not count them, and pgaudit, whose event trigger functions expect its
	 * own hook to have run first, makes them fail.  Say so once, at server
	 * start.
	 */
	if (ProcessUtility_hook != NULL)
		ereport(WARNING,
				(errmsg("usermap is not first among the libraries that hook utility statements"),
				 errdetail("Libraries listed before usermap in shared_preload_libraries (\"%s\") will not see CREATE, ALTER or DROP USER MAPPING.",
						   shared_preload_libraries_string),
				 errhint("List usermap first in shared_preload_libraries, in particular before pg_stat_statements and pgaudit.")));

	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = usermap_ProcessUtility;

	usermap_catalog_install_hooks();
	usermap_hygiene_install_hooks();
}

/*
 * usermap.library_version() returns the version of the loaded library,
 * which the build takes from usermap.control.
 */
Datum
usermap_library_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(USERMAP_VERSION));
}

/*
 * Called first by the extension's install and update scripts: refuse to
 * install into a server where the hook is not active, since the
 * extension's objects would then describe a layer that is not running,
 * and into a schema usermap did not make (usermap_check_own_schema).
 */
Datum
usermap_require_preload(PG_FUNCTION_ARGS)
{
	if (!usermap_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("usermap must be loaded via shared_preload_libraries"),
				 errhint("Add usermap to shared_preload_libraries in postgresql.conf and restart the server.")));
	usermap_check_own_schema();
	PG_RETURN_VOID();
}
