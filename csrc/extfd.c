/*-------------------------------------------------------------------------
 *
 * extfd.c
 *	  Remote connections counted against PostgreSQL's limit on external
 *	  file descriptors.
 *
 * fd.c caps the descriptors a backend holds outside its virtual file
 * descriptors (a share of max_files_per_process).  Contrib dblink reserves
 * one slot per connection with AcquireExternalFD before connecting, fails
 * with "too many open files on the local server" when none is left, and
 * gives the slot back with ReleaseExternalFD when the connection goes.
 *
 * Here the Go core opens and closes the sockets, on its goroutines and in
 * the background, so the shim does not follow each connection: it reserves
 * a slot before every call that may connect, and it makes the slots it
 * holds equal to the Go core's count of connections open or being opened,
 * which every item of an operation carries (and dg_remote_sockets tells
 * before a reservation and after a disconnect).  A
 * failed connect, a duplicate name, a replaced unnamed connection, the end
 * of a transient connection and an interrupted connect all give their slot
 * back that way.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "dblink.h"
#include "storage/fd.h"

/* External-FD slots this backend holds for remote connections. */
static int	extfd_held = 0;

/* Make the slots held match the Go core's count of remote connections. */
void
dblink_extfd_sync(void)
{
	dblink_extfd_sync_to(gocore_remote_sockets());
}

/*
 * The same with a count the Go core reported already (every item of an
 * operation carries it): no call into Go.
 */
void
dblink_extfd_sync_to(int live)
{
	if (live < 0)
		return;
	while (extfd_held > live)
	{
		ReleaseExternalFD();
		extfd_held--;
	}
	/* never expected (every connect reserves first), but keep the count */
	while (extfd_held < live)
	{
		ReserveExternalFD();
		extfd_held++;
	}
}

/*
 * Reserve a slot for a connection about to be opened, with contrib's error
 * when none is left.  The caller syncs after the call that uses it, which
 * gives the slot back if no connection was started.
 */
void
dblink_extfd_reserve(void)
{
	dblink_extfd_sync();
	if (!AcquireExternalFD())
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not establish connection"),
				 errdetail("There are too many open files on the local server."),
				 errhint("Raise the server's max_files_per_process and/or \"ulimit -n\" limits.")));
	extfd_held++;
}
