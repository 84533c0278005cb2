/*-------------------------------------------------------------------------
 *
 * cursor.c
 *	  SQL entry points for remote cursors: dblink_open, dblink_fetch and
 *	  dblink_close, in all their overloads.
 *
 * The statements are built by concatenation, as contrib builds them
 * (DECLARE <cursor> CURSOR FOR <sql>, FETCH <n> FROM <cursor>, CLOSE
 * <cursor>).  contrib's transaction bookkeeping (BEGIN when the remote is
 * idle, COMMIT after the last cursor dblink opened is closed) lives in the
 * Go core, which runs each sequence as one operation holding the
 * connection.  Fetched rows are stored by the row store (rowstore.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "dblink.h"
#include "fmgr.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(dblink_open);
PG_FUNCTION_INFO_V1(dblink_fetch);
PG_FUNCTION_INFO_V1(dblink_close);

/* The arguments of one call. */
typedef struct CursorArgs
{
	char	   *conname;		/* as passed; NULL = the unnamed connection */
	char	   *key;			/* conname as the registry keys it */
	char	   *curname;
	char	   *sql;			/* dblink_open */
	int			count;			/* dblink_fetch */
	bool		fail;			/* fail_on_error */
} CursorArgs;

/* Whether argument argno is declared boolean (overloads of equal arity). */
static bool
cursor_arg_is_bool(FunctionCallInfo fcinfo, int argno)
{
	return get_fn_expr_argtype(fcinfo->flinfo, argno) == BOOLOID;
}

static char *
cursor_text_arg(FunctionCallInfo fcinfo, int argno)
{
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/* The connection must be open; named forms have no fallback. */
static void
cursor_check_connection(CursorArgs *args)
{
	if (args->conname)
		args->key = dblink_connection_key(args->conname, false);
	if (!dblink_connection_registered(args->key))
		dblink_conn_not_available(args->conname);
}

/*
 * Wait for an open or close operation and return contrib's text result:
 * "OK", or "ERROR" after a remote error reported as a NOTICE.
 */
static char *
cursor_finish_command(DgOp op, CursorArgs *args, const char *action)
{
	DgItem		done;

	if (!dblink_op_finish(op, &done, args->fail, args->conname, action))
		return "ERROR";
	dblink_item_free(&done);
	return "OK";
}

/*
 * dblink_open([conname,] cursor, sql [, fail_on_error]): declare a cursor,
 * beginning a remote transaction first when the remote is idle.
 */
Datum
dblink_open(PG_FUNCTION_ARGS)
{
	CursorArgs	args = {0};
	DgOp		op;
	char	   *action;
	char	   *result;

	args.fail = true;
	if (PG_NARGS() == 2)
	{
		args.curname = cursor_text_arg(fcinfo, 0);
		args.sql = cursor_text_arg(fcinfo, 1);
	}
	else if (PG_NARGS() == 3 && cursor_arg_is_bool(fcinfo, 2))
	{
		args.curname = cursor_text_arg(fcinfo, 0);
		args.sql = cursor_text_arg(fcinfo, 1);
		args.fail = PG_GETARG_BOOL(2);
	}
	else if (PG_NARGS() == 3)
	{
		args.conname = cursor_text_arg(fcinfo, 0);
		args.curname = cursor_text_arg(fcinfo, 1);
		args.sql = cursor_text_arg(fcinfo, 2);
	}
	else if (PG_NARGS() == 4)
	{
		args.conname = cursor_text_arg(fcinfo, 0);
		args.curname = cursor_text_arg(fcinfo, 1);
		args.sql = cursor_text_arg(fcinfo, 2);
		args.fail = PG_GETARG_BOOL(3);
	}
	else
		elog(ERROR, "wrong number of arguments");

	cursor_check_connection(&args);
	dblink_reconnect_if_lost(args.key);
	action = psprintf("while opening cursor \"%s\"", args.curname);
	/* nothing may fail between starting the operation and waiting for it */
	op = gocore_cursor_open(args.key, args.curname, args.sql);
	result = cursor_finish_command(op, &args, action);
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/*
 * dblink_fetch([conname,] cursor, count [, fail_on_error]): the rows of
 * FETCH <count> FROM <cursor>.
 */
Datum
dblink_fetch(PG_FUNCTION_ARGS)
{
	QueryStore *qs = dblink_store_begin(fcinfo);
	CursorArgs	args = {0};
	StoreRun	run = {0};
	bool		had_rows;
	DgOp		op;

	args.fail = true;
	if (PG_NARGS() == 4)
	{
		args.conname = cursor_text_arg(fcinfo, 0);
		args.curname = cursor_text_arg(fcinfo, 1);
		args.count = PG_GETARG_INT32(2);
		args.fail = PG_GETARG_BOOL(3);
	}
	else if (PG_NARGS() == 3 && cursor_arg_is_bool(fcinfo, 2))
	{
		args.curname = cursor_text_arg(fcinfo, 0);
		args.count = PG_GETARG_INT32(1);
		args.fail = PG_GETARG_BOOL(2);
	}
	else if (PG_NARGS() == 3)
	{
		args.conname = cursor_text_arg(fcinfo, 0);
		args.curname = cursor_text_arg(fcinfo, 1);
		args.count = PG_GETARG_INT32(2);
	}
	else if (PG_NARGS() == 2)
	{
		args.curname = cursor_text_arg(fcinfo, 0);
		args.count = PG_GETARG_INT32(1);
	}
	else
		elog(ERROR, "wrong number of arguments");

	cursor_check_connection(&args);
	run.fail = args.fail;
	run.conname = args.conname;
	run.action = psprintf("while fetching from cursor \"%s\"", args.curname);
	op = gocore_cursor_fetch(args.key, args.curname, args.count);
	/* only odd cursor names make the last result a command */
	if (dblink_store_op(qs, op, &run, &had_rows) && !had_rows)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_CURSOR_NAME),
				 errmsg("cursor \"%s\" does not exist", args.curname)));
	dblink_store_end(qs);
	return (Datum) 0;
}

/*
 * dblink_close([conname,] cursor [, fail_on_error]): close a cursor, and
 * commit the remote transaction after the last cursor dblink began it for.
 */
Datum
dblink_close(PG_FUNCTION_ARGS)
{
	CursorArgs	args = {0};
	DgOp		op;
	char	   *action;
	char	   *result;

	args.fail = true;
	if (PG_NARGS() == 1)
		args.curname = cursor_text_arg(fcinfo, 0);
	else if (PG_NARGS() == 2 && cursor_arg_is_bool(fcinfo, 1))
	{
		args.curname = cursor_text_arg(fcinfo, 0);
		args.fail = PG_GETARG_BOOL(1);
	}
	else if (PG_NARGS() == 2)
	{
		args.conname = cursor_text_arg(fcinfo, 0);
		args.curname = cursor_text_arg(fcinfo, 1);
	}
	else if (PG_NARGS() == 3)
	{
		args.conname = cursor_text_arg(fcinfo, 0);
		args.curname = cursor_text_arg(fcinfo, 1);
		args.fail = PG_GETARG_BOOL(2);
	}
	else
		elog(ERROR, "wrong number of arguments");

	cursor_check_connection(&args);
	action = psprintf("while closing cursor \"%s\"", args.curname);
	op = gocore_cursor_close(args.key, args.curname);
	result = cursor_finish_command(op, &args, action);
	PG_RETURN_TEXT_P(cstring_to_text(result));
}
