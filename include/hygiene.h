/*-------------------------------------------------------------------------
 *
 * hygiene.h
 *		  Mask the secrets of user-mapping statements in the server log,
 *		  pg_stat_activity and the text other libraries' hooks see.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * include/hygiene.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef USERMAP_HYGIENE_H
#define USERMAP_HYGIENE_H

#include "nodes/plannodes.h"

extern void usermap_hygiene_install_hooks(void);
extern void usermap_unmask_statement(PlannedStmt **pstmt,
									 const char **queryString);

#endif							/* USERMAP_HYGIENE_H */
