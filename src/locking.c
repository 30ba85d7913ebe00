/*-------------------------------------------------------------------------
 *
 * locking.c
 *		  Heavyweight locks for concurrent user-mapping DDL.
 *
 * The server's CreateUserMapping, AlterUserMapping and RemoveUserMapping
 * look the mapping up and then write pg_user_mapping with no lock beyond
 * RowExclusiveLock on the catalog.  Two sessions working on the same
 * mapping can therefore both pass the lookup: two CREATEs collide on the
 * unique index, two ALTERs end in "tuple concurrently updated", and an
 * ALTER or DROP racing a DROP ends in "cache lookup failed".
 *
 * usermap takes as few extra locks as these races allow, because every
 * lock costs a trip to the shared lock table:
 *
 * - CREATE locks the foreign server in AccessShareLock, which conflicts
 *	 only with the AccessExclusiveLock DROP SERVER (or a cascade reaching
 *	 the server) takes, so no mapping is created for a server being
 *	 dropped.  Recent minor releases of the server take the same lock when
 *	 recording the new mapping's dependency; taking it first makes that a
 *	 local lock-table hit.  CREATE then locks the (server, role) key in
 *	 ExclusiveLock: a mapping has no OID before it exists, so two CREATEs
 *	 of one mapping can only queue on its key.  A CREATE that then finds
 *	 the mapping already there (IF NOT EXISTS) releases both locks before
 *	 it returns: a statement that does nothing must hold nothing that
 *	 blocks others (DROP SERVER ... CASCADE), in a prepared transaction
 *	 and across a restart least of all.
 *
 * - ALTER locks the mapping's OID in ShareUpdateExclusiveLock.  That
 *	 conflicts with itself (two ALTERs queue, and the second sees the
 *	 first's committed options) and with the AccessExclusiveLock every
 *	 drop takes, whether DROP USER MAPPING, DROP OWNED BY or a cascade from
 *	 DROP SERVER.
 *
 * - DROP locks the mapping's OID in AccessExclusiveLock, the lock
 *	 performDeletion takes anyway, so it costs nothing extra.  It does not
 *	 take the key lock: a CREATE racing a DROP in progress then reports the
 *	 mapping as existing, as the server's own code does, which saves a lock
 *	 on every DROP.
 *
 * Names are resolved and privileges checked before the first lock is
 * taken, so that a role that may not touch a mapping cannot make others
 * wait for it.  A wait can let in anything that committed meanwhile: a
 * revoked USAGE, a server given to another owner, a mapping dropped or
 * dropped and re-created.  So ddl.c does what the server's
 * RangeVarGetRelidExtended does for relations: it notes
 * SharedInvalidMessageCounter before resolving, and if invalidations
 * arrived by the time it holds its locks, it resolves the names and checks
 * privileges again, locking the new objects (and releasing the old ones)
 * if the names now lead elsewhere, until a round passes without
 * invalidations.  Every privilege is thus checked after the last wait.
 *
 * Sessions that turn usermap.enabled off take none of these locks and get
 * the server's own behaviour.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/locking.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "usermap.h"
#include "usermap_compat.h"

/*
 * The lock tag of the (server, role) key lock.
 */
static void
set_mapping_key_tag(LOCKTAG *tag, Oid serverid, Oid umuserid)
{
	tag->locktag_field1 = MyDatabaseId;
	tag->locktag_field2 = serverid;
	tag->locktag_field3 = umuserid;
	tag->locktag_field4 = USERMAP_LOCKTAG_MAPPING_KEY;
	tag->locktag_type = LOCKTAG_USERLOCK;
	/* released at transaction end, like the other DDL locks */
	tag->locktag_lockmethodid = DEFAULT_LOCKMETHOD;
}

/*
 * Lock what CREATE of the mapping of "umuserid" for "serverid" needs: the
 * server in AccessShareLock, against DROP SERVER, then the (server, role)
 * key in ExclusiveLock, against another CREATE of the same mapping.  Held
 * until the end of the transaction, unless usermap_unlock_for_create lets
 * go of them because the statement ends up doing nothing.
 *
 * Each wait processes the invalidations of whatever committed meanwhile
 * (LockDatabaseObject does it itself; the key lock does it as it does), so
 * that the caller, comparing SharedInvalidMessageCounter, knows whether to
 * resolve its names and check privileges again.
 */
void
usermap_lock_for_create(Oid serverid, Oid umuserid)
{
	LOCKTAG		tag;
	LOCALLOCK  *locallock;
	LockAcquireResult res;

	LockDatabaseObject(ForeignServerRelationId, serverid, 0, AccessShareLock);

	set_mapping_key_tag(&tag, serverid, umuserid);
	res = usermap_lock_acquire(&tag, ExclusiveLock, &locallock);

	/*
	 * As LockDatabaseObject does: once a lock we did not already hold is
	 * granted, absorb the invalidations of whatever committed while we
	 * waited, so that the next catalog lookup is current.
	 */
	if (res != LOCKACQUIRE_ALREADY_CLEAR)
	{
		AcceptInvalidationMessages();
		MarkLockClear(locallock);
	}
}

/*
 * Let go of the locks one usermap_lock_for_create call took.  A lock the
 * transaction held already, from an earlier statement, stays held: the
 * lock manager counts acquisitions, and this releases one of each.
 */
void
usermap_unlock_for_create(Oid serverid, Oid umuserid)
{
	LOCKTAG		tag;

	set_mapping_key_tag(&tag, serverid, umuserid);
	LockRelease(&tag, ExclusiveLock, false);
	UnlockDatabaseObject(ForeignServerRelationId, serverid, 0,
						 AccessShareLock);
}

/*
 * OID of the mapping of "umuserid" for "serverid", or InvalidOid.
 */
Oid
usermap_lookup_mapping(Oid umuserid, Oid serverid)
{
	return GetSysCacheOid2(USERMAPPINGUSERSERVER, Anum_pg_user_mapping_oid,
						   ObjectIdGetDatum(umuserid),
						   ObjectIdGetDatum(serverid));
}

/*
 * Lock the mapping "umid" in "lockmode" (ShareUpdateExclusiveLock for
 * ALTER, AccessExclusiveLock for DROP), until the end of the transaction.
 * LockDatabaseObject processes the invalidations of whatever committed
 * while we waited, so the caller's next lookup sees it.
 */
void
usermap_lock_mapping(Oid umid, LOCKMODE lockmode)
{
	LockDatabaseObject(UserMappingRelationId, umid, 0, lockmode);
}

/*
 * Let go of the lock one usermap_lock_mapping call took: the mapping it
 * locked is no longer the one the statement acts on.
 */
void
usermap_unlock_mapping(Oid umid, LOCKMODE lockmode)
{
	UnlockDatabaseObject(UserMappingRelationId, umid, 0, lockmode);
}
