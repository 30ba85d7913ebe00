/*-------------------------------------------------------------------------
 *
 * redact.h
 *		  Mask secret option values in SQL text.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * include/redact.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef USERMAP_REDACT_H
#define USERMAP_REDACT_H

/* GUC usermap.redact */
extern bool usermap_redact_enabled;

/*
 * Cheap test, no lexing: could "text" hold a user-mapping statement (or a
 * literal containing one) with a secret?  False means usermap_redact()
 * would return NULL.
 */
extern bool usermap_redact_needed(const char *text);

/*
 * Return a palloc'd copy of "text" with the value of every secret option
 * in every CREATE / ALTER USER MAPPING statement replaced by the quoted
 * mask, or NULL if nothing had to change.
 */
extern char *usermap_redact(const char *text);

#endif							/* USERMAP_REDACT_H */
