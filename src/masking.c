/*-------------------------------------------------------------------------
 *
 * masking.c
 *		  Render user-mapping options without their secrets.
 *
 * The audit trail, the LOG lines written where the extension is not
 * installed, and the usermap.mappings view all show options as a jsonb
 * object of name -> value.  The value of a secret option (secrets.c) is
 * always replaced by the mask; with reveal = false every value is, which
 * is what the view shows for mappings pg_user_mappings would hide from the
 * reader.
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
#include "fmgr.h"
#include "nodes/value.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "masking.h"
#include "options.h"
#include "secrets.h"

PG_FUNCTION_INFO_V1(usermap_mask_options);
PG_FUNCTION_INFO_V1(usermap_secret_option_names);

static void
push_string(JsonbParseState **state, JsonbIteratorToken token, const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	pushJsonbValue(state, token, &v);
}

/*
 * An option list (DefElems with String values, as options.c builds them)
 * as a jsonb object, or NULL for an empty list.
 */
Jsonb *
usermap_options_jsonb(List *options, bool reveal)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;
	ListCell   *cell;

	if (options == NIL)
		return NULL;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	foreach(cell, options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);
		bool		show = reveal && !usermap_is_secret_option(def->defname);

		push_string(&state, WJB_KEY, def->defname);
		push_string(&state, WJB_VALUE, show ? defGetString(def) : USERMAP_MASK);
	}
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);

	return JsonbValueToJsonb(result);
}

/* The option named "name" in "options", or NULL */
static DefElem *
find_option(List *options, const char *name)
{
	ListCell   *cell = usermap_options_find(options, name);

	return cell ? lfirst_node(DefElem, cell) : NULL;
}

/*
 * Names of the options a change added, dropped or gave another value, in
 * the order of the new list followed by the dropped ones.  SET to the
 * value an option already had is no change.
 */
List *
usermap_changed_options(List *old_options, List *new_options)
{
	List	   *changed = NIL;
	ListCell   *cell;

	foreach(cell, new_options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);
		DefElem    *old = find_option(old_options, def->defname);

		if (old == NULL || strcmp(defGetString(old), defGetString(def)) != 0)
			changed = lappend(changed, def->defname);
	}
	foreach(cell, old_options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);

		if (find_option(new_options, def->defname) == NULL)
			changed = lappend(changed, def->defname);
	}
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
