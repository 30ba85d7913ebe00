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

/*
 * Columns of usermap.audit_log and usermap.mapping_meta, in the order
 * the install scripts create them (1.0 and 1.1 alike).  catalog_tables.c
 * holds their names and types and makes sure the installed tables still
 * have that shape before anything is written.
 */
enum
{
	AUDIT_ID = 1,
	AUDIT_LOGGED_AT,
	AUDIT_ACTION,
	AUDIT_SERVER_NAME,
	AUDIT_USER_NAME,
	AUDIT_OLD_OPTIONS,
	AUDIT_NEW_OPTIONS,
	AUDIT_CHANGED_OPTIONS,
	AUDIT_SESSION_ROLE,
	AUDIT_CURRENT_ROLE,
	AUDIT_STATEMENT,
	AUDIT_UMID,
	AUDIT_TRANSACTION_ID,
	AUDIT_NATTS = AUDIT_TRANSACTION_ID
};

enum
{
	META_UMID = 1,
	META_UMUSER,
	META_UMSERVER,
	META_SERVER_NAME,
	META_USER_NAME,
	META_CREATED_AT,
	META_CREATED_BY,
	META_CREATED_AS,
	META_MODIFIED_AT,
	META_MODIFIED_BY,
	META_MODIFIED_AS,
	META_SECRET_CHANGED_AT,
	META_NATTS = META_SECRET_CHANGED_AT
};

/*
 * The user name of the public mapping, as pg_user_mappings spells it: the
 * one definition, which usermap.user_name() gives to SQL.
 */
#define USERMAP_PUBLIC_USER_NAME "public"

/* GUC usermap.log_unrecorded */
extern bool usermap_log_unrecorded;

extern void usermap_catalog_install_hooks(void);
extern UserMappingStatement usermap_catalog_enter_statement(const char *query,
															int location,
															int length);
extern void usermap_catalog_leave_statement(UserMappingStatement saved);
extern bool usermap_recording_wanted(void);
extern const char *usermap_mapping_user_name(Oid umuser);
extern Oid	usermap_mapping_user_oid(const char *user_name);
extern void usermap_record_change(UserMappingAction action, Oid umid,
								  Oid umuser, Oid umserver,
								  const char *servername,
								  List *old_options, List *new_options);

#endif							/* USERMAP_CATALOG_H */
