/*-------------------------------------------------------------------------
 *
 * options.c
 *		  Decode, merge, encode and validate user-mapping option lists.
 *
 * pg_user_mapping.umoptions is a text[] of "name=value" strings.  ALTER
 * USER MAPPING ... OPTIONS (ADD | SET | DROP ...) edits that list; CREATE
 * builds one from nothing.  The server does this in transformGenericOptions
 * (foreigncmds.c); usermap does it here so that the old and new lists are
 * in its hands for the layers that record history.  The rules, the order
 * in which they are checked and the messages are the server's:
 *
 *	- all actions are applied first, in statement order: ADD (or no action)
 *	  fails on a name already present, SET and DROP on a name absent;
 *	- then the result is encoded, which rejects a name containing "=";
 *	- then the wrapper's validator sees the encoded array (an empty array
 *	  when no option remains).
 *
 * Portions Copyright (c) 2026, usermap developers
 *
 * src/options.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "usermap.h"

/*
 * Decode a stored options array into a list of DefElem.
 *
 * A NULL pointer datum (SQL NULL umoptions) decodes to NIL.  Each element
 * is split at its first "=", the same rule untransformRelOptions applies.
 */
List *
usermap_options_decode(Datum array)
{
	List	   *result = NIL;
	Datum	   *elems;
	int			nelems;

	if (DatumGetPointer(array) == NULL)
		return NIL;

	deconstruct_array(DatumGetArrayTypeP(array), TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, NULL, &nelems);

	for (int i = 0; i < nelems; i++)
	{
		char	   *name = TextDatumGetCString(elems[i]);
		char	   *eq = strchr(name, '=');
		Node	   *value = NULL;

		if (eq)
		{
			*eq = '\0';
			value = (Node *) makeString(pstrdup(eq + 1));
		}
		result = lappend(result, makeDefElem(name, value, -1));
	}

	return result;
}

/*
 * Return the cell of "options" whose name is "name", or NULL.  Names are
 * compared exactly, as the server compares them.
 */
ListCell *
usermap_options_find(List *options, const char *name)
{
	ListCell   *cell;

	foreach(cell, options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);

		if (strcmp(def->defname, name) == 0)
			return cell;
	}
	return NULL;
}

/*
 * Apply the statement's option actions to "current" and return the result.
 *
 * "current" is modified in place (it is always a list decoded just for this
 * statement); the statement's own DefElems are linked into the result but
 * never changed, so a read-only parse tree stays intact.
 *
 * The standard permits several SET/DROP actions on the same option within
 * one statement, as long as the options to be added are unique.
 */
List *
usermap_options_apply(List *current, List *actions)
{
	ListCell   *actcell;

	foreach(actcell, actions)
	{
		DefElem    *action = lfirst_node(DefElem, actcell);
		ListCell   *cell = usermap_options_find(current, action->defname);

		switch (action->defaction)
		{
			case DEFELEM_DROP:
				if (!cell)
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_OBJECT),
							 errmsg("option \"%s\" not found",
									action->defname)));
				current = list_delete_cell(current, cell);
				break;

			case DEFELEM_SET:
				if (!cell)
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_OBJECT),
							 errmsg("option \"%s\" not found",
									action->defname)));
				lfirst(cell) = action;
				break;

			case DEFELEM_ADD:
			case DEFELEM_UNSPEC:
				if (cell)
					ereport(ERROR,
							(errcode(ERRCODE_DUPLICATE_OBJECT),
							 errmsg("option \"%s\" provided more than once",
									action->defname)));
				current = lappend(current, action);
				break;

			default:
				elog(ERROR, "unrecognized action %d on option \"%s\"",
					 (int) action->defaction, action->defname);
				break;
		}
	}

	return current;
}

/*
 * Encode an option list as the text[] stored in umoptions.
 *
 * Returns a NULL pointer datum for an empty list; the catalog then stores
 * SQL NULL, as the server does.
 */
Datum
usermap_options_encode(List *options)
{
	ArrayBuildState *astate = NULL;
	ListCell   *cell;

	foreach(cell, options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);
		const char *value;
		Size		len;
		text	   *t;

		value = defGetString(def);

		/* Insist that name not contain "=", else "a=b=c" is ambiguous */
		if (strchr(def->defname, '=') != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid option name \"%s\": must not contain \"=\"",
							def->defname)));

		len = VARHDRSZ + strlen(def->defname) + 1 + strlen(value);
		/* +1 leaves room for snprintf's trailing null */
		t = palloc(len + 1);
		SET_VARSIZE(t, len);
		snprintf(VARDATA(t), len + 1 - VARHDRSZ, "%s=%s", def->defname, value);

		astate = accumArrayResult(astate, PointerGetDatum(t), false,
								  TEXTOID, CurrentMemoryContext);
	}

	if (astate)
		return makeArrayResult(astate, CurrentMemoryContext);

	return PointerGetDatum(NULL);
}

/*
 * Run the foreign-data wrapper's validator, if it has one, on an encoded
 * option array.  A null list is passed as an empty array so that
 * validators need not be declared non-strict.
 */
void
usermap_options_validate(Oid validator, Oid catalogId, Datum array)
{
	if (!OidIsValid(validator))
		return;

	if (DatumGetPointer(array) == NULL)
		array = PointerGetDatum(construct_empty_array(TEXTOID));

	OidFunctionCall2(validator, array, ObjectIdGetDatum(catalogId));
}
