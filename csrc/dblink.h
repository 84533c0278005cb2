/*
 * dblink.h
 *	  Declarations shared by the files of the C shim.
 *
 * The shim owns everything that touches PostgreSQL; the Go core
 * (dblink_go.so, reached only through gocore.c) owns the connections.
 */
#ifndef DBLINK_H
#define DBLINK_H

#include "compat.h"
#include "dblink_go_abi.h"
#include "fmgr.h"

/* gocore.c: the Go core, loaded on first use; each call returns promptly */
extern DgOp gocore_connect(const char *name, const char *connstr,
						   const char *server, bool login_scram_keys,
						   bool replace);
extern DgLost gocore_lost(const char *name, char **server, char **connstr);
extern DgOp gocore_query(const DgTarget *target, const char *sql, DgQueryMode mode,
						 bool login_scram_keys);
extern int	gocore_op_next(DgOp op, DgItem *item);
extern void gocore_op_release(DgOp op);
extern bool gocore_disconnect(const char *name);
extern bool gocore_has_connection(const char *name);
extern char *gocore_connection_names(int *count);
extern DgConnInfo *gocore_connections(int *count);
extern char *gocore_debug_state(int64 *calls);
extern int	gocore_notify_fd(void);
extern void gocore_op_discard(DgOp op);
extern DgOp gocore_cursor_open(const char *name, const char *cursor, const char *sql);
extern DgOp gocore_cursor_fetch(const char *name, const char *cursor, int count);
extern DgOp gocore_cursor_close(const char *name, const char *cursor);
extern int	gocore_send_query(const char *name, const char *sql, char **notice);
extern bool gocore_is_busy(const char *name);
extern DgOp gocore_get_result(const char *name);
extern DgOp gocore_cancel_query(const char *name);
extern char *gocore_error_message(const char *name);
extern DgOp gocore_get_notify(const char *name);
extern int	gocore_remote_sockets(void);
extern DgDirect *gocore_direct(const char *name, uint64 *token);
extern DgOp gocore_direct_adopt(const char *name, const char *sql, DgQueryMode mode,
								const char *unsent, int nunsent,
								const char *received, int nreceived);

/* extfd.c: remote connections against fd.c's limit on external FDs */
extern void dblink_extfd_reserve(void);
extern void dblink_extfd_sync(void);
extern void dblink_extfd_sync_to(int live);

/* The last item of an operation: DG_DONE or DG_ERROR (after which the
 * operation is gone), or one carrying DG_ENDS_QUERY (release it). */
#define dblink_item_final(item) \
	((item)->kind == DG_DONE || (item)->kind == DG_ERROR || \
	 ((item)->ends & DG_ENDS_QUERY) != 0)
#define dblink_item_gone(item) \
	((item)->kind == DG_DONE || (item)->kind == DG_ERROR)

/* wait.c: the one interruptible wait of the shim */
typedef enum DblinkWaitKind
{
	DBLINK_WAIT_CONNECT,		/* dblink_connect(): DblinkConnect */
	DBLINK_WAIT_OTHER			/* a cancel request: PG_WAIT_EXTENSION */
} DblinkWaitKind;

extern void dblink_wait_mark(DgOp op, DblinkWaitKind kind);
extern int	dblink_wait_item(DgOp op, DgItem *item);
extern void dblink_wait_first(DgOp op, const DgItem *first);
extern void dblink_item_free(DgItem *item);
extern bool dblink_op_finish(DgOp op, DgItem *final, bool fail,
							 const char *conname, const char *action);
extern char *dblink_op_text(DgOp op);
extern void dblink_op_abandon(DgOp op);
extern void dblink_wait_socket(int fd, uint64 wait_id);

/* report.c: Go error records as ereports */
pg_noreturn extern void dblink_raise(DgError *err);
extern void dblink_report(int elevel, DgError *err, const char *conname,
						  const char *action);
pg_noreturn extern void dblink_conn_not_available(const char *conname);
pg_noreturn extern void dblink_out_of_memory(void);
extern void dblink_relay_notices(DgNotice *notices, int count);

/* settings.c: the library's GUCs */
typedef enum DblinkRemoteNotices
{
	DBLINK_NOTICES_LOG,			/* to the server log, as contrib does */
	DBLINK_NOTICES_RELAY,		/* raised in the local session */
	DBLINK_NOTICES_IGNORE
} DblinkRemoteNotices;

extern int	dblink_connect_timeout;
extern int	dblink_remote_notices;
extern int	dblink_transient_pool_size;
extern int	dblink_transient_idle_timeout;
extern bool dblink_reconnect;

/* dblink.transient_pool_size's bound */
#define DBLINK_MAX_POOL_SIZE 64

/* connection.c: helpers shared by the SQL entry points */
extern char *dblink_connection_key(const char *name, bool warn);
extern void dblink_reconnect_if_lost(const char *name);

/* rowstore.c: storing rows for the set-returning entry points */
typedef struct QueryStore QueryStore;

/* How dblink_store_op stores an operation's results. */
typedef struct StoreRun
{
	bool		fail;			/* fail_on_error */
	bool		one_result;		/* stop after the next result
								 * (dblink_get_result) */
	bool		keep_on_error;	/* with fail = false, keep the rows stored
								 * before a remote error (dblink()) */
	const char *conname;		/* for the CONTEXT line; NULL: unnamed */
	const char *action;			/* "while ...", or NULL: errors are raised
								 * as is */
} StoreRun;

extern QueryStore *dblink_store_begin(FunctionCallInfo fcinfo);
extern bool dblink_store_op(QueryStore *qs, DgOp op, const StoreRun *run,
							bool *had_rows);
extern void dblink_store_end(QueryStore *qs);
extern void dblink_store_batch(QueryStore *qs, const DgBatch *batch);
extern void dblink_store_command(QueryStore *qs, int result_no, const char *tag);

/* direct.c: small queries whose round trip the shim makes itself */
typedef enum DirectOutcome
{
	DIRECT_NONE,				/* not tried: go through the Go core */
	DIRECT_ANSWERED,			/* a plain answer is in the DirectCall */
	DIRECT_ADOPTED				/* the Go core took the query over */
} DirectOutcome;

typedef struct DirectCall
{
	DgDirect   *d;				/* while answered: the connection, busy */
	uint64		token;
	char	   *buf;			/* the answer so far */
	int			len;
	int			cap;
	int			pos;			/* scanned up to here */
	int			state;			/* of the scan */
	int			ncols;			/* of the current row result */
	char		tx_status;		/* of its ReadyForQuery */
} DirectCall;

extern DirectOutcome dblink_direct_query(DirectCall *dc, const char *name,
										 const char *sql, DgQueryMode mode,
										 DgOp *op);
extern void dblink_direct_store(DirectCall *dc, QueryStore *qs);
extern const char *dblink_direct_tag(DirectCall *dc, bool *had_rows);
extern void dblink_direct_end(DirectCall *dc);
extern void dblink_direct_counts(int64 *answered, int64 *adopted);

/* What the shim sees of a registered connection without the Go core */
typedef enum DirectPresence
{
	DIRECT_ABSENT,				/* no such registered connection */
	DIRECT_QUIET,				/* idle, and nothing on its socket */
	DIRECT_UNSURE				/* the Go core's to say */
} DirectPresence;
extern DirectPresence dblink_direct_presence(const char *name);
extern bool dblink_connection_registered(const char *name);

#endif							/* DBLINK_H */
