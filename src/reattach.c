/*-------------------------------------------------------------------------
 *
 * reattach.c
 *		  Re-attach metadata rows to the mappings they describe when they
 *		  arrive from outside usermap, in practice from a restore.
 *
 * usermap.mapping_meta is keyed by the mapping's OID, and OIDs mean
 * nothing outside the cluster (or database) that assigned them: a dump
 * restored elsewhere gives every mapping and server a new OID, and
 * pg_dumpall recreates roles in name order, so role OIDs can swap.  The
 * restore also runs each CREATE USER MAPPING through usermap first, which
 * writes a fresh row, and only later loads the dumped rows.  This BEFORE
 * INSERT trigger fires for those (usermap's own writes fire no trigger):
 * it finds the live mapping the row describes by the server and user
 * names recorded in it and whether it is the public mapping (umuser 0,
 * the one OID that means the same everywhere), points the row at that
 * mapping and removes the row the restore wrote, so the original history
 * wins.  The row's other OIDs are never used to find a mapping.  A row
 * whose mapping cannot be found is dropped with a WARNING; its history
 * stays in the audit trail.
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

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "catalog/pg_user_mapping.h"
#include "commands/trigger.h"
#include "foreign/foreign.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "usermap.h"

PG_FUNCTION_INFO_V1(usermap_mapping_meta_reattach);

/*
 * OID of the live mapping on server "server_name" of "user_name" (the
 * public mapping if "public_flag"), or InvalidOid.  Its role and server go
 * to *found_user and *found_server.
 */
static Oid
find_named_mapping(const char *server_name, const char *user_name,
				   bool public_flag, Oid *found_user, Oid *found_server)
{
	ForeignServer *server;
	Oid			roleid;

	server = GetForeignServerByName(server_name, true);
	if (server == NULL)
		return InvalidOid;
	if (public_flag)
		roleid = ACL_ID_PUBLIC;
	else
	{
		roleid = usermap_mapping_user_oid(user_name);
		if (!OidIsValid(roleid) || roleid == ACL_ID_PUBLIC)
			return InvalidOid;
	}
	*found_user = roleid;
	*found_server = server->serverid;
	return GetSysCacheOid2(USERMAPPINGUSERSERVER, Anum_pg_user_mapping_oid,
						   ObjectIdGetDatum(roleid),
						   ObjectIdGetDatum(server->serverid));
}

/*
 * Delete the metadata row of mapping "umid", if there is one: the row the
 * restore's own CREATE USER MAPPING wrote, which the arriving row replaces.
 */
static void
delete_meta_row(const UsermapTables *tables, Oid umid)
{
	UsermapWriter writer;
	HeapTuple	tuple;
	Snapshot	snapshot;

	usermap_writer_open(&writer, tables->meta, NULL);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	tuple = usermap_writer_fetch_key(&writer, tables->meta_pkey, umid, snapshot);
	if (HeapTupleIsValid(tuple))
		usermap_writer_delete(&writer, &tuple->t_self);
	UnregisterSnapshot(snapshot);
	usermap_writer_close(&writer);
}

/*
 * The trigger.  Only ever attached to the extension's own mapping_meta
 * (its EXECUTE privilege is revoked from PUBLIC); it checks that all the
 * same, since it deletes rows.
 */
Datum
usermap_mapping_meta_reattach(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	UsermapTables tables;
	TupleDesc	tupdesc;
	HeapTuple	row;
	bool		isnull;
	bool		public_flag;
	Oid			target;
	Oid			umuser = InvalidOid;
	Oid			umserver = InvalidOid;
	char	   *server_name;
	char	   *user_name;
	int			columns[4] = {META_UMID, META_UMUSER, META_UMSERVER, META_USER_NAME};
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired BEFORE INSERT FOR EACH ROW",
						"usermap.mapping_meta_reattach")));
	if (!usermap_tables_find(&tables, false) ||
		tables.meta != RelationGetRelid(trigdata->tg_relation))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("usermap_mapping_meta_reattach may only be a trigger of the usermap extension's mapping_meta table")));

	row = trigdata->tg_trigtuple;
	tupdesc = RelationGetDescr(trigdata->tg_relation);

	server_name = TextDatumGetCString(heap_getattr(row, META_SERVER_NAME, tupdesc, &isnull));
	user_name = TextDatumGetCString(heap_getattr(row, META_USER_NAME, tupdesc, &isnull));
	public_flag = DatumGetObjectId(heap_getattr(row, META_UMUSER, tupdesc, &isnull)) == ACL_ID_PUBLIC;
	target = find_named_mapping(server_name, user_name, public_flag,
								&umuser, &umserver);

	if (!OidIsValid(target))
	{
		ereport(WARNING,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("metadata of user mapping for %s on server %s not restored",
						public_flag ? USERMAP_PUBLIC_USER_NAME : quote_identifier(user_name),
						quote_identifier(server_name)),
				 errdetail("No such user mapping exists.  Metadata is matched to mappings by server and user names; the mapping's history remains in usermap.audit_log.")));
		return PointerGetDatum(NULL);
	}

	/* The row arriving describes the mapping; it replaces whatever is there. */
	delete_meta_row(&tables, target);

	values[0] = ObjectIdGetDatum(target);
	values[1] = ObjectIdGetDatum(umuser);
	values[2] = ObjectIdGetDatum(umserver);
	/* 1.0 spelt the public mapping PUBLIC */
	values[3] = CStringGetTextDatum(usermap_mapping_user_name(umuser));
	row = heap_modify_tuple_by_cols(row, tupdesc, 4, columns, values, nulls);

	return PointerGetDatum(row);
}
