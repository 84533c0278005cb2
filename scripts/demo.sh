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

step "stop the cluster"
cluster_stop demo
echo "demo done"
