/*-------------------------------------------------------------------------
 *
 * connection.c
 *	  SQL entry points that open, close and list dblink connections:
 *	  dblink_connect(_u), dblink_disconnect, dblink_get_connections.
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
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(dblink_connect);
PG_FUNCTION_INFO_V1(dblink_disconnect);
PG_FUNCTION_INFO_V1(dblink_get_connections);

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
 * dblink_connect(connstr) and dblink_connect(name, connstr); also
 * dblink_connect_u, which differs only in being SECURITY DEFINER.
 */
Datum
dblink_connect(PG_FUNCTION_ARGS)
{
	char	   *conname = NULL;
	char	   *connstr;
	char	   *server_connstr;

	if (PG_NARGS() == 2)
	{
		conname = dblink_connection_key(text_to_cstring(PG_GETARG_TEXT_PP(0)), true);
		connstr = text_to_cstring(PG_GETARG_TEXT_PP(1));
	}
	else
		connstr = text_to_cstring(PG_GETARG_TEXT_PP(0));

	/* a foreign server's name stands for its options and the user mapping */
	server_connstr = dblink_foreign_server_connstr(connstr);
	if (server_connstr != NULL)
		connstr = server_connstr;

	PG_RETURN_TEXT_P(cstring_to_text(dblink_op_text(gocore_connect(conname, connstr))));
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
