/*-------------------------------------------------------------------------
 *
 * execute.c
 *		  The frame around an owned statement: what standard_ProcessUtility
 *		  and ProcessUtilitySlow do before and after CreateUserMapping,
 *		  AlterUserMapping and RemoveUserMapping.
 *
 * The server wraps these three commands in read-only / parallel-mode /
 * recovery checks and in the event trigger machinery (ddl_command_start,
 * command collection for pg_event_trigger_ddl_commands(), sql_drop,
 * ddl_command_end).  Both live in static code in utility.c, so they are
 * reproduced here, in the same order, with the same public entry points;
 * keep this file in step with utility.c when porting to a new major
 * version.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/execute.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "commands/event_trigger.h"
#include "miscadmin.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"

#include "usermap.h"

/*
 * The read-only checks of standard_ProcessUtility.  All three statements
 * are COMMAND_IS_NOT_READ_ONLY there, so each check applies; the first one
 * that fires wins, which on a hot standby is the read-only transaction
 * error, exactly as in core.
 */
static void
prevent_in_read_only_state(Node *parsetree)
{
	if (XactReadOnly || IsInParallelMode())
	{
		const char *cmdname = GetCommandTagName(CreateCommandTag(parsetree));

		PreventCommandIfReadOnly(cmdname);
		PreventCommandIfParallelMode(cmdname);
		PreventCommandDuringRecovery(cmdname);
	}
}

/*
 * Execute an owned statement.
 *
 * The parse tree is never modified, so unlike standard_ProcessUtility there
 * is no need to copy it when the caller passed a read-only tree.
 */
void
usermap_execute(PlannedStmt *pstmt, const char *queryString,
				ProcessUtilityContext context)
{
	Node	   *parsetree = pstmt->utilityStmt;
	bool		isCompleteQuery = (context != PROCESS_UTILITY_SUBCOMMAND);
	bool		needCleanup;
	UserMappingStatement saved_statement;

	/* This can recurse (through event triggers), so check the stack */
	check_stack_depth();

	prevent_in_read_only_state(parsetree);

	/* All event trigger calls are done only when isCompleteQuery is true */
	needCleanup = isCompleteQuery && EventTriggerBeginCompleteQuery();

	/* the audit trail records this statement's text */
	saved_statement = usermap_catalog_enter_statement(queryString,
													  pstmt->stmt_location,
													  pstmt->stmt_len);

	/* PG_TRY block is to ensure we call EventTriggerEndCompleteQuery */
	PG_TRY();
	{
		/* declared in here, so that no longjmp can clobber them */
		bool		commandCollected = false;
		ObjectAddress address = InvalidObjectAddress;

		if (isCompleteQuery)
			EventTriggerDDLCommandStart(parsetree);

		switch (nodeTag(parsetree))
		{
			case T_CreateUserMappingStmt:
				address = usermap_create_mapping((CreateUserMappingStmt *) parsetree);
				break;

			case T_AlterUserMappingStmt:
				address = usermap_alter_mapping((AlterUserMappingStmt *) parsetree);
				break;

			case T_DropUserMappingStmt:
				usermap_drop_mapping((DropUserMappingStmt *) parsetree);
				/* no commands stashed for DROP, as in core */
				commandCollected = true;
				break;

			default:
				elog(ERROR, "unrecognized node type: %d",
					 (int) nodeTag(parsetree));
				break;
		}

		/*
		 * Remember the object so that ddl_command_end event triggers have
		 * access to it.
		 */
		if (!commandCollected)
			EventTriggerCollectSimpleCommand(address, InvalidObjectAddress,
											 parsetree);

		if (isCompleteQuery)
		{
			EventTriggerSQLDrop(parsetree);
			EventTriggerDDLCommandEnd(parsetree);
		}
	}
	PG_FINALLY();
	{
		usermap_catalog_leave_statement(saved_statement);
		if (needCleanup)
			EventTriggerEndCompleteQuery();
	}
	PG_END_TRY();
}
