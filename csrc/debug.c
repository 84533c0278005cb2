/*-------------------------------------------------------------------------
 *
 * debug.c
 *	  dblink_debug_state(): the Go core's counters, for leak tests, and the
 *	  shim's own round trips (direct.c).
 *
 * Not part of the extension's SQL objects (contrib has no such function):
 * a test that wants it declares it itself,
 *   CREATE FUNCTION dblink_debug_state() RETURNS text
 *	   AS '$libdir/dblink', 'dblink_debug_state' LANGUAGE C;
 * It returns e.g. "goroutines=3 connections=1 operations=0 heap_inuse_kb=412
 * ... direct_answered=10 direct_adopted=1 go_calls=42": go_calls counts the
 * shim's calls into the Go core before this one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "dblink.h"
#include "fmgr.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(dblink_debug_state);

Datum
dblink_debug_state(PG_FUNCTION_ARGS)
{
	int64		answered;
	int64		adopted;
	int64		calls;
	char	   *state = gocore_debug_state(&calls);

	dblink_direct_counts(&answered, &adopted);
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s direct_answered=" INT64_FORMAT
											  " direct_adopted=" INT64_FORMAT
											  " go_calls=" INT64_FORMAT,
											  state, answered, adopted, calls)));
}
