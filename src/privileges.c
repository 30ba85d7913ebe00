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
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/privileges.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/acl.h"

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
