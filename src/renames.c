/*-------------------------------------------------------------------------
 *
 * renames.c
 *		  Keep the names in usermap.mapping_meta current as servers and
 *		  roles are renamed.
 *
 * A restore and pg_upgrade give mappings new OIDs, and the metadata rows
 * that come with them are re-attached by the server and user names they
 * hold (reattach.c, verify()).  Those names were the ones of each
 * mapping's last change, and a server owner may rename her servers at any
 * time: swapping the names of two servers before a dump gave each
 * mapping the other's history after the restore.  So every rename of a
 * server, and of a role, made through usermap's ProcessUtility hook in a
 * database where the extension is installed updates the names of the rows
 * that describe that server's or role's live mappings, in the same
 * transaction.
 *
 * Servers belong to a database, so their renames are always seen where it
 * matters.  Roles belong to the cluster: a role renamed while connected to
 * another database (or with usermap.enabled off) leaves the rows of this
 * database with the old name, which verify() reports as "stale names" and
 * repair refreshes.
 *
 * Copyright (c) 2026, usermap developers
 *
 * IDENTIFICATION
 *	  src/renames.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "usermap.h"
#include "usermap_compat.h"

/*
 * The server or role a RenameStmt renames, by OID, looked up before the
 * rename runs; InvalidOid when it renames something else, or nothing
 * usermap can find (the server's own code then reports the error).
 */
Oid
usermap_rename_target(Node *parsetree, bool *is_role)
{
	RenameStmt *stmt;

	if (!IsA(parsetree, RenameStmt))
		return InvalidOid;
	stmt = (RenameStmt *) parsetree;
	*is_role = (stmt->renameType == OBJECT_ROLE);
	if (stmt->renameType == OBJECT_FOREIGN_SERVER)
	{
		ForeignServer *srv = GetForeignServerByName(strVal(stmt->object), true);

		return srv ? srv->serverid : InvalidOid;
	}
	if (stmt->renameType == OBJECT_ROLE)
		return get_role_oid(stmt->subname, true);
	return InvalidOid;
}

/*
 * Does metadata row "tuple" describe the live mapping its OIDs name, and
 * is that mapping of server "oid" (or, with is_role, of role "oid")?
 */
static bool
row_is_renamed_objects(HeapTuple tuple, TupleDesc desc, Oid oid, bool is_role)
{
	bool		isnull;
	Oid			umid = DatumGetObjectId(heap_getattr(tuple, META_UMID, desc, &isnull));
	Oid			umuser = DatumGetObjectId(heap_getattr(tuple, META_UMUSER, desc, &isnull));
	Oid			umserver = DatumGetObjectId(heap_getattr(tuple, META_UMSERVER, desc, &isnull));
	HeapTuple	um;
	bool		attached = false;

	if ((is_role ? umuser : umserver) != oid)
		return false;
	um = SearchSysCache1(USERMAPPINGOID, ObjectIdGetDatum(umid));
	if (HeapTupleIsValid(um))
	{
		Form_pg_user_mapping form = (Form_pg_user_mapping) GETSTRUCT(um);

		attached = (form->umuser == umuser && form->umserver == umserver);
		ReleaseSysCache(um);
	}
	return attached;
}

/*
 * The mappings whose metadata rows, as the latest snapshot sees them,
 * describe live mappings of server (or role) "oid", in OID order.
 */
static List *
renamed_mappings(Relation rel, Oid oid, bool is_role)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *umids = NIL;
	bool		isnull;

	scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		if (row_is_renamed_objects(tuple, desc, oid, is_role))
			umids = lappend_oid(umids,
								DatumGetObjectId(heap_getattr(tuple, META_UMID,
															  desc, &isnull)));
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	list_sort(umids, list_oid_cmp);
	return umids;
}

/*
 * Give mapping "umid"'s metadata row the new name "name" in column
 * "attnum", if it still describes a mapping of server (or role) "oid".
 *
 * The mapping is locked first as ALTER USER MAPPING locks it, so that a
 * change of the mapping in progress in another session is waited for
 * rather than met as a concurrently updated row, and the row is read
 * afresh under the lock.  Mappings are locked in OID order, so that two
 * renames wait for each other rather than deadlock.
 */
static void
rename_row(UsermapWriter *meta, const UsermapTables *tables, Oid umid,
		   Oid oid, bool is_role, const char *newname)
{
	TupleDesc	desc = RelationGetDescr(meta->rel);
	Snapshot	snapshot;
	HeapTuple	tuple;
	Datum		values[META_NATTS];
	bool		nulls[META_NATTS];
	ItemPointerData tid;
	int			attnum = is_role ? META_USER_NAME : META_SERVER_NAME;

	usermap_lock_mapping(umid, ShareUpdateExclusiveLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	tuple = usermap_writer_fetch_key(meta, tables->meta_pkey, META_UMID, umid,
									 snapshot);
	if (tuple != NULL && row_is_renamed_objects(tuple, desc, oid, is_role))
	{
		heap_deform_tuple(tuple, desc, values, nulls);
		if (nulls[attnum - 1] ||
			strcmp(TextDatumGetCString(values[attnum - 1]), newname) != 0)
		{
			values[attnum - 1] = CStringGetTextDatum(newname);
			nulls[attnum - 1] = false;
			usermap_writer_update(meta, tuple, values, nulls, META_NATTS, &tid);
		}
	}
	UnregisterSnapshot(snapshot);
}

/*
 * Server or role "oid" has just been renamed to "newname": give the rows
 * that describe its live mappings the new name.  The rows are written
 * through the table's constraints and indexes like every row usermap
 * writes, under the same locks and checks (see write_rows in catalog.c).
 */
void
usermap_note_rename(Oid oid, bool is_role, const char *newname)
{
	UsermapTables tables;
	EState	   *estate;
	UsermapWriter meta;
	List	   *umids;
	ListCell   *cell;

	if (IsBinaryUpgrade || !usermap_tables_find(&tables, true))
		return;

	/* see the renamed catalog row and our own earlier rows */
	CommandCounterIncrement();
	estate = CreateExecutorState();
	for (;;)
	{
		usermap_writer_open(&meta, tables.meta, estate);
		if (usermap_tables_current(&tables))
			break;
		usermap_writer_close(&meta);
		if (!usermap_tables_find(&tables, true))
		{
			ExecResetTupleTable(estate->es_tupleTable, false);
			FreeExecutorState(estate);
			return;
		}
	}

	umids = renamed_mappings(meta.rel, oid, is_role);
	foreach(cell, umids)
		rename_row(&meta, &tables, lfirst_oid(cell), oid, is_role, newname);

	usermap_writer_close(&meta);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
}
