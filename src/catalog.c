/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		  The catalog layer: who created and changed each user mapping, when
 *		  its secret last changed, and an audit trail of every change.
 *
 * In a database where CREATE EXTENSION usermap has been run, every change
 * to a user mapping writes, in the transaction that makes the change:
 *
 *	- one row of usermap.audit_log (action, names, old and new options with
 *	  secrets masked, which options changed, who, the masked statement);
 *	- the mapping's row of usermap.mapping_meta, keyed by its OID: created
 *	  on CREATE, updated on ALTER, deleted on DROP.
 *
 * CREATE and ALTER are recorded by ddl.c once the catalog row is written.
 * Drops are recorded from the object-access hook, because a mapping also
 * disappears through DROP SERVER ... CASCADE, DROP OWNED BY and DROP
 * EXTENSION ... CASCADE, which usermap does not execute: the hook sees
 * each of them, with the row still readable.  Deleting the metadata row at
 * the same moment means a later mapping that reuses the OID can never
 * inherit it.
 *
 * The rows are written straight to the heap and indexes, as catalog code
 * does, rather than through SPI: the user making the change may not write
 * to usermap's tables (nobody but usermap should), it avoids running SQL
 * under another role, it is several times cheaper, and no user trigger
 * fires (mapping_meta's trigger exists for restores only; see reattach.c).
 * Rolling back the transaction, or a savepoint, rolls the rows back too.
 *
 * In a database without the extension the change is not recorded, and
 * unless usermap.log_unrecorded is off a LOG line says so, in the same
 * masked form.  With usermap.enabled off nothing is recorded at all;
 * usermap.verify() finds the drift that leaves.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "catalog/pg_user_mapping.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "commands/sequence.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/xid8.h"

#include "catalog.h"
#include "masking.h"
#include "options.h"
#include "redact.h"
#include "usermap.h"

bool		usermap_log_unrecorded = true;

/* The user-mapping statement being executed, if any (see execute.c) */
static UserMappingStatement current_statement = {NULL, -1, 0};

static object_access_hook_type prev_object_access_hook = NULL;

/* The catalog layer's relations in the current database */
typedef struct CatalogRelations
{
	Oid			meta;
	Oid			meta_pkey;
	Oid			audit;
	Oid			audit_seq;
	Oid			unsupported_index;	/* see find_unsupported_index */
} CatalogRelations;

/* Everything one change writes, computed once for both tables */
typedef struct ChangeRecord
{
	UserMappingAction action;
	Oid			umid;
	Oid			umuser;
	Oid			umserver;
	const char *server_name;
	const char *user_name;
	Jsonb	   *old_options;
	Jsonb	   *new_options;
	List	   *changed_options;
	bool		secret_changed;
	const char *session_role;
	const char *current_role;
	char	   *statement;
	TimestampTz at;
} ChangeRecord;

static const char *const action_names[] = {"CREATE", "ALTER", "DROP"};

/*
 * Whether the extension is installed in this database, and where its
 * tables are, cached per backend: looking it up costs a scan of
 * pg_extension, a measurable share of each statement.  Installing or
 * dropping the extension always creates or drops its tables, which sends
 * invalidations for pg_class's name cache, as does creating or dropping an
 * index on them; any such invalidation empties the cache.
 */
static bool catalog_cache_valid = false;
static bool catalog_installed = false;
static CatalogRelations catalog_cache;

static void
invalidate_catalog_cache(Datum arg, int cacheid, uint32 hashvalue)
{
	catalog_cache_valid = false;
}

/*
 * An index on "relid" that the rows usermap writes cannot go into, or
 * InvalidOid.
 *
 * The rows are inserted as the server inserts catalog rows
 * (CatalogTupleInsert), which maintains indexes on plain columns only: an
 * expression index would crash the backend, and a partial index would
 * receive rows its predicate excludes.  Administrators may add indexes to
 * usermap's tables (the README suggests one on audit_log.logged_at), so
 * check what they added before writing.
 */
static Oid
find_unsupported_index(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *cell;
	Oid			unsupported = InvalidOid;

	foreach(cell, indexes)
	{
		HeapTuple	tuple = SearchSysCache1(INDEXRELID,
											ObjectIdGetDatum(lfirst_oid(cell)));

		if (!HeapTupleIsValid(tuple))
			continue;
		if (!heap_attisnull(tuple, Anum_pg_index_indexprs, NULL) ||
			!heap_attisnull(tuple, Anum_pg_index_indpred, NULL))
			unsupported = lfirst_oid(cell);
		ReleaseSysCache(tuple);
		if (OidIsValid(unsupported))
			break;
	}
	list_free(indexes);
	table_close(rel, AccessShareLock);
	return unsupported;
}

/*
 * Find the extension's tables, or return false if the extension is not
 * installed in this database.  The schema name is fixed: the extension is
 * not relocatable.
 */
static bool
lookup_catalog_relations(CatalogRelations *rels)
{
	/*
	 * The lookups below can process invalidations themselves; if one of them
	 * empties the cache meanwhile, look again.
	 */
	while (!catalog_cache_valid)
	{
		Oid			nsp;
		CatalogRelations found;

		catalog_cache_valid = true;
		catalog_installed = false;

		if (!OidIsValid(get_extension_oid("usermap", true)))
			continue;
		nsp = get_namespace_oid("usermap", true);
		if (!OidIsValid(nsp))
			continue;
		found.meta = get_relname_relid("mapping_meta", nsp);
		found.meta_pkey = get_relname_relid("mapping_meta_pkey", nsp);
		found.audit = get_relname_relid("audit_log", nsp);
		found.audit_seq = get_relname_relid("audit_log_id_seq", nsp);

		/*
		 * Extension members cannot be dropped one by one, so missing tables
		 * mean the extension itself is being dropped, in the statement that
		 * is also dropping mappings (DROP EXTENSION usermap, postgres_fdw
		 * CASCADE).  There is nothing left to record into.
		 */
		if (!OidIsValid(found.meta) || !OidIsValid(found.meta_pkey) ||
			!OidIsValid(found.audit) || !OidIsValid(found.audit_seq))
			continue;
		found.unsupported_index = find_unsupported_index(found.meta);
		if (!OidIsValid(found.unsupported_index))
			found.unsupported_index = find_unsupported_index(found.audit);
		catalog_cache = found;
		catalog_installed = true;
	}

	if (catalog_installed && OidIsValid(catalog_cache.unsupported_index))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("usermap cannot record user-mapping changes while index \"%s\" exists",
						get_rel_name(catalog_cache.unsupported_index)),
				 errdetail("usermap writes its tables as the server writes its catalogs, which maintains indexes on plain columns only."),
				 errhint("Drop the index, or replace it with an index on plain columns, without expressions or a WHERE clause.")));

	if (catalog_installed)
		*rels = catalog_cache;
	return catalog_installed;
}

static void
check_columns(Relation rel, int natts)
{
	if (RelationGetDescr(rel)->natts != natts)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s.%s\" does not have the columns usermap %s expects",
						get_namespace_name(RelationGetNamespace(rel)),
						RelationGetRelationName(rel), USERMAP_VERSION),
				 errhint("Update the extension with ALTER EXTENSION usermap UPDATE.")));
}

/*
 * Remember which statement is being executed, so that rows recorded during
 * it carry its text.  Returns the previous value for
 * usermap_catalog_leave_statement: statements nest (event triggers and
 * functions can run user-mapping DDL from inside user-mapping DDL).
 */
UserMappingStatement
usermap_catalog_enter_statement(const char *query, int location, int length)
{
	UserMappingStatement saved = current_statement;

	current_statement.query = query;
	current_statement.location = location;
	current_statement.length = length;
	return saved;
}

void
usermap_catalog_leave_statement(UserMappingStatement saved)
{
	current_statement = saved;
}

/*
 * The masked text of the statement behind the change: the user-mapping
 * statement usermap is executing, or, for a drop by cascade from a
 * statement usermap does not execute, the client's whole query string.
 * Masking never depends on usermap.redact: secrets are never stored.
 */
static char *
current_statement_text(void)
{
	const char *query = current_statement.query;
	int			location = current_statement.location;
	int			length = current_statement.length;
	char	   *stmt;
	char	   *redacted;

	if (query == NULL)
	{
		query = debug_query_string;
		location = -1;
	}
	if (query == NULL)
		return NULL;

	if (location >= 0 && location <= (int) strlen(query))
	{
		query += location;
		stmt = length > 0 ? pnstrdup(query, length) : pstrdup(query);
	}
	else
		stmt = pstrdup(query);

	/*
	 * A statement's location in a multi-statement string starts right after
	 * the previous semicolon; trim the blanks around it, as
	 * pg_stat_statements does.
	 */
	while (isspace((unsigned char) *stmt))
		stmt++;
	for (char *end = stmt + strlen(stmt);
		 end > stmt && isspace((unsigned char) end[-1]);)
		*--end = '\0';

	redacted = usermap_redact(stmt);
	return redacted ? redacted : stmt;
}

/*
 * text[] of the option names in "names" (an empty array for NIL).
 */
static Datum
name_list_to_array(List *names)
{
	int			n = list_length(names);
	Datum	   *elems;
	int			i = 0;
	ListCell   *cell;

	/* the zero-dimensional empty array, which '{}' equals */
	if (n == 0)
		return PointerGetDatum(construct_empty_array(TEXTOID));

	elems = palloc(n * sizeof(Datum));
	foreach(cell, names)
		elems[i++] = CStringGetTextDatum((const char *) lfirst(cell));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

static Datum
nullable_text(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/*
 * Append the change to usermap.audit_log.
 */
static void
insert_audit_row(const CatalogRelations *rels, const ChangeRecord *rec)
{
	Relation	rel = table_open(rels->audit, RowExclusiveLock);
	Datum		values[AUDIT_NATTS];
	bool		nulls[AUDIT_NATTS];
	HeapTuple	tuple;

	check_columns(rel, AUDIT_NATTS);
	memset(nulls, false, sizeof(nulls));

	values[AUDIT_ID - 1] = Int64GetDatum(nextval_internal(rels->audit_seq, false));
	values[AUDIT_LOGGED_AT - 1] = TimestampTzGetDatum(rec->at);
	values[AUDIT_ACTION - 1] = CStringGetTextDatum(action_names[rec->action]);
	values[AUDIT_SERVER_NAME - 1] = CStringGetTextDatum(rec->server_name);
	values[AUDIT_USER_NAME - 1] = CStringGetTextDatum(rec->user_name);
	values[AUDIT_OLD_OPTIONS - 1] = PointerGetDatum(rec->old_options);
	nulls[AUDIT_OLD_OPTIONS - 1] = (rec->old_options == NULL);
	values[AUDIT_NEW_OPTIONS - 1] = PointerGetDatum(rec->new_options);
	nulls[AUDIT_NEW_OPTIONS - 1] = (rec->new_options == NULL);
	values[AUDIT_CHANGED_OPTIONS - 1] = name_list_to_array(rec->changed_options);
	values[AUDIT_SESSION_ROLE - 1] = CStringGetTextDatum(rec->session_role);
	values[AUDIT_CURRENT_ROLE - 1] = CStringGetTextDatum(rec->current_role);
	values[AUDIT_STATEMENT - 1] = nullable_text(rec->statement,
												&nulls[AUDIT_STATEMENT - 1]);
	values[AUDIT_UMID - 1] = ObjectIdGetDatum(rec->umid);
	values[AUDIT_TRANSACTION_ID - 1] =
		FullTransactionIdGetDatum(GetTopFullTransactionId());

	tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	CatalogTupleInsert(rel, tuple);
	heap_freetuple(tuple);

	/* keep the lock until the end of the transaction, as DML does */
	table_close(rel, NoLock);
}

/*
 * Bring the mapping's row of usermap.mapping_meta up to date.
 *
 * CREATE writes a fresh row, replacing any row a dropped mapping with the
 * same OID left behind while usermap was not recording.  ALTER updates the
 * "modified" columns, and secret_changed_at if a secret changed; a mapping
 * usermap never saw created gets a row whose creation is unknown.  DROP
 * deletes the row.
 */
static void
write_meta_row(const CatalogRelations *rels, const ChangeRecord *rec)
{
	Relation	rel = table_open(rels->meta, RowExclusiveLock);
	ScanKeyData key;
	Snapshot	snapshot;
	SysScanDesc scan;
	HeapTuple	old;
	bool		same_mapping = false;

	check_columns(rel, META_NATTS);

	ScanKeyInit(&key, META_UMID, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(rec->umid));
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, rels->meta_pkey, true, snapshot, 1, &key);
	old = systable_getnext(scan);

	if (HeapTupleIsValid(old))
	{
		bool		isnull;
		Oid			umuser = DatumGetObjectId(heap_getattr(old, META_UMUSER,
														   RelationGetDescr(rel),
														   &isnull));
		Oid			umserver = DatumGetObjectId(heap_getattr(old, META_UMSERVER,
															 RelationGetDescr(rel),
															 &isnull));

		same_mapping = (umuser == rec->umuser && umserver == rec->umserver);
	}

	if (rec->action == USERMAP_ACTION_DROP)
	{
		if (HeapTupleIsValid(old))
			CatalogTupleDelete(rel, &old->t_self);
	}
	else
	{
		Datum		values[META_NATTS];
		bool		nulls[META_NATTS];
		bool		keep_history = (rec->action == USERMAP_ACTION_ALTER &&
									same_mapping);
		HeapTuple	tuple;

		/* Start from the old row only if it describes this mapping */
		if (keep_history)
			heap_deform_tuple(old, RelationGetDescr(rel), values, nulls);
		else
		{
			memset(nulls, true, sizeof(nulls));
			if (rec->action == USERMAP_ACTION_CREATE)
			{
				values[META_CREATED_AT - 1] = TimestampTzGetDatum(rec->at);
				values[META_CREATED_BY - 1] = CStringGetTextDatum(rec->session_role);
				values[META_CREATED_AS - 1] = CStringGetTextDatum(rec->current_role);
				nulls[META_CREATED_AT - 1] = false;
				nulls[META_CREATED_BY - 1] = false;
				nulls[META_CREATED_AS - 1] = false;
			}
		}

		values[META_UMID - 1] = ObjectIdGetDatum(rec->umid);
		values[META_UMUSER - 1] = ObjectIdGetDatum(rec->umuser);
		values[META_UMSERVER - 1] = ObjectIdGetDatum(rec->umserver);
		values[META_SERVER_NAME - 1] = CStringGetTextDatum(rec->server_name);
		values[META_USER_NAME - 1] = CStringGetTextDatum(rec->user_name);
		values[META_MODIFIED_AT - 1] = TimestampTzGetDatum(rec->at);
		values[META_MODIFIED_BY - 1] = CStringGetTextDatum(rec->session_role);
		values[META_MODIFIED_AS - 1] = CStringGetTextDatum(rec->current_role);
		for (int attnum = META_UMID; attnum <= META_USER_NAME; attnum++)
			nulls[attnum - 1] = false;
		for (int attnum = META_MODIFIED_AT; attnum <= META_MODIFIED_AS; attnum++)
			nulls[attnum - 1] = false;
		if (rec->secret_changed)
		{
			values[META_SECRET_CHANGED_AT - 1] = TimestampTzGetDatum(rec->at);
			nulls[META_SECRET_CHANGED_AT - 1] = false;
		}

		tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
		if (HeapTupleIsValid(old))
			CatalogTupleUpdate(rel, &old->t_self, tuple);
		else
			CatalogTupleInsert(rel, tuple);
		heap_freetuple(tuple);
	}

	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);
}

/*
 * Where the extension is not installed, say in the server log what was not
 * recorded.  The statement and error context are hidden from the log entry:
 * they would show the statement unmasked.  "USER MAPPING on server" and not
 * "USER MAPPING for": the log hook would take the latter for the start of
 * a statement that does not parse, and mask the rest of the line.
 */
static void
log_unrecorded_change(const ChangeRecord *rec)
{
	Datum		changed = name_list_to_array(rec->changed_options);

	ereport(LOG,
			(errmsg("usermap: %s USER MAPPING on server %s for %s, not recorded (extension \"usermap\" is not installed in database \"%s\"): old options %s, new options %s, changed options %s, session role %s, current role %s, statement: %s",
					action_names[rec->action],
					quote_identifier(rec->server_name),
					OidIsValid(rec->umuser) ? quote_identifier(rec->user_name) : rec->user_name,
					get_database_name(MyDatabaseId),
					rec->old_options ? JsonbToCString(NULL, &rec->old_options->root, VARSIZE(rec->old_options)) : "null",
					rec->new_options ? JsonbToCString(NULL, &rec->new_options->root, VARSIZE(rec->new_options)) : "null",
					OidOutputFunctionCall(F_ARRAY_OUT, changed),
					quote_identifier(rec->session_role),
					quote_identifier(rec->current_role),
					rec->statement ? rec->statement : "(unknown)"),
			 errhidestmt(true),
			 errhidecontext(true)));
}

/*
 * Is there anything to do with a change: record it, or log it?  Callers
 * ask first, so that a database without the extension and without the LOG
 * line pays nothing beyond this test (the per-backend cache makes it a few
 * comparisons).
 */
bool
usermap_recording_wanted(void)
{
	CatalogRelations rels;

	return usermap_log_unrecorded || lookup_catalog_relations(&rels);
}

/*
 * Record one change to a user mapping.  "old_options" and "new_options"
 * are the option lists before and after (NIL where there is none).  Only
 * called when usermap_recording_wanted().
 */
void
usermap_record_change(UserMappingAction action, Oid umid, Oid umuser,
					  Oid umserver, const char *servername,
					  List *old_options, List *new_options)
{
	CatalogRelations rels;
	ChangeRecord rec;
	bool		installed = lookup_catalog_relations(&rels);

	Assert(installed || usermap_log_unrecorded);

	rec.action = action;
	rec.umid = umid;
	rec.umuser = umuser;
	rec.umserver = umserver;
	rec.server_name = servername;
	rec.user_name = OidIsValid(umuser) ? GetUserNameFromId(umuser, false) : "PUBLIC";
	rec.old_options = usermap_options_jsonb(old_options, true);
	rec.new_options = usermap_options_jsonb(new_options, true);
	rec.changed_options = usermap_changed_options(old_options, new_options);
	rec.secret_changed = usermap_any_secret(rec.changed_options);
	rec.session_role = GetUserNameFromId(GetSessionUserId(), false);
	rec.current_role = GetUserNameFromId(GetUserId(), false);
	rec.statement = current_statement_text();
	rec.at = GetCurrentStatementStartTimestamp();

	if (!installed)
	{
		log_unrecorded_change(&rec);
		return;
	}

	insert_audit_row(&rels, &rec);
	write_meta_row(&rels, &rec);
}

/*
 * A user mapping is being dropped, by whatever statement: record it while
 * its row can still be read.
 */
static void
record_mapping_drop(Oid umid)
{
	HeapTuple	tuple;
	Form_pg_user_mapping form;
	Datum		options;
	bool		isnull;
	ForeignServer *server;

	tuple = SearchSysCache1(USERMAPPINGOID, ObjectIdGetDatum(umid));
	if (!HeapTupleIsValid(tuple))
		return;
	form = (Form_pg_user_mapping) GETSTRUCT(tuple);
	options = SysCacheGetAttr(USERMAPPINGOID, tuple,
							  Anum_pg_user_mapping_umoptions, &isnull);
	server = GetForeignServer(form->umserver);

	usermap_record_change(USERMAP_ACTION_DROP, umid,
						  form->umuser, form->umserver, server->servername,
						  usermap_options_decode(isnull ? PointerGetDatum(NULL) : options),
						  NIL);
	ReleaseSysCache(tuple);
}

/*
 * Object-access hook: only drops of user mappings are of interest, and
 * only while usermap is enabled, so that usermap.enabled = off really
 * leaves the server to itself.
 */
static void
usermap_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					  int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (access == OAT_DROP && classId == UserMappingRelationId &&
		usermap_enabled && usermap_recording_wanted())
		record_mapping_drop(objectId);
}

void
usermap_catalog_install_hooks(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = usermap_object_access;

	CacheRegisterSyscacheCallback(RELNAMENSP, invalidate_catalog_cache,
								  (Datum) 0);
}
