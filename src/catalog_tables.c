/*-------------------------------------------------------------------------
 *
 * catalog_tables.c
 *		  Find the extension's own tables and check that usermap can write
 *		  them as SQL would (catalog_writer.c writes them).
 *
 * The tables are found through the extension's membership (pg_depend
 * rows of type 'e' pointing at the pg_extension row), never by a name
 * looked up in a schema: a schema called "usermap" may belong to somebody
 * else, and a table called "audit_log" in it may be a decoy.  Before
 * anything is written, each table is checked:
 *
 *	- the extension is at the library's version and its schema still has
 *	  the name the control file gives it (PL/pgSQL code in the extension,
 *	  and administrators' queries, refer to it by that name);
 *	- every column has the name and type the install script gave it and
 *	  is not dropped, so that a row formed here matches the table;
 *	- the table has no trigger and no rule but the extension's own, and no
 *	  row-level security, since usermap's writes apply none of them: a row
 *	  SQL would refuse is refused, never stored behind the administrator's
 *	  back.
 *
 * Rows then go through the table's constraints (NOT NULL, CHECK) and
 * every index (unique, exclusion, expression, partial) as the executor
 * applies them to an INSERT, UPDATE or DELETE (see catalog_writer.c).
 *
 * What is found is cached per backend and forgotten on any invalidation
 * that could change it (see the cache's comment below), and trusted only
 * once the tables are locked for writing.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/catalog_tables.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_default_acl.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_index.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_trigger.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "usermap.h"
#include "usermap_compat.h"

/* A column as the install script creates it */
typedef struct ColumnShape
{
	const char *name;
	Oid			type;
} ColumnShape;

/* In attribute-number order: see the enums in catalog.h */
static const ColumnShape audit_shape[AUDIT_NATTS] = {
	{"id", INT8OID},
	{"logged_at", TIMESTAMPTZOID},
	{"action", TEXTOID},
	{"server_name", TEXTOID},
	{"user_name", TEXTOID},
	{"old_options", JSONBOID},
	{"new_options", JSONBOID},
	{"changed_options", TEXTARRAYOID},
	{"session_role", TEXTOID},
	{"current_role", TEXTOID},
	{"statement", TEXTOID},
	{"umid", OIDOID},
	{"transaction_id", XID8OID},
	{"context", TEXTOID},
};

static const ColumnShape meta_shape[META_NATTS] = {
	{"umid", OIDOID},
	{"umuser", OIDOID},
	{"umserver", OIDOID},
	{"server_name", TEXTOID},
	{"user_name", TEXTOID},
	{"created_at", TIMESTAMPTZOID},
	{"created_by", TEXTOID},
	{"created_as", TEXTOID},
	{"modified_at", TIMESTAMPTZOID},
	{"modified_by", TEXTOID},
	{"modified_as", TEXTOID},
	{"secret_changed_at", TIMESTAMPTZOID},
};

/* The only trigger usermap's tables may have: see reattach.c */
#define REATTACH_TRIGGER "mapping_meta_reattach"

/*
 * The per-backend cache.  "state" is CACHE_UNKNOWN until looked up; only
 * outcomes that raise no error are cached.  A cached CACHE_USABLE says
 * that every check of usermap_tables_find held when it last ran, and that
 * no invalidation that could change its outcome has arrived since:
 *
 *	- pg_class changes (RELNAMENSP: a table renamed, moved, created or
 *	  dropped) and pg_namespace changes (the schema renamed);
 *	- a relcache invalidation of one of the tables, which every ALTER
 *	  TABLE (columns, RLS), CREATE/DROP TRIGGER or RULE, ENABLE/DISABLE
 *	  TRIGGER, CREATE/DROP INDEX, ADD/DROP CONSTRAINT and TRUNCATE sends;
 *	  InvalidOid (a cache reset) counts for all;
 *	- ALTER EXTENSION usermap (ADD, DROP, UPDATE), which changes only
 *	  pg_depend or pg_extension, catalogs without a syscache to hear from:
 *	  usermap_tables_note_drop turns it into relcache invalidations, sent
 *	  to every backend at commit.
 *
 * Those invalidations arrive when a lock is first taken: the writer
 * (catalog.c's write_rows) therefore asks usermap_tables_current once it
 * holds its locks on the tables, and checks again if anything arrived
 * meanwhile.  The commands that change what is checked of a table (its
 * columns, triggers, rules, row-level security, constraints) take locks
 * that conflict with the RowExclusiveLock usermap then holds, so that
 * answer stays true until the transaction ends.  ALTER EXTENSION and
 * ALTER SCHEMA ... RENAME take no such lock: one that commits while a
 * change is being written is seen by the next change.
 */
typedef enum CacheState
{
	CACHE_UNKNOWN,
	CACHE_NOT_INSTALLED,
	CACHE_USABLE
} CacheState;

static CacheState cache_state = CACHE_UNKNOWN;
static UsermapTables cache_tables;

/*
 * Where this backend last wrote a mapping's metadata row: a hint only,
 * which saves the index scan when the next change is to the same mapping
 * (as CREATE, ALTER and DROP of one mapping follow each other).  Every use
 * checks the row it finds there (see usermap_meta_row_hint), so a stale
 * hint costs one read; it is dropped with the cache all the same.
 */
static Oid	hint_umid = InvalidOid;
static ItemPointerData hint_tid;

/*
 * Set when one of the cached tables is dropped in this transaction: the
 * extension is being dropped (members cannot be dropped one by one), and
 * mappings dropped by the same statement have nothing left to be
 * recorded in.
 */
static bool tables_dropped_in_xact = false;

void
usermap_tables_forget(void)
{
	cache_state = CACHE_UNKNOWN;
	hint_umid = InvalidOid;
}

static void
syscache_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	cache_state = CACHE_UNKNOWN;
}

static void
relcache_changed(Datum arg, Oid relid)
{
	if (cache_state == CACHE_USABLE &&
		(relid == InvalidOid || relid == cache_tables.meta ||
		 relid == cache_tables.audit || relid == cache_tables.audit_seq))
		cache_state = CACHE_UNKNOWN;
	/* TRUNCATE, VACUUM FULL and CLUSTER give the rows new TIDs */
	if (relid == InvalidOid || relid == cache_tables.meta)
		hint_umid = InvalidOid;
}

/*
 * The end of a transaction, from usermap.c's transaction callback (every
 * kind of end, parallel ones included).
 */
void
usermap_tables_end_xact(void)
{
	tables_dropped_in_xact = false;
}

void
usermap_tables_install_callbacks(void)
{
	CacheRegisterSyscacheCallback(RELNAMENSP, syscache_changed, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, syscache_changed, (Datum) 0);
	CacheRegisterRelcacheCallback(relcache_changed, (Datum) 0);
}

/*
 * Called from the object-access hook for every dropped object and every
 * created or altered extension.  ALTER EXTENSION (ADD, DROP, UPDATE)
 * changes no pg_class row, so no other backend would notice: turn it into
 * relcache invalidations of the tables, sent to every backend at commit.
 * A backend that has not looked the tables up itself does not know which
 * they are (the change may just have taken one out of the extension): for
 * usermap it invalidates every relation instead, which is rare enough.
 */
void
usermap_tables_note_drop(Oid classId, Oid objectId)
{
	if (classId == ExtensionRelationId)
	{
		if (cache_state == CACHE_USABLE)
		{
			CacheInvalidateRelcacheByRelid(cache_tables.meta);
			CacheInvalidateRelcacheByRelid(cache_tables.audit);
		}
		else if (objectId == get_extension_oid("usermap", true))
			CacheInvalidateRelcacheAll();
		usermap_tables_forget();
	}
	else if (classId == RelationRelationId && cache_state == CACHE_USABLE &&
			 (objectId == cache_tables.meta || objectId == cache_tables.audit ||
			  objectId == cache_tables.audit_seq))
	{
		tables_dropped_in_xact = true;
		usermap_tables_forget();
	}
}

/*
 * Is "tables" what the cache holds, with nothing arrived since that could
 * change it?  See the cache's comment for when to ask.
 */
bool
usermap_tables_current(const UsermapTables *tables)
{
	return cache_state == CACHE_USABLE &&
		memcmp(tables, &cache_tables, sizeof(UsermapTables)) == 0;
}

/*
 * The TID where this backend last wrote the metadata row of mapping
 * "umid", if it remembers one.  The caller must read the row there under
 * its snapshot and check that it is a row of "umid": mapping_meta's
 * primary key makes that row the only one of "umid" the snapshot sees.
 */
bool
usermap_meta_row_hint(Oid umid, ItemPointer tid)
{
	if (!OidIsValid(umid) || umid != hint_umid)
		return false;
	*tid = hint_tid;
	return true;
}

/*
 * Remember that mapping "umid"'s metadata row is now at "tid" (NULL: it
 * has none).
 */
void
usermap_meta_row_note(Oid umid, ItemPointer tid)
{
	if (tid == NULL)
	{
		if (umid == hint_umid)
			hint_umid = InvalidOid;
		return;
	}
	hint_umid = umid;
	hint_tid = *tid;
}

/*
 * The schema and version of extension "extoid", from its pg_extension row
 * (PostgreSQL 15 has no syscache for it, nor an exported lookup of the
 * version).
 */
static void
read_extension(Oid extoid, Oid *nsp, char **version)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		isnull;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for extension %u", extoid);
	*nsp = ((Form_pg_extension) GETSTRUCT(tuple))->extnamespace;
	*version = TextDatumGetCString(heap_getattr(tuple, Anum_pg_extension_extversion,
												RelationGetDescr(rel), &isnull));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * Fill "tables" with the extension's member relations of the expected
 * names and kinds (InvalidOid where there is none).
 */
static void
find_members(Oid extoid, UsermapTables *tables)
{
	Relation	rel = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tuple;

	memset(tables, 0, sizeof(*tables));
	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(ExtensionRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tuple);
		char	   *relname;
		char		relkind;

		if (dep->deptype != DEPENDENCY_EXTENSION ||
			dep->classid != RelationRelationId)
			continue;
		relname = get_rel_name(dep->objid);
		relkind = get_rel_relkind(dep->objid);
		if (relname == NULL)
			continue;
		if (strcmp(relname, "mapping_meta") == 0 && relkind == RELKIND_RELATION)
			tables->meta = dep->objid;
		else if (strcmp(relname, "audit_log") == 0 && relkind == RELKIND_RELATION)
			tables->audit = dep->objid;
		else if (strcmp(relname, "audit_log_id_seq") == 0 && relkind == RELKIND_SEQUENCE)
			tables->audit_seq = dep->objid;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * Raise an error unless "rel" has exactly the columns "shape" describes.
 * A dropped column counts: a row formed for the shape would put a value
 * into it, and the value would be lost.
 */
static void
check_shape(Relation rel, const ColumnShape *shape, int natts)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < Max(natts, desc->natts); i++)
	{
		Form_pg_attribute att = i < desc->natts ? TupleDescAttr(desc, i) : NULL;
		const char *found;

		if (att != NULL && i < natts && !att->attisdropped &&
			att->atttypid == shape[i].type && att->attidentity == '\0' &&
			att->attgenerated == '\0' &&
			strcmp(NameStr(att->attname), shape[i].name) == 0)
			continue;

		if (att == NULL)
			found = "missing";
		else if (att->attisdropped)
			found = "a dropped column";
		else
			found = psprintf("\"%s\" of type %s%s", NameStr(att->attname),
							 format_type_be(att->atttypid),
							 att->attidentity || att->attgenerated ? ", generated" : "");
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s.%s\" does not have the columns usermap %s expects",
						get_namespace_name(RelationGetNamespace(rel)),
						RelationGetRelationName(rel), USERMAP_VERSION),
				 i < natts ?
				 errdetail("Column %d should be \"%s\" of type %s, but it is %s.",
						   i + 1, shape[i].name, format_type_be(shape[i].type), found) :
				 errdetail("The table has %d columns, usermap expects %d.",
						   desc->natts, natts),
				 errhint("The table was altered after the extension created it; undo the change, or re-create the extension.")));
	}
}

/*
 * Raise an error if "rel" has row-level security enabled, or a trigger or
 * a rule, other than the extension's own re-attachment trigger on
 * mapping_meta.  usermap's writes apply none of them, so a row a policy,
 * trigger or rule would refuse or divert would be stored anyway.  Foreign
 * keys and deferrable constraints are enforced by (internal) triggers, and
 * are refused the same way.
 */
static void
check_triggers_and_rules(Relation rel, bool is_meta)
{
	TriggerDesc *trigdesc = rel->trigdesc;

	/*
	 * Row-level security: usermap's writes go around the policies, so a row a
	 * policy would refuse could be stored; refuse the change instead. FORCE
	 * alone binds no superuser, but says the administrator meant the policies
	 * to hold for everyone, and is refused too.
	 */
	if (rel->rd_rel->relrowsecurity || rel->rd_rel->relforcerowsecurity)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("usermap cannot record user-mapping changes while table \"%s\" has row-level security enabled",
						RelationGetRelationName(rel)),
				 errdetail("usermap writes its tables without applying row-level security policies."),
				 errhint("Disable it with ALTER TABLE ... DISABLE ROW LEVEL SECURITY (and NO FORCE ROW LEVEL SECURITY).")));

	if (rel->rd_rules != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("usermap cannot record user-mapping changes while table \"%s\" has rules",
						RelationGetRelationName(rel)),
				 errdetail("usermap writes its tables without applying rules."),
				 errhint("Drop the rules on the table.")));

	for (int i = 0; trigdesc != NULL && i < trigdesc->numtriggers; i++)
	{
		Trigger    *trig = &trigdesc->triggers[i];

		if (is_meta && !trig->tgisinternal &&
			strcmp(trig->tgname, REATTACH_TRIGGER) == 0)
			continue;
		if (trig->tgenabled == TRIGGER_DISABLED)
			continue;
		if (OidIsValid(trig->tgconstraint))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("usermap cannot record user-mapping changes while constraint \"%s\" on table \"%s\" exists",
							get_constraint_name(trig->tgconstraint),
							RelationGetRelationName(rel)),
					 errdetail("The constraint is a foreign key or a deferrable constraint, which is enforced by triggers, and usermap writes its tables without firing triggers."),
					 errhint("Drop the constraint, or re-create it as a constraint that is not deferrable.")));
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("usermap cannot record user-mapping changes while table \"%s\" has trigger \"%s\"",
						RelationGetRelationName(rel), trig->tgname),
				 errdetail("usermap writes its tables without firing triggers."),
				 errhint("Drop the trigger, or disable it with ALTER TABLE ... DISABLE TRIGGER.")));
	}
}

/*
 * The primary key index of mapping_meta, on umid alone, or an error.
 */
static Oid
find_meta_pkey(Relation rel)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *cell;
	Oid			found = InvalidOid;

	foreach(cell, indexes)
	{
		HeapTuple	tuple = SearchSysCache1(INDEXRELID,
											ObjectIdGetDatum(lfirst_oid(cell)));
		Form_pg_index index;

		if (!HeapTupleIsValid(tuple))
			continue;
		index = (Form_pg_index) GETSTRUCT(tuple);
		if (index->indisprimary && index->indisvalid && index->indnatts == 1 &&
			index->indkey.values[0] == META_UMID)
			found = index->indexrelid;
		ReleaseSysCache(tuple);
	}
	list_free(indexes);
	if (!OidIsValid(found))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has lost its primary key on umid",
						RelationGetRelationName(rel)),
				 errhint("Re-create the extension.")));
	return found;
}

/*
 * Check one table of the extension: its columns, triggers and rules.
 */
static void
check_table(Oid relid, const ColumnShape *shape, int natts, bool is_meta,
			Oid *pkey)
{
	Relation	rel = table_open(relid, AccessShareLock);

	check_shape(rel, shape, natts);
	check_triggers_and_rules(rel, is_meta);
	if (pkey != NULL)
		*pkey = find_meta_pkey(rel);
	table_close(rel, AccessShareLock);
}

/*
 * Raise the error for an extension whose objects this library cannot
 * record into, if there is one: another version, or a renamed schema.
 */
static void
check_version_and_schema(Oid nsp, const char *version)
{
	const char *nspname = get_namespace_name(nsp);

	if (strcmp(version, USERMAP_VERSION) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"usermap\" is at version %s in this database, but the loaded library is version %s",
						version, USERMAP_VERSION),
				 errdetail("User-mapping changes are not made until usermap can record them in objects of its own version."),
				 errhint("Run ALTER EXTENSION usermap UPDATE in this database.")));
	if (nspname == NULL || strcmp(nspname, USERMAP_SCHEMA) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the schema of extension \"usermap\" has been renamed to \"%s\"",
						nspname ? nspname : "?"),
				 errdetail("usermap records user-mapping changes only while its schema is named \"%s\", the name its functions and its users' queries rely on.",
						   USERMAP_SCHEMA),
				 errhint("Rename it back with ALTER SCHEMA %s RENAME TO %s.",
						 quote_identifier(nspname ? nspname : "?"), USERMAP_SCHEMA)));
}

/*
 * Find the extension's tables in the current database.  Returns false if
 * the extension is not installed (or is being dropped by the running
 * statement); raises an error if it is installed but its tables cannot be
 * written safely.  With for_recording, the extension must also be at the
 * library's version and in its own schema; without it (the re-attachment
 * trigger, which runs in the install scripts of every version), only the
 * tables are checked.
 */
bool
usermap_tables_find(UsermapTables *tables, bool for_recording)
{
	Oid			extoid;
	Oid			nsp;
	char	   *version;
	UsermapTables found;

	/*
	 * The lookups below can process invalidations; one that arrives meanwhile
	 * leaves the state unknown, and the next call looks again.
	 */
	if (cache_state == CACHE_NOT_INSTALLED)
		return false;
	if (cache_state == CACHE_USABLE)
	{
		*tables = cache_tables;
		return true;
	}

	extoid = get_extension_oid("usermap", true);
	if (!OidIsValid(extoid))
	{
		cache_state = CACHE_NOT_INSTALLED;
		return false;
	}
	read_extension(extoid, &nsp, &version);
	if (for_recording)
		check_version_and_schema(nsp, version);

	find_members(extoid, &found);
	if (!OidIsValid(found.meta) || !OidIsValid(found.audit) ||
		!OidIsValid(found.audit_seq))
	{
		if (tables_dropped_in_xact)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"usermap\" has lost its table \"%s\"",
						!OidIsValid(found.meta) ? "mapping_meta" :
						!OidIsValid(found.audit) ? "audit_log" : "audit_log_id_seq"),
				 errdetail("User-mapping changes are not made while usermap cannot record them."),
				 errhint("Re-create the extension, or restore the table as a member of it.")));
	}
	check_table(found.meta, meta_shape, META_NATTS, true, &found.meta_pkey);
	check_table(found.audit, audit_shape, AUDIT_NATTS, false, NULL);

	/* cache only the complete answer: the trigger's lookup checks less */
	*tables = found;
	if (for_recording)
	{
		cache_tables = found;
		cache_state = CACHE_USABLE;
	}
	return true;
}

/*
 * The first object (by catalog, then OID) in schema "nsp" that is not a
 * member of extension "extoid" (nor the extension itself), or an invalid
 * address.  Every object that lives in a schema records a dependency on
 * it.
 *
 * Default privileges for the schema (ALTER DEFAULT PRIVILEGES IN SCHEMA,
 * which any role may set for its own objects in any schema) are not
 * objects anything resolves to: the install and update scripts revoke
 * whatever they grant (see usermap--1.2.sql), so they do not count.
 */
static ObjectAddress
find_foreign_object(Oid nsp, Oid extoid)
{
	Relation	rel = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tuple;
	ObjectAddress foreign = InvalidObjectAddress;

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(NamespaceRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(nsp));
	scan = systable_beginscan(rel, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tuple);
		ObjectAddress object;

		ObjectAddressSet(object, dep->classid, dep->objid);
		if (dep->classid == ExtensionRelationId && dep->objid == extoid)
			continue;
		if (dep->classid == DefaultAclRelationId)
			continue;
		if (getExtensionOfObject(dep->classid, dep->objid) == extoid)
			continue;
		/* the first by catalog and OID, so that the message is stable */
		if (!OidIsValid(foreign.classId) || object.classId < foreign.classId ||
			(object.classId == foreign.classId && object.objectId < foreign.objectId))
			foreign = object;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return foreign;
}

/*
 * Raise an error unless the schema of the extension being created or
 * updated is one usermap can trust: owned by a superuser, writable by
 * nobody else, and holding nothing but the extension's own objects.
 *
 * CREATE EXTENSION reuses an existing schema of the name the control file
 * gives, and whoever made that schema (a database owner, any role with
 * CREATE on the database) could have planted operators and functions in
 * it that the install script, running as a superuser, would resolve into:
 * an exact-match "numeric * integer" beats pg_catalog's, which needs a
 * cast.  A schema CREATE EXTENSION made itself, or one left behind by DROP
 * EXTENSION usermap, passes; so does one a superuser made empty.
 *
 * The schema's privileges are not held against a schema this very
 * transaction created (CREATE EXTENSION making it): whatever default
 * privileges gave it, nobody could use them yet, and the script revokes
 * them before it commits.
 */
void
usermap_check_own_schema(void)
{
	Oid			extoid = CurrentExtensionObject;
	Oid			nsp;
	char	   *version;
	HeapTuple	tuple;
	Form_pg_namespace form;
	Datum		acldatum;
	bool		isnull;
	ObjectAddress foreign;
	const char *problem = NULL;

	if (!creating_extension || !OidIsValid(extoid))
		elog(ERROR, "usermap_check_own_schema: not called from an extension script");
	read_extension(extoid, &nsp, &version);

	tuple = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for namespace %u", nsp);
	form = (Form_pg_namespace) GETSTRUCT(tuple);

	if (!superuser_arg(form->nspowner))
		problem = psprintf("It is owned by role \"%s\", which is not a superuser.",
						   GetUserNameFromId(form->nspowner, false));

	acldatum = SysCacheGetAttr(NAMESPACEOID, tuple, Anum_pg_namespace_nspacl, &isnull);
	if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tuple->t_data)))
		isnull = true;
	if (problem == NULL && !isnull)
	{
		Acl		   *acl = DatumGetAclP(acldatum);

		/* ACL_DAT() without its null-bitmap test: ACLs have no nulls */
		AclItem    *items = (AclItem *) ((char *) acl + ARR_OVERHEAD_NONULLS(1));

		for (int i = 0; i < ACL_NUM(acl); i++)
		{
			if ((items[i].ai_privs & ACL_CREATE) == 0)
				continue;
			if (items[i].ai_grantee == ACL_ID_PUBLIC)
				problem = pstrdup("Every role may create objects in it.");
			else if (!superuser_arg(items[i].ai_grantee))
				problem = psprintf("Role \"%s\" may create objects in it.",
								   GetUserNameFromId(items[i].ai_grantee, false));
			if (problem != NULL)
				break;
		}
	}

	if (problem == NULL)
	{
		foreign = find_foreign_object(nsp, extoid);
		if (OidIsValid(foreign.classId))
			problem = psprintf("It contains %s, which does not belong to the extension.",
							   getObjectDescription(&foreign, false));
	}

	if (problem != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("extension \"usermap\" cannot use schema \"%s\": usermap did not create it",
						NameStr(form->nspname)),
				 errdetail_internal("%s", problem),
				 errhint("Drop or rename the schema and run the command again: CREATE EXTENSION makes the schema itself.")));
	ReleaseSysCache(tuple);
}
