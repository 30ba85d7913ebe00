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
 * The rows are written with the executor's single-row entry points
 * (catalog_writer.c) rather than through SPI: the user making the change
 * may not write to usermap's tables (nobody but usermap should), it
 * avoids running SQL under another role, and it is several times cheaper.
 * They go through the tables' constraints and indexes as an INSERT,
 * UPDATE or DELETE would, but fire no trigger and apply no row-level
 * security policy (mapping_meta's trigger exists for rows arriving from a
 * restore or a subscription only; see reattach.c); catalog_tables.c finds
 * the tables through the extension's membership and refuses tables it
 * cannot write that way.
 * Rolling back the transaction, or a savepoint, rolls the rows back too.
 *
 * Mappings are named as pg_user_mappings names them: the public mapping
 * is "public", which no role can be called.
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
#include <limits.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_type.h"
#include "catalog/pg_user_mapping.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "commands/sequence.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/xid8.h"

#include "usermap.h"


/* The statement being executed, if any (see usermap.c and execute.c) */
static UserMappingStatement current_statement = {NULL, -1, 0};

static object_access_hook_type prev_object_access_hook = NULL;

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
	const char *context;		/* see change_context(); NULL: none */
	char	   *statement;
	TimestampTz at;
	/* the names as text, made once for both tables' rows */
	Datum		server_name_text;
	Datum		user_name_text;
	Datum		session_role_text;
	Datum		current_role_text;
	/* where the role names above are kept */
	NameData	user_name_buf;
	NameData	session_role_buf;
	NameData	current_role_buf;
} ChangeRecord;

static const char *const action_names[] = {"CREATE", "ALTER", "DROP"};

/*
 * The names of the roles last recorded.  Every change records the names of
 * its session role, its current role and the mapping's user, usually the
 * same few roles from one change to the next, and a look-up here costs a
 * fraction of a syscache search.  Any change to pg_authid empties it (see
 * role_names_changed), so that a name read here is never older than the
 * syscache's own.
 */
#define ROLE_NAME_CACHE_SIZE 4

typedef struct RoleNameCacheEntry
{
	Oid			roleid;			/* InvalidOid: unused */
	NameData	name;
} RoleNameCacheEntry;

static RoleNameCacheEntry role_name_cache[ROLE_NAME_CACHE_SIZE];
static int	role_name_cache_next = 0;	/* slot to fill next, round robin */
static bool role_name_callback_registered = false;

/*
 * Syscache callback: a role was created, renamed, dropped or otherwise
 * changed; forget every name.
 */
static void
role_names_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	for (int i = 0; i < ROLE_NAME_CACHE_SIZE; i++)
		role_name_cache[i].roleid = InvalidOid;
}

/*
 * Copy the name of role "roleid" into "name"; false if there is no such
 * role.  A copy rather than a pointer into the cache: a change recorded
 * while another is (an index expression running user-mapping DDL) may
 * refill the entry the outer one read.
 */
static bool
lookup_role_name(Oid roleid, NameData *name)
{
	HeapTuple	tuple;
	RoleNameCacheEntry *entry;

	if (!OidIsValid(roleid))
		return false;
	for (int i = 0; i < ROLE_NAME_CACHE_SIZE; i++)
	{
		if (role_name_cache[i].roleid == roleid)
		{
			*name = role_name_cache[i].name;
			return true;
		}
	}

	tuple = SearchSysCache1(AUTHOID, ObjectIdGetDatum(roleid));
	if (!HeapTupleIsValid(tuple))
		return false;
	*name = ((Form_pg_authid) GETSTRUCT(tuple))->rolname;
	ReleaseSysCache(tuple);

	/*
	 * Registered here, not with the hooks: usermap.user_name() fills the
	 * cache in backends where usermap was loaded without being preloaded,
	 * which install no hook.
	 */
	if (!role_name_callback_registered)
	{
		CacheRegisterSyscacheCallback(AUTHOID, role_names_changed, (Datum) 0);
		role_name_callback_registered = true;
	}
	entry = &role_name_cache[role_name_cache_next];
	role_name_cache_next = (role_name_cache_next + 1) % ROLE_NAME_CACHE_SIZE;
	entry->name = *name;
	entry->roleid = roleid;
	return true;
}

/*
 * The name of role "roleid", in "buf", as the pointer to record; an error
 * for a role that does not exist.
 */
static const char *
recorded_role_name(Oid roleid, NameData *buf)
{
	if (!lookup_role_name(roleid, buf))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("invalid role OID: %u", roleid)));
	return NameStr(*buf);
}

/*
 * The user name usermap records for a mapping of "umuser": the role's
 * name, or USERMAP_PUBLIC_USER_NAME for the public mapping, as
 * pg_user_mappings spells it.  No role can be named that ("public" is
 * reserved by CREATE ROLE and ALTER ROLE ... RENAME), so a role called
 * "PUBLIC" and the public mapping never share a name.  NULL for a role
 * that does not exist; otherwise palloc'd, or the constant.
 */
const char *
usermap_mapping_user_name(Oid umuser)
{
	NameData	name;

	if (umuser == ACL_ID_PUBLIC)
		return USERMAP_PUBLIC_USER_NAME;
	if (!lookup_role_name(umuser, &name))
		return NULL;
	return pstrdup(NameStr(name));
}

/*
 * The role a recorded user name stands for: ACL_ID_PUBLIC for the public
 * mapping, InvalidOid for a role that does not exist (any more).
 */
Oid
usermap_mapping_user_oid(const char *user_name)
{
	if (strcmp(user_name, USERMAP_PUBLIC_USER_NAME) == 0)
		return ACL_ID_PUBLIC;
	return get_role_oid(user_name, true);
}

PG_FUNCTION_INFO_V1(usermap_user_name);

/*
 * usermap.user_name(umuser oid) returns text: the SQL face of
 * usermap_mapping_user_name, so that views and scripts spell the public
 * mapping the way the C code does.
 */
Datum
usermap_user_name(PG_FUNCTION_ARGS)
{
	const char *name = usermap_mapping_user_name(PG_GETARG_OID(0));

	if (name == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(name));
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
 * "masked" (a statement, secrets masked) as the audit trail keeps it: as it
 * is; or, past USERMAP_STATEMENT_KEEP bytes, with every option value
 * masked, and if that is still too long, the start of the statement
 * with every option value masked (a cut may fall inside a value, and what
 * is kept must not depend on where), then a marker giving the length and
 * the SHA-256 of that fully masked text, so that two floods can be told
 * apart or matched.  Neither the length nor the hash is computed from a
 * value: they are what mask_statement(..., false) shows any reader.
 */
static char *
bound_statement(char *masked)
{
	size_t		len = strlen(masked);
	char	   *all;
	pg_cryptohash_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char		hex[PG_SHA256_DIGEST_LENGTH * 2 + 1];
	int			keep;

	if (len <= USERMAP_STATEMENT_KEEP)
		return masked;

	all = usermap_redact_every_value(masked);
	if (all == NULL)
		all = masked;
	len = strlen(all);

	/*
	 * Whether a statement is cut must not tell a reader who may not see its
	 * values how long they are: one whose values, masked, leave it within the
	 * bound is kept whole, with every value masked (the option columns keep
	 * them).
	 */
	if (len <= USERMAP_STATEMENT_KEEP)
		return all;

	ctx = pg_cryptohash_create(PG_SHA256);
	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) all, len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute the SHA-256 of a statement: %s",
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	for (int i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
		sprintf(hex + 2 * i, "%02x", digest[i]);

	/* whole characters only */
	keep = pg_mbcliplen(all, (int) Min(len, (size_t) INT_MAX), USERMAP_STATEMENT_KEEP);
	return psprintf("%.*s" USERMAP_STATEMENT_CUT_HEAD "%d of %zu"
					USERMAP_STATEMENT_CUT_MIDDLE "%s]",
					keep, all, keep, len, hex);
}

/*
 * The masked text of the statement behind the change: the user-mapping
 * statement usermap is executing, or, for a drop by cascade from a
 * statement usermap does not execute (DROP SERVER ... CASCADE, DROP OWNED
 * BY), that statement alone: usermap.c notes the location of every utility
 * statement, so that the rest of a multi-statement query string (an ALTER
 * ROLE ... PASSWORD next to it) never reaches the audit trail.  NULL where
 * no statement is known.  Masking never depends on usermap.redact:
 * secrets are never stored.  A long statement is cut (bound_statement).
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
	return bound_statement(redacted ? redacted : stmt);
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
 * Append the change to usermap.audit_log, through "writer".
 */
static void
insert_audit_row(UsermapWriter *writer, const UsermapTables *tables,
				 const ChangeRecord *rec)
{
	Datum		values[AUDIT_NATTS];
	bool		nulls[AUDIT_NATTS];

	memset(nulls, false, sizeof(nulls));

	values[AUDIT_ID - 1] = Int64GetDatum(nextval_internal(tables->audit_seq, false));
	values[AUDIT_LOGGED_AT - 1] = TimestampTzGetDatum(rec->at);
	values[AUDIT_ACTION - 1] = CStringGetTextDatum(action_names[rec->action]);
	values[AUDIT_SERVER_NAME - 1] = rec->server_name_text;
	values[AUDIT_USER_NAME - 1] = rec->user_name_text;
	values[AUDIT_OLD_OPTIONS - 1] = PointerGetDatum(rec->old_options);
	nulls[AUDIT_OLD_OPTIONS - 1] = (rec->old_options == NULL);
	values[AUDIT_NEW_OPTIONS - 1] = PointerGetDatum(rec->new_options);
	nulls[AUDIT_NEW_OPTIONS - 1] = (rec->new_options == NULL);
	values[AUDIT_CHANGED_OPTIONS - 1] = name_list_to_array(rec->changed_options);
	values[AUDIT_SESSION_ROLE - 1] = rec->session_role_text;
	values[AUDIT_CURRENT_ROLE - 1] = rec->current_role_text;
	values[AUDIT_STATEMENT - 1] = nullable_text(rec->statement,
												&nulls[AUDIT_STATEMENT - 1]);
	values[AUDIT_UMID - 1] = ObjectIdGetDatum(rec->umid);
	values[AUDIT_CONTEXT - 1] = nullable_text(rec->context,
											  &nulls[AUDIT_CONTEXT - 1]);
	values[AUDIT_TRANSACTION_ID - 1] =
		FullTransactionIdGetDatum(GetTopFullTransactionId());

	usermap_writer_insert(writer, values, nulls, AUDIT_NATTS, NULL);
}

/*
 * Does the metadata row "tuple" describe a live mapping, by its OIDs?
 */
static bool
meta_row_is_attached(HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;
	Oid			umid = DatumGetObjectId(heap_getattr(tuple, META_UMID, desc, &isnull));
	Oid			umuser = DatumGetObjectId(heap_getattr(tuple, META_UMUSER, desc, &isnull));
	Oid			umserver = DatumGetObjectId(heap_getattr(tuple, META_UMSERVER, desc, &isnull));
	HeapTuple	um = SearchSysCache1(USERMAPPINGOID, ObjectIdGetDatum(umid));
	bool		attached = false;

	if (HeapTupleIsValid(um))
	{
		Form_pg_user_mapping form = (Form_pg_user_mapping) GETSTRUCT(um);

		attached = (form->umuser == umuser && form->umserver == umserver);
		ReleaseSysCache(um);
	}
	return attached;
}

/*
 * A detached metadata row recorded under the change's server and user
 * names: one whose OIDs describe no live mapping, as every row is after
 * pg_upgrade (which gives mappings and servers new OIDs) until verify()
 * repairs them.  The one such row, copied, or NULL: where there are
 * several, none is taken (the attachment view takes none either), since
 * a guess could give the mapping another mapping's history.
 *
 * A sequential scan: this runs only for a mapping that has no row of its
 * own, and the table has one row per mapping.
 */
static HeapTuple
find_detached_row(Relation rel, Snapshot snapshot, const ChangeRecord *rec)
{
	TupleDesc	desc = RelationGetDescr(rel);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, snapshot, 0, NULL);
	HeapTuple	tuple;
	HeapTuple	found = NULL;
	int			candidates = 0;

	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Oid			umuser = DatumGetObjectId(heap_getattr(tuple, META_UMUSER, desc, &isnull));
		char	   *server = TextDatumGetCString(heap_getattr(tuple, META_SERVER_NAME, desc, &isnull));
		char	   *user = TextDatumGetCString(heap_getattr(tuple, META_USER_NAME, desc, &isnull));

		if ((umuser == ACL_ID_PUBLIC) != (rec->umuser == ACL_ID_PUBLIC) ||
			strcmp(server, rec->server_name) != 0 ||
			strcmp(user, rec->user_name) != 0 ||
			meta_row_is_attached(tuple, desc))
			continue;
		if (++candidates > 1)
			break;
		found = heap_copytuple(tuple);
	}
	systable_endscan(scan);
	return candidates == 1 ? found : NULL;
}

/*
 * "dirty" made a dirty snapshot that has seen no transaction in progress
 * (InitDirtySnapshot sets the type alone; the visibility test sets xmin
 * and xmax only for the rows it examines).
 */
static void
init_dirty(SnapshotData *dirty)
{
	InitDirtySnapshot(*dirty);
	dirty->xmin = InvalidTransactionId;
	dirty->xmax = InvalidTransactionId;
}

/*
 * The row under the mapping's OID, copied, or NULL: read with "dirty", a
 * dirty snapshot, where this backend last wrote it if it remembers that
 * and a row of the mapping's OID is there (mapping_meta's primary key
 * makes it the one live row of that OID), else through the index.
 */
static HeapTuple
fetch_own_row(UsermapWriter *writer, Oid pkey, SnapshotData *dirty,
			  const ChangeRecord *rec)
{
	TupleDesc	desc = RelationGetDescr(writer->rel);
	ItemPointerData tid;
	HeapTuple	tuple = NULL;
	bool		isnull;

	if (usermap_meta_row_hint(rec->umid, &tid))
	{
		init_dirty(dirty);
		tuple = usermap_writer_fetch_tid(writer, &tid, dirty);
		if (tuple != NULL &&
			DatumGetObjectId(heap_getattr(tuple, META_UMID, desc, &isnull)) != rec->umid)
			tuple = NULL;
	}
	if (tuple == NULL)
	{
		init_dirty(dirty);
		tuple = usermap_writer_fetch_key(writer, pkey, META_UMID, rec->umid,
										 dirty);
	}
	return tuple;
}

/*
 * The mapping's own metadata row (its OID's, describing it), copied, or
 * NULL.  A row under its OID that describes another mapping, left behind
 * by a drop usermap did not see, is returned through "stale".
 *
 * The row is read as UPDATE reads the rows it changes: a transaction that
 * is changing it (a rename of the mapping's server or user, renames.c,
 * which takes no lock on the mapping) is waited for, and the row read
 * again once it has ended.  The mapping's own changes are serialized by
 * its lock (locking.c).
 */
static HeapTuple
find_own_row(UsermapWriter *writer, Oid pkey, const ChangeRecord *rec,
			 HeapTuple *stale)
{
	TupleDesc	desc = RelationGetDescr(writer->rel);
	HeapTuple	tuple;
	bool		isnull;

	*stale = NULL;
	for (;;)
	{
		SnapshotData dirty;
		TransactionId xwait;

		tuple = fetch_own_row(writer, pkey, &dirty, rec);
		if (tuple == NULL)
			break;
		xwait = TransactionIdIsValid(dirty.xmin) ? dirty.xmin : dirty.xmax;
		if (!TransactionIdIsValid(xwait))
			break;
		XactLockTableWait(xwait, writer->rel, &tuple->t_self, XLTW_Update);
	}
	if (tuple == NULL)
		return NULL;

	if (DatumGetObjectId(heap_getattr(tuple, META_UMUSER, desc, &isnull)) == rec->umuser &&
		DatumGetObjectId(heap_getattr(tuple, META_UMSERVER, desc, &isnull)) == rec->umserver)
		return tuple;
	*stale = tuple;
	return NULL;
}

/*
 * "rec" with the names the mapping's server and user have now, in
 * "fresh" (or "rec" itself, where they are the ones it holds).  The names
 * were resolved when the statement began; a rename of the server or the
 * user that committed since (one this change waited for, or one that
 * committed just before the row was read) must not be undone by writing
 * them back into the row.  Invalidations are read first, so that the
 * syscache has the committed names.
 */
static const ChangeRecord *
names_now(const ChangeRecord *rec, ChangeRecord *fresh)
{
	HeapTuple	tuple;
	const char *server_name = rec->server_name;
	NameData	user_name;

	AcceptInvalidationMessages();
	tuple = SearchSysCache1(FOREIGNSERVEROID, ObjectIdGetDatum(rec->umserver));
	if (HeapTupleIsValid(tuple))
	{
		server_name = pstrdup(NameStr(((Form_pg_foreign_server) GETSTRUCT(tuple))->srvname));
		ReleaseSysCache(tuple);
	}
	if (strcmp(server_name, rec->server_name) == 0 &&
		(rec->umuser == ACL_ID_PUBLIC ||
		 !lookup_role_name(rec->umuser, &user_name) ||
		 strcmp(NameStr(user_name), rec->user_name) == 0))
		return rec;

	*fresh = *rec;
	fresh->server_name_text = CStringGetTextDatum(server_name);
	if (rec->umuser != ACL_ID_PUBLIC &&
		lookup_role_name(rec->umuser, &user_name))
		fresh->user_name_text = CStringGetTextDatum(NameStr(user_name));
	return fresh;
}

/*
 * In a transaction whose snapshot outlives a statement (REPEATABLE READ,
 * SERIALIZABLE), the mapping's row "tuple", read in its newest version,
 * must be the one that snapshot sees: else another transaction changed
 * it after the snapshot was taken (a rename), and the change fails as an
 * UPDATE of the row would.
 */
static void
check_row_serializable(UsermapWriter *writer, Oid pkey, HeapTuple tuple,
					   const ChangeRecord *rec)
{
	HeapTuple	seen;

	if (!IsolationUsesXactSnapshot() || tuple == NULL)
		return;
	seen = usermap_writer_fetch_key(writer, pkey, META_UMID, rec->umid,
									GetTransactionSnapshot());
	if (seen == NULL || !ItemPointerEquals(&seen->t_self, &tuple->t_self))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent update")));
}

/*
 * The new metadata row for the change, starting from "old" (the history
 * to keep) or from nothing.
 */
static void
form_meta_row(const ChangeRecord *rec, HeapTuple old, TupleDesc desc,
			  Datum *values, bool *nulls)
{
	if (old != NULL)
		heap_deform_tuple(old, desc, values, nulls);
	else
	{
		memset(nulls, true, META_NATTS * sizeof(bool));
		if (rec->action == USERMAP_ACTION_CREATE)
		{
			values[META_CREATED_AT - 1] = TimestampTzGetDatum(rec->at);
			values[META_CREATED_BY - 1] = rec->session_role_text;
			values[META_CREATED_AS - 1] = rec->current_role_text;
			nulls[META_CREATED_AT - 1] = false;
			nulls[META_CREATED_BY - 1] = false;
			nulls[META_CREATED_AS - 1] = false;
		}
	}

	values[META_UMID - 1] = ObjectIdGetDatum(rec->umid);
	values[META_UMUSER - 1] = ObjectIdGetDatum(rec->umuser);
	values[META_UMSERVER - 1] = ObjectIdGetDatum(rec->umserver);
	values[META_SERVER_NAME - 1] = rec->server_name_text;
	values[META_USER_NAME - 1] = rec->user_name_text;
	values[META_MODIFIED_AT - 1] = TimestampTzGetDatum(rec->at);
	values[META_MODIFIED_BY - 1] = rec->session_role_text;
	values[META_MODIFIED_AS - 1] = rec->current_role_text;
	for (int attnum = META_UMID; attnum <= META_USER_NAME; attnum++)
		nulls[attnum - 1] = false;
	for (int attnum = META_MODIFIED_AT; attnum <= META_MODIFIED_AS; attnum++)
		nulls[attnum - 1] = false;
	if (rec->secret_changed)
	{
		values[META_SECRET_CHANGED_AT - 1] = TimestampTzGetDatum(rec->at);
		nulls[META_SECRET_CHANGED_AT - 1] = false;
	}
}

/*
 * CREATE: the mapping's fresh row of usermap.mapping_meta, through
 * "writer".
 *
 * The mapping's OID is new to pg_user_mapping, so a row already under it
 * can only be one a dropped mapping with that OID left behind while
 * usermap was not recording (a superuser's session with usermap.enabled
 * off, a drop in a database without the extension's library loaded).
 * The latest snapshot is asked for one, which is deleted before the new
 * row is inserted.
 */
static void
create_meta_row(UsermapWriter *writer, const UsermapTables *tables,
				const ChangeRecord *rec)
{
	Datum		values[META_NATTS];
	bool		nulls[META_NATTS];
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	HeapTuple	left_behind;
	ItemPointerData tid;

	left_behind = usermap_writer_fetch_key(writer, tables->meta_pkey, META_UMID,
										   rec->umid, snapshot);
	if (left_behind != NULL)
		usermap_writer_delete(writer, left_behind);
	UnregisterSnapshot(snapshot);

	form_meta_row(rec, NULL, RelationGetDescr(writer->rel), values, nulls);
	usermap_writer_insert(writer, values, nulls, META_NATTS, &tid);
	usermap_meta_row_note(rec->umid, &tid);
}

/*
 * ALTER and DROP: bring the mapping's row of usermap.mapping_meta up to
 * date, through "writer".
 *
 * ALTER updates the "modified" columns, and secret_changed_at if a secret
 * changed; a mapping without a row of its own takes over the detached row
 * recorded under its names (after pg_upgrade), or else gets a row whose
 * creation is unknown.  DROP deletes the row (or that detached row).  A
 * row under the mapping's OID that describes another mapping, left behind
 * as create_meta_row explains, is deleted.  A row of the mapping's own is
 * updated as UPDATE would (HOT where the table allows it); any other row
 * is replaced, a DELETE and an INSERT, since its key changes.  Every write
 * goes through the table's constraints and indexes.
 */
static void
update_meta_row(UsermapWriter *writer, const UsermapTables *tables,
				const ChangeRecord *rec)
{
	Snapshot	snapshot;
	HeapTuple	own;
	HeapTuple	stale;
	HeapTuple	history;
	Datum		values[META_NATTS];
	bool		nulls[META_NATTS];
	ItemPointerData tid;
	ChangeRecord fresh;

	Assert(rec->action != USERMAP_ACTION_CREATE);
	own = find_own_row(writer, tables->meta_pkey, rec, &stale);
	check_row_serializable(writer, tables->meta_pkey, own ? own : stale, rec);
	if (rec->action == USERMAP_ACTION_ALTER)
		rec = names_now(rec, &fresh);
	history = own;
	if (own == NULL)
	{
		snapshot = RegisterSnapshot(GetLatestSnapshot());
		history = find_detached_row(writer->rel, snapshot, rec);
		UnregisterSnapshot(snapshot);
	}

	if (stale != NULL)
		usermap_writer_delete(writer, stale);

	if (rec->action == USERMAP_ACTION_ALTER && own != NULL)
	{
		form_meta_row(rec, own, RelationGetDescr(writer->rel), values, nulls);
		usermap_writer_update(writer, own, values, nulls, META_NATTS, &tid);
		usermap_meta_row_note(rec->umid, &tid);
	}
	else
	{
		if (history != NULL)
			usermap_writer_delete(writer, history);
		if (rec->action == USERMAP_ACTION_ALTER)
		{
			form_meta_row(rec, history, RelationGetDescr(writer->rel),
						  values, nulls);
			usermap_writer_insert(writer, values, nulls, META_NATTS, &tid);
			usermap_meta_row_note(rec->umid, &tid);
		}
		else
			usermap_meta_row_note(rec->umid, NULL);
	}
}

/*
 * Write the change's rows: the audit row, then the metadata row, in one
 * executor state.
 *
 * The tables are locked (opened) before anything is written, and only
 * then is the cached outcome of usermap_tables_find trusted: invalidations
 * of whatever committed before the lock was granted (a trigger created, a
 * column added, ALTER EXTENSION) arrive while it is taken, and clear the
 * cache.  If they did, the tables are checked again under the lock.  Once
 * the locks are held, nothing that is checked can change before the
 * transaction ends.
 */
static void
write_rows(UsermapTables *tables, const ChangeRecord *rec)
{
	EState	   *estate = CreateExecutorState();
	UsermapWriter audit;
	UsermapWriter meta;

	for (;;)
	{
		usermap_writer_open(&audit, tables->audit, estate);
		usermap_writer_open(&meta, tables->meta, estate);
		if (usermap_tables_current(tables))
			break;
		usermap_writer_close(&meta);
		usermap_writer_close(&audit);
		if (!usermap_tables_find(tables, true))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("extension \"usermap\" was dropped while a user-mapping change was being recorded")));
	}

	insert_audit_row(&audit, tables, rec);
	if (rec->action == USERMAP_ACTION_CREATE)
		create_meta_row(&meta, tables, rec);
	else
		update_meta_row(&meta, tables, rec);

	usermap_writer_close(&meta);
	usermap_writer_close(&audit);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
}

/*
 * Where the extension is not installed, say in the server log what was not
 * recorded: the change in the message, the record in the detail.  The
 * statement and error context are hidden from the log entry, since they
 * would show the statement unmasked; the record holds its masked text.
 *
 * The line is for the server log alone (LOG_SERVER_ONLY): the server sends
 * a client nothing for these statements, whatever its client_min_messages,
 * and neither does usermap.
 */
static void
log_unrecorded_change(const ChangeRecord *rec)
{
	Datum		changed = name_list_to_array(rec->changed_options);

	ereport(LOG_SERVER_ONLY,
			(errmsg("%s USER MAPPING not recorded: extension \"usermap\" is not installed in database \"%s\"",
					action_names[rec->action],
					get_database_name(MyDatabaseId)),
			 errdetail("Server %s, user %s; old options %s; new options %s; changed options %s; session role %s, current role %s%s%s; statement: %s",
					   quote_identifier(rec->server_name),
					   OidIsValid(rec->umuser) ? quote_identifier(rec->user_name) : rec->user_name,
					   rec->old_options ? JsonbToCString(NULL, &rec->old_options->root, VARSIZE(rec->old_options)) : "null",
					   rec->new_options ? JsonbToCString(NULL, &rec->new_options->root, VARSIZE(rec->new_options)) : "null",
					   OidOutputFunctionCall(F_ARRAY_OUT, changed),
					   quote_identifier(rec->session_role),
					   quote_identifier(rec->current_role),
					   rec->context ? ", in a " : "",
					   rec->context ? rec->context : "",
					   rec->statement ? rec->statement : "(unknown)"),
			 errhidestmt(true),
			 errhidecontext(true)));
}

/*
 * Is there anything to do with a change: record it, or log it?  Callers
 * ask first, so that a database without the extension and without the LOG
 * line pays nothing beyond this test (the per-backend cache makes it a few
 * comparisons).  Raises an error where the extension is installed but
 * usermap cannot record into it: the change must not happen unrecorded.
 *
 * Nothing is recorded by pg_upgrade's restore of the schema (binary
 * upgrade mode): the data of usermap's tables is copied from the old
 * cluster afterwards, and replaces whatever was written.
 */
bool
usermap_recording_wanted(void)
{
	UsermapTables tables;

	if (IsBinaryUpgrade)
		return false;
	return usermap_tables_find(&tables, true) || usermap_log_unrecorded;
}

/*
 * The context of a change in which the role that acted is not the one
 * whose command is running, for the audit trail's "context" column: code
 * the server runs as another role within a command.
 *
 * "security-restricted operation": ANALYZE, VACUUM, CLUSTER, REINDEX,
 * CREATE INDEX, REFRESH MATERIALIZED VIEW and autovacuum run index and
 * other expressions as the table's owner, so a superuser's maintenance can
 * run an untrusted role's user-mapping DDL.  That role is "current_role";
 * "session_role" only says whose command (or which background process)
 * ran it.
 *
 * "security definer function": a SECURITY DEFINER function (or other code the
 * server runs as another role without those restrictions) made the
 * change as its owner, "current_role".
 *
 * NULL otherwise (SET ROLE and SET SESSION AUTHORIZATION show in the two
 * role columns).
 */
static const char *
change_context(void)
{
	if (InSecurityRestrictedOperation())
		return "security-restricted operation";
	if (InLocalUserIdChange())
		return "security definer function";
	return NULL;
}

/*
 * Record one change to a user mapping.  "old_options" and "new_options"
 * are the option lists before and after (NIL where there is none), and
 * "stmt_options" the options an ALTER names (NIL otherwise): each it SETs
 * counts as changed (see usermap_changed_options).  Only called when
 * usermap_recording_wanted().
 */
void
usermap_record_change(UserMappingAction action, Oid umid, Oid umuser,
					  Oid umserver, const char *servername,
					  List *old_options, List *new_options,
					  List *stmt_options)
{
	UsermapTables tables;
	ChangeRecord rec;
	bool		installed = usermap_tables_find(&tables, true);

	Assert(installed || usermap_log_unrecorded);

	rec.action = action;
	rec.umid = umid;
	rec.umuser = umuser;
	rec.umserver = umserver;
	rec.server_name = servername;
	if (umuser == ACL_ID_PUBLIC)
		rec.user_name = USERMAP_PUBLIC_USER_NAME;
	else if (lookup_role_name(umuser, &rec.user_name_buf))
		rec.user_name = NameStr(rec.user_name_buf);
	else
		elog(ERROR, "cache lookup failed for role %u", umuser);
	rec.old_options = usermap_trail_options_jsonb(old_options);
	rec.new_options = usermap_trail_options_jsonb(new_options);
	rec.changed_options = usermap_changed_options(old_options, new_options,
												  stmt_options);
	rec.secret_changed = usermap_any_secret(rec.changed_options);
	rec.changed_options = usermap_trail_names(rec.changed_options);
	rec.session_role = recorded_role_name(GetSessionUserId(),
										  &rec.session_role_buf);
	/* one look-up where no SET ROLE or SECURITY DEFINER is in force */
	rec.current_role = GetUserId() == GetSessionUserId() ? rec.session_role :
		recorded_role_name(GetUserId(), &rec.current_role_buf);
	rec.context = change_context();
	rec.statement = current_statement_text();
	rec.at = GetCurrentStatementStartTimestamp();

	if (!installed)
	{
		log_unrecorded_change(&rec);
		return;
	}

	rec.server_name_text = CStringGetTextDatum(rec.server_name);
	rec.user_name_text = CStringGetTextDatum(rec.user_name);
	rec.session_role_text = CStringGetTextDatum(rec.session_role);
	rec.current_role_text = rec.current_role == rec.session_role ?
		rec.session_role_text : CStringGetTextDatum(rec.current_role);
	write_rows(&tables, &rec);
}

/*
 * The mapping DROP USER MAPPING is about to drop (ddl.c says), by its OID
 * and key; InvalidOid when none.
 */
static Oid	dropping_umid = InvalidOid;
static Oid	dropping_umuser;
static Oid	dropping_umserver;

/*
 * ddl.c: "umid", the mapping of "umuser" on "umserver", is about to be
 * dropped (InvalidOid: the drop is over).  A hint for record_mapping_drop,
 * which checks it.
 */
void
usermap_catalog_note_dropping(Oid umid, Oid umuser, Oid umserver)
{
	dropping_umid = umid;
	dropping_umuser = umuser;
	dropping_umserver = umserver;
}

/*
 * A user mapping is being dropped, by whatever statement: record it while
 * its row can still be read.
 *
 * For DROP USER MAPPING, the row is read from the syscache by its key: the
 * statement has just looked it up (and locked it) that way, so the entry
 * is there, where the entry by OID is usually not (the row changed since
 * it was last read by OID).  The row found must be of the OID being
 * dropped; any other drop looks the row up by OID.
 */
static void
record_mapping_drop(Oid umid)
{
	HeapTuple	tuple = NULL;
	int			cacheid = USERMAPPINGOID;
	Form_pg_user_mapping form;
	Datum		options;
	bool		isnull;
	HeapTuple	srvtuple;
	char	   *servername;

	if (OidIsValid(umid) && umid == dropping_umid)
	{
		tuple = SearchSysCache2(USERMAPPINGUSERSERVER,
								ObjectIdGetDatum(dropping_umuser),
								ObjectIdGetDatum(dropping_umserver));
		if (HeapTupleIsValid(tuple) &&
			((Form_pg_user_mapping) GETSTRUCT(tuple))->oid != umid)
		{
			ReleaseSysCache(tuple);
			tuple = NULL;
		}
		if (HeapTupleIsValid(tuple))
			cacheid = USERMAPPINGUSERSERVER;
	}
	if (!HeapTupleIsValid(tuple))
		tuple = SearchSysCache1(USERMAPPINGOID, ObjectIdGetDatum(umid));
	if (!HeapTupleIsValid(tuple))
		return;
	form = (Form_pg_user_mapping) GETSTRUCT(tuple);
	options = SysCacheGetAttr(cacheid, tuple,
							  Anum_pg_user_mapping_umoptions, &isnull);

	/* only the name: GetForeignServer would decode its options too */
	srvtuple = SearchSysCache1(FOREIGNSERVEROID, ObjectIdGetDatum(form->umserver));
	if (!HeapTupleIsValid(srvtuple))
		elog(ERROR, "cache lookup failed for foreign server %u", form->umserver);
	servername = pstrdup(NameStr(((Form_pg_foreign_server) GETSTRUCT(srvtuple))->srvname));
	ReleaseSysCache(srvtuple);

	usermap_record_change(USERMAP_ACTION_DROP, umid,
						  form->umuser, form->umserver, servername,
						  usermap_options_decode(isnull ? PointerGetDatum(NULL) : options),
						  NIL, NIL);
	ReleaseSysCache(tuple);
}

/*
 * Object-access hook: drops of user mappings are recorded, only while
 * usermap is enabled, so that usermap.enabled = off really leaves the
 * server to itself.  Drops of anything, and changes to extensions, may
 * concern the tables usermap records into (catalog_tables.c).
 */
static void
usermap_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					  int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (access == OAT_DROP ||
		(classId == ExtensionRelationId &&
		 (access == OAT_POST_ALTER || access == OAT_POST_CREATE)))
		usermap_tables_note_drop(classId, objectId);

	if (access == OAT_DROP && classId == UserMappingRelationId &&
		usermap_enabled && usermap_recording_wanted())
		record_mapping_drop(objectId);
}

void
usermap_catalog_install_hooks(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = usermap_object_access;

	usermap_tables_install_callbacks();
}
