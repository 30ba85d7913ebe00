/*-------------------------------------------------------------------------
 *
 * ddl.h
 *		  CREATE / ALTER / DROP USER MAPPING as usermap executes them.
 *
 * Each function follows the same pipeline: resolve the role and server,
 * check privileges, lock, merge options, validate, write the catalog.
 * Return values mirror the server's CreateUserMapping, AlterUserMapping
 * and RemoveUserMapping so the caller can feed event triggers the same
 * way ProcessUtilitySlow does.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * include/ddl.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef USERMAP_DDL_H
#define USERMAP_DDL_H

#include "catalog/objectaddress.h"
#include "nodes/parsenodes.h"

extern ObjectAddress usermap_create_mapping(CreateUserMappingStmt *stmt);
extern ObjectAddress usermap_alter_mapping(AlterUserMappingStmt *stmt);
extern Oid	usermap_drop_mapping(DropUserMappingStmt *stmt);

#endif							/* USERMAP_DDL_H */
