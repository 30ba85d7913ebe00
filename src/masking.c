/*-------------------------------------------------------------------------
 *
 * masking.c
 *		  Render user-mapping options without their secrets.
 *
 * The audit trail, the LOG lines written where the extension is not
 * installed, and the usermap.mappings view all show options as a jsonb
 * object of name -> value.  The value of a secret option (secrets.c) is
 * always replaced by the mask; with reveal = false every value is, which
 * is what the views show for mappings pg_user_mappings would hide from the
 * reader.
 *
 * The one visibility rule (usermap_options_visible_to) decides "reveal"
 * for every place a non-superuser can read option values: the mappings
 * view, and the audit trail's option columns and statement text.
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/masking.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "common/sha2.h"
#include "foreign/foreign.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "fmgr.h"
#include "nodes/value.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "usermap.h"
#include "usermap_compat.h"

PG_FUNCTION_INFO_V1(usermap_mask_options);
PG_FUNCTION_INFO_V1(usermap_mask_option_values);
PG_FUNCTION_INFO_V1(usermap_mask_statement);
PG_FUNCTION_INFO_V1(usermap_options_visible);
PG_FUNCTION_INFO_V1(usermap_secret_option_names);

static void
push_string(usermap_jsonb_builder *state, JsonbIteratorToken token,
			const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	usermap_push_jsonb_value(state, token, &v);
}

/*
 * jsonb's order of object keys (jsonb_util.c's lengthCompareJsonbPair):
 * shorter keys first, keys of one length bytewise; of two equal keys, the
 * one given later first, so that it is the one kept, as pushJsonbValue
 * keeps it.
 */
static int
jsonb_pair_cmp(const void *a, const void *b)
{
	const JsonbPair *pa = (const JsonbPair *) a;
	const JsonbPair *pb = (const JsonbPair *) b;
	int			alen = pa->key.val.string.len;
	int			blen = pb->key.val.string.len;
	int			res;

	if (alen != blen)
		return alen > blen ? 1 : -1;
	res = memcmp(pa->key.val.string.val, pb->key.val.string.val, alen);
	if (res != 0)
		return res;
	return pa->order > pb->order ? -1 : 1;
}

static void
set_jsonb_string(JsonbValue *v, const char *s)
{
	v->type = jbvString;
	v->val.string.val = (char *) s;
	v->val.string.len = strlen(s);
}

/*
 * The pairs of an option list (DefElems with String values, as options.c
 * builds them), each value masked unless "reveal" and not a secret, in
 * the order jsonb stores them and unique as it keeps them.  Option names
 * are unique in any list the server accepts; were one repeated, the last
 * would be kept, as pushJsonbValue keeps it.  Sets *npairs.
 */
static JsonbPair *
option_pairs(List *options, bool reveal, int *npairs)
{
	int			n = 0;
	JsonbPair  *pairs;
	ListCell   *cell;

	pairs = palloc((list_length(options) + 1) * sizeof(JsonbPair));
	foreach(cell, options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);
		bool		show = reveal && !usermap_is_secret_option(def->defname);
		JsonbPair  *pair = &pairs[n];

		set_jsonb_string(&pair->key, def->defname);
		set_jsonb_string(&pair->value, show ? defGetString(def) : USERMAP_MASK);
		pair->order = n++;
	}
	if (n > 1)
	{
		int			kept = 1;

		qsort(pairs, n, sizeof(JsonbPair), jsonb_pair_cmp);
		for (int i = 1; i < n; i++)
		{
			JsonbValue *last = &pairs[kept - 1].key;

			if (pairs[i].key.val.string.len == last->val.string.len &&
				memcmp(pairs[i].key.val.string.val, last->val.string.val,
					   last->val.string.len) == 0)
				continue;
			pairs[kept++] = pairs[i];
		}
		n = kept;
	}
	*npairs = n;
	return pairs;
}

static Jsonb *
pairs_to_jsonb(JsonbPair *pairs, int npairs)
{
	JsonbValue	object;

	object.type = jbvObject;
	object.val.object.nPairs = npairs;
	object.val.object.pairs = pairs;
	return JsonbValueToJsonb(&object);
}

/*
 * An option list as a jsonb object, or NULL for an empty list.
 *
 * Every change builds up to two of these for its audit row, so the object
 * is handed to JsonbValueToJsonb whole, its pairs sorted and unique as
 * jsonb stores them, rather than pushed one value at a time through
 * pushJsonbValue, which does the same work in more steps.
 */
Jsonb *
usermap_options_jsonb(List *options, bool reveal)
{
	JsonbPair  *pairs;
	int			npairs;

	if (options == NIL)
		return NULL;
	pairs = option_pairs(options, reveal, &npairs);
	return pairs_to_jsonb(pairs, npairs);
}

/*
 * The marker that ends a list the audit trail cut: longer than any
 * identifier (NAMEDATALEN - 1 bytes), so that it can never be the name of
 * an option.
 */
static char *
trail_marker(int left, const char *what)
{
	char	   *marker = psprintf("[usermap: %d more %s not kept: the audit trail keeps %d %s per list]",
								  left, what, USERMAP_TRAIL_OPTIONS_KEEP, what);

	Assert(strlen(marker) >= NAMEDATALEN);
	return marker;
}

/*
 * "value" as the audit trail keeps it: as it is, or, past
 * USERMAP_TRAIL_VALUE_KEEP bytes, its first whole characters up to that
 * length and a marker with its length.  Only readers who may see the
 * value see the marker: the views mask a value whole.
 */
static void
bound_value(JsonbValue *value)
{
	const char *s = value->val.string.val;
	int			len = value->val.string.len;
	int			keep;

	if (len <= USERMAP_TRAIL_VALUE_KEEP)
		return;
	keep = pg_mbcliplen(s, len, USERMAP_TRAIL_VALUE_KEEP);
	set_jsonb_string(value,
					 psprintf("%.*s ...[usermap: value truncated to %d of %d bytes]",
							  keep, s, keep, len));
}

/*
 * An option list as the audit trail (and the server-log line of a change
 * usermap could not record) keeps it, or NULL for an empty list: what
 * usermap_options_jsonb(options, true) gives, bounded.  Any role with
 * USAGE on a server can give its own mapping options of any length and
 * number, and every change is recorded with the lists before and after,
 * so each value is cut (bound_value), and past the first
 * USERMAP_TRAIL_OPTIONS_KEEP pairs in jsonb's order the rest are left out
 * and one last pair, its key the marker and its value empty, says how
 * many.  What is kept depends on the names and their number alone, never
 * on a value's length: the views show the keys to readers from whom they
 * hide the values.
 */
Jsonb *
usermap_trail_options_jsonb(List *options)
{
	JsonbPair  *pairs;
	int			npairs;

	if (options == NIL)
		return NULL;
	pairs = option_pairs(options, true, &npairs);
	for (int i = 0; i < npairs; i++)
	{
		if (i == USERMAP_TRAIL_OPTIONS_KEEP)
		{
			/* longer than any name, the marker sorts after every one */
			set_jsonb_string(&pairs[i].key,
							 trail_marker(npairs - i, "options"));
			set_jsonb_string(&pairs[i].value, "");
			npairs = i + 1;
			break;
		}
		bound_value(&pairs[i].value);
	}
	return pairs_to_jsonb(pairs, npairs);
}

/*
 * "names" (changed_options) as the audit trail keeps it: past the first
 * USERMAP_TRAIL_OPTIONS_KEEP names the rest are left out and the marker
 * says how many.
 */
List *
usermap_trail_names(List *names)
{
	int			n = list_length(names);

	if (n <= USERMAP_TRAIL_OPTIONS_KEEP)
		return names;
	return lappend(list_truncate(list_copy(names), USERMAP_TRAIL_OPTIONS_KEEP),
				   trail_marker(n - USERMAP_TRAIL_OPTIONS_KEEP, "names"));
}

/*
 * An option of the old list, for usermap_changed_options: its name and
 * value, and its place in the list.
 */
typedef struct OldOption
{
	const char *name;
	const char *value;
	int			pos;
} OldOption;

/* by name, then by place in the list */
static int
old_option_cmp(const void *a, const void *b)
{
	const OldOption *oa = (const OldOption *) a;
	const OldOption *ob = (const OldOption *) b;
	int			res = strcmp(oa->name, ob->name);

	if (res != 0)
		return res;
	return (oa->pos > ob->pos) - (oa->pos < ob->pos);
}

/*
 * The first of the "n" sorted options named "name", or NULL.
 */
static OldOption *
find_old_option(OldOption *sorted, int n, const char *name)
{
	int			lo = 0;
	int			hi = n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (strcmp(sorted[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && strcmp(sorted[lo].name, name) == 0)
		return &sorted[lo];
	return NULL;
}

/*
 * Names of the options a change added, dropped, gave another value or
 * named in a SET ("stmt_options", the DefElems of an ALTER; NIL for CREATE
 * and DROP), in the order of the new list followed by the dropped ones.
 * An option name is compared with the first option of that name in the
 * old list, as the server's transformGenericOptions finds it.
 *
 * A SET counts whether or not the value was the one the option had: core's
 * ALTER answers the same either way, and a role that may change an option
 * without seeing its value (a server owner, for a secret or for another
 * role's mapping) must not learn from the trail, or from
 * secret_changed_at, whether a value it tried was the old one.  The rows
 * are written once for every reader, so the rule holds for all of them.
 *
 * The old list is sorted once and searched by bisection, so that a change
 * to a list of n options costs O(n log n) here, not O(n^2): the server's
 * own ALTER already grows with the square of the option count, and
 * recording the change must not add to that growth.
 */
List *
usermap_changed_options(List *old_options, List *new_options,
						List *stmt_options)
{
	List	   *changed = NIL;
	int			nold = list_length(old_options);
	OldOption  *sorted;
	bool	   *kept;
	bool	   *set;
	ListCell   *cell;
	int			i = 0;

	/* CREATE, and a drop: every name changed, nothing to compare */
	if (nold == 0 || new_options == NIL)
	{
		foreach(cell, nold == 0 ? new_options : old_options)
			changed = lappend(changed, lfirst_node(DefElem, cell)->defname);
		return changed;
	}

	sorted = palloc(nold * sizeof(OldOption));
	kept = palloc0(nold * sizeof(bool));
	foreach(cell, old_options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);

		sorted[i].name = def->defname;
		sorted[i].value = defGetString(def);
		sorted[i].pos = i;
		i++;
	}
	qsort(sorted, nold, sizeof(OldOption), old_option_cmp);

	/* the old options the statement SETs, by their place in the old list */
	set = palloc0(nold * sizeof(bool));
	foreach(cell, stmt_options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);
		OldOption  *old;

		if (def->defaction != DEFELEM_SET)
			continue;
		old = find_old_option(sorted, nold, def->defname);
		if (old != NULL)
			set[old->pos] = true;
	}

	foreach(cell, new_options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);
		OldOption  *old = find_old_option(sorted, nold, def->defname);

		if (old == NULL || set[old->pos] ||
			strcmp(old->value, defGetString(def)) != 0)
			changed = lappend(changed, def->defname);
		/* every old option of this name is kept, once */
		if (old != NULL && !kept[old->pos])
			for (; old < sorted + nold &&
				 strcmp(old->name, def->defname) == 0; old++)
				kept[old->pos] = true;
	}

	i = 0;
	foreach(cell, old_options)
	{
		if (!kept[i++])
			changed = lappend(changed, lfirst_node(DefElem, cell)->defname);
	}

	pfree(sorted);
	pfree(kept);
	pfree(set);
	return changed;
}

/*
 * Is any of these option names a secret?
 */
bool
usermap_any_secret(List *names)
{
	ListCell   *cell;

	foreach(cell, names)
	{
		if (usermap_is_secret_option((const char *) lfirst(cell)))
			return true;
	}
	return false;
}

/*
 * usermap.mask_options(options text[], reveal boolean) returns jsonb
 *
 * A NULL array (no options) gives NULL; a NULL reveal counts as false.
 */
Datum
usermap_mask_options(PG_FUNCTION_ARGS)
{
	List	   *options;
	Jsonb	   *result;
	bool		reveal;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	reveal = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);

	options = usermap_options_decode(PG_GETARG_DATUM(0));
	result = usermap_options_jsonb(options, reveal);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(result);
}

/*
 * usermap.secret_option_names(options text[]) returns text[]
 *
 * The names of the secret options present, as an array (empty if none).
 */
Datum
usermap_secret_option_names(PG_FUNCTION_ARGS)
{
	List	   *options = usermap_options_decode(PG_GETARG_DATUM(0));
	ArrayBuildState *astate = initArrayResult(TEXTOID, CurrentMemoryContext,
											  false);
	ListCell   *cell;

	foreach(cell, options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);

		if (usermap_is_secret_option(def->defname))
			astate = accumArrayResult(astate, CStringGetTextDatum(def->defname),
									  false, TEXTOID, CurrentMemoryContext);
	}
	PG_RETURN_DATUM(makeArrayResult(astate, CurrentMemoryContext));
}

/*
 * May the current user see the option values of the mapping of "umuser"
 * (ACL_ID_PUBLIC for the public mapping) on "serverid"?  Exactly when
 * pg_user_mappings would show that mapping's umoptions to it:
 *
 *	- superusers see every mapping's;
 *	- a role sees its own mapping's if it has USAGE on the server or the
 *	  privileges of the server's owner;
 *	- the public mapping's are seen with the privileges of the server's
 *	  owner.
 *
 * The server's owner does not see another role's mapping: neither does
 * pg_user_mappings show it.
 */
bool
usermap_options_visible_to(Oid umuser, Oid serverid)
{
	Oid			me = GetUserId();
	ForeignServer *server;

	if (superuser_arg(me))
		return true;
	server = GetForeignServerExtended(serverid, FSV_MISSING_OK);
	if (server == NULL)
		return false;
	if (umuser == ACL_ID_PUBLIC)
		return has_privs_of_role(me, server->owner);
	return umuser == me &&
		(has_privs_of_role(me, server->owner) ||
		 usermap_server_aclcheck(serverid, me, ACL_USAGE) == ACLCHECK_OK);
}

/*
 * usermap.options_visible(server_name text, user_name text) returns boolean
 *
 * The rule above for the mapping named by a row of the views: its server
 * and user names (usermap.user_name()'s spelling).  A server or role that
 * no longer exists leaves only superusers seeing the values: nobody else
 * could see them in pg_user_mappings.
 */
Datum
usermap_options_visible(PG_FUNCTION_ARGS)
{
	ForeignServer *server;
	Oid			umuser;

	if (superuser_arg(GetUserId()))
		PG_RETURN_BOOL(true);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(false);
	server = GetForeignServerByName(text_to_cstring(PG_GETARG_TEXT_PP(0)), true);
	umuser = usermap_mapping_user_oid(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	if (server == NULL || (!OidIsValid(umuser) && umuser != ACL_ID_PUBLIC))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(usermap_options_visible_to(umuser, server->serverid));
}

/*
 * usermap.mask_option_values(options jsonb, reveal boolean) returns jsonb
 *
 * Options as the audit trail stores them (secrets already masked); with
 * reveal false (or NULL) every value is replaced by the mask.
 */
Datum
usermap_mask_option_values(PG_FUNCTION_ARGS)
{
	Jsonb	   *options;
	usermap_jsonb_builder state = {0};
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken token;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	options = PG_GETARG_JSONB_P(0);
	if ((!PG_ARGISNULL(1) && PG_GETARG_BOOL(1)) || !JB_ROOT_IS_OBJECT(options))
		PG_RETURN_JSONB_P(options);

	it = JsonbIteratorInit(&options->root);
	while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (token == WJB_VALUE)
		{
			push_string(&state, WJB_VALUE, USERMAP_MASK);
			continue;
		}
		usermap_push_jsonb_value(&state, token,
								 token < WJB_BEGIN_ARRAY ? &v : NULL);
	}
	PG_RETURN_JSONB_P(JsonbValueToJsonb(state.result));
}

/*
 * Step back from "end" over the bytes in "chars": where the run begins if
 * it is one to "most" bytes long, else NULL.  No byte before "end" is NUL
 * (the text is a C string), which strchr() would find in any "chars".
 */
static const char *
back_over(const char *start, const char *end, const char *chars, int most)
{
	const char *p = end;

	while (p > start && end - p <= most && strchr(chars, p[-1]) != NULL)
		p--;
	if (p == end || end - p > most)
		return NULL;
	return p;
}

/*
 * Step back over the literal "lit" ending at "end"; NULL if it is not there.
 */
static const char *
back_over_literal(const char *start, const char *end, const char *lit)
{
	size_t		n = strlen(lit);

	if (end == NULL || (size_t) (end - start) < n ||
		memcmp(end - n, lit, n) != 0)
		return NULL;
	return end - n;
}

/*
 * Where the marker that ends a statement cut for the audit trail begins
 * (see USERMAP_STATEMENT_CUT_HEAD), or NULL if "s" does not end with one
 * exactly as bound_statement (catalog.c) writes it: the number of bytes
 * kept, at most USERMAP_STATEMENT_KEEP, no leading zero, and equal to the
 * length of the text before the marker; the whole length, at most 20
 * digits (a size_t); a hash of 64 lower-case hex digits.  Read from the
 * end, so that the work is bounded whatever the text.  The marker holds
 * only those two numbers and the hash, never a value.
 */
static const char *
statement_cut_marker(const char *s, size_t len)
{
	const char *end = s + len;
	const char *p;
	const char *kept;
	const char *marker;

	p = back_over_literal(s, end, "]");
	/* lower-case hex, as bound_statement (catalog.c) writes it */
	p = p ? back_over(s, p, "0123456789abcdef", 2 * PG_SHA256_DIGEST_LENGTH) : NULL;
	if (p == NULL || end - 1 - p != 2 * PG_SHA256_DIGEST_LENGTH)
		return NULL;
	p = back_over_literal(s, p, USERMAP_STATEMENT_CUT_MIDDLE);
	p = p ? back_over(s, p, "0123456789", 20) : NULL;
	p = back_over_literal(s, p, " of ");
	StaticAssertStmt(USERMAP_STATEMENT_KEEP < 10000,
					 "the bytes kept are read as at most 4 digits");
	kept = p ? back_over(s, p, "0123456789", 4) : NULL;
	marker = back_over_literal(s, kept, USERMAP_STATEMENT_CUT_HEAD);
	if (marker == NULL || *kept == '0' ||
		atoi(kept) != marker - s || marker - s > USERMAP_STATEMENT_KEEP)
		return NULL;
	return marker;
}

/*
 * usermap.mask_statement(statement text, reveal boolean) returns text
 *
 * A statement as the audit trail stores it (secrets already masked); with
 * reveal false (or NULL) every option value in it is masked.  The marker
 * that ends a statement cut for the trail is shown as it is, after the
 * text before it is masked: masked with it, the marker, which is not SQL,
 * made the masking fail closed and mask everything from the cut statement's
 * option list to the end, the marker too.  The kept text alone may end
 * inside an option list, a value or a comment; then everything from the
 * option list on is masked, names included.
 */
Datum
usermap_mask_statement(PG_FUNCTION_ARGS)
{
	text	   *statement;
	char	   *str;
	const char *marker;
	char	   *masked;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	statement = PG_GETARG_TEXT_PP(0);
	if (!PG_ARGISNULL(1) && PG_GETARG_BOOL(1))
		PG_RETURN_TEXT_P(statement);
	str = text_to_cstring(statement);
	marker = statement_cut_marker(str, strlen(str));
	if (marker != NULL)
	{
		char	   *before = pnstrdup(str, marker - str);

		masked = usermap_redact_every_value(before);
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s%s",
												  masked ? masked : before,
												  marker)));
	}
	masked = usermap_redact_every_value(str);
	if (masked == NULL)
		PG_RETURN_TEXT_P(statement);
	PG_RETURN_TEXT_P(cstring_to_text(masked));
}
