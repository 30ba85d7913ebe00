/*-------------------------------------------------------------------------
 *
 * privileges.h
 *		  Who may create, alter or drop a user mapping.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * include/privileges.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef USERMAP_PRIVILEGES_H
#define USERMAP_PRIVILEGES_H

extern void usermap_check_privileges(Oid umuserid, Oid serverid,
									 const char *servername);

#endif							/* USERMAP_PRIVILEGES_H */
