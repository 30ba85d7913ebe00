/*-------------------------------------------------------------------------
 *
 * catalog_tables.h
 *		  Finding the extension's own tables, checking that they can be
 *		  written, and writing them as SQL would.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * include/catalog_tables.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef USERMAP_CATALOG_TABLES_H
#define USERMAP_CATALOG_TABLES_H

#include "access/tupdesc.h"
#include "nodes/execnodes.h"
#include "utils/relcache.h"

/* The schema the control file names; the extension refuses any other */
#define USERMAP_SCHEMA "usermap"

/* The catalog layer's relations in the current database */
typedef struct UsermapTables
{
	Oid			meta;
	Oid			meta_pkey;
	Oid			audit;
	Oid			audit_seq;
} UsermapTables;

/*
 * A table opened for usermap's writes: rows go through the table's
 * constraints and every index, as an INSERT or DELETE would, but fire no
 * trigger (usermap_tables_find refuses tables that have any but its own).
 */
typedef struct UsermapWriter
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
} UsermapWriter;

extern bool usermap_tables_find(UsermapTables *tables, bool for_recording);
extern void usermap_tables_forget(void);
extern void usermap_tables_install_callbacks(void);
extern void usermap_tables_note_drop(Oid classId, Oid objectId);
extern void usermap_check_own_schema(void);

extern void usermap_writer_open(UsermapWriter *writer, Oid relid);
extern void usermap_writer_insert(UsermapWriter *writer, Datum *values,
								  bool *nulls);
extern void usermap_writer_delete(UsermapWriter *writer, ItemPointer tid);
extern void usermap_writer_close(UsermapWriter *writer);

#endif							/* USERMAP_CATALOG_TABLES_H */
