/*-------------------------------------------------------------------------
 *
 * direct.c
 *	  Small queries whose round trip the shim makes itself.
 *
 * A call into the Go runtime after an idle gap wakes its scheduler, which
 * costs several times a small query's round trip (docs/DESIGN.md,
 * "Waiting").  So dblink() and dblink_exec() on a registered connection
 * that the Go core published as idle (a DgDirect) send the Query message
 * and read the answer here, as contrib's libpq does.  When the answer is
 * plain -- row descriptions, rows and command tags, then ReadyForQuery,
 * checked as strictly as the Go core checks them -- it is stored here and
 * the Go core is not called at all.  Anything else (an error, a notice, a
 * notification, a setting, COPY, an answer longer than DIRECT_MAX_ANSWER,
 * a closed socket, an interrupt while waiting) hands the query to the Go
 * core with what was sent and read so far (dg_direct_adopt), and the call
 * goes on as any other: the Go core owns every error and every rule.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "dblink.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"

/*
 * Longest answer read here; a longer one goes to the Go core, which reads
 * large results on a goroutine while the backend converts.
 */
#define DIRECT_MAX_ANSWER	(64 * 1024)
/* Longest query string sent here. */
#define DIRECT_MAX_SQL		(16 * 1024)

/*
 * Connections the shim has seen by name, each with the registration it
 * stood for: valid while the DgDirect's token is still that one (the Go
 * core never frees a DgDirect, so a stale pointer is safe to check).
 */
#define DIRECT_SLOTS 16
typedef struct DirectSlot
{
	bool		used;
	bool		unnamed;
	char		name[NAMEDATALEN];
	DgDirect   *d;
	uint64		token;
} DirectSlot;

static DirectSlot direct_slots[DIRECT_SLOTS];
static int	direct_next_slot = 0;

/* round trips answered here, and queries handed to the Go core */
static int64 direct_answered = 0;
static int64 direct_adopted = 0;

/* Where the scan of an answer stands (the Go core's states, in short). */
typedef enum DirectState
{
	DS_FIRST,					/* nothing yet */
	DS_BETWEEN,					/* between results */
	DS_ROWS						/* after a row description */
} DirectState;

typedef enum DirectScan
{
	SCAN_MORE,					/* a complete plain answer needs more input */
	SCAN_DONE,					/* ReadyForQuery ended the input */
	SCAN_OTHER					/* something for the Go core */
} DirectScan;

static bool
direct_slot_matches(const DirectSlot *slot, const char *name)
{
	if (!slot->used)
		return false;
	if (name == NULL)
		return slot->unnamed;
	return !slot->unnamed && strcmp(slot->name, name) == 0;
}

/*
 * The DgDirect of a registered connection (unnamed when name is NULL), or
 * NULL when there is none.  Asks the Go core only when no slot knows it.
 */
static DgDirect *
direct_lookup(const char *name, uint64 *token)
{
	DirectSlot *slot = NULL;
	DgDirect   *d;
	int			i;

	for (i = 0; i < DIRECT_SLOTS; i++)
	{
		if (!direct_slot_matches(&direct_slots[i], name))
			continue;
		if (direct_slots[i].d->token == direct_slots[i].token)
		{
			*token = direct_slots[i].token;
			return direct_slots[i].d;
		}
		slot = &direct_slots[i];	/* stale: the name was registered again */
		break;
	}
	if (name != NULL && strlen(name) >= NAMEDATALEN)
		return NULL;
	d = gocore_direct(name, token);
	if (d == NULL)
		return NULL;
	if (slot == NULL)
	{
		slot = &direct_slots[direct_next_slot];
		direct_next_slot = (direct_next_slot + 1) % DIRECT_SLOTS;
	}
	slot->used = true;
	slot->unnamed = (name == NULL);
	strlcpy(slot->name, name ? name : "", NAMEDATALEN);
	slot->d = d;
	slot->token = *token;
	return d;
}

static uint32
direct_int32(const char *p)
{
	uint32		v;

	memcpy(&v, p, sizeof(v));
	return pg_ntoh32(v);
}

static uint16
direct_int16(const char *p)
{
	uint16		v;

	memcpy(&v, p, sizeof(v));
	return pg_ntoh16(v);
}

/*
 * A RowDescription of text columns whose contents agree with its length;
 * its number of columns in *ncols.
 */
static bool
direct_row_description(const char *body, int len, int *ncols)
{
	int			n;
	int			pos = 2;
	int			i;

	if (len < 2)
		return false;
	n = direct_int16(body);
	for (i = 0; i < n; i++)
	{
		const char *nul = memchr(body + pos, '\0', len - pos);

		if (nul == NULL)
			return false;
		pos = nul - body + 1;
		if (len - pos < 18 || direct_int16(body + pos + 16) != 0)
			return false;		/* short, or not text format */
		pos += 18;
	}
	*ncols = n;
	return pos == len;
}

/* A DataRow of exactly ncols values that fill it. */
static bool
direct_data_row(const char *body, int len, int ncols)
{
	int			pos = 2;
	int			i;

	if (len < 2 || direct_int16(body) != ncols)
		return false;
	for (i = 0; i < ncols; i++)
	{
		int32		vlen;

		if (len - pos < 4)
			return false;
		vlen = (int32) direct_int32(body + pos);
		pos += 4;
		if (vlen == -1)
			continue;
		if (vlen < 0 || vlen > len - pos)
			return false;
		pos += vlen;
	}
	return pos == len;
}

/* A command tag: one string, its NUL the message's last byte. */
static bool
direct_tag(const char *body, int len)
{
	return len >= 1 && memchr(body, '\0', len) == body + len - 1;
}

/*
 * A ParameterStatus the shim may pass over: the Go core keeps only the
 * styles (which shape how rows convert), so a change of those is its to
 * read.
 */
static bool
direct_setting(const char *body, int len)
{
	const char *nul = memchr(body, '\0', len);

	if (nul == NULL || memchr(nul + 1, '\0', body + len - nul - 1) != body + len - 1)
		return false;
	return strcmp(body, "DateStyle") != 0 && strcmp(body, "IntervalStyle") != 0;
}

/*
 * Scan the complete messages of the answer not scanned yet.  ReadyForQuery
 * must end the input: anything after it (a notification, a setting) is
 * the Go core's to read.
 */
static DirectScan
direct_scan(DirectCall *dc)
{
	while (dc->len - dc->pos >= 5)
	{
		const char *m = dc->buf + dc->pos;
		uint32		n = direct_int32(m + 1);
		const char *body = m + 5;
		int			blen;

		/* libpq's bound: only rows and row descriptions may be long */
		if (n < 4 || n > DIRECT_MAX_ANSWER ||
			(n > 30000 && m[0] != 'D' && m[0] != 'T'))
			return SCAN_OTHER;
		if ((uint32) (dc->len - dc->pos) < 1 + n)
			return SCAN_MORE;
		blen = (int) n - 4;
		switch (m[0])
		{
			case 'T':
				if (dc->state == DS_ROWS ||
					!direct_row_description(body, blen, &dc->ncols))
					return SCAN_OTHER;
				dc->state = DS_ROWS;
				break;
			case 'D':
				if (dc->state != DS_ROWS || !direct_data_row(body, blen, dc->ncols))
					return SCAN_OTHER;
				break;
			case 'C':
				if (!direct_tag(body, blen))
					return SCAN_OTHER;
				dc->state = DS_BETWEEN;
				break;
			case 'S':
				if (!direct_setting(body, blen))
					return SCAN_OTHER;
				break;
			case 'Z':
				if (dc->state != DS_BETWEEN || blen != 1 ||
					(body[0] != 'I' && body[0] != 'T' && body[0] != 'E') ||
					dc->pos + 1 + n != (uint32) dc->len)
					return SCAN_OTHER;
				dc->tx_status = body[0];
				dc->pos = dc->len;
				return SCAN_DONE;
			default:
				return SCAN_OTHER;
		}
		dc->pos += 1 + n;
	}
	return SCAN_MORE;
}

static int64
direct_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Send the query and read a plain answer into dc.  Returns SCAN_DONE with
 * the answer complete, or SCAN_OTHER when the Go core must take over;
 * *unsent is then the part of msg the socket did not take.
 */
static DirectScan
direct_round_trip(DirectCall *dc, const char *msg, int msglen, int *unsent)
{
	DgDirect   *d = dc->d;
	ssize_t		n;
	bool		wait = true;

	n = send(d->fd, msg, msglen, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0)
		d->bytes_sent += n;
	*unsent = msglen - (n > 0 ? (int) n : 0);
	if (*unsent > 0)
		return SCAN_OTHER;		/* a full socket, or a broken one */

	/*
	 * The answer to a query that just went out whole cannot be there yet: a
	 * read now would mostly find nothing (measured: 4 in 5 calls), so the
	 * first thing is the wait, which returns at once if it is.
	 */
	for (;;)
	{
		DirectScan	scan;

		if (wait)
		{
			dblink_wait_socket(d->fd, d->wait_id);
			if (InterruptPending)
				return SCAN_OTHER;	/* the Go core cancels the query */
			wait = false;
		}
		if (dc->len == dc->cap)
		{
			if (dc->cap >= DIRECT_MAX_ANSWER)
				return SCAN_OTHER;
			dc->cap *= 2;
			dc->buf = repalloc(dc->buf, dc->cap);
		}
		n = recv(d->fd, dc->buf + dc->len, dc->cap - dc->len, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			return SCAN_OTHER;	/* the Go core reads the end or error */
		if (n < 0)
		{
			wait = true;
			continue;
		}
		d->bytes_received += n;
		dc->len += n;
		scan = direct_scan(dc);
		if (scan != SCAN_MORE)
			return scan;
	}
}

/*
 * Run sql on a registered connection (unnamed when name is NULL) with a
 * round trip of the shim's own, when the Go core published it idle.
 * Returns DIRECT_ANSWERED with the plain answer in dc (store it, then end
 * it with dblink_direct_end: the connection stays busy meanwhile, for a
 * nested call), DIRECT_ADOPTED with *op the operation the Go core took the
 * query over as, or DIRECT_NONE when the shim did not try.
 */
DirectOutcome
dblink_direct_query(DirectCall *dc, const char *name, const char *sql,
					DgQueryMode mode, DgOp *op)
{
	DgDirect   *d;
	uint64		token;
	size_t		sqllen = strlen(sql);
	int			msglen;
	char	   *msg;
	int			unsent;
	DirectScan	scan;
	uint32		expected = DG_DIRECT_IDLE;

	memset(dc, 0, sizeof(*dc));
	if (InterruptPending || sqllen > DIRECT_MAX_SQL)
		return DIRECT_NONE;
	d = direct_lookup(name, &token);
	if (d == NULL || d->state != DG_DIRECT_IDLE)
		return DIRECT_NONE;

	/* Query: 'Q', its length, the string and its NUL */
	msglen = 1 + 4 + (int) sqllen + 1;
	msg = palloc(msglen);
	msg[0] = 'Q';
	{
		uint32		len = pg_hton32((uint32) (msglen - 1));

		memcpy(msg + 1, &len, 4);
	}
	memcpy(msg + 5, sql, sqllen + 1);
	dc->cap = 8192;
	dc->buf = palloc(dc->cap);
	dc->state = DS_FIRST;

	if (!__atomic_compare_exchange_n(&d->state, &expected, DG_DIRECT_BUSY, false,
									 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
	{
		pfree(msg);
		pfree(dc->buf);
		dc->buf = NULL;
		return DIRECT_NONE;
	}
	dc->d = d;
	dc->token = token;

	/*
	 * An ERROR while waiting (the wait set, memory) leaves the query to the
	 * Go core, which cancels it as the error unwinds, as for its own
	 * queries.  unsent is set by the send, before anything can fail.
	 */
	unsent = msglen;
	PG_TRY();
	{
		scan = direct_round_trip(dc, msg, msglen, &unsent);
	}
	PG_CATCH();
	{
		gocore_op_release(gocore_direct_adopt(name, sql, mode, msg + msglen - unsent,
											  unsent, dc->buf, dc->len));
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (scan == SCAN_DONE)
	{
		pfree(msg);
		d->tx_status = (uint32) dc->tx_status;
		d->round_trips++;
		d->succeeded = 1;
		d->last_used = direct_now();
		direct_answered++;
		return DIRECT_ANSWERED;
	}

	/* the Go core goes on from here (BUSY is its to end) */
	*op = gocore_direct_adopt(name, sql, mode, msg + msglen - unsent, unsent,
							  dc->buf, dc->len);
	pfree(msg);
	pfree(dc->buf);
	dc->buf = NULL;
	dc->d = NULL;
	direct_adopted++;
	return DIRECT_ADOPTED;
}

/*
 * What the shim can tell of a registered connection (unnamed when name is
 * NULL) by itself, for dblink.reconnect: a connection published idle with
 * nothing on its socket (no input, no hang-up) is quiet, and needs no call
 * into the Go core.  Anything else is the Go core's to judge.
 */
DirectPresence
dblink_direct_presence(const char *name)
{
	uint64		token;
	DgDirect   *d = direct_lookup(name, &token);
	struct pollfd pfd;

	if (d == NULL)
		return DIRECT_ABSENT;
	if (d->state != DG_DIRECT_IDLE)
		return DIRECT_UNSURE;
	pfd.fd = d->fd;
	pfd.events = POLLIN | POLLRDHUP;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) != 0)
		return DIRECT_UNSURE;
	return DIRECT_QUIET;
}

/*
 * Whether a connection is registered (unnamed when name is NULL): the
 * check the cursor and async calls make before their operation.  A name
 * a slot knows costs no call into the Go core; a connection without a
 * record of its own (its allocation failed) is the Go core's to tell.
 */
bool
dblink_connection_registered(const char *name)
{
	uint64		token;

	if (direct_lookup(name, &token) != NULL)
		return true;
	return gocore_has_connection(name);
}

/* The counts of dblink_debug_state(). */
void
dblink_direct_counts(int64 *answered, int64 *adopted)
{
	*answered = direct_answered;
	*adopted = direct_adopted;
}

/*
 * Store one row result of an answer: the messages from rows up to end
 * (its DataRows, perhaps settings among them) as one batch of
 * NUL-terminated copies, like the Go core's.  A value's copy and its NUL
 * take no more than its length word and bytes, so end - rows is room
 * enough for the data.
 */
static void
direct_store_rows(QueryStore *qs, const DgDirect *d, int result_no, int ncols,
				  int nrows, const char *rows, const char *end)
{
	DgBatch		batch = {0};
	const char *r;
	int64		v = 0;
	int64		datalen = 0;

	batch.result_no = result_no;
	batch.ncols = ncols;
	batch.nrows = nrows;
	batch.noffsets = (int64) nrows * ncols;
	batch.offsets = palloc(sizeof(int32) * Max(batch.noffsets, 1));
	batch.data = palloc(Max(end - rows, 1));
	batch.datestyle = (char *) d->datestyle;
	batch.intervalstyle = (char *) d->intervalstyle;
	for (r = rows; r < end; r += 1 + direct_int32(r + 1))
	{
		const char *p = r + 5 + 2;
		int			c;

		if (r[0] != 'D')
			continue;			/* a setting among the rows */
		for (c = 0; c < ncols; c++, v++)
		{
			int32		vlen = (int32) direct_int32(p);

			p += 4;
			batch.offsets[v] = vlen < 0 ? -1 : (int32) datalen;
			if (vlen < 0)
				continue;
			memcpy(batch.data + datalen, p, vlen);
			datalen += vlen;
			batch.data[datalen++] = '\0';
			p += vlen;
		}
	}
	batch.datalen = datalen;
	dblink_store_batch(qs, &batch);
	pfree(batch.offsets);
	pfree(batch.data);
}

/*
 * Store the results of an answer into qs, as dblink() stores the Go
 * core's batches: the last one is what the call returns.
 */
void
dblink_direct_store(DirectCall *dc, QueryStore *qs)
{
	const char *end = dc->buf + dc->len;
	const char *m;
	const char *rows = NULL;	/* after the row description of a result */
	int			nrows = 0;
	int			ncols = 0;
	int			result_no = 0;

	for (m = dc->buf; m < end; m += 1 + direct_int32(m + 1))
	{
		const char *body = m + 5;

		switch (m[0])
		{
			case 'T':
				result_no++;
				(void) direct_row_description(body, (int) direct_int32(m + 1) - 4, &ncols);
				rows = m + 1 + direct_int32(m + 1);
				nrows = 0;
				break;
			case 'D':
				nrows++;
				break;
			case 'C':
				if (rows == NULL)
					dblink_store_command(qs, ++result_no, body);
				else
					direct_store_rows(qs, dc->d, result_no, ncols, nrows, rows, m);
				rows = NULL;
				break;
		}
	}
}

/*
 * The tag of an answer's last result for dblink_exec(), and whether that
 * result had rows.
 */
const char *
dblink_direct_tag(DirectCall *dc, bool *had_rows)
{
	const char *end = dc->buf + dc->len;
	const char *m;
	const char *tag = "";
	bool		in_rows = false;

	*had_rows = false;
	for (m = dc->buf; m < end; m += 1 + direct_int32(m + 1))
	{
		if (m[0] == 'T')
			in_rows = true;
		else if (m[0] == 'C')
		{
			tag = m + 5;
			*had_rows = in_rows;
			in_rows = false;
		}
	}
	return tag;
}

/*
 * End an answered round trip (also while an ERROR unwinds the caller): the
 * connection is idle for the shim and the Go core again.
 */
void
dblink_direct_end(DirectCall *dc)
{
	DgDirect   *d = dc->d;

	if (d == NULL)
		return;
	dc->d = NULL;
	if (d->token == dc->token && d->state == DG_DIRECT_BUSY)
		__atomic_store_n(&d->state, DG_DIRECT_IDLE, __ATOMIC_RELEASE);
	if (dc->buf)
		pfree(dc->buf);
	dc->buf = NULL;
}
