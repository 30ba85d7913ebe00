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
 * usermap takes three locks, always in this order, and looks the mapping up
 * again once it holds them:
 *
 * 1. AccessShareLock on the foreign server object.  It conflicts only with
 *	  the AccessExclusiveLock that DROP SERVER (and any cascade reaching the
 *	  server) takes, so a mapping cannot be created for, or altered under,
 *	  a server that is being dropped.
 *
 * 2. ExclusiveLock on the (server, role) key.  A mapping has no OID before
 *	  it exists, so the key itself is locked; every usermap CREATE, ALTER
 *	  and DROP of one mapping queues here, and each sees the committed
 *	  result of the one before it.  Different mappings never wait on each
 *	  other.
 *
 * 3. For ALTER and DROP, a lock on the mapping's OID: this is what DROP
 *	  OWNED BY and cascaded drops take (through AcquireDeletionLock), so the
 *	  mapping cannot vanish under an ALTER that already holds the key.
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

#include "locking.h"

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

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, serverid, umuserid,
						 USERMAP_LOCKTAG_MAPPING_KEY);

	res = LockAcquireExtended(&tag, ExclusiveLock, false, false, true,
							  &locallock);

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
 * Lock an existing user mapping in the given mode.  Returns false if the
 * mapping was dropped while we waited for the lock.
 */
bool
usermap_lock_mapping(Oid umid, LOCKMODE lockmode)
{
	LockDatabaseObject(UserMappingRelationId, umid, 0, lockmode);

	return SearchSysCacheExists1(USERMAPPINGOID, ObjectIdGetDatum(umid));
}
