/*-------------------------------------------------------------------------
 *
 * debug.c
 *	  dblink_debug_state(): the Go core's counters, for leak tests.
 *
 * Not part of the extension's SQL objects (contrib has no such function):
 * a test that wants it declares it itself,
 *   CREATE FUNCTION dblink_debug_state() RETURNS text
 *	   AS '$libdir/dblink', 'dblink_debug_state' LANGUAGE C;
 * It returns e.g. "goroutines=3 connections=1 operations=0 heap_inuse_kb=412".
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
	PG_RETURN_TEXT_P(cstring_to_text(gocore_debug_state()));
}
