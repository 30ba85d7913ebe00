/*-------------------------------------------------------------------------
 *
 * catalog_writer.c
 *		  Write rows of usermap's own tables as INSERT, UPDATE and DELETE
 *		  would, through the server's public interfaces.
 *
 * Rows are written with the executor's entry points for writing one row
 * of a table outside a plan, ExecSimpleRelationInsert, ...Update and
 * ...Delete (executor/execReplication.c), which the logical-replication
 * apply worker writes user tables with: NOT NULL and CHECK constraints,
 * the replica-identity check of a published table, the heap, then every
 * index, with unique and exclusion constraints checked and expression and
 * partial indexes computed, as for a statement.  Rows are read with
 * systable_beginscan_ordered (access/index/genam.c) through the index the
 * writer opened, or with table_tuple_fetch_row_version at a TID, under the
 * snapshot the caller gives; and locked in their newest version with
 * table_tuple_lock, as the apply worker and EvalPlanQual lock the rows
 * they are about to change.  No signature used here differs between the
 * supported majors.
 *
 * What usermap leaves out is triggers and row-level security.
 * usermap_tables_find (catalog_tables.c) refuses tables with either, but
 * for the extension's re-attachment trigger, which is there for rows
 * arriving from outside usermap (a restore, a subscription; see
 * reattach.c): the writer does not hand the executor the table's
 * triggers, so that one does not fire for usermap's own rows.  No
 * privilege on the tables is checked either: the rows are written on
 * behalf of the user-mapping statement, by a role that has none on them
 * (see the README's Security section).
 *
 * Nothing is kept from one change to the next (but the TID hint of
 * catalog_tables.c, which every use checks): a writer opens the table
 * and its indexes, and its executor state holds whatever the executor
 * compiles (CHECK constraints, index expressions and predicates), which
 * is freed with it, as after a statement.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/catalog_writer.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/executor.h"
#include "storage/bufmgr.h"
#include "utils/snapmgr.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

#include "usermap.h"

/*
 * Open "relid" for writing rows, in "estate", the executor state of the
 * change, which the caller frees once the writer is closed (NULL: the
 * writer makes and frees its own).  The lock is the one INSERT, UPDATE
 * and DELETE take, and is kept to the end of the transaction.
 */
void
usermap_writer_open(UsermapWriter *writer, Oid relid, EState *estate)
{
	MemoryContext oldcxt;
	TupleDesc	desc;

	writer->rel = table_open(relid, RowExclusiveLock);
	writer->own_estate = (estate == NULL);
	writer->estate = estate ? estate : CreateExecutorState();
	desc = RelationGetDescr(writer->rel);

	oldcxt = MemoryContextSwitchTo(writer->estate->es_query_cxt);
	writer->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(writer->rri, writer->rel, 0, NULL, 0);
	/* no trigger fires for usermap's own rows: see the header comment */
	writer->rri->ri_TrigDesc = NULL;
	ExecOpenIndices(writer->rri, false);
	writer->slot = ExecInitExtraTupleSlot(writer->estate, desc,
										  &TTSOpsHeapTuple);
	writer->found = ExecInitExtraTupleSlot(writer->estate, desc,
										   &TTSOpsHeapTuple);
	writer->table_slot = NULL;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * The row "values"/"nulls" in the writer's slot, as a heap tuple formed
 * once: the table AM stores it as it is.
 */
static TupleTableSlot *
writer_store_row(UsermapWriter *writer, Datum *values, bool *nulls, int natts)
{
	TupleDesc	desc = RelationGetDescr(writer->rel);

	/* usermap_tables_find checked the shape; this only guards the arrays */
	if (desc->natts != natts)
		elog(ERROR, "usermap: table \"%s\" has %d columns, not %d",
			 RelationGetRelationName(writer->rel), desc->natts, natts);
	return ExecStoreHeapTuple(heap_form_tuple(desc, values, nulls),
							  writer->slot, true);
}

/*
 * The row "old", read from the writer's table by this transaction, as the
 * row an update or a delete replaces (the executor takes its TID).
 */
static TupleTableSlot *
writer_store_found(UsermapWriter *writer, HeapTuple old)
{
	return ExecStoreHeapTuple(old, writer->found, false);
}

/*
 * Insert one row ("natts" values), as INSERT would.  Its TID is left in
 * "tid" if that is not NULL.
 */
void
usermap_writer_insert(UsermapWriter *writer, Datum *values, bool *nulls,
					  int natts, ItemPointer tid)
{
	TupleTableSlot *slot = writer_store_row(writer, values, nulls, natts);

	ExecSimpleRelationInsert(writer->rri, writer->estate, slot);
	if (tid != NULL)
		*tid = slot->tts_tid;
	ExecClearTuple(slot);
	ResetPerTupleExprContext(writer->estate);
}

/*
 * Replace the row "old", which this transaction has read, by a new
 * version, as UPDATE would (HOT where the table AM can), whose TID is
 * left in "tid".  The EPQ state the executor asks for is used by BEFORE
 * ROW triggers alone, which do not fire here.
 */
void
usermap_writer_update(UsermapWriter *writer, HeapTuple old,
					  Datum *values, bool *nulls, int natts, ItemPointer tid)
{
	TupleTableSlot *slot = writer_store_row(writer, values, nulls, natts);
	TupleTableSlot *found = writer_store_found(writer, old);

	ExecSimpleRelationUpdate(writer->rri, writer->estate, NULL, found, slot);
	*tid = slot->tts_tid;
	ExecClearTuple(found);
	ExecClearTuple(slot);
	ResetPerTupleExprContext(writer->estate);
}

/*
 * Delete the row "old", which this transaction has read, as DELETE would.
 */
void
usermap_writer_delete(UsermapWriter *writer, HeapTuple old)
{
	TupleTableSlot *found = writer_store_found(writer, old);

	ExecSimpleRelationDelete(writer->rri, writer->estate, NULL, found);
	ExecClearTuple(found);
}

/*
 * A slot of the table AM's own kind, for rows read from the writer's table
 * (it may pin a buffer: every user clears it), made when first needed.
 */
static TupleTableSlot *
writer_table_slot(UsermapWriter *writer)
{
	if (writer->table_slot == NULL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(writer->estate->es_query_cxt);

		writer->table_slot = table_slot_create(writer->rel,
											   &writer->estate->es_tupleTable);
		MemoryContextSwitchTo(oldcxt);
	}
	return writer->table_slot;
}

/*
 * The row at "tid", copied, if "snapshot" sees it there; else NULL.  A TID
 * past the end of the table (truncated by VACUUM since it was noted) is no
 * row; any other TID is safe to read, whatever it now holds.
 */
HeapTuple
usermap_writer_fetch_tid(UsermapWriter *writer, ItemPointer tid,
						 Snapshot snapshot)
{
	HeapTuple	tuple = NULL;
	TupleTableSlot *slot;

	if (!ItemPointerIsValid(tid) ||
		ItemPointerGetBlockNumber(tid) >= RelationGetNumberOfBlocks(writer->rel))
		return NULL;
	slot = writer_table_slot(writer);
	if (table_tuple_fetch_row_version(writer->rel, tid, snapshot, slot))
		tuple = ExecCopySlotHeapTuple(slot);
	ExecClearTuple(slot);
	return tuple;
}

/*
 * The newest version of the row at "tid", locked as UPDATE locks the rows
 * it changes, copied; or NULL if the row is gone.  A transaction that is
 * changing the row is waited for, and if it updated the row, its new
 * version is followed (table_tuple_lock with
 * TUPLE_LOCK_FLAG_FIND_LAST_VERSION, as the apply worker and EvalPlanQual
 * lock rows).
 */
HeapTuple
usermap_writer_settle_tid(UsermapWriter *writer, ItemPointer tid)
{
	TupleTableSlot *slot = writer_table_slot(writer);
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	TM_FailureData tmfd;
	TM_Result	result;
	HeapTuple	tuple = NULL;

	result = table_tuple_lock(writer->rel, tid, snapshot, slot,
							  GetCurrentCommandId(false),
							  LockTupleNoKeyExclusive, LockWaitBlock,
							  TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &tmfd);
	if (result == TM_Ok)
		tuple = ExecCopySlotHeapTuple(slot);
	else if (result != TM_Deleted)
		elog(ERROR, "usermap: unexpected result %d locking a row of \"%s\"",
			 (int) result, RelationGetRelationName(writer->rel));
	ExecClearTuple(slot);
	UnregisterSnapshot(snapshot);
	return tuple;
}

/*
 * The writer's index "indexid", which usermap_writer_open opened (and
 * locked) with the table's other indexes.
 */
static Relation
writer_index(UsermapWriter *writer, Oid indexid)
{
	for (int i = 0; i < writer->rri->ri_NumIndices; i++)
	{
		Relation	index = writer->rri->ri_IndexRelationDescs[i];

		if (RelationGetRelid(index) == indexid)
			return index;
	}
	elog(ERROR, "usermap: index %u of \"%s\" is not open", indexid,
		 RelationGetRelationName(writer->rel));
	return NULL;				/* keep compiler quiet */
}

/*
 * The first row "snapshot" sees of the writer's table whose column
 * "attnum" (an oid) equals "key", through the writer's index "indexid" on
 * that column, copied; or NULL.
 */
HeapTuple
usermap_writer_fetch_key(UsermapWriter *writer, Oid indexid, AttrNumber attnum,
						 Oid key, Snapshot snapshot)
{
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tuple;
	HeapTuple	found = NULL;

	ScanKeyInit(&skey, attnum, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(key));
	scan = systable_beginscan_ordered(writer->rel,
									  writer_index(writer, indexid),
									  snapshot, 1, &skey);
	tuple = systable_getnext_ordered(scan, ForwardScanDirection);
	if (HeapTupleIsValid(tuple))
		found = heap_copytuple(tuple);
	systable_endscan_ordered(scan);
	return found;
}

void
usermap_writer_close(UsermapWriter *writer)
{
	ExecCloseIndices(writer->rri);
	ExecClearTuple(writer->slot);
	ExecClearTuple(writer->found);
	if (writer->own_estate)
	{
		ExecResetTupleTable(writer->estate->es_tupleTable, false);
		FreeExecutorState(writer->estate);
	}
	/* keep the lock until the end of the transaction, as DML does */
	table_close(writer->rel, NoLock);
}
