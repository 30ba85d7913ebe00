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
 * usermap locks the mapping (or, for CREATE, its key and server), then
 * looks the mapping up again, so concurrent DDL on one mapping is
 * serialized instead of failing with low-level errors.
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
#include "utils/acl.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "usermap.h"

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
 * Once the mapping we waited for is gone, say which object really is: a
 * DROP SERVER ... CASCADE takes the server with it.
 */
static bool
server_still_exists(Oid serverid)
{
	return SearchSysCacheExists1(FOREIGNSERVEROID, ObjectIdGetDatum(serverid));
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

	useId = resolve_mapping_role(stmt->user, false);
	srv = GetForeignServerByName(stmt->servername, false);

	usermap_check_privileges(useId, srv->serverid, stmt->servername);

	if (!usermap_lock_server(srv->serverid))
		report_server_missing(stmt->servername);
	usermap_lock_mapping_key(srv->serverid, useId);

	/* Check that the user mapping is unique within server. */
	if (OidIsValid(usermap_lookup_mapping(useId, srv->serverid)))
	{
		if (stmt->if_not_exists)
		{
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
	if (PointerIsValid(DatumGetPointer(useoptions)))
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

	useId = resolve_mapping_role(stmt->user, false);
	srv = GetForeignServerByName(stmt->servername, false);

	/* Existence is reported before privileges, as in core. */
	umId = usermap_lookup_mapping(useId, srv->serverid);
	if (!OidIsValid(umId))
		report_mapping_missing(useId, stmt->servername);

	usermap_check_privileges(useId, srv->serverid, stmt->servername);

	/*
	 * Lock the mapping and look again: a concurrent DROP may have removed it
	 * (or a DROP and CREATE replaced it) while we waited.
	 */
	umId = usermap_lock_mapping(useId, srv->serverid, umId,
								ShareUpdateExclusiveLock);
	if (!OidIsValid(umId))
	{
		if (!server_still_exists(srv->serverid))
			report_server_missing(stmt->servername);
		report_mapping_missing(useId, stmt->servername);
	}

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

		if (PointerIsValid(DatumGetPointer(datum)))
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
	RoleSpec   *role = stmt->user;
	Oid			useId;
	Oid			umId;
	ForeignServer *srv;
	ObjectAddress object;

	useId = resolve_mapping_role(role, stmt->missing_ok);
	if (!OidIsValid(useId) && role->roletype != ROLESPEC_PUBLIC)
	{
		/* IF EXISTS, role not found and not public: note it and leave */
		elog(NOTICE, "role \"%s\" does not exist, skipping",
			 role->rolename);
		return InvalidOid;
	}

	srv = GetForeignServerByName(stmt->servername, true);
	umId = srv ? usermap_lookup_mapping(useId, srv->serverid) : InvalidOid;

	/*
	 * Privileges are checked only once both objects are known to exist, as in
	 * core.  Then lock and look again: the server or the mapping may have
	 * been dropped while we waited, and that ends the same way as if it had
	 * never been there.
	 */
	if (OidIsValid(umId))
	{
		usermap_check_privileges(useId, srv->serverid, srv->servername);

		umId = usermap_lock_mapping(useId, srv->serverid, umId,
									AccessExclusiveLock);
		if (!OidIsValid(umId) && !server_still_exists(srv->serverid))
			srv = NULL;
	}

	if (!srv)
	{
		if (!stmt->missing_ok)
			report_server_missing(stmt->servername);
		/* IF EXISTS, just note it */
		ereport(NOTICE,
				(errmsg("server \"%s\" does not exist, skipping",
						stmt->servername)));
		return InvalidOid;
	}

	if (!OidIsValid(umId))
	{
		if (!stmt->missing_ok)
			report_mapping_missing(useId, stmt->servername);
		/* IF EXISTS specified, just note it */
		ereport(NOTICE,
				(errmsg("user mapping for \"%s\" does not exist for server \"%s\", skipping",
						MappingUserName(useId), stmt->servername)));
		return InvalidOid;
	}

	/*
	 * We hold AccessExclusiveLock on the mapping already, which is the lock
	 * performDeletion would take, so it cannot fail to find it.
	 */
	ObjectAddressSet(object, UserMappingRelationId, umId);
	usermap_catalog_note_dropping(umId, useId, srv->serverid);
	performDeletion(&object, DROP_CASCADE, 0);
	usermap_catalog_note_dropping(InvalidOid, InvalidOid, InvalidOid);

	return umId;
}
