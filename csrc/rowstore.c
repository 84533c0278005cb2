/*-------------------------------------------------------------------------
 *
 * rowstore.c
 *	  The one row store of the set-returning entry points: dblink(),
 *	  dblink_fetch(), dblink_get_result() and dblink_get_notify(), whether
 *	  the rows come from the Go core's operation or the shim's own round
 *	  trip (direct.c).
 *
 * Rows arrive in batches of text values and are converted with the input
 * functions of the caller's column definition list into a tuplestore,
 * which spills to disk past work_mem.  While converting, the remote
 * server's DateStyle and IntervalStyle are applied locally (in a GUC nest
 * level) so that its dates parse as it meant them.
 *
 * A server of version 14 or later reports a change of those styles only
 * when the whole query string has run.  So the first result of a string is
 * converted as it streams (the styles it was produced with are known), but
 * a later one is kept as text in a second tuplestore until the string
 * ends, and converted then with the styles the server reported last.
 *
 * A batch is hostile input as much as the remote that sent it: its shape
 * is checked before a value is read (store_check_batch).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "dblink.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

/* A result being stored: the tuplestore and what converting needs. */
struct QueryStore
{
	FunctionCallInfo fcinfo;
	int			result_no;		/* result of the query string being stored */
	Tuplestorestate *tuplestore;
	TupleDesc	tupdesc;
	int			natts;
	FmgrInfo   *infuncs;		/* per column: input function, */
	Oid		   *typioparams;	/* its type I/O parameter */
	int32	   *typmods;		/* and the column's typmod */
	Datum	   *values;
	bool	   *nulls;
	MemoryContext rowcxt;		/* reset per row */
	int			guc_nestlevel;	/* > 0 while remote GUCs are applied */
	int			guc_result;		/* the result they were applied for */
	Tuplestorestate *deferred;	/* a later result's rows as text, or NULL */
	TupleDesc	deferred_desc;	/* natts text columns */
};								/* typedef QueryStore: dblink.h */

/* contrib's checks that the caller can take a materialized set */
static ReturnSetInfo *
store_prepare_set(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("materialize mode required, but it is not allowed in this context")));
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = NULL;
	rsinfo->setDesc = NULL;
	return rsinfo;
}

/* Drop what the previous result stored: the last result wins. */
static void
store_reset(QueryStore *qs, int result_no)
{
	if (qs->tuplestore)
		tuplestore_end(qs->tuplestore);
	if (qs->deferred)
		tuplestore_end(qs->deferred);
	qs->tuplestore = NULL;
	qs->deferred = NULL;
	qs->tupdesc = NULL;
	qs->result_no = result_no;
}

static Tuplestorestate *
store_new_tuplestore(QueryStore *qs)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) qs->fcinfo->resultinfo;
	MemoryContext oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	Tuplestorestate *ts;

	ts = tuplestore_begin_heap((rsinfo->allowedModes & SFRM_Materialize_Random) != 0,
							   false, work_mem);
	MemoryContextSwitchTo(oldcxt);
	return ts;
}

/* Start storing a row result: the caller's row type must fit it. */
static void
store_begin_rows(QueryStore *qs, int result_no, int ncols)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) qs->fcinfo->resultinfo;
	MemoryContext oldcxt;
	TupleDesc	tupdesc;
	int			i;

	store_reset(qs, result_no);

	switch (get_call_result_type(qs->fcinfo, NULL, &tupdesc))
	{
		case TYPEFUNC_COMPOSITE:
			break;
		case TYPEFUNC_RECORD:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("function returning record called in context "
							"that cannot accept type record")));
			break;
		default:
			elog(ERROR, "return type must be a row type");
			break;
	}
	if (tupdesc->natts != ncols)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("remote query result rowtype does not match "
						"the specified FROM clause rowtype")));

	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	qs->tupdesc = CreateTupleDescCopy(tupdesc);
	qs->natts = ncols;
	qs->infuncs = palloc(sizeof(FmgrInfo) * Max(ncols, 1));
	qs->typioparams = palloc(sizeof(Oid) * Max(ncols, 1));
	qs->typmods = palloc(sizeof(int32) * Max(ncols, 1));
	qs->values = palloc(sizeof(Datum) * Max(ncols, 1));
	qs->nulls = palloc(sizeof(bool) * Max(ncols, 1));
	for (i = 0; i < ncols; i++)
	{
		Form_pg_attribute att = TupleDescAttr(qs->tupdesc, i);
		Oid			infunc;

		getTypeInputInfo(att->atttypid, &infunc, &qs->typioparams[i]);
		fmgr_info(infunc, &qs->infuncs[i]);
		qs->typmods[i] = att->atttypmod;
	}
	MemoryContextSwitchTo(oldcxt);
	qs->tuplestore = store_new_tuplestore(qs);
}

/* Undo store_apply_remote_gucs: the local settings are ours again. */
static void
store_restore_gucs(QueryStore *qs)
{
	if (qs->guc_nestlevel > 0)
		AtEOXact_GUC(true, qs->guc_nestlevel);
	qs->guc_nestlevel = 0;
}

/*
 * While converting rows, use the remote server's DateStyle and
 * IntervalStyle where they differ from ours, as contrib does.  Each result
 * is read with the styles the remote reported for it (a query string may
 * change them between results; contrib keeps the first ones and misreads
 * dates).  The nest level is undone at the end of the call or by error
 * cleanup.
 */
static void
store_apply_remote_gucs(QueryStore *qs, int result_no,
						const char *datestyle, const char *intervalstyle)
{
	static const char *const names[] = {"DateStyle", "IntervalStyle"};
	const char *remote[2];
	int			i;

	if (qs->guc_nestlevel != 0 && qs->guc_result == result_no)
		return;
	store_restore_gucs(qs);
	qs->guc_result = result_no;
	remote[0] = datestyle;
	remote[1] = intervalstyle;
	for (i = 0; i < 2; i++)
	{
		const char *local;

		if (remote[i] == NULL || remote[i][0] == '\0')
			continue;
		local = GetConfigOption(names[i], false, false);
		if (local && strcmp(local, remote[i]) == 0)
			continue;
		if (qs->guc_nestlevel == 0)
			qs->guc_nestlevel = NewGUCNestLevel();
		(void) set_config_option(names[i], remote[i], PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	if (qs->guc_nestlevel == 0)
		qs->guc_nestlevel = -1; /* checked: nothing to apply */
}

/* Convert one row of text values (NULL = SQL NULL) into the tuplestore. */
static void
store_row(QueryStore *qs, char **strs)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(qs->rowcxt);
	int			c;

	for (c = 0; c < qs->natts; c++)
	{
		qs->nulls[c] = (strs[c] == NULL);
		qs->values[c] = InputFunctionCall(&qs->infuncs[c], strs[c],
										  qs->typioparams[c], qs->typmods[c]);
	}
	MemoryContextSwitchTo(oldcxt);
	tuplestore_putvalues(qs->tuplestore, qs->tupdesc, qs->values, qs->nulls);
	MemoryContextReset(qs->rowcxt);
}

/* Start keeping a later result's rows as text (see the file header). */
static void
store_defer_begin(QueryStore *qs)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) qs->fcinfo->resultinfo;
	MemoryContext oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	int			i;

	qs->deferred_desc = CreateTemplateTupleDesc(qs->natts);
	for (i = 0; i < qs->natts; i++)
		TupleDescInitEntry(qs->deferred_desc, (AttrNumber) (i + 1), NULL,
						   TEXTOID, -1, 0);
	qs->deferred = tuplestore_begin_heap(false, false, work_mem);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * The query string has ended and the remote reported its styles as they
 * were then: convert the kept result with them.
 */
static void
store_defer_finish(QueryStore *qs, const char *datestyle,
				   const char *intervalstyle)
{
	TupleTableSlot *slot;
	char	  **strs;
	int			c;

	if (qs->deferred == NULL)
		return;
	store_apply_remote_gucs(qs, qs->result_no, datestyle, intervalstyle);
	slot = MakeSingleTupleTableSlot(qs->deferred_desc, &TTSOpsMinimalTuple);
	strs = palloc(sizeof(char *) * Max(qs->natts, 1));
	while (tuplestore_gettupleslot(qs->deferred, true, false, slot))
	{
		slot_getallattrs(slot);
		for (c = 0; c < qs->natts; c++)
			strs[c] = slot->tts_isnull[c] ? NULL :
				TextDatumGetCString(slot->tts_values[c]);
		store_row(qs, strs);
		for (c = 0; c < qs->natts; c++)
			if (strs[c])
				pfree(strs[c]);
	}
	ExecDropSingleTupleTableSlot(slot);
	pfree(strs);
	tuplestore_end(qs->deferred);
	qs->deferred = NULL;
}

static void
store_bad_batch(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("dblink's Go core handed over a malformed batch of rows")));
}

/*
 * Check a batch's shape before reading it: as many columns as its result
 * was begun with, nrows * ncols offsets, and every value starting inside
 * the data block, which ends with a NUL, so that every value ends inside
 * it too.  The Go core builds batches this way from what the remote sent;
 * the shim does not take it on trust, since a batch read out of shape
 * reads the backend's memory.
 */
static void
store_check_batch(QueryStore *qs, const DgBatch *batch)
{
	int64		n;
	int64		i;

	if (batch->ncols != qs->natts || batch->nrows < 0 || batch->datalen < 0 ||
		batch->noffsets != (int64) batch->nrows * batch->ncols ||
		(batch->datalen > 0 && batch->data[batch->datalen - 1] != '\0'))
		store_bad_batch();
	n = batch->noffsets;
	for (i = 0; i < n; i++)
	{
		int32		off = batch->offsets[i];

		if (off < -1 || (off >= 0 && off >= batch->datalen))
			store_bad_batch();
	}
}

/* Convert and store one batch of rows, or keep them as text for later. */
static void
store_batch(QueryStore *qs, const DgBatch *batch, bool defer_later)
{
	char	  **strs;
	int			r;

	if (batch == NULL)
		dblink_out_of_memory();
	if (batch->result_no != qs->result_no || qs->tupdesc == NULL)
	{
		store_begin_rows(qs, batch->result_no, batch->ncols);
		if (defer_later && batch->result_no > 1)
			store_defer_begin(qs);
	}
	store_check_batch(qs, batch);
	if (batch->nrows == 0)
		return;
	if (qs->deferred == NULL)
		store_apply_remote_gucs(qs, batch->result_no, batch->datestyle,
								batch->intervalstyle);

	strs = palloc(sizeof(char *) * Max(qs->natts, 1));
	for (r = 0; r < batch->nrows; r++)
	{
		const int32_t *offs = batch->offsets + (size_t) r * batch->ncols;
		int			c;

		for (c = 0; c < qs->natts; c++)
			strs[c] = offs[c] < 0 ? NULL : batch->data + offs[c];
		if (qs->deferred == NULL)
		{
			store_row(qs, strs);
			continue;
		}
		/* kept as text; every input function accepts its own output */
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(qs->rowcxt);

			for (c = 0; c < qs->natts; c++)
			{
				qs->nulls[c] = (strs[c] == NULL);
				qs->values[c] = strs[c] ? CStringGetTextDatum(strs[c]) : (Datum) 0;
			}
			MemoryContextSwitchTo(oldcxt);
			tuplestore_putvalues(qs->deferred, qs->deferred_desc, qs->values, qs->nulls);
			MemoryContextReset(qs->rowcxt);
		}
	}
	pfree(strs);
}

/*
 * A command result: contrib returns its tag as one row of one text column
 * "status" (not checked against the caller's list here; the executor does).
 */
void
dblink_store_command(QueryStore *qs, int result_no, const char *tag)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) qs->fcinfo->resultinfo;
	MemoryContext oldcxt;
	Datum		value;
	bool		isnull = false;

	store_reset(qs, result_no);
	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	qs->tupdesc = CreateTemplateTupleDesc(1);
	TupleDescInitEntry(qs->tupdesc, (AttrNumber) 1, "status", TEXTOID, -1, 0);
	/* a select-list call returns it as an anonymous record */
	qs->tupdesc = BlessTupleDesc(qs->tupdesc);
	MemoryContextSwitchTo(oldcxt);
	qs->tuplestore = store_new_tuplestore(qs);
	value = CStringGetTextDatum(tag);
	tuplestore_putvalues(qs->tuplestore, qs->tupdesc, &value, &isnull);
}

/*
 * A batch of one result's rows that the shim read itself (direct.c): its
 * styles cannot have changed within the answer, so nothing is deferred.
 */
void
dblink_store_batch(QueryStore *qs, const DgBatch *batch)
{
	store_batch(qs, batch, false);
}

/*
 * Storing for the other set-returning entry points (dblink_fetch,
 * dblink_get_result, dblink_get_notify), with the same conversion as
 * dblink(): begin (checks the set context), feed items, end.
 */
QueryStore *
dblink_store_begin(FunctionCallInfo fcinfo)
{
	QueryStore *qs;

	(void) store_prepare_set(fcinfo);
	qs = palloc0(sizeof(QueryStore));
	qs->fcinfo = fcinfo;
	qs->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "dblink row",
									   ALLOCSET_DEFAULT_SIZES);
	return qs;
}

/*
 * Store the results an operation streams, then release it: all of them
 * (the last one is what the call returns) or, with run->one_result, only
 * the next one.  A remote error is reported as run says; after it (with
 * fail_on_error false) the rows stored so far are kept for dblink() and
 * dropped for the others, as in contrib.  Returns false after such a
 * NOTICE; *had_rows (if not NULL) tells whether the last result of the
 * finished operation had rows.
 */
bool
dblink_store_op(QueryStore *qs, volatile DgOp op, const StoreRun *run, bool *had_rows)
{
	DgItem		item = {0};
	bool		ok = true;

	if (had_rows)
		*had_rows = false;

	PG_TRY();
	{
		bool		finished = false;

		while (!finished)
		{
			switch (dblink_wait_item(op, &item))
			{
				case DG_ROWS:
					store_batch(qs, item.batch, !run->one_result);
					finished = run->one_result && (item.ends & DG_ENDS_RESULT);
					break;
				case DG_COMMAND:
					dblink_store_command(qs, item.result_no, item.text);
					finished = run->one_result;
					break;
				case DG_RESULT_END:
					finished = run->one_result;
					break;
				case DG_DONE:
					op = 0;		/* gone with its final item */
					if (had_rows)
						*had_rows = item.had_rows != 0;
					store_defer_finish(qs, item.datestyle, item.intervalstyle);
					finished = true;
					break;
				case DG_ERROR:
					{
						DgError    *err = item.error;

						op = 0;
						item.error = NULL;
						if (!run->fail && run->keep_on_error)
							store_defer_finish(qs, item.datestyle,
											   item.intervalstyle);
						dblink_report(run->fail ? ERROR : NOTICE, err,
									  run->conname, run->action);
						if (!run->keep_on_error)
							store_reset(qs, 0);
						ok = false;
						finished = true;
					}
					break;
			}
			if ((item.ends & DG_ENDS_QUERY) != 0)
			{
				/* the end of the query string came with the item */
				if (had_rows)
					*had_rows = item.had_rows != 0;
				store_defer_finish(qs, item.datestyle, item.intervalstyle);
				finished = true;
			}
			dblink_item_free(&item);
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
	return ok;
}

/* Restore the local GUCs and hand what is stored to the executor. */
void
dblink_store_end(QueryStore *qs)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) qs->fcinfo->resultinfo;

	store_restore_gucs(qs);
	MemoryContextDelete(qs->rowcxt);
	if (qs->tuplestore)
	{
		rsinfo->setResult = qs->tuplestore;
		rsinfo->setDesc = qs->tupdesc;
	}
}
