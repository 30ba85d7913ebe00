/*-------------------------------------------------------------------------
 *
 * privileges.c
 *		  Privilege checks for user-mapping DDL.
 *
 * The rule is the server's (user_mapping_ddl_aclcheck in foreigncmds.c):
 * the owner of the server, which includes members of the owning role and
 * superusers, may act on any mapping for it; any other role only on its own
 * mapping, and only with USAGE on the server.  A PUBLIC mapping therefore
 * needs ownership.  The messages come from aclcheck_error, as in core.
 *
 * Also: who may COPY usermap's tables out, which is how pg_dump reads them.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/privileges.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"

#include "usermap.h"
#include "usermap_compat.h"

/*
 * Raise an error unless the current user may manage the mapping of role
 * "umuserid" (ACL_ID_PUBLIC for PUBLIC) on the given server.
 */
void
usermap_check_privileges(Oid umuserid, Oid serverid, const char *servername)
{
	Oid			curuserid = GetUserId();
	AclResult	aclresult;

	if (usermap_server_ownercheck(serverid, curuserid))
		return;

	if (umuserid != curuserid)
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_FOREIGN_SERVER, servername);

	aclresult = usermap_server_aclcheck(serverid, curuserid, ACL_USAGE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, servername);
}

/*
 * A COPY out of one of usermap's tables by a role that may not read it:
 * raise the error the server would, with a hint of what to do.
 *
 * pg_dump copies the data of an extension's configuration tables with the
 * extension, and usermap's tables are for superusers (and, mapping_meta,
 * auditors) only: the trail holds option values pg_user_mappings hides
 * from most roles.  A database owner who is not a superuser therefore
 * cannot dump a database where usermap is installed with its history, and
 * the server's own "permission denied for schema usermap" does not say
 * what to do instead.  Nothing is looked up with the caller's privileges
 * here, and nothing is decided: a role that may read the table passes, and
 * the server checks everything again.
 */
void
usermap_check_copy_access(Node *parsetree)
{
	CopyStmt   *stmt = (CopyStmt *) parsetree;
	Oid			nspid;
	Oid			relid;
	Oid			extoid;
	Oid			userid = GetUserId();

	if (!IsA(parsetree, CopyStmt) || stmt->is_from || stmt->relation == NULL ||
		stmt->relation->schemaname == NULL)
		return;
	extoid = get_extension_oid("usermap", true);
	if (!OidIsValid(extoid))
		return;
	nspid = get_namespace_oid(stmt->relation->schemaname, true);
	if (!OidIsValid(nspid))
		return;
	relid = get_relname_relid(stmt->relation->relname, nspid);
	if (!OidIsValid(relid) ||
		getExtensionOfObject(RelationRelationId, relid) != extoid)
		return;
	if (usermap_namespace_aclcheck(nspid, userid, ACL_USAGE) == ACLCHECK_OK &&
		pg_class_aclcheck(relid, userid, ACL_SELECT) == ACLCHECK_OK)
		return;

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for table %s.%s",
					stmt->relation->schemaname, stmt->relation->relname),
			 errdetail("The tables of extension \"usermap\" hold its history and audit trail, which only superusers may read."),
			 errhint("To dump the database with usermap's history, run pg_dump as a superuser; to dump it without, run pg_dump with --exclude-table-data='%s.*'.",
					 stmt->relation->schemaname)));
}
