/*-------------------------------------------------------------------------
 *
 * usermap.h
 *		  Settings and constants shared by every part of usermap.
 *
 * usermap takes over CREATE / ALTER / DROP USER MAPPING.  This header holds
 * what the hook installer, the DDL code and the later layers all need to
 * agree on: the GUC variables and the version string.
 *
 * Note that no usermap source file defines TEXTDOMAIN: messages copied
 * from the server therefore translate through the server's own message
 * catalog, so that they stay byte-identical to core in every lc_messages.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * include/usermap.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef USERMAP_H
#define USERMAP_H

#ifndef USERMAP_VERSION
#error "USERMAP_VERSION must be defined by the build (see Makefile)"
#endif

/* GUC usermap.enabled: when false, the server's own code runs the DDL */
extern bool usermap_enabled;

/* true when the library was loaded through shared_preload_libraries */
extern bool usermap_preloaded;

#endif							/* USERMAP_H */
