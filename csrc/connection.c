/*-------------------------------------------------------------------------
 *
 * connection.c
 *	  SQL entry points that open, close and list dblink connections:
 *	  dblink_connect(_u), dblink_disconnect, dblink_get_connections and
 *	  (version 1.3) dblink_connections.
 *
 * The registry itself lives in the Go core; this file resolves names and
 * foreign servers, waits for the Go core and reports as contrib does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "dblink.h"
#include "fmgr.h"
#include "foreign.h"
#include "parser/scansup.h"
#include "utils/array.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(dblink_connect);
PG_FUNCTION_INFO_V1(dblink_disconnect);
PG_FUNCTION_INFO_V1(dblink_get_connections);
PG_FUNCTION_INFO_V1(dblink_connections);

/*
 * A connection name as the registry keys it: truncated to NAMEDATALEN - 1
 * bytes on a character boundary, with contrib's NOTICE when warn is set.
 */
char *
dblink_connection_key(const char *name, bool warn)
{
	char	   *key = pstrdup(name);

	truncate_identifier(key, strlen(key), warn);
	return key;
}

/*
 * Open a connection (named conname, the unnamed one when NULL) from arg, a
 * connection string or a foreign server's name, and wait for it; with
 * replace, it takes the place of the one registered under conname.
 */
static char *
connection_open(const char *conname, const char *arg, bool replace)
{
	const char *connstr = arg;
	char	   *server_connstr;
	const char *server = NULL;
	bool		login_scram_keys = false;
	DgOp		op;

	/* a foreign server's name stands for its options and the user mapping */
	server_connstr = dblink_foreign_server_connstr(arg, &login_scram_keys);
	if (server_connstr != NULL)
	{
		server = arg;
		connstr = server_connstr;
	}

	op = gocore_connect(conname, connstr, server, login_scram_keys, replace);
	dblink_wait_mark(op, DBLINK_WAIT_CONNECT);
	return dblink_op_text(op);
}

/*
 * dblink_connect(connstr) and dblink_connect(name, connstr); also
 * dblink_connect_u, which differs only in being SECURITY DEFINER.
 */
Datum
dblink_connect(PG_FUNCTION_ARGS)
{
	char	   *conname = NULL;
	char	   *arg;

	if (PG_NARGS() == 2)
	{
		conname = dblink_connection_key(text_to_cstring(PG_GETARG_TEXT_PP(0)), true);
		arg = text_to_cstring(PG_GETARG_TEXT_PP(1));
	}
	else
		arg = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(cstring_to_text(connection_open(conname, arg, false)));
}

/*
 * dblink.reconnect: at the start of a call on a connection (unnamed when
 * name is NULL) whose remote side went away while it was idle, and on
 * which nothing depended (no remote transaction, cursor or async query),
 * open it again from what it was opened from, with the foreign server
 * resolved and the password rule applied anew.  A connection the shim
 * sees idle and quiet costs no call into the Go core.  Otherwise the call
 * goes on, and fails as it would.
 */
void
dblink_reconnect_if_lost(const char *name)
{
	char	   *server;
	char	   *connstr;

	if (!dblink_reconnect || dblink_direct_presence(name) != DIRECT_UNSURE)
		return;
	if (gocore_lost(name, &server, &connstr) != DG_LOST_RECONNECT)
		return;
	if (name)
		ereport(NOTICE,
				(errmsg("dblink connection \"%s\" was lost, reconnecting", name),
				 errdetail("The remote server closed the connection while it was idle.")));
	else
		ereport(NOTICE,
				(errmsg("the unnamed dblink connection was lost, reconnecting"),
				 errdetail("The remote server closed the connection while it was idle.")));
	(void) connection_open(name, server ? server : connstr, true);
}

/* dblink_disconnect() and dblink_disconnect(name) */
Datum
dblink_disconnect(PG_FUNCTION_ARGS)
{
	char	   *conname = NULL;

	if (PG_NARGS() == 1)
		conname = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (!gocore_disconnect(conname ? dblink_connection_key(conname, false) : NULL))
		dblink_conn_not_available(conname);

	PG_RETURN_TEXT_P(cstring_to_text("OK"));
}

/* dblink_get_connections(): the named connections, or NULL when none */
Datum
dblink_get_connections(PG_FUNCTION_ARGS)
{
	int			count;
	char	   *names = gocore_connection_names(&count);
	ArrayBuildState *astate = NULL;
	int			i;

	if (names == NULL)
		PG_RETURN_NULL();

	for (i = 0; i < count; i++)
	{
		astate = accumArrayResult(astate, CStringGetTextDatum(names),
								  false, TEXTOID, CurrentMemoryContext);
		names += strlen(names) + 1;
	}
	PG_RETURN_DATUM(makeArrayResult(astate, CurrentMemoryContext));
}

/* A text column's datum, or NULL. */
static Datum
connection_text(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/* Microseconds since the Unix epoch as a timestamptz, or NULL for 0. */
static Datum
connection_time(int64_t unix_us, bool *isnull)
{
	*isnull = (unix_us == 0);
	return TimestampTzGetDatum(unix_us -
							   ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY));
}

/*
 * dblink_connections() (version 1.3): one row per connection of this
 * session, from what the Go core knows; nothing is sent to any remote.
 */
Datum
dblink_connections(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	DgConnInfo *infos;
	int			count;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	infos = gocore_connections(&count);
	for (i = 0; i < count; i++)
	{
		const DgConnInfo *c = &infos[i];
		Datum		values[19];
		bool		nulls[19] = {0};

		values[0] = connection_text(c->name, &nulls[0]);
		values[1] = connection_text(c->server, &nulls[1]);
		values[2] = connection_text(c->host, &nulls[2]);
		values[3] = Int32GetDatum(c->port);
		nulls[3] = (c->port == 0);
		values[4] = connection_text(c->dbname, &nulls[4]);
		values[5] = connection_text(c->user, &nulls[5]);
		values[6] = Int32GetDatum(c->remote_pid);
		nulls[6] = (c->remote_pid == 0);
		values[7] = connection_text(c->server_version, &nulls[7]);
		values[8] = BoolGetDatum(c->ssl != 0);
		values[9] = connection_text(c->status, &nulls[9]);
		values[10] = connection_text(c->transaction, &nulls[10]);
		values[11] = BoolGetDatum(c->busy != 0);
		values[12] = Int32GetDatum(c->open_cursors);
		values[13] = connection_time(c->opened_at, &nulls[13]);
		values[14] = connection_time(c->last_used_at, &nulls[14]);
		values[15] = Int64GetDatum(c->queries);
		values[16] = Int64GetDatum(c->bytes_sent);
		values[17] = Int64GetDatum(c->bytes_received);
		values[18] = connection_text(c->last_error, &nulls[18]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	free(infos);
	return (Datum) 0;
}
