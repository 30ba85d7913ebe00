/*-------------------------------------------------------------------------
 *
 * usermap_test.c
 *		  Test helper: report object-access hook calls on user mappings.
 *
 * LOAD 'usermap_test' installs an object_access_hook that raises a NOTICE
 * for every post-create, post-alter and drop event on pg_user_mapping.  The
 * regression tests run the same statements with usermap on and off and
 * expect the same NOTICEs, which shows usermap invokes the hooks exactly
 * where the server's code does.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * test/usermap_test/usermap_test.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/objectaccess.h"
#include "catalog/pg_user_mapping.h"
#include "fmgr.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static object_access_hook_type prev_object_access_hook = NULL;

static const char *
access_type_name(ObjectAccessType access)
{
	switch (access)
	{
		case OAT_POST_CREATE:
			return "OAT_POST_CREATE";
		case OAT_DROP:
			return "OAT_DROP";
		case OAT_POST_ALTER:
			return "OAT_POST_ALTER";
		case OAT_NAMESPACE_SEARCH:
			return "OAT_NAMESPACE_SEARCH";
		case OAT_FUNCTION_EXECUTE:
			return "OAT_FUNCTION_EXECUTE";
		case OAT_TRUNCATE:
			return "OAT_TRUNCATE";
	}
	return "unknown";
}

/*
 * Report hook calls for user mappings.  OIDs vary from run to run, so only
 * the access type, the sub-object id and the flags are printed.
 */
static void
usermap_test_object_access(ObjectAccessType access, Oid classId,
						   Oid objectId, int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (classId != UserMappingRelationId)
		return;

	if (access == OAT_DROP && arg)
		ereport(NOTICE,
				(errmsg("object access: %s pg_user_mapping (subid %d, valid oid %s, dropflags %d)",
						access_type_name(access), subId,
						OidIsValid(objectId) ? "yes" : "no",
						((ObjectAccessDrop *) arg)->dropflags)));
	else if (access == OAT_POST_CREATE && arg)
		ereport(NOTICE,
				(errmsg("object access: %s pg_user_mapping (subid %d, valid oid %s, internal %s)",
						access_type_name(access), subId,
						OidIsValid(objectId) ? "yes" : "no",
						((ObjectAccessPostCreate *) arg)->is_internal ? "yes" : "no")));
	else
		ereport(NOTICE,
				(errmsg("object access: %s pg_user_mapping (subid %d, valid oid %s)",
						access_type_name(access), subId,
						OidIsValid(objectId) ? "yes" : "no")));
}

void
_PG_init(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = usermap_test_object_access;
}
