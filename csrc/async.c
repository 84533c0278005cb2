/*-------------------------------------------------------------------------
 *
 * async.c
 *	  SQL entry points for asynchronous queries and notifications:
 *	  dblink_send_query, dblink_is_busy, dblink_get_result,
 *	  dblink_cancel_query, dblink_error_message and dblink_get_notify.
 *
 * Async queries work on named connections only.  As with libpq, a sent
 * query's results are read when asked for: dblink_is_busy reads what has
 * arrived without waiting, and each dblink_get_result call takes one result
 * (then one empty set ends the query), waiting on the remote socket.  An
 * interrupt while waiting for a result cancels the query, remote side
 * included.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "dblink.h"
#include "fmgr.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(dblink_send_query);
PG_FUNCTION_INFO_V1(dblink_is_busy);
PG_FUNCTION_INFO_V1(dblink_get_result);
PG_FUNCTION_INFO_V1(dblink_cancel_query);
PG_FUNCTION_INFO_V1(dblink_error_message);
PG_FUNCTION_INFO_V1(dblink_get_notify);

/*
 * The registry key of a named connection that must be open (contrib's
 * dblink_get_named_conn: no fallback to a connection string).
 */
static char *
async_named_key(const char *conname)
{
	char	   *key = dblink_connection_key(conname, false);

	if (!dblink_connection_registered(key))
		dblink_conn_not_available(conname);
	return key;
}

/*
 * dblink_send_query(conname, sql): 1 once sent, or 0 with a NOTICE when
 * the connection cannot take it (another query is in progress).
 */
Datum
dblink_send_query(PG_FUNCTION_ARGS)
{
	char	   *conname = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *notice;
	int			rc;

	char	   *key = async_named_key(conname);

	dblink_reconnect_if_lost(key);
	rc = gocore_send_query(key, sql, &notice);
	if (rc != 1)
		ereport(NOTICE,
				(errcode(ERRCODE_SUCCESSFUL_COMPLETION),
				 errmsg_internal("%s", notice)));
	PG_RETURN_INT32(rc);
}

/* dblink_is_busy(conname): 1 while the sent query has no result ready */
Datum
dblink_is_busy(PG_FUNCTION_ARGS)
{
	char	   *conname = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_INT32(gocore_is_busy(async_named_key(conname)) ? 1 : 0);
}

/*
 * dblink_get_result(conname [, fail_on_error]): the next result of the
 * sent query; an empty set once none is left.
 */
Datum
dblink_get_result(PG_FUNCTION_ARGS)
{
	QueryStore *qs = dblink_store_begin(fcinfo);
	char	   *conname = text_to_cstring(PG_GETARG_TEXT_PP(0));
	StoreRun	run = {0};
	DgOp		op;

	run.fail = PG_NARGS() == 2 ? PG_GETARG_BOOL(1) : true;
	op = gocore_get_result(async_named_key(conname));
	if (op != 0)
	{
		run.one_result = true;
		run.conname = conname;
		run.action = "while executing query";
		(void) dblink_store_op(qs, op, &run, NULL);
	}

	dblink_store_end(qs);
	return (Datum) 0;
}

/*
 * dblink_cancel_query(conname): ask the remote server to cancel what the
 * connection runs; "OK", or why the request failed.
 */
Datum
dblink_cancel_query(PG_FUNCTION_ARGS)
{
	char	   *conname = text_to_cstring(PG_GETARG_TEXT_PP(0));
	DgOp		op = gocore_cancel_query(async_named_key(conname));

	dblink_wait_mark(op, DBLINK_WAIT_OTHER);
	PG_RETURN_TEXT_P(cstring_to_text(dblink_op_text(op)));
}

/* dblink_error_message(conname): libpq's last error text, or "OK" */
Datum
dblink_error_message(PG_FUNCTION_ARGS)
{
	char	   *conname = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(cstring_to_text(gocore_error_message(async_named_key(conname))));
}

/*
 * dblink_get_notify([conname]): the notifications received on a
 * connection and not yet returned, each once, in arrival order.  Without a
 * name and without an unnamed connection: an empty set.
 */
Datum
dblink_get_notify(PG_FUNCTION_ARGS)
{
	QueryStore *qs = dblink_store_begin(fcinfo);
	StoreRun	run = {0};
	char	   *key = NULL;

	if (PG_NARGS() == 1)
		key = async_named_key(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	else if (!dblink_connection_registered(NULL))
	{
		dblink_store_end(qs);
		return (Datum) 0;
	}

	/* no remote query runs: errors are raised as is */
	(void) dblink_store_op(qs, gocore_get_notify(key), &run, NULL);
	dblink_store_end(qs);
	return (Datum) 0;
}
