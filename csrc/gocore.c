/*-------------------------------------------------------------------------
 *
 * gocore.c
 *	  Loading the Go core (dblink_go.so) and calling into it.
 *
 * The Go core is dlopen'ed lazily, on the first call that needs it in a
 * backend, never in the postmaster: a Go runtime does not survive fork(),
 * so shared_preload_libraries = 'dblink' loads only this shim.
 *
 * Every asynchronous signal is blocked around the dlopen, so the threads
 * the Go runtime starts inherit a mask in which only synchronous faults are
 * open and PostgreSQL's process-directed signals (SIGINT, SIGTERM, SIGALRM,
 * SIGUSR1, SIGURG, ...) always reach the main thread.  They are blocked
 * around every call into Go too, so no PostgreSQL handler ever runs on a
 * Go stack.  Calls into Go never block (see dblink_go_abi.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dblink.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"

PG_MODULE_MAGIC;

#define GOCORE_FILE "dblink_go.so"

/* The Go core's entry points (DG_ENTRY_POINTS), resolved by dlsym. */
#define GOCORE_POINTER(ret, name, params) ret (*name) params;
typedef struct GoCore
{
	DG_ENTRY_POINTS(GOCORE_POINTER)
} GoCore;

static GoCore gocore;			/* valid once gocore_loaded */
static bool gocore_loaded = false;
static int	gocore_eventfd = -1;	/* Go writes here when an op has news */
static sigset_t gocore_async_signals;	/* blocked while Go runs */

/* Block every signal but the synchronous faults; return the old mask. */
static sigset_t
gocore_block_signals(void)
{
	sigset_t	old;

	pthread_sigmask(SIG_BLOCK, &gocore_async_signals, &old);
	return old;
}

static void
gocore_restore_signals(sigset_t old)
{
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Close every remote connection politely at backend exit. */
static void
gocore_exit(int code, Datum arg)
{
	sigset_t	old = gocore_block_signals();

	gocore.dg_shutdown();
	gocore_restore_signals(old);
}

static void *
gocore_symbol(void *lib, const char *path, const char *name)
{
	void	   *sym = dlsym(lib, name);

	if (sym == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not find function \"%s\" in dblink's Go core \"%s\"",
						name, path)));
	return sym;
}

static void
gocore_load(void)
{
	char		path[MAXPGPATH];
	void	   *lib;
	char	   *initerr = NULL;
	sigset_t	old;
	int			rc;

	if (gocore_loaded)
		return;
	Assert(IsUnderPostmaster || !IsPostmasterEnvironment);

	sigfillset(&gocore_async_signals);
	sigdelset(&gocore_async_signals, SIGSEGV);
	sigdelset(&gocore_async_signals, SIGBUS);
	sigdelset(&gocore_async_signals, SIGFPE);
	sigdelset(&gocore_async_signals, SIGILL);
	sigdelset(&gocore_async_signals, SIGTRAP);

	if (gocore_eventfd < 0)
	{
		gocore_eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (gocore_eventfd < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create eventfd for dblink: %m")));
	}

	/*
	 * The backend was single-threaded until now.  Go's threads malloc()
	 * the row batches they hand over; glibc would give each of them an
	 * arena of its own, which keeps what was freed resident (hundreds of
	 * kB each).  One arena for the process keeps the backend's memory as
	 * small as contrib's.
	 */
	mallopt(M_ARENA_MAX, 1);

	snprintf(path, sizeof(path), "%s/%s", pkglib_path, GOCORE_FILE);
	old = gocore_block_signals();
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	gocore_restore_signals(old);
	if (lib == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("could not load dblink's Go core \"%s\"", path),
				 errdetail_internal("%s", dlerror())));

#define GOCORE_RESOLVE(ret, name, params) \
	gocore.name = gocore_symbol(lib, path, #name);
	DG_ENTRY_POINTS(GOCORE_RESOLVE)

	old = gocore_block_signals();
	rc = gocore.dg_init(gocore_eventfd, environ,
						(int32_t *) &dblink_remote_notices, &initerr);
	gocore_restore_signals(old);
	if (rc != 0)
	{
		char	   *msg = pstrdup(initerr ? initerr : "unknown error");

		free(initerr);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not initialize dblink's Go core: %s", msg)));
	}

	on_proc_exit(gocore_exit, 0);
	gocore_loaded = true;
}

int
gocore_notify_fd(void)
{
	gocore_load();
	return gocore_eventfd;
}

/* The pool of one-shot connections as the settings say now. */
static DgPool
gocore_pool(void)
{
	DgPool		pool;

	pool.size = dblink_transient_pool_size;
	pool.idle_timeout = dblink_transient_idle_timeout;
	return pool;
}

/*
 * What every new connection needs to know about this backend; with
 * login_scram_keys, the SCRAM keys of the session's login too.
 */
static DgConnectOptions
gocore_connect_options(bool login_scram_keys)
{
	DgConnectOptions opts = {0};

	/* the password rule binds whoever is the current user (SET ROLE counts) */
	opts.require_password = !superuser();
	opts.client_encoding = GetDatabaseEncodingName();
	opts.environ = environ;
	opts.connect_timeout = dblink_connect_timeout;
	opts.server = NULL;
	opts.server_version_num = PG_VERSION_NUM;
	opts.pool = gocore_pool();
	opts.local_user = GetUserId();
	if (login_scram_keys && dblink_login_has_scram_keys())
		dblink_login_scram_keys(&opts);
	return opts;
}

/*
 * Run one call into the Go core, loading it first if needed, with every
 * asynchronous signal blocked so that no PostgreSQL handler runs on a Go
 * stack.  The call never raises an ERROR: what it returns is checked after.
 */
static int64 gocore_calls = 0;	/* calls into Go, for dblink_debug_state */

#define GOCORE_CALL(call) \
	do { \
		sigset_t	gocore_old_mask_; \
		\
		gocore_load(); \
		gocore_calls++; \
		gocore_old_mask_ = gocore_block_signals(); \
		call; \
		gocore_restore_signals(gocore_old_mask_); \
	} while (0)

/*
 * A malloc'd string from the Go core as a palloc'd copy; NULL is a string
 * the Go core could not allocate, reported as out of memory.
 */
static char *
gocore_take_string(char *s)
{
	char	   *copy;

	if (s == NULL)
		dblink_out_of_memory();	/* refused in the Go core */
	copy = pstrdup(s);

	free(s);
	return copy;
}

/*
 * Before a connection is opened, in contrib's order: the password rule's
 * check of the string (non-superusers), then a file descriptor slot.
 */
static void
gocore_prepare_connect(const char *connstr, const DgConnectOptions *opts)
{
	if (opts->require_password)
	{
		DgError    *err;

		GOCORE_CALL(err = gocore.dg_check_password(connstr, opts));
		if (err != NULL)
			dblink_raise(err);
	}
	dblink_extfd_reserve();
}

DgOp
gocore_connect(const char *name, const char *connstr, const char *server,
			   bool login_scram_keys, bool replace)
{
	DgConnectOptions opts;
	DgOp		op;

	gocore_load();
	opts = gocore_connect_options(login_scram_keys);
	opts.server = server;
	opts.replace = replace;
	gocore_prepare_connect(connstr, &opts);
	GOCORE_CALL(op = gocore.dg_connect(name, connstr, &opts));
	return op;
}

DgOp
gocore_query(const DgTarget *target, const char *sql, DgQueryMode mode,
			 bool login_scram_keys)
{
	DgConnectOptions opts = {0};	/* only a transient connection needs them */
	DgItem		first;
	DgOp		op;

	gocore_load();
	if (target->connstr != NULL)
	{
		opts = gocore_connect_options(login_scram_keys);
		gocore_prepare_connect(target->connstr, &opts);
	}
	GOCORE_CALL(op = gocore.dg_query(target, sql, (int) mode, &opts, &first));
	dblink_wait_first(op, &first);
	return op;
}

int
gocore_op_next(DgOp op, DgItem *item)
{
	int			kind;

	GOCORE_CALL(kind = gocore.dg_op_next(op, item));
	if (item->notices != NULL)
	{
		DgNotice   *notices = item->notices;

		item->notices = NULL;
		dblink_relay_notices(notices, item->nnotices);	/* frees them */
	}
	dblink_extfd_sync_to(item->sockets);	/* a connect failed, a connection
											 * closed */
	return kind;
}

void
gocore_op_release(DgOp op)
{
	GOCORE_CALL(gocore.dg_op_release(op));
}

/*
 * End interest in an operation after a local error, without cancelling it:
 * it runs to its end and its output is thrown away.
 */
void
gocore_op_discard(DgOp op)
{
	GOCORE_CALL(gocore.dg_op_discard(op));
}

bool
gocore_disconnect(const char *name)
{
	int			found;
	DgError    *err = NULL;

	GOCORE_CALL(found = gocore.dg_disconnect(name, &err));
	dblink_extfd_sync();
	if (found < 0)
		dblink_raise(err);		/* in use: it cannot be closed now */
	return found != 0;
}

bool
gocore_has_connection(const char *name)
{
	int			found;

	GOCORE_CALL(found = gocore.dg_has_connection(name));
	return found != 0;
}

/*
 * Whether the connection (unnamed when name is NULL) lost its remote side
 * while idle (DgLost); with DG_LOST_RECONNECT, *server (NULL for none) and
 * *connstr are what it was opened from, palloc'd.  Without the Go core
 * loaded there is no connection.
 */
DgLost
gocore_lost(const char *name, char **server, char **connstr)
{
	char	   *srv = NULL;
	char	   *cs = NULL;
	int			lost;

	*server = *connstr = NULL;
	if (!gocore_loaded)
		return DG_NOT_LOST;
	GOCORE_CALL(lost = gocore.dg_lost(name, &srv, &cs));
	if (lost != DG_LOST_RECONNECT)
		return (DgLost) lost;
	*connstr = gocore_take_string(cs);
	if (srv != NULL)
		*server = gocore_take_string(srv);
	return DG_LOST_RECONNECT;
}

/*
 * The Go core's counters as text, palloc'd (see dblink_debug_state), and
 * the calls the shim made into it before this one.
 */
char *
gocore_debug_state(int64 *calls)
{
	char	   *state;

	*calls = gocore_calls;
	GOCORE_CALL(state = gocore.dg_debug_state());
	return gocore_take_string(state);
}

/* Names of the named connections, palloc'd, NUL-separated; NULL if none. */
char *
gocore_connection_names(int *count)
{
	char	   *block;
	char	   *result;
	int			i;
	size_t		len = 0;

	GOCORE_CALL(block = gocore.dg_connection_names(count));
	if (*count < 0)
		dblink_out_of_memory();
	if (block == NULL)
		return NULL;
	for (i = 0; i < *count; i++)
		len += strlen(block + len) + 1;
	result = palloc(len);
	memcpy(result, block, len);
	free(block);
	return result;
}

/* Cursors: name NULL is the unnamed connection. */
DgOp
gocore_cursor_open(const char *name, const char *cursor, const char *sql)
{
	DgOp		op;

	GOCORE_CALL(op = gocore.dg_cursor_open(name, cursor, sql));
	return op;
}

DgOp
gocore_cursor_fetch(const char *name, const char *cursor, int count)
{
	DgOp		op;

	GOCORE_CALL(op = gocore.dg_cursor_fetch(name, cursor, count));
	return op;
}

DgOp
gocore_cursor_close(const char *name, const char *cursor)
{
	DgOp		op;

	GOCORE_CALL(op = gocore.dg_cursor_close(name, cursor));
	return op;
}

/*
 * Send a query on a named connection: 1, or 0 with *notice (palloc'd) when
 * it could not be sent.  A missing connection raises its error.
 */
int
gocore_send_query(const char *name, const char *sql, char **notice)
{
	char	   *cnotice = NULL;
	DgError    *err = NULL;
	int			rc;

	GOCORE_CALL(rc = gocore.dg_send_query(name, sql, &cnotice, &err));
	if (rc < 0)
	{
		free(cnotice);
		dblink_raise(err);		/* a NULL record: out of memory */
	}
	*notice = rc == 0 ? gocore_take_string(cnotice) : NULL;
	return rc;
}

bool
gocore_is_busy(const char *name)
{
	int			busy;

	GOCORE_CALL(busy = gocore.dg_is_busy(name));
	return busy != 0;
}

/* A reader of the next async result, or 0 when no query is pending. */
DgOp
gocore_get_result(const char *name)
{
	DgOp		op;

	GOCORE_CALL(op = gocore.dg_get_result(name));
	return op;
}

DgOp
gocore_cancel_query(const char *name)
{
	DgOp		op;

	GOCORE_CALL(op = gocore.dg_cancel_query(name));
	return op;
}

/* libpq's last error text of a named connection, palloc'd */
char *
gocore_error_message(const char *name)
{
	char	   *text;

	GOCORE_CALL(text = gocore.dg_error_message(name));
	return gocore_take_string(text);
}

DgOp
gocore_get_notify(const char *name)
{
	DgOp		op;

	GOCORE_CALL(op = gocore.dg_get_notify(name));
	return op;
}

/* Remote connections open or being opened (see extfd.c); -1 if unknown. */
int
gocore_remote_sockets(void)
{
	int			n;

	GOCORE_CALL(n = gocore.dg_remote_sockets());
	return n;
}

/*
 * The session's connections for dblink_connections(): *count records in
 * one malloc() block (free it with free()); NULL when there are none.
 */
DgConnInfo *
gocore_connections(int *count)
{
	DgConnInfo *infos;
	int32_t		n = 0;
	DgPool		pool = gocore_pool();

	GOCORE_CALL(infos = gocore.dg_connections(&pool, &n));
	if (n < 0)
		dblink_out_of_memory();
	*count = n;
	return infos;
}

/*
 * The DgDirect of a registered connection (unnamed when name is NULL) and
 * the token of its registration, or NULL when there is none (direct.c).
 */
DgDirect *
gocore_direct(const char *name, uint64 *token)
{
	DgDirect   *d;
	uint64_t	t = 0;

	GOCORE_CALL(d = gocore.dg_direct(name, &t));
	*token = t;
	return d;
}

/* Hand a query the shim started itself to the Go core (direct.c). */
DgOp
gocore_direct_adopt(const char *name, const char *sql, DgQueryMode mode,
					const char *unsent, int nunsent,
					const char *received, int nreceived)
{
	DgOp		op;

	GOCORE_CALL(op = gocore.dg_direct_adopt(name, sql, (int) mode, unsent, nunsent,
											 received, nreceived));
	return op;
}
