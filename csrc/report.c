/*-------------------------------------------------------------------------
 *
 * report.c
 *	  Turning the Go core's error records into ereports, worded as contrib
 *	  dblink words them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "dblink.h"

/* A palloc'd copy of an error record; the malloc'd original is freed. */
typedef struct ReportFields
{
	int			sqlstate;
	char	   *message;
	char	   *detail;
	char	   *hint;
	char	   *context;
} ReportFields;

static char *
report_copy(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

static ReportFields
report_take(DgError *err)
{
	ReportFields f;

	if (err == NULL)
		dblink_out_of_memory();

	f.sqlstate = MAKE_SQLSTATE(err->sqlstate[0], err->sqlstate[1],
							   err->sqlstate[2], err->sqlstate[3],
							   err->sqlstate[4]);
	f.message = report_copy(err->message);
	f.detail = report_copy(err->detail);
	f.hint = report_copy(err->hint);
	f.context = report_copy(err->context);
	free(err);
	return f;
}

/*
 * Raise an error record as is: connection failures, the password rule and
 * other errors raised before a query ran.
 */
void
dblink_raise(DgError *err)
{
	ReportFields f = report_take(err);

	ereport(ERROR,
			(errcode(f.sqlstate),
			 errmsg_internal("%s", f.message),
			 f.detail ? errdetail_internal("%s", f.detail) : 0,
			 f.hint ? errhint("%s", f.hint) : 0));
	pg_unreachable();
}

/*
 * Report an error of a remote query at elevel (ERROR, or NOTICE when the
 * caller passed fail_on_error = false) with contrib's CONTEXT line:
 * "<action> on dblink connection named "<name>"" or "... on unnamed dblink
 * connection".  Errors raised before the query ran, and every error when
 * action is NULL, are raised as is.
 */
void
dblink_report(int elevel, DgError *err, const char *conname, const char *action)
{
	ReportFields f;
	char	   *where;

	if (err == NULL || !err->remote || action == NULL)
		dblink_raise(err);
	f = report_take(err);
	if (conname)
		where = psprintf("%s on dblink connection named \"%s\"", action, conname);
	else
		where = psprintf("%s on unnamed dblink connection", action);
	ereport(elevel,
			(errcode(f.sqlstate),
			 (f.message && f.message[0] != '\0') ?
			 errmsg_internal("%s", f.message) :
			 errmsg("could not obtain message string for remote error"),
			 f.detail ? errdetail_internal("%s", f.detail) : 0,
			 f.hint ? errhint("%s", f.hint) : 0,
			 f.context ? errcontext("%s", f.context) : 0,
			 errcontext("%s", where)));
}

/*
 * The Go core hands results over in malloc()ed blocks; NULL is malloc's
 * refusal, reported as palloc reports its own.
 */
void
dblink_out_of_memory(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_OUT_OF_MEMORY),
			 errmsg("out of memory"),
			 errdetail("dblink could not allocate memory to take over a result of its Go core.")));
}

/* contrib's error for a connection that is not open */
void
dblink_conn_not_available(const char *conname)
{
	if (conname)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_DOES_NOT_EXIST),
				 errmsg("connection \"%s\" not available", conname)));
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_DOES_NOT_EXIST),
			 errmsg("connection not available")));
	pg_unreachable();
}

/* The local level of a remote message's (non-localized) severity. */
static int
report_notice_level(const char *severity)
{
	if (strcmp(severity, "WARNING") == 0)
		return WARNING;
	if (strcmp(severity, "INFO") == 0)
		return INFO;
	if (strcmp(severity, "LOG") == 0)
		return LOG;
	if (strncmp(severity, "DEBUG", 5) == 0)
		return DEBUG1;
	return NOTICE;
}

/*
 * Raise remote messages in this session at their own level
 * (dblink.remote_notices = relay), with a CONTEXT line naming the
 * connection; then free them (one malloc() block).
 */
void
dblink_relay_notices(DgNotice *notices, int count)
{
	int			i;

	PG_TRY();
	{
		for (i = 0; i < count; i++)
		{
			const DgNotice *n = &notices[i];
			char	   *where;

			/* errcontext() is a comma expression: never inside ?: */
			if (n->conname)
				where = psprintf("remote message on dblink connection named \"%s\"", n->conname);
			else
				where = pstrdup("remote message on unnamed dblink connection");
			ereport(report_notice_level(n->severity),
					(errcode(MAKE_SQLSTATE(n->sqlstate[0], n->sqlstate[1],
										   n->sqlstate[2], n->sqlstate[3],
										   n->sqlstate[4])),
					 errmsg_internal("%s", n->message),
					 n->detail ? errdetail_internal("%s", n->detail) : 0,
					 n->hint ? errhint("%s", n->hint) : 0,
					 errcontext("%s", where)));
			pfree(where);
		}
	}
	PG_FINALLY();
	{
		free(notices);
	}
	PG_END_TRY();
}
