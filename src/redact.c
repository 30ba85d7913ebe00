/* placeholder: the redactor is being written (see include/redact.h) */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "redact.h"

bool		usermap_redact_enabled = true;

bool
usermap_redact_needed(const char *text)
{
	return false;
}

char *
usermap_redact(const char *text)
{
	return NULL;
}

PG_FUNCTION_INFO_V1(usermap_redact_sql);

Datum
usermap_redact_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(PG_GETARG_TEXT_PP(0));
}
