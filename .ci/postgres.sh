#!/usr/bin/env bash
# CI: a PostgreSQL for the postgres-mode tests (cluster.md): installs Debian's
# postgresql when missing, starts the local cluster when it is down, and
# creates the role "ztick" (login, may create databases) and the database
# "ztick". Each test then creates its own database and drops it
# (tests/_helpers/postgres.ts). The tests connect as
# postgres://ztick@127.0.0.1:5432/... (ZTICK_TEST_PG_URL overrides).
set -uo pipefail

log() { printf '[ci] %s\n' "$*"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! command -v pg_ctlcluster >/dev/null; then
  log "installing postgresql"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if ! port_open 5432; then
  version=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1}')
  cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $2}')
  if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
    cluster=main
    log "creating PostgreSQL cluster $version/$cluster"
    pg_createcluster "$version" "$cluster" >/dev/null
  fi
  log "starting PostgreSQL $version/$cluster"
  pg_ctlcluster "$version" "$cluster" start
fi
for _ in $(seq 1 30); do
  port_open 5432 && break
  sleep 1
done
port_open 5432 || { log "postgresql is not answering on 5432"; exit 1; }

psql_admin() { su postgres -c "psql -X -q -v ON_ERROR_STOP=1 -At $*"; }
# Local connections of the tests are trusted (as Debian's default for
# 127.0.0.1 is not): the tests' role has no password.
hba=$(su postgres -c "psql -X -At -c 'show hba_file'")
if ! grep -q '^host all ztick 127.0.0.1/32 trust' "$hba"; then
  log "trusting local TCP connections of the role ztick"
  sed -i '1i host all ztick 127.0.0.1/32 trust' "$hba"
  su postgres -c "psql -X -q -c 'select pg_reload_conf()'" >/dev/null
fi
if [ "$(psql_admin "-c \"select 1 from pg_roles where rolname = 'ztick'\"")" != "1" ]; then
  log "creating role ztick"
  psql_admin "-c 'create role ztick login createdb'"
fi
if [ "$(psql_admin "-c \"select 1 from pg_database where datname = 'ztick'\"")" != "1" ]; then
  log "creating database ztick"
  psql_admin "-c 'create database ztick owner ztick'"
fi
log "postgresql: $(psql_admin "-c 'show server_version'")"
