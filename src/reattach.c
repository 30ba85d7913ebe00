/*-------------------------------------------------------------------------
 *
 * reattach.c
 *		  Re-attach metadata rows to the mappings they describe when they
 *		  arrive from outside usermap, in practice from a restore.
 *
 * usermap.mapping_meta is keyed by the mapping's OID, and a dump restored
 * into another database gives every mapping a new OID.  The restore also
 * runs each CREATE USER MAPPING through usermap first, which writes a
 * fresh row, and only later loads the dumped rows.  This BEFORE INSERT
 * trigger fires for those (usermap's own writes go straight to the heap
 * and fire no trigger): it finds the live mapping the row describes, first
 * by the OIDs in the row and then by the server and role names recorded in
 * it, points the row at that mapping and removes the row the restore
 * wrote, so the original history wins.  A row whose mapping cannot be
 * found is dropped with a WARNING.
 *
 * The names are those of the mapping's last recorded change; if a server
 * or role was renamed since, usermap.verify(repair => true) refreshes them
 * (run it before taking a dump).
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/reattach.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_user_mapping.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "catalog.h"

PG_FUNCTION_INFO_V1(usermap_mapping_meta_reattach);

/*
 * OID of the live mapping the row's OIDs or names describe, or InvalidOid.
 */
static Oid
find_described_mapping(Oid umid, Oid umuser, Oid umserver,
					   const char *server_name, const char *user_name,
					   Oid *found_user, Oid *found_server)
{
	HeapTuple	tuple;
	ForeignServer *server;
	Oid			roleid;
	Oid			found;

	tuple = SearchSysCache1(USERMAPPINGOID, ObjectIdGetDatum(umid));
	if (HeapTupleIsValid(tuple))
	{
		Form_pg_user_mapping form = (Form_pg_user_mapping) GETSTRUCT(tuple);
		bool		same = (form->umuser == umuser && form->umserver == umserver);

		ReleaseSysCache(tuple);
		if (same)
		{
			*found_user = umuser;
			*found_server = umserver;
			return umid;
		}
	}

	server = GetForeignServerByName(server_name, true);
	if (server == NULL)
		return InvalidOid;
	if (strcmp(user_name, "PUBLIC") == 0)
		roleid = ACL_ID_PUBLIC;
	else
	{
		roleid = get_role_oid(user_name, true);
		if (!OidIsValid(roleid))
			return InvalidOid;
	}
	found = GetSysCacheOid2(USERMAPPINGUSERSERVER, Anum_pg_user_mapping_oid,
							ObjectIdGetDatum(roleid),
							ObjectIdGetDatum(server->serverid));
	*found_user = roleid;
	*found_server = server->serverid;
	return found;
}

Datum
usermap_mapping_meta_reattach(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	row;
	bool		isnull;
	Oid			umid;
	Oid			target;
	Oid			umuser = InvalidOid;
	Oid			umserver = InvalidOid;
	char	   *server_name;
	char	   *user_name;
	int			columns[3] = {META_UMID, META_UMUSER, META_UMSERVER};
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	Oid			delete_argtypes[1] = {OIDOID};
	Datum		delete_args[1];

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		elog(ERROR, "usermap_mapping_meta_reattach: must be fired before insert, for each row");

	row = trigdata->tg_trigtuple;
	tupdesc = RelationGetDescr(trigdata->tg_relation);

	umid = DatumGetObjectId(heap_getattr(row, META_UMID, tupdesc, &isnull));
	server_name = TextDatumGetCString(heap_getattr(row, META_SERVER_NAME, tupdesc, &isnull));
	user_name = TextDatumGetCString(heap_getattr(row, META_USER_NAME, tupdesc, &isnull));
	target = find_described_mapping(umid,
									DatumGetObjectId(heap_getattr(row, META_UMUSER, tupdesc, &isnull)),
									DatumGetObjectId(heap_getattr(row, META_UMSERVER, tupdesc, &isnull)),
									server_name, user_name, &umuser, &umserver);

	if (!OidIsValid(target))
	{
		ereport(WARNING,
				(errmsg("usermap: metadata for user mapping for %s on server %s not restored: no such mapping",
						user_name, server_name)));
		return PointerGetDatum(NULL);
	}

	/* The row arriving describes the mapping; it replaces whatever is there. */
	SPI_connect();
	delete_args[0] = ObjectIdGetDatum(target);
	if (SPI_execute_with_args("DELETE FROM usermap.mapping_meta WHERE umid OPERATOR(pg_catalog.=) $1",
							  1, delete_argtypes, delete_args, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "usermap_mapping_meta_reattach: could not delete the replaced metadata row");
	SPI_finish();

	values[0] = ObjectIdGetDatum(target);
	values[1] = ObjectIdGetDatum(umuser);
	values[2] = ObjectIdGetDatum(umserver);
	row = heap_modify_tuple_by_cols(row, tupdesc, 3, columns, values, nulls);

	return PointerGetDatum(row);
}
