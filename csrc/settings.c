/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  The library's settings: dblink.connect_timeout, dblink.remote_notices,
 *	  dblink.transient_pool_size, dblink.transient_idle_timeout and
 *	  dblink.reconnect.
 *
 * They are GUCs of the shim, defined when it loads (also in the postmaster
 * with shared_preload_libraries: defining them needs no Go), and need no
 * SQL object, so they work with either version of the extension.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "dblink.h"
#include "utils/guc.h"

/* seconds to wait for a connection whose string sets no connect_timeout */
int			dblink_connect_timeout = 0;

/*
 * one-shot connections kept idle for the next one-shot call with the same
 * key (0: contrib's behaviour, every call its own remote session), and
 * how long one may stay idle
 */
int			dblink_transient_pool_size = 0;
int			dblink_transient_idle_timeout = 60;

/* reopen a connection whose remote side went away while it was idle */
bool		dblink_reconnect = false;

/* what becomes of a remote NOTICE or WARNING (DblinkRemoteNotices) */
int			dblink_remote_notices = DBLINK_NOTICES_LOG;

static const struct config_enum_entry settings_remote_notices[] = {
	{"log", DBLINK_NOTICES_LOG, false},
	{"relay", DBLINK_NOTICES_RELAY, false},
	{"ignore", DBLINK_NOTICES_IGNORE, false},
	{NULL, 0, false}
};

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("dblink.connect_timeout",
							"Maximum time to wait for a remote connection whose connection string sets no connect_timeout.",
							"0 waits as libpq does by default.",
							&dblink_connect_timeout,
							0, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomEnumVariable("dblink.remote_notices",
							 "What becomes of a NOTICE or WARNING that a remote server sends.",
							 "log writes it to the server log (as contrib dblink does), relay raises it in this session, ignore drops it.",
							 &dblink_remote_notices,
							 DBLINK_NOTICES_LOG, settings_remote_notices,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("dblink.transient_pool_size",
							"Number of one-shot connections kept idle for reuse by later one-shot calls.",
							"0 closes each one-shot connection after its call, as contrib dblink does. A reused connection is reset with DISCARD ALL first.",
							&dblink_transient_pool_size,
							0, 0, DBLINK_MAX_POOL_SIZE,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("dblink.transient_idle_timeout",
							"Time after which an idle pooled one-shot connection is closed.",
							"Checked when dblink is next used.",
							&dblink_transient_idle_timeout,
							60, 1, INT_MAX,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("dblink.reconnect",
							 "Reopens a named or unnamed connection found lost at the start of a call.",
							 "Only when nothing depended on the remote session: no remote transaction, cursor or async query.",
							 &dblink_reconnect,
							 false,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	MarkGUCPrefixReserved("dblink");
}
