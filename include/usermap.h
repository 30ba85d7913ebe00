/*-------------------------------------------------------------------------
 *
 * usermap.h
 *		  The module header of usermap: a section per source file, each with
 *		  what that file offers the others.
 *
 * usermap takes over CREATE / ALTER / DROP USER MAPPING (usermap.c,
 * execute.c, ddl.c and the files they use), records each change
 * (catalog.c, catalog_tables.c, masking.c) and keeps secrets out of the
 * server log, pg_stat_activity and other libraries (secrets.c, redact_*.c,
 * hygiene.c).  Version differences live in usermap_compat.h; the
 * redactor's own internals in redact_internal.h.
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

#include "access/htup.h"
#include "access/tupdesc.h"
#include "catalog/objectaddress.h"
#include "nodes/execnodes.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "nodes/plannodes.h"
#include "storage/lockdefs.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

/*
 * ---------------------------------------------------------------------
 * usermap.c: settings and the hook installer
 * ---------------------------------------------------------------------
 */

#ifndef USERMAP_VERSION
#error "USERMAP_VERSION must be defined by the build (see Makefile)"
#endif

/*
 * The settings, every one defined in usermap.c's _PG_init:
 *
 * usermap.enabled: when false, the server's own code runs the DDL.
 * usermap.log_unrecorded: a LOG line per change where the extension is
 *   not installed (catalog.c).
 * usermap.redact: secret hygiene on (hygiene.c); the redactor itself and
 *   the audit trail mask regardless.
 * usermap.secret_options: the names of the options whose values are
 *   secrets (secrets.c parses it).
 */
extern bool usermap_enabled;
extern bool usermap_log_unrecorded;
extern bool usermap_redact_enabled;
extern char *usermap_secret_options;

/* true when the library was loaded through shared_preload_libraries */
extern bool usermap_preloaded;

/*
 * ---------------------------------------------------------------------
 * execute.c: the frame around an owned statement
 * ---------------------------------------------------------------------
 */

/*
 * Is this one of the statements usermap executes itself?  Inline: the
 * ProcessUtility hook asks it of every utility statement.
 */
static inline bool
usermap_owns_statement(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_CreateUserMappingStmt:
		case T_AlterUserMappingStmt:
		case T_DropUserMappingStmt:
			return true;
		default:
			return false;
	}
}

extern void usermap_execute(PlannedStmt *pstmt, const char *queryString,
							ProcessUtilityContext context);

/*
 * ---------------------------------------------------------------------
 * ddl.c: CREATE / ALTER / DROP USER MAPPING
 *
 * Each function follows the same pipeline: resolve the role and server,
 * check privileges, lock (and, if the wait let invalidations in, resolve
 * and check again), merge options, validate, write the catalog.
 * Return values mirror the server's CreateUserMapping, AlterUserMapping
 * and RemoveUserMapping so the caller can feed event triggers the same
 * way ProcessUtilitySlow does.
 * ---------------------------------------------------------------------
 */

extern ObjectAddress usermap_create_mapping(CreateUserMappingStmt *stmt);
extern ObjectAddress usermap_alter_mapping(AlterUserMappingStmt *stmt);
extern Oid	usermap_drop_mapping(DropUserMappingStmt *stmt);

/*
 * ---------------------------------------------------------------------
 * options.c: generic option lists
 *
 * An option list is a List of DefElem whose arg is a String node, the same
 * shape the grammar produces, so that the foreign-data wrapper's validator
 * sees exactly what it sees under the server's own code.
 * ---------------------------------------------------------------------
 */

extern List *usermap_options_decode(Datum array);
extern ListCell *usermap_options_find(List *options, const char *name);
extern List *usermap_options_apply(List *current, List *actions);
extern Datum usermap_options_encode(List *options);
extern void usermap_options_validate(Oid validator, Oid catalogId,
									 Datum array);

/*
 * ---------------------------------------------------------------------
 * privileges.c: who may manage a mapping
 * ---------------------------------------------------------------------
 */

extern void usermap_check_copy_access(Node *parsetree);
extern void usermap_check_privileges(Oid umuserid, Oid serverid,
									 const char *servername);

/*
 * ---------------------------------------------------------------------
 * locking.c: the locks that make concurrent DDL safe
 *
 * The server's own code takes only RowExclusiveLock on pg_user_mapping, so
 * two sessions can race: concurrent ALTERs fail with "tuple concurrently
 * updated", concurrent CREATEs with a unique-index violation.  usermap
 * serializes DDL on one mapping instead; see locking.c.
 * ---------------------------------------------------------------------
 */

/*
 * Value of locktag_field4 for the (server, role) key lock.  The lock uses
 * LOCKTAG_USERLOCK, the tag PostgreSQL reserves for locks that extensions
 * define, so that it never poses as an advisory lock to monitoring (or to
 * PostgreSQL's own advisory_lock test).  pg_locks shows it as locktype
 * 'userlock', database = current database, classid = server OID, objid =
 * role OID (0 for PUBLIC), objsubid = this value.
 */
#define USERMAP_LOCKTAG_MAPPING_KEY 0x756d

extern void usermap_lock_for_create(Oid serverid, Oid umuserid);
extern void usermap_unlock_for_create(Oid serverid, Oid umuserid);
extern Oid	usermap_lookup_mapping(Oid umuserid, Oid serverid);
extern void usermap_lock_mapping(Oid umid, LOCKMODE lockmode);
extern void usermap_unlock_mapping(Oid umid, LOCKMODE lockmode);

/*
 * ---------------------------------------------------------------------
 * catalog.c: per-mapping metadata and the audit trail
 * ---------------------------------------------------------------------
 */

typedef enum UserMappingAction
{
	USERMAP_ACTION_CREATE,
	USERMAP_ACTION_ALTER,
	USERMAP_ACTION_DROP
} UserMappingAction;

/* The statement being executed, for the audit trail's statement column */
typedef struct UserMappingStatement
{
	const char *query;			/* source text, possibly several statements */
	int			location;		/* start of this statement, -1 if unknown */
	int			length;			/* its length, 0 for "rest of the text" */
} UserMappingStatement;

/*
 * Columns of usermap.audit_log and usermap.mapping_meta, in the order
 * the install scripts create them (1.0 and 1.1 alike).  catalog_tables.c
 * holds their names and types and makes sure the installed tables still
 * have that shape before anything is written.
 */
enum
{
	AUDIT_ID = 1,
	AUDIT_LOGGED_AT,
	AUDIT_ACTION,
	AUDIT_SERVER_NAME,
	AUDIT_USER_NAME,
	AUDIT_OLD_OPTIONS,
	AUDIT_NEW_OPTIONS,
	AUDIT_CHANGED_OPTIONS,
	AUDIT_SESSION_ROLE,
	AUDIT_CURRENT_ROLE,
	AUDIT_STATEMENT,
	AUDIT_UMID,
	AUDIT_TRANSACTION_ID,
	AUDIT_CONTEXT,
	AUDIT_NATTS = AUDIT_CONTEXT
};

enum
{
	META_UMID = 1,
	META_UMUSER,
	META_UMSERVER,
	META_SERVER_NAME,
	META_USER_NAME,
	META_CREATED_AT,
	META_CREATED_BY,
	META_CREATED_AS,
	META_MODIFIED_AT,
	META_MODIFIED_BY,
	META_MODIFIED_AS,
	META_SECRET_CHANGED_AT,
	META_NATTS = META_SECRET_CHANGED_AT
};

/*
 * The user name of the public mapping, as pg_user_mappings spells it: the
 * one definition, which usermap.user_name() gives to SQL.
 */
#define USERMAP_PUBLIC_USER_NAME "public"

extern void usermap_catalog_install_hooks(void);
extern UserMappingStatement usermap_catalog_enter_statement(const char *query,
															int location,
															int length);
extern void usermap_catalog_leave_statement(UserMappingStatement saved);
extern bool usermap_recording_wanted(void);
extern const char *usermap_mapping_user_name(Oid umuser);
extern Oid	usermap_mapping_user_oid(const char *user_name);
extern void usermap_catalog_note_dropping(Oid umid, Oid umuser,
										  Oid umserver);
extern void usermap_record_change(UserMappingAction action, Oid umid,
								  Oid umuser, Oid umserver,
								  const char *servername,
								  List *old_options, List *new_options,
								  List *stmt_options);

/*
 * ---------------------------------------------------------------------
 * catalog_tables.c: the extension's tables
 * ---------------------------------------------------------------------
 */

/* The schema the control file names; the extension refuses any other */
#define USERMAP_SCHEMA "usermap"

/* The catalog layer's relations in the current database */
typedef struct UsermapTables
{
	Oid			meta;
	Oid			meta_pkey;
	Oid			audit;
	Oid			audit_seq;
} UsermapTables;

extern bool usermap_tables_find(UsermapTables *tables, bool for_recording);
extern bool usermap_tables_current(const UsermapTables *tables);
extern void usermap_tables_forget(void);
extern void usermap_tables_install_callbacks(void);
extern void usermap_tables_end_xact(void);
extern void usermap_tables_note_drop(Oid classId, Oid objectId);
extern bool usermap_meta_row_hint(Oid umid, ItemPointer tid);
extern void usermap_meta_row_note(Oid umid, ItemPointer tid);
extern void usermap_check_own_schema(void);

/*
 * ---------------------------------------------------------------------
 * renames.c: names in mapping_meta kept current through renames
 * ---------------------------------------------------------------------
 */

extern bool usermap_rename_kind(Node *parsetree, bool *is_role);
extern void usermap_note_rename(bool is_role, const char *newname);

/*
 * ---------------------------------------------------------------------
 * catalog_writer.c: rows of the extension's tables, written as SQL would
 * ---------------------------------------------------------------------
 */

/*
 * A table opened for usermap's writes: rows go through the table's
 * constraints and every index, as an INSERT, UPDATE or DELETE would, but
 * fire no trigger (usermap_tables_find refuses tables that have any but
 * the extension's own).
 */
typedef struct UsermapWriter
{
	Relation	rel;
	EState	   *estate;
	bool		own_estate;		/* estate made by (and freed with) the writer */
	ResultRelInfo *rri;
	TupleTableSlot *slot;		/* the row being written */
	TupleTableSlot *found;		/* the row it replaces or deletes */
	TupleTableSlot *table_slot; /* rows read, made when first needed */
} UsermapWriter;

extern void usermap_writer_open(UsermapWriter *writer, Oid relid,
								EState *estate);
extern void usermap_writer_insert(UsermapWriter *writer, Datum *values,
								  bool *nulls, int natts, ItemPointer tid);
extern void usermap_writer_update(UsermapWriter *writer, HeapTuple old,
								  Datum *values, bool *nulls, int natts,
								  ItemPointer tid);
extern void usermap_writer_delete(UsermapWriter *writer, HeapTuple old);
extern HeapTuple usermap_writer_fetch_tid(UsermapWriter *writer,
										  ItemPointer tid, Snapshot snapshot);
extern HeapTuple usermap_writer_settle_tid(UsermapWriter *writer,
										   ItemPointer tid);
extern HeapTuple usermap_writer_fetch_key(UsermapWriter *writer, Oid indexid,
										  AttrNumber attnum, Oid key,
										  Snapshot snapshot);
extern void usermap_writer_close(UsermapWriter *writer);

/*
 * ---------------------------------------------------------------------
 * masking.c: option lists rendered for the audit trail
 * ---------------------------------------------------------------------
 */

/*
 * What one change keeps of its option lists in the audit trail: each value
 * up to USERMAP_TRAIL_VALUE_KEEP bytes, and of each list (and of
 * changed_options) the first USERMAP_TRAIL_OPTIONS_KEEP entries, the rest
 * counted by a marker (masking.c).  A count, not a size: what is kept
 * must not depend on values some readers may not see.
 */
#define USERMAP_TRAIL_VALUE_KEEP 1024
#define USERMAP_TRAIL_OPTIONS_KEEP 64

/*
 * How much of a statement the audit trail keeps: any role with USAGE on a
 * server can send a user-mapping statement of any length (a comment after
 * the options), and every change is recorded.  A longer statement is kept
 * as its first USERMAP_STATEMENT_KEEP bytes (catalog.c, bound_statement)
 * followed by a marker: USERMAP_STATEMENT_CUT_HEAD, the number of bytes
 * kept, " of ", the length of the whole statement with every option value
 * masked, USERMAP_STATEMENT_CUT_MIDDLE, its SHA-256 in lower-case hex, and
 * "]".  mask_statement() (masking.c) shows such a marker as it is.
 */
#define USERMAP_STATEMENT_KEEP 4096
#define USERMAP_STATEMENT_CUT_HEAD " ...\n[usermap: statement truncated to "
#define USERMAP_STATEMENT_CUT_MIDDLE " bytes, every option value masked; sha256 "

extern Jsonb *usermap_options_jsonb(List *options, bool reveal);
extern Jsonb *usermap_trail_options_jsonb(List *options);
extern List *usermap_trail_names(List *names);
extern List *usermap_changed_options(List *old_options, List *new_options,
									 List *stmt_options);
extern bool usermap_any_secret(List *names);
extern bool usermap_options_visible_to(Oid umuser, Oid serverid);

/*
 * ---------------------------------------------------------------------
 * secrets.c: which options hold secrets
 *
 * The GUC usermap.secret_options names them (comma-separated, matched
 * exactly on the option name).  Their values are never written anywhere
 * by usermap: the audit trail, the LOG lines and the redacted statement
 * text all show USERMAP_MASK instead, whatever the value's length.
 * ---------------------------------------------------------------------
 */

/* What a secret value is replaced by; it does not reveal the length. */
#define USERMAP_MASK "********"

/* The same, as the string constant that replaces a secret in SQL text */
#define USERMAP_QUOTED_MASK "'" USERMAP_MASK "'"

/*
 * What a whole text is replaced by when the redactor cannot afford to read
 * it (longer than 1 MB, or past its work budget; see redact_internal.h):
 * fail closed rather than guess.
 */
#define USERMAP_HIDDEN_TEXT "/* text hidden by usermap: too long or complex to mask */"

/*
 * Changes whenever the list of secret option names in force changes (SET,
 * RESET, the end of a transaction or function that had set it), so that a
 * result computed from the old list can be told apart.
 */
extern uint64 usermap_secret_options_generation;

/* usermap.secret_options' hooks; see usermap.c for the setting */
extern bool usermap_check_secret_options(char **newval, void **extra,
										 GucSource source);
extern void usermap_assign_secret_options(const char *newval, void *extra);
extern void usermap_secrets_end_xact(void);
extern bool usermap_is_secret_option(const char *name);

/*
 * ---------------------------------------------------------------------
 * redact_*.c: masking secret option values in SQL text
 * ---------------------------------------------------------------------
 */

/* Learn the running lexer's token codes; called from _PG_init */
extern void usermap_redact_init(void);

/*
 * Note the settings the lexer reads, now in force, among those texts may
 * have been lexed under; see redact_lexer.c.
 */
extern void usermap_redact_observe_settings(void);

/*
 * Cheap test, no lexing, one pass over the bytes: could "text" hold a
 * CREATE or ALTER USER MAPPING statement, directly or in the value of a
 * string constant at any depth?  It is true whenever "text" contains
 * "mapping" in any case, a backslash, "U&", or a quote followed by
 * whitespace with a newline and another quote: without those the keyword
 * MAPPING cannot be spelled at any depth.  False means usermap_redact()
 * returns NULL.
 */
extern bool usermap_redact_needed(const char *text);

/*
 * Return a palloc'd copy of "text" with the value of every secret option
 * in every CREATE / ALTER USER MAPPING statement replaced by the quoted
 * mask, or NULL if nothing had to change.  Statements that cannot be
 * parsed are masked from their option list (or from MAPPING) to the end of
 * the text.  A text too long or too complex to read within the redactor's
 * budget (redact_internal.h) is replaced whole by USERMAP_HIDDEN_TEXT.
 * Ignores usermap.redact.  Raises no error and emits no message, whatever
 * the text, so it may be called from emit_log_hook; outside error
 * reporting it serves a pending query cancel or termination.
 */
extern char *usermap_redact(const char *text);

/*
 * The same for a log message, prose that may quote statements in double
 * quotes (PL/pgSQL's error context, pgaudit's CSV field) where the SQL
 * rules would not see them: such a statement is redacted from its first
 * keyword, and ends at the closing quote.
 */
extern char *usermap_redact_message(const char *text);

/*
 * Does "text" spell out CREATE or ALTER USER MAPPING FOR (or IF), as
 * words, anywhere?  No lexing: words in comments and constants count.
 */
extern bool usermap_redact_spells_statement(const char *text);

/*
 * Masking "input", one user-mapping statement the server parsed, from its
 * parse tree's secret values, without lexing, where that is exact; see
 * redact_cache.c.  For a text usermap_redact_needed() is true of.
 */
extern bool usermap_redact_remember_parsed(const char *input, int stmt_len,
										   List *secrets);

/* usermap_redact() with every option value masked, secret or not */
extern char *usermap_redact_every_value(const char *text);

/*
 * ---------------------------------------------------------------------
 * hygiene.c: secrets kept out of the log, pg_stat_activity and other libraries
 * ---------------------------------------------------------------------
 */

extern void usermap_hygiene_install_hooks(void);

/* hygiene_log.c: text the server rewrote on its way into a log message */
extern char *usermap_mask_escaped_text(const char *field);
extern char *usermap_mask_dumped_constants(const char *dump, const char *query,
										   bool pretty);
extern char *usermap_mask_truncated_identifier(const char *message,
											   const char *query);
extern bool usermap_is_main_hook(ProcessUtility_hook_type hook);
extern void usermap_hygiene_end_xact(bool abort);

/*
 * The statement the masking hook is passing down the chain masked, with
 * what it replaced, so that the server's own code gets the original text
 * back (usermap_unmask_statement): error positions, a DO block's source
 * and everything else the server derives from the text stay as in core.
 */
typedef struct MaskedStatement
{
	const char *masked_query;
	PlannedStmt *masked_pstmt;
	const char *query;
	PlannedStmt *pstmt;
} MaskedStatement;

extern MaskedStatement usermap_in_flight;

/*
 * If "pstmt" and "queryString" are the masked copies the masking hook
 * passed down the chain, replace them by the originals.  Called where the
 * chain ends, just before the server's code (or usermap's) executes the
 * statement; libraries between the two hooks saw only the masked text.
 * Inline, because it runs for every utility statement.
 */
static inline void
usermap_unmask_statement(PlannedStmt **pstmt, const char **queryString)
{
	if (unlikely(usermap_in_flight.masked_query != NULL) &&
		*queryString == usermap_in_flight.masked_query &&
		*pstmt == usermap_in_flight.masked_pstmt)
	{
		*queryString = usermap_in_flight.query;
		*pstmt = usermap_in_flight.pstmt;
	}
}

#endif							/* USERMAP_H */
