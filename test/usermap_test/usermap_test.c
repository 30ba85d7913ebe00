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

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/objectaccess.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_user_mapping.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

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
 * Describe the object, or say it is not visible yet.  OIDs vary from run to
 * run, so the description, not the OID, shows the hook got the right one.
 */
static const char *
describe(Oid classId, Oid objectId, int subId)
{
	ObjectAddress address;
	char	   *descr;

	ObjectAddressSubSet(address, classId, objectId, subId);
	descr = getObjectDescription(&address, true);
	return descr ? descr : "(not visible yet)";
}

/*
 * Describe a mapping created by the current command.  It is not visible to
 * MVCC snapshots before the next CommandCounterIncrement, so read it with
 * SnapshotSelf, as sepgsql does in its post-create hooks.
 */
static const char *
describe_new_mapping(Oid umid)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	const char *descr = "(not found)";

	rel = table_open(UserMappingRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_user_mapping_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(umid));
	scan = systable_beginscan(rel, UserMappingOidIndexId, true,
							  SnapshotSelf, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		Form_pg_user_mapping form = (Form_pg_user_mapping) GETSTRUCT(tuple);

		descr = psprintf("user mapping for %s on server %s",
						 MappingUserName(form->umuser),
						 GetForeignServer(form->umserver)->servername);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	return descr;
}

/*
 * Report hook calls for user mappings, with the flags each access type
 * carries.
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
				(errmsg("object access: %s on %s (dropflags %d)",
						access_type_name(access),
						describe(classId, objectId, subId),
						((ObjectAccessDrop *) arg)->dropflags)));
	else if (access == OAT_POST_CREATE && arg)
		ereport(NOTICE,
				(errmsg("object access: %s on %s (internal %s)",
						access_type_name(access),
						describe_new_mapping(objectId),
						((ObjectAccessPostCreate *) arg)->is_internal ? "yes" : "no")));
	else
		ereport(NOTICE,
				(errmsg("object access: %s on %s",
						access_type_name(access),
						describe(classId, objectId, subId))));
}

void
_PG_init(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = usermap_test_object_access;
}
