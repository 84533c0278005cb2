/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  The library's settings: dblink.connect_timeout and
 *	  dblink.remote_notices.
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
	MarkGUCPrefixReserved("dblink");
}
