/*-------------------------------------------------------------------------
 *
 * masking.h
 *		  Option lists rendered for the audit trail: secrets masked.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * include/masking.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef USERMAP_MASKING_H
#define USERMAP_MASKING_H

#include "nodes/pg_list.h"
#include "utils/jsonb.h"

extern Jsonb *usermap_options_jsonb(List *options, bool reveal);
extern List *usermap_changed_options(List *old_options, List *new_options);
extern bool usermap_any_secret(List *names);
extern bool usermap_options_visible_to(Oid umuser, Oid serverid);

#endif							/* USERMAP_MASKING_H */
