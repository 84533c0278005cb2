/*-------------------------------------------------------------------------
 *
 * query.c
 *	  SQL entry points that run remote SQL: dblink(), dblink_exec() and
 *	  dblink_current_query().  A call on an idle registered connection
 *	  makes its round trip in the shim (direct.c); any other starts an
 *	  operation in the Go core.  Rows go to the row store (rowstore.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "dblink.h"
#include "fmgr.h"
#include "foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(dblink_record);
PG_FUNCTION_INFO_V1(dblink_exec);
PG_FUNCTION_INFO_V1(dblink_current_query);

/* Where a call sends its SQL, and how its errors name the connection. */
typedef struct QueryTarget
{
	const char *arg;			/* the first argument: a connection name,
								 * foreign server or connection string; NULL:
								 * the unnamed connection */
	DgTarget	target;			/* a transient connection (query_start) */
	const char *conname;		/* for CONTEXT lines; NULL = "unnamed" */
} QueryTarget;

/*
 * Start sql on the call's target.  A first argument is a connection name,
 * a foreign server or a connection string, tried in contrib's order; the
 * name is tried by the same call into Go that starts the query (a loop of
 * small calls pays for one call, not two).  Without a first argument the
 * unnamed connection must exist.
 */
static DgOp
query_start(QueryTarget *qt, const char *name, const char *sql, DgQueryMode mode)
{
	DgTarget	named = {0};
	DgOp		op;
	char	   *connstr;
	bool		login_scram_keys = false;

	named.if_exists = 1;
	named.name = name;
	op = gocore_query(&named, sql, mode, false);
	if (op != 0)
	{
		qt->conname = qt->arg;
		return op;
	}
	if (qt->arg == NULL)
		dblink_conn_not_available(NULL);

	connstr = dblink_foreign_server_connstr(qt->arg, &login_scram_keys);
	qt->target.connstr = connstr ? connstr : qt->arg;
	return gocore_query(&qt->target, sql, mode, login_scram_keys);
}

/*
 * Decode the overloads (conn, sql [, fail]), (sql [, fail]): with two
 * arguments the declared type of the second one decides.
 */
static void
query_args(FunctionCallInfo fcinfo, QueryTarget *qt, char **sql, bool *fail)
{
	memset(qt, 0, sizeof(*qt));
	*fail = true;
	if (PG_NARGS() == 3)
	{
		qt->arg = text_to_cstring(PG_GETARG_TEXT_PP(0));
		*sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
		*fail = PG_GETARG_BOOL(2);
	}
	else if (PG_NARGS() == 2 &&
			 get_fn_expr_argtype(fcinfo->flinfo, 1) == BOOLOID)
	{
		*sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
		*fail = PG_GETARG_BOOL(1);
	}
	else if (PG_NARGS() == 2)
	{
		qt->arg = text_to_cstring(PG_GETARG_TEXT_PP(0));
		*sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	}
	else if (PG_NARGS() == 1)
	{
		*sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	}
	else
		elog(ERROR, "wrong number of arguments");
}

/*
 * Start sql on the call's target, or run it with a round trip of the
 * shim's own when the target is a registered connection the Go core
 * published idle: DIRECT_ANSWERED leaves the answer in *dc (and no
 * operation).
 */
static DirectOutcome
query_begin(QueryTarget *qt, const char *sql, DgQueryMode mode, DirectCall *dc,
			DgOp *op)
{
	const char *name = qt->arg ? dblink_connection_key(qt->arg, false) : NULL;
	DirectOutcome outcome;

	dblink_reconnect_if_lost(name);
	outcome = dblink_direct_query(dc, name, sql, mode, op);

	if (outcome == DIRECT_NONE)
		*op = query_start(qt, name, sql, mode);
	else
		qt->conname = qt->arg;
	return outcome;
}

/*
 * dblink(conn, sql [, fail_on_error]), dblink(sql [, fail_on_error]):
 * run a query and return the rows of its last result.
 */
Datum
dblink_record(PG_FUNCTION_ARGS)
{
	QueryStore *qs = dblink_store_begin(fcinfo);
	QueryTarget qt;
	StoreRun	run = {0};
	char	   *sql;
	DirectCall	dc;
	DgOp		op = 0;

	query_args(fcinfo, &qt, &sql, &run.fail);
	if (query_begin(&qt, sql, DG_MODE_ROWS, &dc, &op) == DIRECT_ANSWERED)
	{
		PG_TRY();
		{
			dblink_direct_store(&dc, qs);
		}
		PG_FINALLY();
		{
			dblink_direct_end(&dc);
		}
		PG_END_TRY();
		dblink_store_end(qs);
		return (Datum) 0;
	}
	run.keep_on_error = true;
	run.conname = qt.conname;
	run.action = "while executing query";
	(void) dblink_store_op(qs, op, &run, NULL);
	dblink_store_end(qs);
	return (Datum) 0;
}

/*
 * dblink_exec(conn, sql [, fail_on_error]), dblink_exec(sql [, ...]):
 * run a command and return its tag.
 */
Datum
dblink_exec(PG_FUNCTION_ARGS)
{
	QueryTarget qt;
	char	   *sql;
	bool		fail;
	DgItem		done;
	char	   *result;
	DirectCall	dc;
	DgOp		op = 0;

	query_args(fcinfo, &qt, &sql, &fail);
	if (query_begin(&qt, sql, DG_MODE_EXEC, &dc, &op) == DIRECT_ANSWERED)
	{
		bool		had_rows = false;

		PG_TRY();
		{
			result = pstrdup(dblink_direct_tag(&dc, &had_rows));
		}
		PG_FINALLY();
		{
			dblink_direct_end(&dc);
		}
		PG_END_TRY();
		if (had_rows)
			ereport(ERROR,
					(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
					 errmsg("statement returning results not allowed")));
		PG_RETURN_TEXT_P(cstring_to_text(result));
	}
	if (!dblink_op_finish(op, &done, fail, qt.conname, "while executing command"))
		PG_RETURN_TEXT_P(cstring_to_text("ERROR"));
	if (done.had_rows)
	{
		dblink_item_free(&done);
		ereport(ERROR,
				(errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
				 errmsg("statement returning results not allowed")));
	}
	result = pstrdup(done.text ? done.text : "");
	dblink_item_free(&done);
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/* dblink_current_query(): the local statement text, as contrib returns it */
Datum
dblink_current_query(PG_FUNCTION_ARGS)
{
	/* current_query() ignores its arguments */
	return current_query(fcinfo);
}

