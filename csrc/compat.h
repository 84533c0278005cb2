/*
 * compat.h
 *	  The one place where the shim tells PostgreSQL majors apart.
 *
 * The shim builds from one source tree against PostgreSQL 15 to 18
 * (`make PG_CONFIG=...`).  Every difference of the server's C API that the
 * shim meets is wrapped here behind PG_VERSION_NUM, so the other files use
 * one spelling.  What differs in behaviour per major (messages, libpq
 * options) is not decided here: the Go core is the same for
 * every major and is told the major at load (gocore.c), and the option
 * table has a "since" column (foreign.c, internal/conn/keywords.go).
 *
 * Include it after postgres.h.
 */
#ifndef DBLINK_COMPAT_H
#define DBLINK_COMPAT_H

#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/resowner.h"
#if PG_VERSION_NUM >= 180000
#include "storage/waiteventset.h"	/* WaitEventSet moved out of latch.h */
#endif

/*
 * A function that never returns.  18 replaced the postfix
 * pg_attribute_noreturn() with the prefix pg_noreturn; the prefix form
 * works with GCC's attribute on older majors too.  Use it first:
 *	 pg_noreturn extern void f(void);
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/*
 * A wait event set that lives until freed.  17 made the first argument a
 * resource owner (the set is allocated in TopMemoryContext); NULL owns it
 * to nobody, which is what the shim wants for a set kept between waits.
 */
#if PG_VERSION_NUM >= 170000
#define dblink_create_wait_event_set(nevents) \
	CreateWaitEventSet(NULL, (nevents))
#else
#define dblink_create_wait_event_set(nevents) \
	CreateWaitEventSet(TopMemoryContext, (nevents))
#endif

/* USAGE on a foreign server: 16 folded the per-kind checks into one. */
#if PG_VERSION_NUM >= 160000
#define dblink_foreign_server_aclcheck(serverid, userid, mode) \
	object_aclcheck(ForeignServerRelationId, (serverid), (userid), (mode))
#else
#define dblink_foreign_server_aclcheck(serverid, userid, mode) \
	pg_foreign_server_aclcheck((serverid), (userid), (mode))
#endif

/*
 * The validator's HINT for an unknown option: 16 names only a close match
 * ("Perhaps you meant ..."), earlier majors list every valid option.
 */
#if PG_VERSION_NUM >= 160000
#define DBLINK_HINT_CLOSEST_MATCH 1
#else
#define DBLINK_HINT_CLOSEST_MATCH 0
#endif

/*
 * Custom wait events: 17 lets an extension name its waits
 * (WaitEventExtensionNew, shown in pg_wait_events and pg_stat_activity);
 * earlier majors know only the one event PG_WAIT_EXTENSION ("Extension").
 */
#if PG_VERSION_NUM >= 170000
#include "utils/wait_event.h"
#define dblink_wait_event_new(name) WaitEventExtensionNew(name)
#else
#define dblink_wait_event_new(name) ((void) (name), PG_WAIT_EXTENSION)
#endif

/*
 * Did this session's login authenticate with SCRAM, leaving the keys that
 * 18's use_scram_passthrough hands to the remote server
 * (MyProcPort->scram_ClientKey and scram_ServerKey)?  Before 18 the keys
 * are not kept, so never.
 */
#if PG_VERSION_NUM >= 180000
#include "libpq/libpq-be.h"
#define dblink_login_has_scram_keys() \
	(MyProcPort != NULL && MyProcPort->has_scram_keys)
/* Point DgConnectOptions "opts" at those keys (only when they exist). */
#define dblink_login_scram_keys(opts) \
	(StaticAssertExpr(sizeof(MyProcPort->scram_ClientKey) == DG_SCRAM_KEY_LEN && \
					  sizeof(MyProcPort->scram_ServerKey) == DG_SCRAM_KEY_LEN, \
					  "the ABI's SCRAM keys are SCRAM-SHA-256's"), \
	 (opts)->scram_client_key = MyProcPort->scram_ClientKey, \
	 (opts)->scram_server_key = MyProcPort->scram_ServerKey)
#else
#define dblink_login_has_scram_keys() false
#define dblink_login_scram_keys(opts) ((void) (opts))
#endif

#endif							/* DBLINK_COMPAT_H */
