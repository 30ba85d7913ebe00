/*-------------------------------------------------------------------------
 *
 * secrets.h
 *		  Which user-mapping options hold secrets, and how they are masked.
 *
 * The GUC usermap.secret_options names them (comma-separated, matched
 * exactly on the option name).  Their values are never written anywhere
 * by usermap: the audit trail, the LOG lines and the redacted statement
 * text all show USERMAP_MASK instead, whatever the value's length.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * include/secrets.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef USERMAP_SECRETS_H
#define USERMAP_SECRETS_H

/* What a secret value is replaced by; it does not reveal the length. */
#define USERMAP_MASK "********"

extern char *usermap_secret_options;

/*
 * Changes whenever the list of secret option names in force changes (SET,
 * RESET, the end of a transaction or function that had set it), so that a
 * result computed from the old list can be told apart.
 */
extern uint64 usermap_secret_options_generation;

extern void usermap_define_secret_options_guc(void);
extern bool usermap_is_secret_option(const char *name);

#endif							/* USERMAP_SECRETS_H */
