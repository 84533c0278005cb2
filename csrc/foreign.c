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
 * does not link libpq, so libpq's keywords are listed here instead, with
 * the major that added each: the set is that of the major the shim is built
 * for, as each major's contrib sees its own libpq.  The order is
 * PQconndefaults' because 15's validator HINT lists them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "parser/scansup.h"
#include "utils/acl.h"
#include "utils/varlena.h"

#include "compat.h"
#include "foreign.h"

/* The option may appear only in a user mapping (libpq's "user" and secrets). */
#define FOREIGN_OPT_USER_MAPPING	0x01
/* The option is never accepted (libpq debug options, client_encoding, and
 * on 18 the OAuth options and the SCRAM keys dblink sets itself). */
#define FOREIGN_OPT_EXCLUDED		0x02

/* One libpq connection keyword and where dblink lets it be given. */
typedef struct ForeignOption
{
	const char *keyword;		/* libpq keyword, case-sensitive */
	int			flags;			/* FOREIGN_OPT_* bits */
	int			since;			/* first major whose libpq has it */
} ForeignOption;

/* The libpq of the major the shim is built for: its keywords count. */
#define FOREIGN_MAJOR (PG_VERSION_NUM / 10000)

/*
 * libpq's keywords of majors 15 to 18 in PQconndefaults() order, each with
 * the major that added it (internal/conn/keywords.go holds the same table;
 * a Go test keeps them equal).  "user" and the options libpq marks secret
 * ('*' dispchar) belong to user mappings; "replication" (a 'D' debug
 * option) and "client_encoding" (dblink sets it itself) are kept so the
 * table mirrors libpq, but flagged as never valid.
 */
static const ForeignOption foreign_options[] =
{
	{"service", 0, 15},
	{"user", FOREIGN_OPT_USER_MAPPING, 15},
	{"password", FOREIGN_OPT_USER_MAPPING, 15},
	{"passfile", 0, 15},
	{"channel_binding", 0, 15},
	{"connect_timeout", 0, 15},
	{"dbname", 0, 15},
	{"host", 0, 15},
	{"hostaddr", 0, 15},
	{"port", 0, 15},
	{"client_encoding", FOREIGN_OPT_EXCLUDED, 15},
	{"options", 0, 15},
	{"application_name", 0, 15},
	{"fallback_application_name", 0, 15},
	{"keepalives", 0, 15},
	{"keepalives_idle", 0, 15},
	{"keepalives_interval", 0, 15},
	{"keepalives_count", 0, 15},
	{"tcp_user_timeout", 0, 15},
	{"sslmode", 0, 15},
	{"sslnegotiation", 0, 17},
	{"sslcompression", 0, 15},
	{"sslcert", 0, 15},
	{"sslkey", 0, 15},
	{"sslcertmode", 0, 16},
	{"sslpassword", FOREIGN_OPT_USER_MAPPING, 15},
	{"sslrootcert", 0, 15},
	{"sslcrl", 0, 15},
	{"sslcrldir", 0, 15},
	{"sslsni", 0, 15},
	{"sslkeylogfile", 0, 18},
	{"requirepeer", 0, 15},
	{"require_auth", 0, 16},
	{"min_protocol_version", 0, 18},
	{"max_protocol_version", 0, 18},
	{"ssl_min_protocol_version", 0, 15},
	{"ssl_max_protocol_version", 0, 15},
	{"gssencmode", 0, 15},
	{"krbsrvname", 0, 15},
	{"gsslib", 0, 15},
	{"gssdelegation", 0, 16},
	{"replication", FOREIGN_OPT_EXCLUDED, 15},
	{"target_session_attrs", 0, 15},
	{"load_balance_hosts", 0, 16},
	{"scram_client_key", FOREIGN_OPT_EXCLUDED, 18},
	{"scram_server_key", FOREIGN_OPT_EXCLUDED, 18},
	{"oauth_issuer", FOREIGN_OPT_EXCLUDED, 18},
	{"oauth_client_id", FOREIGN_OPT_EXCLUDED, 18},
	{"oauth_client_secret", FOREIGN_OPT_EXCLUDED, 18},
	{"oauth_scope", FOREIGN_OPT_EXCLUDED, 18},
	{NULL, 0, 0}
};

/*
 * 18's dblink_fdw option of its own (not a libpq keyword): authenticate the
 * remote connection with the SCRAM keys of the session's login.  Valid on
 * servers and user mappings; the server's setting wins.
 */
#define FOREIGN_SCRAM_PASSTHROUGH "use_scram_passthrough"

static bool foreign_option_is_valid(const char *keyword, Oid context);
static bool foreign_is_scram_passthrough(const char *keyword, Oid context);
static bool foreign_use_scram_passthrough(ForeignServer *server, UserMapping *mapping);
pg_noreturn static void foreign_invalid_option(const char *name, Oid context);
static void foreign_append_options(StringInfo buf, List *options, Oid context);
static void foreign_append_quoted(StringInfo buf, const char *value);

PG_FUNCTION_INFO_V1(dblink_fdw_validator);

/*
 * dblink_fdw_validator(options text[], catalog oid)
 *
 * Checks option names only, as contrib does: values are libpq's business
 * (except use_scram_passthrough's, a Boolean), and duplicates are already
 * rejected by the core.
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

		if (foreign_option_is_valid(def->defname, context))
			continue;
		if (foreign_is_scram_passthrough(def->defname, context))
		{
			/* its value is checked here, as contrib 18 does */
			(void) defGetBoolean(def);
			continue;
		}

		foreign_invalid_option(def->defname, context);
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
dblink_foreign_server_connstr(const char *name, bool *login_scram_keys)
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

	aclresult = dblink_foreign_server_aclcheck(server->serverid, userid, ACL_USAGE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, server->servername);

	initStringInfo(&buf);

	/*
	 * use_scram_passthrough (18), when the login used SCRAM (otherwise the
	 * option changes nothing): the connection authenticates with the
	 * login's SCRAM keys, which the caller hands to the Go core beside the
	 * string, and requires SCRAM, first in the string as in contrib 18, so
	 * that a require_auth of the server's options replaces it (and the
	 * keys then no longer stand in for a password).
	 */
	*login_scram_keys = false;
	if (dblink_login_has_scram_keys() &&
		foreign_use_scram_passthrough(server, mapping))
	{
		*login_scram_keys = true;
		appendStringInfoString(&buf, "require_auth='scram-sha-256' ");
	}

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
	if (opt->keyword == NULL || (opt->flags & FOREIGN_OPT_EXCLUDED) ||
		opt->since > FOREIGN_MAJOR)
		return false;

	if (opt->flags & FOREIGN_OPT_USER_MAPPING)
		return context == UserMappingRelationId;
	return context == ForeignServerRelationId;
}

/* Is "keyword" 18's use_scram_passthrough, in a catalog that takes it? */
static bool
foreign_is_scram_passthrough(const char *keyword, Oid context)
{
	return FOREIGN_MAJOR >= 18 &&
		strcmp(keyword, FOREIGN_SCRAM_PASSTHROUGH) == 0 &&
		(context == ForeignServerRelationId || context == UserMappingRelationId);
}

/* use_scram_passthrough of the server, else of the user mapping, else false. */
static bool
foreign_use_scram_passthrough(ForeignServer *server, UserMapping *mapping)
{
	ListCell   *cell;

	foreach(cell, server->options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);

		if (strcmp(def->defname, FOREIGN_SCRAM_PASSTHROUGH) == 0)
			return defGetBoolean(def);
	}
	foreach(cell, mapping->options)
	{
		DefElem    *def = lfirst_node(DefElem, cell);

		if (strcmp(def->defname, FOREIGN_SCRAM_PASSTHROUGH) == 0)
			return defGetBoolean(def);
	}
	return false;
}

/*
 * The validator's error for an option not valid in "context", with the
 * HINT of the major's contrib: 16 and later name the closest valid option
 * if one is close, 15 lists every valid option.
 */
static void
foreign_invalid_option(const char *name, Oid context)
{
	const ForeignOption *opt;
	bool		any_valid = false;
#if DBLINK_HINT_CLOSEST_MATCH
	ClosestMatchState match;
	const char *closest;

	initClosestMatch(&match, name, 4);
	for (opt = foreign_options; opt->keyword != NULL; opt++)
	{
		if (foreign_option_is_valid(opt->keyword, context))
		{
			any_valid = true;
			updateClosestMatch(&match, opt->keyword);
		}
	}
	closest = getClosestMatch(&match);
	ereport(ERROR,
			(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
			 errmsg("invalid option \"%s\"", name),
			 any_valid ?
			 (closest != NULL ?
			  errhint("Perhaps you meant the option \"%s\".", closest) : 0) :
			 errhint("There are no valid options in this context.")));
#else
	StringInfoData buf;

	initStringInfo(&buf);
	for (opt = foreign_options; opt->keyword != NULL; opt++)
	{
		if (foreign_option_is_valid(opt->keyword, context))
		{
			appendStringInfo(&buf, "%s%s", any_valid ? ", " : "", opt->keyword);
			any_valid = true;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
			 errmsg("invalid option \"%s\"", name),
			 any_valid
			 ? errhint("Valid options in this context are: %s", buf.data)
			 : errhint("There are no valid options in this context.")));
#endif
	pg_unreachable();
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
