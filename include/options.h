/*-------------------------------------------------------------------------
 *
 * options.h
 *		  Generic option lists of user mappings: decoding the stored
 *		  array, applying ADD / SET / DROP actions, encoding and
 *		  validation.
 *
 * An option list is a List of DefElem whose arg is a String node, the same
 * shape the grammar produces, so that the foreign-data wrapper's validator
 * sees exactly what it sees under the server's own code.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * include/options.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef USERMAP_OPTIONS_H
#define USERMAP_OPTIONS_H

#include "nodes/pg_list.h"

extern List *usermap_options_decode(Datum array);
extern ListCell *usermap_options_find(List *options, const char *name);
extern List *usermap_options_apply(List *current, List *actions);
extern Datum usermap_options_encode(List *options);
extern void usermap_options_validate(Oid validator, Oid catalogId,
									 Datum array);

#endif							/* USERMAP_OPTIONS_H */
