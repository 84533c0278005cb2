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
	free(item->datestyle);
	free(item->intervalstyle);
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
dblink_op_finish(DgOp op, DgItem *final, bool fail, const char *conname,
				 const char *action)
{
	DgItem		item = {0};
	bool		ok = true;

	PG_TRY();
	{
		int			kind;

		while ((kind = dblink_wait_item(op, &item)) != DG_DONE && kind != DG_ERROR)
			dblink_item_free(&item);
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
		dblink_op_abandon(op);
		PG_RE_THROW();
	}
	PG_END_TRY();
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
