/*-------------------------------------------------------------------------
 *
 * wait.c
 *	  The one interruptible wait of the shim.
 *
 * Work that blocks runs on Go goroutines.  The backend waits for it here,
 * on its latch and on the eventfd the Go core writes to, and handles
 * interrupts between polls: cancel, statement_timeout and terminate take
 * effect at once.  When an interrupt (or any ERROR) unwinds a caller, the
 * caller's PG_FINALLY releases the operation, which makes the Go core
 * cancel it, remote query included.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <unistd.h>

#include "dblink.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/memutils.h"

/* Latch, Go's eventfd and postmaster death, built once per backend. */
static WaitEventSet *wait_set = NULL;

static WaitEventSet *
wait_get_set(void)
{
	if (wait_set == NULL)
	{
		int			fd = gocore_notify_fd();
		WaitEventSet *set = CreateWaitEventSet(TopMemoryContext, 3);

		AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(set, WL_SOCKET_READABLE, fd, NULL, NULL);
		AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
		wait_set = set;
	}
	return wait_set;
}

/*
 * Wait until the operation has something new and return it in *item (see
 * DgItemKind).  Interrupts are served while waiting.
 */
int
dblink_wait_item(DgOp op, DgItem *item)
{
	WaitEventSet *set = wait_get_set();
	int			fd = gocore_notify_fd();

	for (;;)
	{
		uint64		count;
		WaitEvent	event;
		int			kind;

		/* drain before polling, so a write after the poll wakes the wait */
		if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			elog(ERROR, "could not read dblink's eventfd: %m");

		kind = gocore_op_next(op, item);
		if (kind != DG_PENDING)
			return kind;

		(void) WaitEventSetWait(set, -1, &event, 1, PG_WAIT_EXTENSION);
		if (event.events & WL_LATCH_SET)
			ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Free what the Go core handed over in an item. */
void
dblink_item_free(DgItem *item)
{
	free(item->batch);
	free(item->text);
	free(item->error);
	item->batch = NULL;
	item->text = NULL;
	item->error = NULL;
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
