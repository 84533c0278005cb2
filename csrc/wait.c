/*-------------------------------------------------------------------------
 *
 * wait.c
 *	  The one interruptible wait of the shim.
 *
 * A query on an open connection runs on the backend's thread in
 * non-blocking steps (as contrib drives libpq): between steps the backend
 * waits here on the remote socket itself.  Work that blocks inside pgconn
 * (connecting, cancel requests) and the async API run on Go goroutines,
 * which wake this wait through an eventfd.  The wait also watches the latch
 * and postmaster death, and interrupts are handled between polls: cancel,
 * statement_timeout and terminate take effect at once.  When an interrupt (or any ERROR) unwinds a caller, the
 * caller's PG_FINALLY releases the operation, which makes the Go core
 * cancel it, remote query included.
 *
 * Each wait is reported with one of the wait events contrib dblink 17 and
 * later registers (pg_stat_activity, pg_wait_events): DblinkConnect while
 * dblink_connect() connects, DblinkGetConnect while a call connects for a
 * connection string of its own, DblinkGetResult while a result is awaited.
 * On 15 and 16 every wait is PG_WAIT_EXTENSION, as contrib's there.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <unistd.h>

#include "dblink.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"

/*
 * The wait set: latch, Go's eventfd, postmaster death and, while queries
 * run on the backend's thread, the remote socket they wait on.  Kept
 * between waits (a loop of small queries on one connection reuses it);
 * rebuilt when the socket changes or goes.
 */
static WaitEventSet *wait_set = NULL;
static int	wait_notify_pos = -1;	/* position of the eventfd */
static int	wait_sock_pos = -1;		/* position of the socket event, or -1 */
static uint64 wait_sock_id = 0;		/* which socket (DgItem.wait_id) */
static uint32 wait_sock_events = 0;	/* its WL_SOCKET_* events */

/*
 * The wait events (see the file header), registered at the first wait of
 * the backend (registering takes a lock on shared memory once per name),
 * and the one operation marked by dblink_wait_mark with the event of its
 * waits that are not on a remote socket (a handle is never reused, so a
 * mark left by an ERROR never matches a later operation).
 */
static uint32 wait_event_connect = 0;		/* DblinkConnect */
static uint32 wait_event_get_connect = 0;	/* DblinkGetConnect */
static uint32 wait_event_get_result = 0;	/* DblinkGetResult */
static DgOp wait_marked_op = 0;
static uint32 wait_marked_event = 0;

static void
wait_events_init(void)
{
	if (wait_event_get_result != 0)
		return;
	wait_event_connect = dblink_wait_event_new("DblinkConnect");
	wait_event_get_connect = dblink_wait_event_new("DblinkGetConnect");
	wait_event_get_result = dblink_wait_event_new("DblinkGetResult");
}

/*
 * Mark an operation's waits that are not on a remote socket with the event
 * of what it does: DBLINK_WAIT_CONNECT for dblink_connect(), DBLINK_WAIT_OTHER
 * for work that is neither connecting nor awaiting a result (a cancel
 * request; PG_WAIT_EXTENSION).  Unmarked operations wait on the remote
 * socket for a result (DblinkGetResult) or, before they have one, connect
 * for a connection string of their own (DblinkGetConnect).
 */
void
dblink_wait_mark(DgOp op, DblinkWaitKind kind)
{
	wait_events_init();
	wait_marked_op = op;
	wait_marked_event = kind == DBLINK_WAIT_CONNECT ? wait_event_connect : PG_WAIT_EXTENSION;
}

/* The wait event of one wait of op for item. */
static uint32
wait_event_of(DgOp op, const DgItem *item)
{
	wait_events_init();
	if (item->wait_fd >= 0)
		return wait_event_get_result;
	if (op != 0 && op == wait_marked_op)
		return wait_marked_event;
	return wait_event_get_connect;
}

static WaitEventSet *
wait_get_set(const DgItem *item)
{
	uint32		events = 0;

	if (item->wait_fd >= 0)
	{
		events = WL_SOCKET_READABLE;
		if (item->wait_events & DG_WAIT_WRITE)
			events |= WL_SOCKET_WRITEABLE;
	}

	if (wait_set != NULL && wait_sock_pos >= 0 && events != 0 &&
		item->wait_id == wait_sock_id)
	{
		if (events != wait_sock_events)
		{
			ModifyWaitEvent(wait_set, wait_sock_pos, events, NULL);
			wait_sock_events = events;
		}
		return wait_set;
	}
	if (wait_set != NULL && wait_sock_pos < 0 && events == 0)
		return wait_set;

	/*
	 * Rebuild: a socket registered for another connection (whose fd may be
	 * closed or reused by now) must not stay in the set.
	 */
	if (wait_set != NULL)
		FreeWaitEventSet(wait_set);
	wait_set = NULL;
	wait_sock_pos = -1;
	{
		WaitEventSet *set = dblink_create_wait_event_set(4);

		AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		wait_notify_pos = AddWaitEventToSet(set, WL_SOCKET_READABLE, gocore_notify_fd(), NULL, NULL);
		AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
		if (events != 0)
		{
			wait_sock_pos = AddWaitEventToSet(set, events, item->wait_fd, NULL, NULL);
			wait_sock_id = item->wait_id;
			wait_sock_events = events;
		}
		wait_set = set;
	}
	return wait_set;
}

/*
 * Wait once for what item names: its remote socket, if any, and always
 * the latch and Go's eventfd.  The latch is reset; the caller serves
 * interrupts.
 */
static void
wait_once(DgOp op, const DgItem *item)
{
	WaitEvent	event;

	(void) WaitEventSetWait(wait_get_set(item), -1, &event, 1,
							wait_event_of(op, item));
	if (event.events & WL_LATCH_SET)
		ResetLatch(MyLatch);

	/*
	 * Drain the eventfd only when it woke us, before the next poll: a write
	 * after that poll keeps it readable (the wait set is level triggered),
	 * so no wake-up is lost and a round trip on the remote socket costs no
	 * read of it.
	 */
	if (event.pos == wait_notify_pos)
	{
		uint64		count;

		if (read(gocore_notify_fd(), &count, sizeof(count)) < 0 && errno != EAGAIN)
			elog(ERROR, "could not read dblink's eventfd: %m");
	}
}

/*
 * The first item of the query the Go core started last, when Go could
 * tell it at the start: a query that went out whole waits for its answer
 * on the socket first, without a call into Go to learn that (a round trip
 * then costs two calls into Go, not three).  A handle is not reused (its
 * slot's generation counts up), so one left behind by an operation
 * released before its first wait matches nothing later.
 */
static DgOp wait_first_op = 0;
static DgItem wait_first_item;

void
dblink_wait_first(DgOp op, const DgItem *first)
{
	wait_first_op = (op != 0 && first->kind == DG_PENDING) ? op : 0;
	if (wait_first_op != 0)
		wait_first_item = *first;
}

/*
 * Wait until the operation has something new and return it in *item (see
 * DgItemKind).  Interrupts are served while waiting.  An operation the
 * backend's thread drives itself names the remote socket to wait on; the
 * others are woken through Go's eventfd.
 */
int
dblink_wait_item(DgOp op, DgItem *item)
{
	if (op == wait_first_op)
	{
		wait_first_op = 0;
		*item = wait_first_item;
		CHECK_FOR_INTERRUPTS();
		if ((item->wait_events & DG_WAIT_AGAIN) == 0)
			wait_once(op, item);
	}
	for (;;)
	{
		int			kind;

		kind = gocore_op_next(op, item);
		if (kind != DG_PENDING)
			return kind;
		/* first: an interrupt may have ended the shim's own wait */
		CHECK_FOR_INTERRUPTS();
		if ((item->wait_events & DG_WAIT_AGAIN) == 0)
			wait_once(op, item);
	}
}

/*
 * Wait for a remote socket the shim reads itself (direct.c) to become
 * readable, or for the latch.  Interrupts are left to the caller, which
 * hands its query to the Go core before it serves them.
 */
void
dblink_wait_socket(int fd, uint64 wait_id)
{
	DgItem		item = {0};

	item.wait_fd = fd;
	item.wait_id = wait_id;
	item.wait_events = DG_WAIT_READ;
	wait_once(0, &item);
}

/* Free what the Go core handed over in an item. */
void
dblink_item_free(DgItem *item)
{
	free(item->batch);
	free(item->text);
	free(item->error);
	free(item->datestyle);
	free(item->intervalstyle);
	free(item->notices);
	item->notices = NULL;
	item->batch = NULL;
	item->text = NULL;
	item->error = NULL;
	item->datestyle = NULL;
	item->intervalstyle = NULL;
}

/*
 * Let go of an operation while an ERROR unwinds its caller (call it from
 * PG_CATCH): an interrupt (cancel, statement_timeout) cancels the
 * operation, remote statement included; any other error (a conversion
 * error, a column-count mismatch) leaves the remote statement to finish and
 * throws its output away, as contrib consumes a result it failed to store.
 */
void
dblink_op_abandon(DgOp op)
{
	if (geterrcode() == ERRCODE_QUERY_CANCELED)
		gocore_op_release(op);
	else
		gocore_op_discard(op);
}

/*
 * Wait for an operation to finish, and release it.  On success its final
 * item is left in *final (free it with dblink_item_free) and true is
 * returned.  Its error is raised as is when action is NULL (errors before
 * any query ran), else reported with dblink's CONTEXT line for action, at
 * ERROR or, when fail is false, at NOTICE, and then false is returned.
 */
bool
dblink_op_finish(volatile DgOp op, DgItem *final, bool fail, const char *conname,
				 const char *action)
{
	DgItem		item = {0};
	bool		ok = true;

	PG_TRY();
	{
		int			kind;

		while ((kind = dblink_wait_item(op, &item)), !dblink_item_final(&item))
			dblink_item_free(&item);
		if (dblink_item_gone(&item))
			op = 0;
		if (kind == DG_ERROR)
		{
			DgError    *err = item.error;

			item.error = NULL;
			dblink_report(fail ? ERROR : NOTICE, err, conname, action);
			ok = false;
		}
	}
	PG_CATCH();
	{
		dblink_item_free(&item);
		if (op != 0)
			dblink_op_abandon(op);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (op != 0)
		gocore_op_release(op);
	*final = item;
	return ok;
}

/*
 * Wait for an operation whose errors are raised as is (connect, cancel
 * request) and return its text result, palloc'd.
 */
char *
dblink_op_text(DgOp op)
{
	DgItem		done;
	char	   *result;

	(void) dblink_op_finish(op, &done, true, NULL, NULL);
	result = pstrdup(done.text ? done.text : "");
	dblink_item_free(&done);
	return result;
}
