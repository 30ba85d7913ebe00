/*-------------------------------------------------------------------------
 *
 * ddl.c
 *		  CREATE / ALTER / DROP USER MAPPING.
 *
 * These functions replace CreateUserMapping, AlterUserMapping and
 * RemoveUserMapping of foreigncmds.c.  They produce the same catalog rows,
 * dependencies, object-access hook calls, notices and errors, and check
 * things in the same order: a user who gets "permission denied" from the
 * server gets it from usermap too, and not a different error first.
 *
 * What differs is locking (locking.c): after the checks the server makes,
 * usermap locks the mapping (or, for CREATE, its key and server), so that
 * concurrent DDL on one mapping is serialized instead of failing with
 * low-level errors.  If a wait for one of those locks let in invalidations,
 * the names are resolved and the privileges checked again, as the server's
 * RangeVarGetRelidExtended (catalog/namespace.c) does for relations: what
 * committed while the statement waited (a revoked USAGE, a new owner of
 * the server, a dropped or re-created mapping) decides its outcome.
 *
 * Each statement runs the same pipeline: resolve the role and the server,
 * check privileges, lock, merge the options, validate them, write the
 * catalog, record the change (catalog.c; drops are recorded by its
 * object-access hook, which sees every way a mapping disappears).
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/ddl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "storage/sinval.h"
#include "utils/acl.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "usermap.h"

/*
 * What a statement acts on, as resolved by the last round of its lookup
 * loop (resolve_and_lock_new, resolve_and_lock_existing).
 */
typedef struct MappingTarget
{
	Oid			useId;			/* the role; ACL_ID_PUBLIC for PUBLIC */
	ForeignServer *srv;			/* NULL: no such server (DROP IF EXISTS) */
	Oid			umId;			/* the mapping; InvalidOid if none */
	uint64		checked_at;		/* SharedInvalidMessageCounter when the
								 * privileges were last checked */
} MappingTarget;

/*
 * Resolve the role a statement names: PUBLIC is ACL_ID_PUBLIC, anything
 * else (a name, USER, CURRENT_ROLE, CURRENT_USER, SESSION_USER) goes through
 * get_rolespec_oid, which raises the server's "role does not exist" unless
 * missing_ok.
 */
static Oid
resolve_mapping_role(RoleSpec *role, bool missing_ok)
{
	if (role->roletype == ROLESPEC_PUBLIC)
		return ACL_ID_PUBLIC;
	return get_rolespec_oid(role, missing_ok);
}

static void
report_server_missing(const char *servername)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("server \"%s\" does not exist", servername)));
}

static void
report_mapping_missing(Oid umuserid, const char *servername)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("user mapping for \"%s\" does not exist for server \"%s\"",
					MappingUserName(umuserid), servername)));
}

/*
 * Resolve the role and server of a CREATE, check privileges, and lock the
 * server and the (server, role) key (locking.c).  If invalidations arrived
 * by the time both locks are held, resolve and check again, and if the
 * names now lead to other objects, lock those instead: the loop of
 * RangeVarGetRelidExtended (catalog/namespace.c), so that privileges are
 * checked after the last wait.  Errors are the server's: an unknown role or
 * server, then "permission denied".
 */
static void
resolve_and_lock_new(CreateUserMappingStmt *stmt, MappingTarget *target)
{
	Oid			locked_server = InvalidOid;
	Oid			locked_user = InvalidOid;

	for (;;)
	{
		uint64		inval_count = SharedInvalidMessageCounter;

		target->useId = resolve_mapping_role(stmt->user, false);
		target->srv = GetForeignServerByName(stmt->servername, false);
		usermap_check_privileges(target->useId, target->srv->serverid,
								 stmt->servername);
		target->checked_at = inval_count;

		/* a server OID is never InvalidOid; a role's is, for PUBLIC */
		if (OidIsValid(locked_server))
		{
			if (locked_server == target->srv->serverid &&
				locked_user == target->useId)
				break;
			usermap_unlock_for_create(locked_server, locked_user);
		}
		usermap_lock_for_create(target->srv->serverid, target->useId);
		locked_server = target->srv->serverid;
		locked_user = target->useId;

		if (inval_count == SharedInvalidMessageCounter)
			break;
	}
	target->umId = usermap_lookup_mapping(target->useId,
										  target->srv->serverid);
}

/*
 * Look up the role, server and mapping of an ALTER or DROP, in the
 * server's order.  With missing_ok (DROP ... IF EXISTS), a missing role
 * leaves useId invalid (and not PUBLIC), a missing server srv NULL, a
 * missing mapping umId invalid; without it, each is the server's error.
 */
static void
lookup_existing(RoleSpec *role, const char *servername, bool missing_ok,
				MappingTarget *target)
{
	target->useId = resolve_mapping_role(role, missing_ok);
	target->srv = NULL;
	target->umId = InvalidOid;
	if (!OidIsValid(target->useId) && role->roletype != ROLESPEC_PUBLIC)
		return;

	target->srv = GetForeignServerByName(servername, true);
	if (target->srv == NULL)
	{
		if (!missing_ok)
			report_server_missing(servername);
		return;
	}

	target->umId = usermap_lookup_mapping(target->useId,
										  target->srv->serverid);
	if (!OidIsValid(target->umId) && !missing_ok)
		report_mapping_missing(target->useId, servername);
}

/*
 * Resolve the mapping an ALTER or DROP names, check privileges once it is
 * known to exist (existence is reported first, as in core), and lock it in
 * "lockmode".  If invalidations arrived by the time the lock is held, do it
 * all again, as RangeVarGetRelidExtended (catalog/namespace.c) does: the
 * names may now lead to another mapping (dropped and re-created while we
 * waited), which is locked instead, or to none, which is then reported as
 * missing with nothing left locked; and privileges are checked after the
 * last wait.
 */
static void
resolve_and_lock_existing(RoleSpec *role, const char *servername,
						  bool missing_ok, LOCKMODE lockmode,
						  MappingTarget *target)
{
	Oid			locked = InvalidOid;

	for (;;)
	{
		uint64		inval_count = SharedInvalidMessageCounter;

		lookup_existing(role, servername, missing_ok, target);
		if (OidIsValid(target->umId))
			usermap_check_privileges(target->useId, target->srv->serverid,
									 servername);
		target->checked_at = inval_count;

		/* the same mapping as last round, or none again */
		if (target->umId == locked)
			break;
		if (OidIsValid(locked))
			usermap_unlock_mapping(locked, lockmode);
		locked = target->umId;
		if (!OidIsValid(locked))
			break;
		usermap_lock_mapping(locked, lockmode);

		if (inval_count == SharedInvalidMessageCounter)
			break;
	}
}

/*
 * The last waits of a statement can come after its lookup loop: writing
 * the catalog and recording the change take locks of their own.  If
 * invalidations arrived since privileges were last checked, check them
 * again, on the objects the statement holds locked, so that no change is
 * made by a role that lost the right to make it while the statement
 * waited.
 */
static void
recheck_privileges(const MappingTarget *target, const char *servername)
{
	if (SharedInvalidMessageCounter != target->checked_at)
		usermap_check_privileges(target->useId, target->srv->serverid,
								 servername);
}

/*
 * CREATE USER MAPPING [IF NOT EXISTS] FOR role SERVER server [OPTIONS (...)]
 *
 * Returns the new mapping's address, or InvalidObjectAddress when IF NOT
 * EXISTS found one already there.
 */
ObjectAddress
usermap_create_mapping(CreateUserMappingStmt *stmt)
{
	Relation	rel;
	MappingTarget target;
	Oid			useId;
	Oid			umId;
	ForeignServer *srv;
	ForeignDataWrapper *fdw;
	List	   *options;
	Datum		useoptions;
	Datum		values[Natts_pg_user_mapping];
	bool		nulls[Natts_pg_user_mapping];
	HeapTuple	tuple;
	ObjectAddress myself;
	ObjectAddress referenced;

	rel = table_open(UserMappingRelationId, RowExclusiveLock);

	resolve_and_lock_new(stmt, &target);
	useId = target.useId;
	srv = target.srv;

	/* Check that the user mapping is unique within server. */
	if (OidIsValid(target.umId))
	{
		if (stmt->if_not_exists)
		{
			/*
			 * Nothing is created, so nothing stays locked: core's skip holds
			 * no lock, and ours must not block DROP SERVER ... CASCADE (in a
			 * prepared transaction, across a restart).
			 */
			usermap_unlock_for_create(srv->serverid, useId);

			/*
			 * User mappings are never members of extensions, so there is no
			 * checkMembershipInCurrentExtension here (as in core).
			 */
			ereport(NOTICE,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("user mapping for \"%s\" already exists for server \"%s\", skipping",
							MappingUserName(useId),
							stmt->servername)));

			table_close(rel, RowExclusiveLock);
			return InvalidObjectAddress;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("user mapping for \"%s\" already exists for server \"%s\"",
							MappingUserName(useId),
							stmt->servername)));
	}

	fdw = GetForeignDataWrapper(srv->fdwid);

	/* The OID is assigned before the options are checked, as in core. */
	umId = GetNewOidWithIndex(rel, UserMappingOidIndexId,
							  Anum_pg_user_mapping_oid);

	options = usermap_options_apply(NIL, stmt->options);
	useoptions = usermap_options_encode(options);
	usermap_options_validate(fdw->fdwvalidator, UserMappingRelationId,
							 useoptions);

	memset(values, 0, sizeof(values));
	memset(nulls, false, sizeof(nulls));

	values[Anum_pg_user_mapping_oid - 1] = ObjectIdGetDatum(umId);
	values[Anum_pg_user_mapping_umuser - 1] = ObjectIdGetDatum(useId);
	values[Anum_pg_user_mapping_umserver - 1] = ObjectIdGetDatum(srv->serverid);
	if (DatumGetPointer(useoptions) != NULL)
		values[Anum_pg_user_mapping_umoptions - 1] = useoptions;
	else
		nulls[Anum_pg_user_mapping_umoptions - 1] = true;

	tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	CatalogTupleInsert(rel, tuple);
	heap_freetuple(tuple);

	/* Add dependency on the server */
	ObjectAddressSet(myself, UserMappingRelationId, umId);
	ObjectAddressSet(referenced, ForeignServerRelationId, srv->serverid);
	recordDependencyOn(&myself, &referenced, DEPENDENCY_NORMAL);

	/* Record the mapped user dependency; PUBLIC has none */
	if (OidIsValid(useId))
		recordDependencyOnOwner(UserMappingRelationId, umId, useId);

	/*
	 * No recordDependencyOnCurrentExtension: roles are not members of
	 * extensions, so user mappings are not either (see core's comment).
	 */

	InvokeObjectPostCreateHook(UserMappingRelationId, umId, 0);

	if (usermap_recording_wanted())
		usermap_record_change(USERMAP_ACTION_CREATE, umId, useId,
							  srv->serverid, srv->servername, NIL, options,
							  NIL);

	recheck_privileges(&target, stmt->servername);

	table_close(rel, RowExclusiveLock);

	return myself;
}

/*
 * ALTER USER MAPPING FOR role SERVER server OPTIONS (...)
 */
ObjectAddress
usermap_alter_mapping(AlterUserMappingStmt *stmt)
{
	Relation	rel;
	MappingTarget target;
	Oid			useId;
	Oid			umId;
	ForeignServer *srv;
	HeapTuple	tp;
	Datum		repl_val[Natts_pg_user_mapping];
	bool		repl_null[Natts_pg_user_mapping];
	bool		repl_repl[Natts_pg_user_mapping];
	ObjectAddress address;
	List	   *old_options = NIL;
	List	   *new_options = NIL;

	rel = table_open(UserMappingRelationId, RowExclusiveLock);

	/*
	 * Existence is reported before privileges, as in core; then the mapping
	 * is locked, and looked up again if the wait let anything in.
	 */
	resolve_and_lock_existing(stmt->user, stmt->servername, false,
							  ShareUpdateExclusiveLock, &target);
	useId = target.useId;
	srv = target.srv;
	umId = target.umId;

	tp = SearchSysCacheCopy1(USERMAPPINGOID, ObjectIdGetDatum(umId));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for user mapping %u", umId);

	memset(repl_val, 0, sizeof(repl_val));
	memset(repl_null, false, sizeof(repl_null));
	memset(repl_repl, false, sizeof(repl_repl));

	/* The grammar requires OPTIONS, but be as lenient as core. */
	if (stmt->options)
	{
		ForeignDataWrapper *fdw = GetForeignDataWrapper(srv->fdwid);
		Datum		datum;
		bool		isnull;

		datum = SysCacheGetAttr(USERMAPPINGOID, tp,
								Anum_pg_user_mapping_umoptions, &isnull);
		old_options = usermap_options_decode(isnull ? PointerGetDatum(NULL) : datum);
		/* apply to a copy: old_options is recorded as it was */
		new_options = usermap_options_apply(list_copy(old_options),
											stmt->options);
		datum = usermap_options_encode(new_options);
		usermap_options_validate(fdw->fdwvalidator, UserMappingRelationId,
								 datum);

		if (DatumGetPointer(datum) != NULL)
			repl_val[Anum_pg_user_mapping_umoptions - 1] = datum;
		else
			repl_null[Anum_pg_user_mapping_umoptions - 1] = true;
		repl_repl[Anum_pg_user_mapping_umoptions - 1] = true;
	}

	tp = heap_modify_tuple(tp, RelationGetDescr(rel),
						   repl_val, repl_null, repl_repl);
	CatalogTupleUpdate(rel, &tp->t_self, tp);

	InvokeObjectPostAlterHook(UserMappingRelationId, umId, 0);

	if (usermap_recording_wanted())
		usermap_record_change(USERMAP_ACTION_ALTER, umId, useId,
							  srv->serverid, srv->servername,
							  old_options, new_options, stmt->options);

	recheck_privileges(&target, stmt->servername);

	ObjectAddressSet(address, UserMappingRelationId, umId);

	heap_freetuple(tp);
	table_close(rel, RowExclusiveLock);

	return address;
}

/*
 * DROP USER MAPPING [IF EXISTS] FOR role SERVER server
 *
 * Returns the OID of the dropped mapping, or InvalidOid if IF EXISTS found
 * nothing to drop.
 */
Oid
usermap_drop_mapping(DropUserMappingStmt *stmt)
{
	MappingTarget target;
	ObjectAddress object;

	/*
	 * Privileges are checked only once both objects are known to exist, as in
	 * core.  Then the mapping is locked and looked up again if the wait let
	 * anything in: the server or the mapping may have been dropped while we
	 * waited, and that ends the same way as if it had never been there.
	 */
	resolve_and_lock_existing(stmt->user, stmt->servername, stmt->missing_ok,
							  AccessExclusiveLock, &target);

	if (!OidIsValid(target.useId) && stmt->user->roletype != ROLESPEC_PUBLIC)
	{
		/* IF EXISTS, role not found and not public: note it and leave */
		elog(NOTICE, "role \"%s\" does not exist, skipping",
			 stmt->user->rolename);
		return InvalidOid;
	}

	if (!target.srv)
	{
		/* IF EXISTS, just note it */
		ereport(NOTICE,
				(errmsg("server \"%s\" does not exist, skipping",
						stmt->servername)));
		return InvalidOid;
	}

	if (!OidIsValid(target.umId))
	{
		/* IF EXISTS specified, just note it */
		ereport(NOTICE,
				(errmsg("user mapping for \"%s\" does not exist for server \"%s\", skipping",
						MappingUserName(target.useId), stmt->servername)));
		return InvalidOid;
	}

	/*
	 * We hold AccessExclusiveLock on the mapping already, which is the lock
	 * performDeletion would take, so it cannot fail to find it.
	 */
	ObjectAddressSet(object, UserMappingRelationId, target.umId);
	usermap_catalog_note_dropping(target.umId, target.useId,
								  target.srv->serverid);
	performDeletion(&object, DROP_CASCADE, 0);
	usermap_catalog_note_dropping(InvalidOid, InvalidOid, InvalidOid);

	recheck_privileges(&target, target.srv->servername);

	return target.umId;
}
