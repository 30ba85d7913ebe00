/*-------------------------------------------------------------------------
 *
 * catalog.h
 *		  The catalog layer: per-mapping metadata and the audit trail.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * include/catalog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef USERMAP_CATALOG_H
#define USERMAP_CATALOG_H

#include "nodes/pg_list.h"

typedef enum UserMappingAction
{
	USERMAP_ACTION_CREATE,
	USERMAP_ACTION_ALTER,
	USERMAP_ACTION_DROP
} UserMappingAction;

/* The statement being executed, for the audit trail's statement column */
typedef struct UserMappingStatement
{
	const char *query;			/* source text, possibly several statements */
	int			location;		/* start of this statement, -1 if unknown */
	int			length;			/* its length, 0 for "rest of the text" */
} UserMappingStatement;

/* GUC usermap.log_unrecorded */
extern bool usermap_log_unrecorded;

extern void usermap_catalog_install_hooks(void);
extern UserMappingStatement usermap_catalog_enter_statement(const char *query,
															int location,
															int length);
extern void usermap_catalog_leave_statement(UserMappingStatement saved);
extern bool usermap_recording_wanted(void);
extern void usermap_record_change(UserMappingAction action, Oid umid,
								  Oid umuser, Oid umserver,
								  const char *servername,
								  List *old_options, List *new_options);

#endif							/* USERMAP_CATALOG_H */
