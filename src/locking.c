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
 *	 of one mapping can only queue on its key.
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
 * After locking a mapping by OID, the key is looked up again: if another
 * transaction dropped and re-created the mapping while we waited, the key
 * now names another OID, which is locked in turn (the retry loop
 * RangeVarGetRelid uses for relations).
 *
 * Privilege checks happen before any lock is taken, so a role that may not
 * touch a mapping cannot make others wait for it.  Sessions that turn
 * usermap.enabled off take none of these locks and get the server's own
 * behaviour.
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
 * Lock a foreign server against being dropped.  Returns false if it was
 * dropped while we waited for the lock.
 *
 * LockDatabaseObject processes pending invalidations once the lock is
 * granted, so the syscache probe sees the committed state.
 */
bool
usermap_lock_server(Oid serverid)
{
	LockDatabaseObject(ForeignServerRelationId, serverid, 0, AccessShareLock);

	return SearchSysCacheExists1(FOREIGNSERVEROID, ObjectIdGetDatum(serverid));
}

/*
 * Serialize DDL on the mapping of role "umuserid" for server "serverid".
 * The lock is held until the end of the transaction.
 */
void
usermap_lock_mapping_key(Oid serverid, Oid umuserid)
{
	LOCKTAG		tag;
	LOCALLOCK  *locallock;
	LockAcquireResult res;

	tag.locktag_field1 = MyDatabaseId;
	tag.locktag_field2 = serverid;
	tag.locktag_field3 = umuserid;
	tag.locktag_field4 = USERMAP_LOCKTAG_MAPPING_KEY;
	tag.locktag_type = LOCKTAG_USERLOCK;
	/* released at transaction end, like the other DDL locks */
	tag.locktag_lockmethodid = DEFAULT_LOCKMETHOD;

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
 * Lock the mapping of "umuserid" for "serverid", which was "umid" when the
 * caller looked, in the given mode.  Returns the OID of the mapping now
 * locked, or InvalidOid if, once we held the lock, no mapping was left.
 *
 * LockDatabaseObject processes pending invalidations once the lock is
 * granted, so the lookup after it sees what committed while we waited.
 */
Oid
usermap_lock_mapping(Oid umuserid, Oid serverid, Oid umid,
					 LOCKMODE lockmode)
{
	while (OidIsValid(umid))
	{
		Oid			current;

		LockDatabaseObject(UserMappingRelationId, umid, 0, lockmode);

		current = usermap_lookup_mapping(umuserid, serverid);
		if (current == umid)
			break;

		/* Dropped, and perhaps re-created, while we waited: follow it. */
		UnlockDatabaseObject(UserMappingRelationId, umid, 0, lockmode);
		umid = current;
	}

	return umid;
}
