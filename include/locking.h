/*-------------------------------------------------------------------------
 *
 * locking.h
 *		  Heavyweight locks that make concurrent user-mapping DDL safe.
 *
 * The server's own code takes only RowExclusiveLock on pg_user_mapping, so
 * two sessions can race: concurrent ALTERs fail with "tuple concurrently
 * updated", concurrent CREATEs with a unique-index violation.  usermap
 * serializes DDL on one mapping instead; see locking.c.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * include/locking.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef USERMAP_LOCKING_H
#define USERMAP_LOCKING_H

#include "storage/lockdefs.h"

/*
 * Value of locktag_field4 for the (server, role) key lock.  The lock uses
 * LOCKTAG_USERLOCK, the tag PostgreSQL reserves for locks that extensions
 * define, so that it never poses as an advisory lock to monitoring (or to
 * PostgreSQL's own advisory_lock test).  pg_locks shows it as locktype
 * 'userlock', database = current database, classid = server OID, objid =
 * role OID (0 for PUBLIC), objsubid = this value.
 */
#define USERMAP_LOCKTAG_MAPPING_KEY 0x756d

extern bool usermap_lock_server(Oid serverid);
extern void usermap_lock_mapping_key(Oid serverid, Oid umuserid);
extern Oid	usermap_lookup_mapping(Oid umuserid, Oid serverid);
extern Oid	usermap_lock_mapping(Oid umuserid, Oid serverid, Oid umid,
								 LOCKMODE lockmode);

#endif							/* USERMAP_LOCKING_H */
