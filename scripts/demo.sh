#!/usr/bin/env bash
# scripts/demo.sh — build this dblink, install it into a throwaway copy of
# PostgreSQL 15 under a temp dir, start a throwaway cluster from it and use
# the extension from psql.  Nothing under /usr is changed; the cluster is
# stopped and the temp dir removed at the end (DBLINK_KEEP_TMP=1 keeps it).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DBLINK_REPO=$REPO
# shellcheck source=../test/lib.sh
source "$REPO/test/lib.sh"

step() { printf '\n==> %s\n' "$*"; }

step "setup"
bash "$REPO/scripts/setup.sh"

step "build"
make -s -C "$REPO" PG_CONFIG="$PG_CONFIG"

tmp_init
step "install into a staged copy of PostgreSQL ($DBLINK_TMP/stage)"
stage_install "$DBLINK_TMP/stage" ours

step "start a throwaway cluster"
cluster_start demo "$DBLINK_TMP/stage" auto

step "psql"
# -e echoes each statement before its result.
psql_as postgres postgres -e <<'SQL'
CREATE EXTENSION dblink;
SELECT dblink_connect('dbname=postgres options=-csearch_path=');
SELECT dblink_connect('myconn', 'dbname=postgres options=-csearch_path=');
SELECT dblink_get_connections();
SELECT * FROM dblink('myconn', 'SELECT 1, ''hello''') AS t(a int, b text);
SELECT dblink_disconnect('myconn');
SQL

step "a foreign server and a user mapping, used by a non-superuser"
# The example of the dblink_connect reference page: the connection details
# live in a dblink_fdw server, the credentials in a user mapping, and an
# ordinary role connects by the server's name.  The cluster asks for a
# password on TCP (scram-sha-256), as dblink requires for non-superusers.
psql_as postgres postgres -e -v port="$PGPORT" <<'SQL'
CREATE TABLE foo (a int, b text, c text[]);
INSERT INTO foo SELECT g, 'row ' || g, ARRAY['x' || g, 'y' || g] FROM generate_series(1, 3) g;
CREATE SERVER fdtest FOREIGN DATA WRAPPER dblink_fdw
  OPTIONS (hostaddr '127.0.0.1', port :'port', dbname 'postgres');
CREATE ROLE demo_user LOGIN PASSWORD 'demo secret';
CREATE USER MAPPING FOR demo_user SERVER fdtest
  OPTIONS (user 'demo_user', password 'demo secret');
GRANT USAGE ON FOREIGN SERVER fdtest TO demo_user;
GRANT SELECT ON TABLE foo TO demo_user;
SQL
psql_as demo_user postgres -e <<'SQL'
SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user;
SELECT dblink_connect('myconn', 'fdtest');
SELECT * FROM dblink('myconn', 'SELECT * FROM foo') AS t(a int, b text, c text[]);
SELECT dblink_disconnect('myconn');
-- without a password a non-superuser is refused
\set ON_ERROR_STOP 0
SELECT dblink_connect('nopw', 'dbname=postgres');
SQL

step "stop the cluster"
cluster_stop demo
echo "demo done"
