/*
 * dblink_go_abi.h
 *	  The C ABI between the shim (csrc/) and the Go core (cmd/dblink_go).
 *
 * Included by both sides.  Everything the Go core hands to C is allocated
 * with malloc() and owned by C afterwards (release it with free(); one
 * allocation per record, see the comments).  Go never calls PostgreSQL and
 * C never raises an ERROR while a Go call is on the stack.
 *
 * Every call is an "operation": C starts it (dg_connect, dg_query, ...),
 * then polls it with dg_op_next(), which never blocks.  Work on an open
 * connection (queries, cursors, async results) runs in that poll, on the
 * backend's thread: Go sends and reads without blocking, and when it needs
 * the socket, dg_op_next() returns DG_PENDING with the socket in
 * item->wait_fd, which C waits on.  Work that blocks inside pgconn
 * (connecting, a cancel request) and the rest of a large result run on
 * goroutines: whenever such an operation has something new for C, Go
 * writes to the eventfd given to dg_init(), which C waits on too.
 * dg_op_release() ends C's interest in an operation; if it has not
 * finished, Go cancels it (and the remote query) in the background.
 */
#ifndef DBLINK_GO_ABI_H
#define DBLINK_GO_ABI_H

#include <stdint.h>

/* Handle of a running operation; 0 is never a valid handle. */
typedef uint64_t DgOp;

/* An error record.  One malloc() block: the strings point into it. */
typedef struct DgError
{
	char		sqlstate[6];	/* five characters and a NUL */
	char	   *message;		/* primary message; "" if the remote sent none */
	char	   *detail;			/* NULL when absent */
	char	   *hint;			/* NULL when absent */
	char	   *context;		/* remote CONTEXT lines; NULL when absent */
	int32_t		remote;			/* raised by the remote server while running
								 * a query (gets dblink's CONTEXT line and
								 * honors fail_on_error) */
} DgError;

/*
 * A batch of rows of one result, in text format.  One malloc() block: the
 * arrays point into it.  Value (row r, column c) is data + offsets[r*ncols+c]
 * as a NUL-terminated string, or SQL NULL when that offset is -1.
 */
typedef struct DgBatch
{
	int32_t		result_no;		/* which result of the query string, from 1 */
	int32_t		ncols;
	int32_t		nrows;			/* may be 0: announces a row result's shape */
	int32_t    *offsets;		/* nrows * ncols of them */
	char	   *data;
	int64_t		noffsets;		/* the length of offsets, and of data in */
	int64_t		datalen;		/* bytes: the shim checks the batch against
								 * them before it reads a value */
	char	   *datestyle;		/* remote DateStyle when the result began */
	char	   *intervalstyle;	/* remote IntervalStyle when the result began */
} DgBatch;

/* What dg_op_next() found. */
typedef enum DgItemKind
{
	DG_PENDING = 0,				/* nothing new yet: wait on the eventfd, and on
								 * item->wait_fd when it is not -1 */
	DG_ROWS = 1,				/* item->batch: rows of a row result */
	DG_COMMAND = 2,				/* item->text: tag of a command result
								 * (result_no in item->result_no) */
	DG_DONE = 3,				/* finished; item->text: its text result */
	DG_ERROR = 4,				/* finished with item->error */
	/* after DG_DONE or DG_ERROR the operation is gone: never release it */
	DG_RESULT_END = 5			/* end of the row result item->result_no */
} DgItemKind;

/*
 * A remote message to raise in the local session (dblink.remote_notices =
 * relay).  DgItem.notices is an array of them in one malloc() block, which
 * also holds the strings.
 */
typedef struct DgNotice
{
	const char *severity;		/* as the server sent it, not localized */
	char		sqlstate[6];
	const char *message;
	const char *detail;			/* NULL when absent */
	const char *hint;			/* NULL when absent */
	const char *conname;		/* NULL: the unnamed connection */
} DgNotice;

typedef struct DgItem
{
	int32_t		kind;			/* a DgItemKind */
	int32_t		result_no;		/* for DG_COMMAND and DG_RESULT_END */
	int32_t		had_rows;		/* DG_DONE of dg_query(DG_MODE_EXEC): the last
								 * result returned rows */
	DgBatch    *batch;			/* malloc()ed; C frees */
	char	   *text;			/* malloc()ed; C frees */
	DgError    *error;			/* malloc()ed; C frees */
	char	   *datestyle;		/* DG_DONE, DG_ERROR of dg_query(): the remote's
								 * DateStyle when the query string ended, or
								 * NULL; malloc()ed, C frees */
	char	   *intervalstyle;	/* the same for IntervalStyle */
	/*
	 * DG_PENDING of a query the backend's thread drives itself: the remote
	 * socket to wait on (-1: none), for DG_WAIT_* events, and a number that
	 * tells this socket from a later one reusing the fd.
	 */
	int32_t		wait_fd;
	int32_t		wait_events;
	uint64_t	wait_id;
	/* every item: remote connections open or being opened (see extfd.c) */
	int32_t		sockets;
	/*
	 * DG_ROWS, DG_COMMAND: DG_ENDS_* bits for what had arrived already.
	 * With DG_ENDS_QUERY the item also stands for DG_DONE (had_rows and the
	 * styles are set); unlike after DG_DONE, the operation is still there,
	 * and its connection busy, until it is released: the rows are converted
	 * first, and a nested call must find the connection busy meanwhile.
	 */
	int32_t		ends;
	/* every item: remote messages to relay, malloc()ed; C frees */
	DgNotice   *notices;
	int32_t		nnotices;
} DgItem;


/* DgItem.ends */
#define DG_ENDS_RESULT	1		/* the end of the row result (DG_RESULT_END) */
#define DG_ENDS_QUERY	2		/* then the end of the query string (DG_DONE) */

/* DgDirect */
#define DG_STYLE_LEN	64
#define DG_DIRECT_OFF	0
#define DG_DIRECT_IDLE	1
#define DG_DIRECT_BUSY	2

/* DgItem.wait_events */
#define DG_WAIT_READ	1
#define DG_WAIT_WRITE	2
#define DG_WAIT_AGAIN	4		/* no wait: poll again at once, after serving
								 * interrupts (a call stops at a bound on the
								 * work it does, input still to parse) */

/* Where a query goes. */
typedef struct DgTarget
{
	const char *name;			/* named connection, or NULL */
	const char *connstr;		/* transient connection string, or NULL */
	int32_t		if_exists;		/* with no connection string: when the
								 * connection does not exist, start nothing
								 * and return 0 */
	/* neither: the unnamed connection */
} DgTarget;

/* Settings every new connection needs from the backend. */
/*
 * The pool of one-shot connections (dblink.transient_pool_size and
 * dblink.transient_idle_timeout): the Go core applies it whenever it gets
 * it, closing what is idle too long or over the size.
 */
typedef struct DgPool
{
	int32_t		size;			/* connections kept at most; 0: none */
	int32_t		idle_timeout;	/* seconds */
} DgPool;

typedef struct DgConnectOptions
{
	int32_t		require_password;	/* non-superuser: password rule applies */
	const char *client_encoding;	/* the local database's encoding */
	char	  **environ;		/* the backend's environment now: libpq reads
								 * PGHOST, PGSERVICEFILE, HOME, ... at every
								 * connect, and a backend may setenv() */
	int32_t		connect_timeout;	/* dblink.connect_timeout, seconds */
	const char *server;			/* dg_connect: the foreign server the string
								 * came from, or NULL (a label only) */
	int32_t		server_version_num; /* PG_VERSION_NUM the shim was built
									 * for: the Go core follows that
									 * major's libpq and contrib dblink */
	/*
	 * 18's use_scram_passthrough: the SCRAM-SHA-256 ClientKey and ServerKey
	 * of the session's login, DG_SCRAM_KEY_LEN bytes each, or both NULL.
	 * They travel only here, never in a string; Go copies them.
	 */
	const uint8_t *scram_client_key;
	const uint8_t *scram_server_key;
	DgPool		pool;
	int32_t		replace;		/* dg_connect of a name: replace the
								 * connection registered under it once the
								 * new one is made (a reconnect) */
	uint32_t	local_user;		/* the local role the connection is for
								 * (GetUserId): pooled connections are never
								 * shared between roles */
} DgConnectOptions;

/* What dg_lost() says of a registered connection's remote side */
typedef enum DgLost
{
	DG_NOT_LOST = 0,			/* alive, in use, depended on (a remote
								 * transaction, an async query), or no such
								 * connection: the call goes on as it would */
	DG_LOST_RECONNECT = 1		/* gone while idle, nothing depended on it */
} DgLost;

/* DgConnectOptions.scram_client_key, scram_server_key */
#define DG_SCRAM_KEY_LEN 32

/*
 * One connection of the session, for dblink_connections() (version 1.3).
 * dg_connections() returns an array of them in one malloc() block, which
 * also holds every string.
 */
typedef struct DgConnInfo
{
	const char *name;			/* NULL: the unnamed connection */
	const char *server;			/* the foreign server it was opened through */
	const char *host;			/* the host reached (socket directory or
								 * address); NULL when unknown */
	int32_t		port;
	const char *dbname;
	const char *user;
	int32_t		remote_pid;
	const char *server_version;
	int32_t		ssl;
	const char *status;			/* "ok", "closed", "bad", or "pooled" (a
								 * one-shot connection kept for reuse) */
	const char *transaction;	/* "idle", "in transaction", "failed
								 * transaction" or "active" */
	int32_t		busy;			/* a dblink_send_query result is pending */
	int32_t		open_cursors;
	int64_t		opened_at;		/* microseconds since the Unix epoch */
	int64_t		last_used_at;
	int64_t		queries;
	int64_t		bytes_sent;
	int64_t		bytes_received;
	const char *last_error;		/* NULL when none */
} DgConnInfo;

/*
 * A registered connection the shim may drive itself (csrc/direct.c).  A
 * small query on a plain socket is sent and its answer read by the shim,
 * without a call into Go: a call into the Go runtime after an idle gap
 * wakes its scheduler, which costs more than the round trip.  The Go core
 * allocates one per registered connection (calloc, recycled, never freed)
 * and hands it out with dg_direct().  Only the backend's thread reads or
 * writes it, in C or in Go, one at a time.
 *
 * state says who drives the socket: DG_DIRECT_OFF, the Go core (or
 * nobody may: TLS, input or output pending, a broken connection);
 * DG_DIRECT_IDLE, nobody, and the shim may take it (C: IDLE -> BUSY); or
 * DG_DIRECT_BUSY, the shim.  The shim gives it back with IDLE after a
 * plain answer (and sets succeeded), or hands the query over to the Go
 * core with dg_direct_adopt() whenever it meets anything else.
 */
typedef struct DgDirect
{
	uint32_t	state;			/* DG_DIRECT_* */
	int32_t		fd;				/* the socket, valid unless OFF */
	uint64_t	wait_id;		/* DgItem.wait_id of that socket */
	uint64_t	token;			/* the registration it stands for; 0: none
								 * (the shim checks it before use) */
	uint32_t	tx_status;		/* last ReadyForQuery: 'I', 'T' or 'E' */
	uint32_t	succeeded;		/* set by the shim after a round trip;
								 * Go clears it (libpq's error text is
								 * reset by a query) */
	int64_t		round_trips;	/* counters of the shim's round trips */
	int64_t		bytes_sent;
	int64_t		bytes_received;
	int64_t		last_used;		/* of the last one, Unix nanoseconds */
	char		datestyle[DG_STYLE_LEN];	/* the remote's, as reported */
	char		intervalstyle[DG_STYLE_LEN];
} DgDirect;

/* How dg_query() treats results. */
typedef enum DgQueryMode
{
	DG_MODE_ROWS = 0,			/* dblink(): stream every result's rows */
	DG_MODE_EXEC = 1			/* dblink_exec(): only the last command tag */
} DgQueryMode;

/*
 * The Go core's entry points, one X(return type, name, parameters) each:
 * the only list of them.  gocore.c builds its table of pointers and their
 * dlsym() lookups from it; cmd/dblink_go/main.go declares them as
 * prototypes next to cgo's declarations of the exports, so the C compiler
 * rejects a Go signature that differs.
 *
 * cgo writes *C.char as char *, never const char *.  Go spells the const
 * parameters with these typedefs instead: cgo makes a typedef an alias of
 * its type in Go, so nothing changes there, and writes the typedef's name
 * back into its declaration, so the list keeps C's const.
 */
typedef const char const_char;
typedef const DgTarget const_DgTarget;
typedef const DgConnectOptions const_DgConnectOptions;
typedef const DgPool const_DgPool;

#define DG_ENTRY_POINTS(X) \
	X(int, dg_init, (int notify_fd, char **envp, int32_t *remote_notices, char **errmsg)) \
	X(void, dg_shutdown, (void)) \
	X(DgOp, dg_connect, (const char *name, const char *connstr, const DgConnectOptions *opts)) \
	X(DgError *, dg_check_password, (const char *connstr, const DgConnectOptions *opts)) \
	X(int, dg_disconnect, (const char *name, DgError **err)) \
	X(int, dg_has_connection, (const char *name)) \
	X(int, dg_lost, (const char *name, char **server, char **connstr)) \
	X(char *, dg_connection_names, (int *count)) \
	X(DgConnInfo *, dg_connections, (const DgPool *pool, int32_t *count)) \
	X(DgOp, dg_query, (const DgTarget *target, const char *sql, int mode, const DgConnectOptions *opts, DgItem *first)) \
	X(DgDirect *, dg_direct, (const char *name, uint64_t *token)) \
	X(DgOp, dg_direct_adopt, (const char *name, const char *sql, int mode, const char *unsent, int32_t nunsent, const char *received, int32_t nreceived)) \
	X(int, dg_op_next, (DgOp op, DgItem *item)) \
	X(void, dg_op_release, (DgOp op)) \
	X(void, dg_op_discard, (DgOp op)) \
	X(DgOp, dg_cursor_open, (const char *name, const char *cursor, const char *sql)) \
	X(DgOp, dg_cursor_fetch, (const char *name, const char *cursor, int count)) \
	X(DgOp, dg_cursor_close, (const char *name, const char *cursor)) \
	X(int, dg_send_query, (const char *name, const char *sql, char **notice, DgError **err)) \
	X(int, dg_is_busy, (const char *name)) \
	X(DgOp, dg_get_result, (const char *name)) \
	X(DgOp, dg_cancel_query, (const char *name)) \
	X(char *, dg_error_message, (const char *name)) \
	X(DgOp, dg_get_notify, (const char *name)) \
	X(int, dg_remote_sockets, (void)) \
	X(char *, dg_debug_state, (void))

#endif							/* DBLINK_GO_ABI_H */
