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
 * Is "parsetree" a rename usermap follows, of a foreign server or of a
 * role?  *is_role says which.
 */
bool
usermap_rename_kind(Node *parsetree, bool *is_role)
{
	RenameStmt *stmt;

	if (!IsA(parsetree, RenameStmt))
		return false;
	stmt = (RenameStmt *) parsetree;
	*is_role = (stmt->renameType == OBJECT_ROLE);
	return stmt->renameType == OBJECT_FOREIGN_SERVER ||
		stmt->renameType == OBJECT_ROLE;
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
 * The TIDs of the metadata rows that, as the latest snapshot sees them,
 * describe live mappings of server (or role) "oid".
 */
static List *
renamed_rows(Relation rel, Oid oid, bool is_role)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *tids = NIL;

	scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, NULL);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		if (row_is_renamed_objects(tuple, desc, oid, is_role))
		{
			ItemPointer tid = palloc(sizeof(ItemPointerData));

			*tid = tuple->t_self;
			tids = lappend(tids, tid);
		}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	return tids;
}

/*
 * Give the metadata row at "tid" the new name "newname" in column
 * "attnum", if it still describes a mapping of server (or role) "oid".
 *
 * A change of the mapping in progress in another session is waited for,
 * as UPDATE waits for a row another transaction is changing, and the row
 * is then taken in its newest version (usermap_writer_settle_tid): a
 * rename does not fail because an ALTER USER MAPPING got to the row first.
 * No lock is taken per mapping, so a role with any number of mappings can
 * be renamed within the lock table.
 */
static void
rename_row(UsermapWriter *meta, ItemPointer tid, Oid oid, bool is_role,
		   const char *newname)
{
	TupleDesc	desc = RelationGetDescr(meta->rel);
	int			attnum = is_role ? META_USER_NAME : META_SERVER_NAME;
	HeapTuple	tuple = usermap_writer_settle_tid(meta, tid);
	Datum		values[META_NATTS];
	bool		nulls[META_NATTS];
	ItemPointerData newtid;

	if (tuple == NULL || !row_is_renamed_objects(tuple, desc, oid, is_role))
		return;
	heap_deform_tuple(tuple, desc, values, nulls);
	if (!nulls[attnum - 1] &&
		strcmp(TextDatumGetCString(values[attnum - 1]), newname) == 0)
		return;
	values[attnum - 1] = CStringGetTextDatum(newname);
	nulls[attnum - 1] = false;
	usermap_writer_update(meta, tuple, values, nulls, META_NATTS, &newtid);
}

/*
 * A server or a role has just been renamed to "newname" (is_role says
 * which): give the rows that describe its live mappings the new name.
 * The renamed object is looked up by its new name, once renamed: the
 * server waited for any lock on the object before renaming it, and a
 * concurrent rename may have given the old name to another object
 * meanwhile.  The rows are written through the table's constraints and
 * indexes like every row usermap writes, under the same locks and checks
 * (see write_rows in catalog.c).
 */
void
usermap_note_rename(bool is_role, const char *newname)
{
	UsermapTables tables;
	EState	   *estate;
	UsermapWriter meta;
	List	   *tids;
	ListCell   *cell;
	Oid			oid;

	if (IsBinaryUpgrade || !usermap_tables_find(&tables, true))
		return;

	/* see the renamed catalog row and our own earlier rows */
	CommandCounterIncrement();
	if (is_role)
		oid = get_role_oid(newname, true);
	else
	{
		ForeignServer *server = GetForeignServerByName(newname, true);

		oid = server ? server->serverid : InvalidOid;
	}
	if (!OidIsValid(oid))
		return;

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

	tids = renamed_rows(meta.rel, oid, is_role);
	foreach(cell, tids)
		rename_row(&meta, (ItemPointer) lfirst(cell), oid, is_role, newname);

	usermap_writer_close(&meta);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
}
