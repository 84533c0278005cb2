/*-------------------------------------------------------------------------
 *
 * foreign.c
 *	  Foreign servers for dblink: the dblink_fdw option validator, and the
 *	  lookup that turns a foreign server name into a libpq connection string.
 *
 * This file owns the table of libpq options dblink accepts and the rule
 * that says in which catalog (wrapper, server, user mapping) each one may
 * appear.  The validator and the connection-string builder share that rule,
 * so an option the validator would reject is never sent to a remote server.
 *
 * Contrib dblink asks libpq (PQconndefaults) for the option list; the shim
 * does not link libpq, so the libpq 15 keywords are listed here instead, in
 * PQconndefaults order because that order shows up in the validator's HINT.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "parser/scansup.h"
#include "utils/acl.h"

#include "foreign.h"

/* The option may appear only in a user mapping (libpq's "user" and secrets). */
#define FOREIGN_OPT_USER_MAPPING	0x01
/* The option is never accepted (libpq debug options, client_encoding). */
#define FOREIGN_OPT_EXCLUDED		0x02

/* One libpq connection keyword and where dblink lets it be given. */
typedef struct ForeignOption
{
	const char *keyword;		/* libpq keyword, case-sensitive */
	int			flags;			/* FOREIGN_OPT_* bits */
} ForeignOption;

/*
 * libpq 15's keywords in PQconndefaults() order.  "user" and the options
 * libpq marks secret ('*' dispchar) belong to user mappings; "replication"
 * (a 'D' debug option) and "client_encoding" (dblink sets it itself) are
 * kept so the table mirrors libpq, but flagged as never valid.
 */
static const ForeignOption foreign_options[] =
{
	{"service", 0},
	{"user", FOREIGN_OPT_USER_MAPPING},
	{"password", FOREIGN_OPT_USER_MAPPING},
	{"passfile", 0},
	{"channel_binding", 0},
	{"connect_timeout", 0},
	{"dbname", 0},
	{"host", 0},
	{"hostaddr", 0},
	{"port", 0},
	{"client_encoding", FOREIGN_OPT_EXCLUDED},
	{"options", 0},
	{"application_name", 0},
	{"fallback_application_name", 0},
	{"keepalives", 0},
	{"keepalives_idle", 0},
	{"keepalives_interval", 0},
	{"keepalives_count", 0},
	{"tcp_user_timeout", 0},
	{"sslmode", 0},
	{"sslcompression", 0},
	{"sslcert", 0},
	{"sslkey", 0},
	{"sslpassword", FOREIGN_OPT_USER_MAPPING},
	{"sslrootcert", 0},
	{"sslcrl", 0},
	{"sslcrldir", 0},
	{"sslsni", 0},
	{"requirepeer", 0},
	{"ssl_min_protocol_version", 0},
	{"ssl_max_protocol_version", 0},
	{"gssencmode", 0},
	{"krbsrvname", 0},
	{"gsslib", 0},
	{"replication", FOREIGN_OPT_EXCLUDED},
	{"target_session_attrs", 0},
	{NULL, 0}
};

static bool foreign_option_is_valid(const char *keyword, Oid context);
static char *foreign_valid_option_list(Oid context);
static void foreign_append_options(StringInfo buf, List *options, Oid context);
static void foreign_append_quoted(StringInfo buf, const char *value);

PG_FUNCTION_INFO_V1(dblink_fdw_validator);

/*
 * dblink_fdw_validator(options text[], catalog oid)
 *
 * Checks option names only, as contrib does: values are libpq's business,
 * and duplicates are already rejected by the core.
 */
Datum
dblink_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			context = PG_GETARG_OID(1);
	ListCell   *cell;

	foreach(cell, options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);
		char	   *valid;

		if (foreign_option_is_valid(def->defname, context))
			continue;

		/* Name the options that would have been accepted here. */
		valid = foreign_valid_option_list(context);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("invalid option \"%s\"", def->defname),
				 valid[0] != '\0'
				 ? errhint("Valid options in this context are: %s", valid)
				 : errhint("There are no valid options in this context.")));
	}

	PG_RETURN_VOID();
}

/*
 * dblink_foreign_server_connstr
 *
 * Builds the string from the wrapper, server and user mapping options, in
 * that order, each as key='value' followed by a space.
 */
char *
dblink_foreign_server_connstr(const char *name)
{
	char	   *srvname;
	ForeignServer *server;
	ForeignDataWrapper *fdw;
	UserMapping *mapping;
	Oid			userid = GetUserId();
	AclResult	aclresult;
	StringInfoData buf;

	/* A server name is an identifier: look it up as the catalog stores it. */
	srvname = pstrdup(name);
	truncate_identifier(srvname, strlen(srvname), false);

	server = GetForeignServerByName(srvname, true);
	if (server == NULL)
		return NULL;

	/* Mapping before USAGE: contrib reports a missing mapping first. */
	mapping = GetUserMapping(userid, server->serverid);
	fdw = GetForeignDataWrapper(server->fdwid);

	aclresult = pg_foreign_server_aclcheck(server->serverid, userid, ACL_USAGE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, server->servername);

	initStringInfo(&buf);
	foreign_append_options(&buf, fdw->options, ForeignDataWrapperRelationId);
	foreign_append_options(&buf, server->options, ForeignServerRelationId);
	foreign_append_options(&buf, mapping->options, UserMappingRelationId);

	return buf.data;
}

/*
 * Is "keyword" a libpq option dblink accepts in the catalog "context"?
 * The wrapper itself (and any other catalog) takes none.
 */
static bool
foreign_option_is_valid(const char *keyword, Oid context)
{
	const ForeignOption *opt;

	for (opt = foreign_options; opt->keyword != NULL; opt++)
	{
		if (strcmp(opt->keyword, keyword) == 0)
			break;
	}
	if (opt->keyword == NULL || (opt->flags & FOREIGN_OPT_EXCLUDED))
		return false;

	if (opt->flags & FOREIGN_OPT_USER_MAPPING)
		return context == UserMappingRelationId;
	return context == ForeignServerRelationId;
}

/* Comma-separated options valid in "context", for the validator's HINT. */
static char *
foreign_valid_option_list(Oid context)
{
	const ForeignOption *opt;
	StringInfoData buf;

	initStringInfo(&buf);
	for (opt = foreign_options; opt->keyword != NULL; opt++)
	{
		if (foreign_option_is_valid(opt->keyword, context))
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
							 opt->keyword);
	}
	return buf.data;
}

/*
 * Append key='value' for each option valid in "context".  Invalid ones
 * (other wrappers' options, "user" on a server) are dropped silently, as
 * contrib does, rather than handed to libpq.
 */
static void
foreign_append_options(StringInfo buf, List *options, Oid context)
{
	ListCell   *cell;

	foreach(cell, options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);

		if (!foreign_option_is_valid(def->defname, context))
			continue;
		appendStringInfo(buf, "%s='", def->defname);
		foreign_append_quoted(buf, strVal(def->arg));
		appendStringInfoString(buf, "' ");
	}
}

/* Backslash-escape \ and ' so libpq's conninfo parser reads the value back. */
static void
foreign_append_quoted(StringInfo buf, const char *value)
{
	const char *cp;

	for (cp = value; *cp != '\0'; cp++)
	{
		if (*cp == '\\' || *cp == '\'')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, *cp);
	}
}
