/*
 * foreign.h
 *	  Foreign servers as connection strings, for the dblink shim.
 *
 * The validator of dblink_fdw is an SQL entry point of its own
 * (dblink_fdw_validator, in foreign.c) and needs no declaration here.
 */
#ifndef DBLINK_FOREIGN_H
#define DBLINK_FOREIGN_H

/*
 * If "name" names a foreign server, return a libpq connection string built from the
 * server's wrapper/server options and the current user's user mapping (PUBLIC fallback),
 * palloc'd; else NULL. Raises contrib's errors: [42704] user mapping not found for "<role>",
 * [42501] permission denied for foreign server <name>.
 * *login_scram_keys is set when the connection is to authenticate with the
 * SCRAM keys of the session's login (18's use_scram_passthrough): the
 * caller hands them to the Go core beside the string, never in it.
 */
extern char *dblink_foreign_server_connstr(const char *name, bool *login_scram_keys);

#endif							/* DBLINK_FOREIGN_H */
