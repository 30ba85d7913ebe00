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
 * A dump of a database at usermap 1.0 restored into 1.1: pg_dump writes
 * CREATE EXTENSION without a version, so the restore makes 1.1's objects
 * and loads 1.0's rows into them.  1.0 wrote the public mapping's user as
 * PUBLIC, which a role may be called too; 1.1 writes public.  The
 * metadata row is re-keyed by its umuser here like any row, and its audit
 * rows are re-keyed the way ALTER EXTENSION UPDATE re-keys them (see
 * rekey_1_0_audit_rows).  That relies on pg_dump's order: the audit
 * trail's data comes before the metadata's (names in order), as psql and a
 * serial pg_restore load them.
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
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "catalog/pg_user_mapping.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "usermap.h"

PG_FUNCTION_INFO_V1(usermap_mapping_meta_reattach);

/* How usermap 1.0 spelt the public mapping's user */
#define USERMAP_1_0_PUBLIC_USER_NAME "PUBLIC"

/* The transaction whose 1.0 rows of dropped mappings were dealt with */
static TransactionId dropped_1_0_rows_done = InvalidTransactionId;

/*
 * The mappings arriving rows were re-attached to in transaction
 * "reattached_xact" (a restore loads mapping_meta in one COPY), and those
 * found ambiguous there; kept in TopMemoryContext, dropped by the next
 * transaction that re-attaches anything.
 */
static TransactionId reattached_xact = InvalidTransactionId;
static List *reattached = NIL;
static List *ambiguous = NIL;

/*
 * Has another arriving row already been re-attached to mapping "target" in
 * this transaction (or was it found ambiguous)?  Then the names match more
 * than one dumped row, as after a rename usermap did not see: rather than
 * guess, neither row is kept, and the mapping is left without metadata for
 * verify() to report.  Otherwise note the mapping and return false.
 */
static bool
reattached_already(Oid target)
{
	TransactionId xid = GetCurrentTransactionId();
	MemoryContext oldcxt;

	if (!TransactionIdEquals(xid, reattached_xact))
	{
		list_free(reattached);
		list_free(ambiguous);
		reattached = ambiguous = NIL;
		reattached_xact = xid;
	}
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	if (list_member_oid(ambiguous, target))
	{
		MemoryContextSwitchTo(oldcxt);
		return true;
	}
	if (list_member_oid(reattached, target))
	{
		ambiguous = lappend_oid(ambiguous, target);
		MemoryContextSwitchTo(oldcxt);
		return true;
	}
	reattached = lappend_oid(reattached, target);
	MemoryContextSwitchTo(oldcxt);
	return false;
}

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
	tuple = usermap_writer_fetch_key(&writer, tables->meta_pkey, META_UMID,
									 umid, snapshot);
	if (HeapTupleIsValid(tuple))
		usermap_writer_delete(&writer, tuple);
	UnregisterSnapshot(snapshot);
	usermap_writer_close(&writer);
}

/*
 * Run "sql" on the audit trail with the server name and the umid as $1
 * and $2 (a statement may use neither).  Returns the number of rows an
 * UPDATE changed, or the bigint a SELECT returned.
 */
static uint64
run_on_audit_log(const char *sql, int expected, const char *server_name,
				 Oid umid)
{
	Oid			argtypes[2] = {TEXTOID, OIDOID};
	Datum		args[2];
	bool		isnull;
	int			ret;

	args[0] = CStringGetTextDatum(server_name);
	args[1] = ObjectIdGetDatum(umid);
	ret = SPI_execute_with_args(sql, 2, argtypes, args, NULL, false, 0);
	if (ret != expected)
		elog(ERROR, "re-keying usermap 1.0's audit rows failed: %s",
			 SPI_result_code_string(ret));
	if (ret == SPI_OK_SELECT)
		return (uint64) DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													SPI_tuptable->tupdesc,
													1, &isnull));
	return SPI_processed;
}

/* Rows "a" that say PUBLIC under the server and umid of a DROP row */
#define DROPPED_1_0_ROWS \
	" WHERE a.user_name OPERATOR(pg_catalog.=) 'PUBLIC'" \
	"   AND EXISTS (SELECT 1 FROM ONLY %s d" \
	"                WHERE d.action OPERATOR(pg_catalog.=) 'DROP'" \
	"                  AND d.user_name OPERATOR(pg_catalog.=) 'PUBLIC'" \
	"                  AND d.server_name OPERATOR(pg_catalog.=) a.server_name" \
	"                  AND d.umid OPERATOR(pg_catalog.=) a.umid)"

/*
 * The metadata row of the public mapping on "server_name", whose OID was
 * "old_umid" where it was dumped, has arrived from usermap 1.0: re-key the
 * restored audit rows the way usermap--1.0--1.1.sql does.
 *
 * The mapping's own rows (PUBLIC, that server, that umid) become public.
 * Rows under an umid that here is a live mapping of a role are left: they
 * may be the ones this restore's CREATE USER MAPPING wrote for a role
 * named "PUBLIC" (1.1 spells only that role PUBLIC), and are counted in a
 * WARNING if any are left.  Then, once per transaction, the rows of
 * mappings dropped before the dump (a DROP row under the same server and
 * umid says so): public's if no role named "PUBLIC" exists, else they
 * cannot be told apart, are left as they are and counted, as by the
 * update.  Rows written by 1.1 are never touched: they name the public
 * mapping public.
 *
 * Through SPI, as the update script does it: the audit trail has no
 * trigger or rule (usermap_tables_find refuses one), and the statements
 * pin every operator.
 */
static void
rekey_1_0_audit_rows(const UsermapTables *tables, const char *server_name,
					 Oid old_umid)
{
	const char *audit;
	uint64		left;

	audit = quote_qualified_identifier(get_namespace_name(get_rel_namespace(tables->audit)),
									   get_rel_name(tables->audit));
	SPI_connect();

	run_on_audit_log(psprintf("UPDATE ONLY %s a SET user_name = 'public'"
							  " WHERE a.user_name OPERATOR(pg_catalog.=) 'PUBLIC'"
							  "   AND a.server_name OPERATOR(pg_catalog.=) $1"
							  "   AND a.umid OPERATOR(pg_catalog.=) $2"
							  "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_user_mapping m"
							  "                    WHERE m.oid OPERATOR(pg_catalog.=) a.umid"
							  "                      AND m.umuser OPERATOR(pg_catalog.<>) 0::pg_catalog.oid)",
							  audit),
					 SPI_OK_UPDATE, server_name, old_umid);
	left = run_on_audit_log(psprintf("SELECT pg_catalog.count(*) FROM ONLY %s a"
									 " WHERE a.user_name OPERATOR(pg_catalog.=) 'PUBLIC'"
									 "   AND a.server_name OPERATOR(pg_catalog.=) $1"
									 "   AND a.umid OPERATOR(pg_catalog.=) $2",
									 audit),
							SPI_OK_SELECT, server_name, old_umid);
	if (left > 0)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg_plural("%llu audit row of the public mapping on server %s names \"PUBLIC\" and was left as it is",
							   "%llu audit rows of the public mapping on server %s name \"PUBLIC\" and were left as they are",
							   left, (unsigned long long) left,
							   quote_identifier(server_name)),
				 errdetail("usermap 1.0 wrote the public mapping as PUBLIC, and a mapping of a role restored here has the OID the public mapping had in the dumped database."),
				 errhint("The public mapping is now written as public; check those rows by hand.")));

	if (dropped_1_0_rows_done != GetTopTransactionId())
	{
		dropped_1_0_rows_done = GetTopTransactionId();
		if (!OidIsValid(get_role_oid(USERMAP_1_0_PUBLIC_USER_NAME, true)))
			run_on_audit_log(psprintf("UPDATE ONLY %s a SET user_name = 'public'" DROPPED_1_0_ROWS,
									  audit, audit),
							 SPI_OK_UPDATE, server_name, old_umid);
		else if ((left = run_on_audit_log(psprintf("SELECT pg_catalog.count(*) FROM ONLY %s a" DROPPED_1_0_ROWS,
												   audit, audit),
										  SPI_OK_SELECT, server_name, old_umid)) > 0)
			ereport(WARNING,
					(errcode(ERRCODE_WARNING),
					 errmsg_plural("%llu audit row of dropped mappings names \"PUBLIC\" and was left as it is",
								   "%llu audit rows of dropped mappings name \"PUBLIC\" and were left as they are",
								   left, (unsigned long long) left),
					 errdetail("usermap 1.0 wrote the public mapping as PUBLIC, and a role named \"PUBLIC\" exists."),
					 errhint("The public mapping is now written as public; check those rows by hand.")));
	}

	SPI_finish();
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

	/* only 1.0 wrote the public mapping (umuser 0) as PUBLIC */
	if (public_flag && strcmp(user_name, USERMAP_1_0_PUBLIC_USER_NAME) == 0)
		rekey_1_0_audit_rows(&tables, server_name,
							 DatumGetObjectId(heap_getattr(row, META_UMID, tupdesc, &isnull)));
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

	if (reattached_already(target))
	{
		/*
		 * Take back the row re-attached earlier in this load, which the
		 * command's own snapshot does not see yet.
		 */
		CommandCounterIncrement();
		delete_meta_row(&tables, target);
		ereport(WARNING,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("metadata of user mapping for %s on server %s not restored",
						public_flag ? USERMAP_PUBLIC_USER_NAME : quote_identifier(user_name),
						quote_identifier(server_name)),
				 errdetail("More than one arriving metadata row holds the mapping's server and user names, so none is taken for it; the mapping's history remains in usermap.audit_log."),
				 errhint("Before dumping, run SELECT * FROM usermap.verify(repair => true) where the rows came from, so that their names are current.")));
		return PointerGetDatum(NULL);
	}

	/* The row arriving describes the mapping; it replaces whatever is there. */
	delete_meta_row(&tables, target);

	values[0] = ObjectIdGetDatum(target);
	values[1] = ObjectIdGetDatum(umuser);
	values[2] = ObjectIdGetDatum(umserver);
	/* 1.0 spelt the public mapping PUBLIC: the name follows umuser */
	values[3] = CStringGetTextDatum(usermap_mapping_user_name(umuser));
	row = heap_modify_tuple_by_cols(row, tupdesc, 4, columns, values, nulls);

	return PointerGetDatum(row);
}
