/*-------------------------------------------------------------------------
 *
 * execute.h
 *		  Run an owned utility statement inside the same frame the server
 *		  gives it: read-only checks and event triggers.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * include/execute.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef USERMAP_EXECUTE_H
#define USERMAP_EXECUTE_H

#include "nodes/plannodes.h"
#include "tcop/utility.h"

extern bool usermap_owns_statement(Node *parsetree);
extern void usermap_execute(PlannedStmt *pstmt, const char *queryString,
							ProcessUtilityContext context);

#endif							/* USERMAP_EXECUTE_H */
