/*
 * builders.c
 *	  The local SQL builders: dblink_get_pkey() and
 *	  dblink_build_sql_insert/update/delete().
 *
 * Everything here is local: the relation and its primary key come from the
 * catalog, the source row (insert and update) from an SPI lookup.  No remote
 * connection and no Go call is involved.  Messages, SQLSTATEs and the text
 * of the generated statements match contrib dblink 1.2 (PostgreSQL 15)
 * byte for byte, including the SPI lookup query, which shows up in the
 * CONTEXT of errors raised while it runs.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

/* 15.0 shipped the materialized-SRF helper under its first name. */
#if PG_VERSION_NUM < 150001
#define InitMaterializedSRF SetSingleFuncCall
#endif

/* The statement a builder produces. */
typedef enum BuildersKind
{
	BUILDERS_INSERT,
	BUILDERS_UPDATE,
	BUILDERS_DELETE
} BuildersKind;

/* The key columns chosen by the caller, resolved against the relation. */
typedef struct BuildersKey
{
	int			natts;			/* number of key columns used */
	int		   *attidx;			/* physical column index (0-based) of each */
} BuildersKey;

PG_FUNCTION_INFO_V1(dblink_get_pkey);
PG_FUNCTION_INFO_V1(dblink_build_sql_insert);
PG_FUNCTION_INFO_V1(dblink_build_sql_update);
PG_FUNCTION_INFO_V1(dblink_build_sql_delete);

static Relation builders_open_rel(text *relname);
static char *builders_rel_name(Relation rel);
static void builders_resolve_key(Relation rel, int2vector *attnums,
								 int32 natts, BuildersKey *key);
static char **builders_text_array(ArrayType *array, int *nitems);
static char **builders_key_values(ArrayType *array, const BuildersKey *key,
								  const char *which);
static int	builders_key_pos(const BuildersKey *key, int attidx);
static void builders_append_where(StringInfo buf, Relation rel,
								  const BuildersKey *key, char **values);
static HeapTuple builders_fetch_source(Relation rel, const BuildersKey *key,
									   char **src_values);
static char *builders_sql(Relation rel, BuildersKind kind,
						  const BuildersKey *key, char **src_values,
						  char **tgt_values);
static Datum builders_build(FunctionCallInfo fcinfo, BuildersKind kind);

/*
 * Open the relation named by a (possibly qualified, possibly quoted) text
 * and require SELECT on it.  table_openrv gives the core errors for missing
 * relations, indexes and composite types.
 */
static Relation
builders_open_rel(text *relname)
{
	RangeVar   *rv;
	Relation	rel;
	AclResult	aclresult;

	rv = makeRangeVarFromNameList(textToQualifiedNameList(relname));
	rel = table_openrv(rv, AccessShareLock);

	aclresult = pg_class_aclcheck(RelationGetRelid(rel), GetUserId(),
								  ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, get_relkind_objtype(rel->rd_rel->relkind),
					   RelationGetRelationName(rel));

	return rel;
}

/* Quoted relation name, schema-qualified only when not on search_path. */
static char *
builders_rel_name(Relation rel)
{
	char	   *nspname = NULL;

	if (!RelationIsVisible(RelationGetRelid(rel)))
		nspname = get_namespace_name(RelationGetNamespace(rel));

	return quote_qualified_identifier(nspname, RelationGetRelationName(rel));
}

/*
 * Turn the caller's 1-based attribute numbers, which count live columns
 * only, into physical column indexes.  Only the first
 * min(natts, length of the vector) entries are used.
 */
static void
builders_resolve_key(Relation rel, int2vector *attnums, int32 natts,
					 BuildersKey *key)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			i;

	natts = Min(natts, attnums->dim1);
	if (natts <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of key attributes must be > 0")));

	key->natts = natts;
	key->attidx = (int *) palloc(natts * sizeof(int));

	for (i = 0; i < natts; i++)
	{
		int			attnum = attnums->values[i];
		int			live = 0;
		int			j;

		/* The range test against all columns comes first, as in contrib. */
		if (attnum <= 0 || attnum > tupdesc->natts)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid attribute number %d", attnum)));

		for (j = 0; j < tupdesc->natts; j++)
		{
			if (TupleDescAttr(tupdesc, j)->attisdropped)
				continue;
			if (++live == attnum)
				break;
		}
		if (j >= tupdesc->natts)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid attribute number %d", attnum)));

		key->attidx[i] = j;
	}
}

/* Elements of a text[] of any shape, flattened; NULL elements stay NULL. */
static char **
builders_text_array(ArrayType *array, int *nitems)
{
	Datum	   *elems;
	bool	   *nulls;
	char	  **values;
	int			i;

	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, nitems);

	values = (char **) palloc((*nitems + 1) * sizeof(char *));
	for (i = 0; i < *nitems; i++)
		values[i] = nulls[i] ? NULL : TextDatumGetCString(elems[i]);

	return values;
}

/* Key values from a source or target array, which must fit the key. */
static char **
builders_key_values(ArrayType *array, const BuildersKey *key,
					const char *which)
{
	char	  **values;
	int			nitems;

	values = builders_text_array(array, &nitems);
	if (nitems != key->natts)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s key array length must match number of key attributes",
						which)));

	return values;
}

/* Position of a physical column in the key (first match), or -1. */
static int
builders_key_pos(const BuildersKey *key, int attidx)
{
	int			i;

	for (i = 0; i < key->natts; i++)
		if (key->attidx[i] == attidx)
			return i;
	return -1;
}

/* "a = 'v' AND b IS NULL" over the key columns. */
static void
builders_append_where(StringInfo buf, Relation rel, const BuildersKey *key,
					  char **values)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < key->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, key->attidx[i]);

		if (i > 0)
			appendStringInfoString(buf, " AND ");
		appendStringInfoString(buf, quote_identifier(NameStr(att->attname)));
		if (values[i] != NULL)
			appendStringInfo(buf, " = %s", quote_literal_cstr(values[i]));
		else
			appendStringInfoString(buf, " IS NULL");
	}
}

/*
 * The one local row matching the source key values, or NULL if none.
 * The lookup selects NULL in place of dropped columns so that the row has
 * the relation's physical layout and its tuple descriptor applies.
 */
static HeapTuple
builders_fetch_source(Relation rel, const BuildersKey *key, char **src_values)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	StringInfoData buf;
	HeapTuple	tuple = NULL;
	int			ret;
	int			i;

	if ((ret = SPI_connect()) < 0)
		elog(ERROR, "SPI connect failure - returned %d", ret);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "SELECT ");
	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (i > 0)
			appendStringInfoString(&buf, ", ");
		if (att->attisdropped)
			appendStringInfoString(&buf, "NULL");
		else
			appendStringInfoString(&buf,
								   quote_identifier(NameStr(att->attname)));
	}
	appendStringInfo(&buf, " FROM %s WHERE ", builders_rel_name(rel));
	builders_append_where(&buf, rel, key, src_values);

	ret = SPI_exec(buf.data, 0);
	pfree(buf.data);

	if (ret == SPI_OK_SELECT && SPI_processed > 1)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("source criteria matched more than one record")));

	/* SPI_copytuple allocates in the caller's context, past SPI_finish. */
	if (ret == SPI_OK_SELECT && SPI_processed == 1)
		tuple = SPI_copytuple(SPI_tuptable->vals[0]);

	SPI_finish();
	return tuple;
}

/* The statement itself; source and target values as checked by the caller. */
static char *
builders_sql(Relation rel, BuildersKind kind, const BuildersKey *key,
			 char **src_values, char **tgt_values)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	char	   *relname = builders_rel_name(rel);
	HeapTuple	tuple = NULL;
	StringInfoData buf;
	bool		first;
	int			i;

	initStringInfo(&buf);

	if (kind == BUILDERS_DELETE)
	{
		appendStringInfo(&buf, "DELETE FROM %s WHERE ", relname);
		builders_append_where(&buf, rel, key, tgt_values);
		return buf.data;
	}

	tuple = builders_fetch_source(rel, key, src_values);
	if (tuple == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("source row not found")));

	if (kind == BUILDERS_INSERT)
	{
		appendStringInfo(&buf, "INSERT INTO %s(", relname);
		first = true;
		for (i = 0; i < tupdesc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(tupdesc, i);

			if (att->attisdropped)
				continue;
			if (!first)
				appendStringInfoChar(&buf, ',');
			appendStringInfoString(&buf,
								   quote_identifier(NameStr(att->attname)));
			first = false;
		}
		appendStringInfoString(&buf, ") VALUES(");
	}
	else
		appendStringInfo(&buf, "UPDATE %s SET ", relname);

	/* Every live column: key columns take target values, others the row's. */
	first = true;
	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		int			pos;
		char	   *val;

		if (att->attisdropped)
			continue;

		if (kind == BUILDERS_INSERT)
		{
			if (!first)
				appendStringInfoChar(&buf, ',');
		}
		else
		{
			if (!first)
				appendStringInfoString(&buf, ", ");
			appendStringInfo(&buf, "%s = ",
							 quote_identifier(NameStr(att->attname)));
		}
		first = false;

		pos = builders_key_pos(key, i);
		if (pos >= 0)
			val = tgt_values[pos];
		else
			val = SPI_getvalue(tuple, tupdesc, i + 1);

		if (val != NULL)
			appendStringInfoString(&buf, quote_literal_cstr(val));
		else
			appendStringInfoString(&buf, "NULL");
	}

	if (kind == BUILDERS_INSERT)
		appendStringInfoChar(&buf, ')');
	else
	{
		/* The remote row is found by its new key, as contrib does. */
		appendStringInfoString(&buf, " WHERE ");
		builders_append_where(&buf, rel, key, tgt_values);
	}

	return buf.data;
}

/*
 * Common body of the three builders.  Checks run in contrib's order:
 * relation, key attributes, source array, target array, source row.
 */
static Datum
builders_build(FunctionCallInfo fcinfo, BuildersKind kind)
{
	Relation	rel;
	BuildersKey key;
	char	  **src_values = NULL;
	char	  **tgt_values;
	char	   *sql;

	rel = builders_open_rel(PG_GETARG_TEXT_PP(0));
	builders_resolve_key(rel, (int2vector *) PG_GETARG_POINTER(1),
						 PG_GETARG_INT32(2), &key);

	if (kind == BUILDERS_DELETE)
		tgt_values = builders_key_values(PG_GETARG_ARRAYTYPE_P(3), &key,
										 "target");
	else
	{
		src_values = builders_key_values(PG_GETARG_ARRAYTYPE_P(3), &key,
										 "source");
		tgt_values = builders_key_values(PG_GETARG_ARRAYTYPE_P(4), &key,
										 "target");
	}

	sql = builders_sql(rel, kind, &key, src_values, tgt_values);
	relation_close(rel, AccessShareLock);

	PG_RETURN_TEXT_P(cstring_to_text(sql));
}

/*
 * dblink_get_pkey(relname text) returns setof dblink_pkey_results
 *
 * One row per key column of the primary key (INCLUDE columns excluded),
 * in key order; no rows when there is no primary key.
 */
Datum
dblink_get_pkey(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	Relation	indexrel;
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	indextup;

	InitMaterializedSRF(fcinfo, 0);

	rel = builders_open_rel(PG_GETARG_TEXT_PP(0));

	indexrel = table_open(IndexRelationId, AccessShareLock);
	ScanKeyInit(&skey, Anum_pg_index_indrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RelationGetRelid(rel)));
	scan = systable_beginscan(indexrel, IndexIndrelidIndexId, true, NULL,
							  1, &skey);

	while (HeapTupleIsValid(indextup = systable_getnext(scan)))
	{
		Form_pg_index index = (Form_pg_index) GETSTRUCT(indextup);
		int			i;

		if (!index->indisprimary)
			continue;

		for (i = 0; i < index->indnkeyatts; i++)
		{
			Datum		values[2];
			bool		nulls[2] = {false, false};

			values[0] = Int32GetDatum(i + 1);
			values[1] = CStringGetTextDatum(SPI_fname(RelationGetDescr(rel),
													  index->indkey.values[i]));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values, nulls);
		}
		break;
	}

	systable_endscan(scan);
	table_close(indexrel, AccessShareLock);
	relation_close(rel, AccessShareLock);

	return (Datum) 0;
}

/*
 * dblink_build_sql_insert(relname, pkattnums, pknumatts, src_pkattvals,
 *						   tgt_pkattvals) returns text
 */
Datum
dblink_build_sql_insert(PG_FUNCTION_ARGS)
{
	return builders_build(fcinfo, BUILDERS_INSERT);
}

/*
 * dblink_build_sql_update(relname, pkattnums, pknumatts, src_pkattvals,
 *						   tgt_pkattvals) returns text
 */
Datum
dblink_build_sql_update(PG_FUNCTION_ARGS)
{
	return builders_build(fcinfo, BUILDERS_UPDATE);
}

/*
 * dblink_build_sql_delete(relname, pkattnums, pknumatts, tgt_pkattvals)
 *		returns text
 */
Datum
dblink_build_sql_delete(PG_FUNCTION_ARGS)
{
	return builders_build(fcinfo, BUILDERS_DELETE);
}
