#!/usr/bin/env bash
# A throwaway PostgreSQL for a Prefect server shared by several workers or machines.
#   scripts/postgres.sh start DATA_DIR PORT   -> prints the PREFECT_API_DATABASE_CONNECTION_URL to use
#   scripts/postgres.sh stop DATA_DIR
# Uses the newest /usr/lib/postgresql/*/bin (Debian's postgresql package), or PG_BIN. As root it runs
# the server as the `postgres` user (PostgreSQL refuses to run as root), so DATA_DIR's parent must be
# readable by that user. Connections: 127.0.0.1 only, trust authentication, user and database `prefect`.
set -euo pipefail
BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -n "$BIN" ] || { echo "error: no PostgreSQL found (install Debian's postgresql, or set PG_BIN)" >&2; exit 2; }
cmd=${1:-}; data=${2:-}
[ -n "$cmd" ] && [ -n "$data" ] || { echo "usage: $0 start DATA_DIR PORT | stop DATA_DIR" >&2; exit 2; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    port=${3:?usage: $0 start DATA_DIR PORT}
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres "$data"
    [ -f "$data/PG_VERSION" ] || as_pg "$BIN/initdb" -D "$data" -U prefect --auth=trust >/dev/null
    as_pg "$BIN/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    as_pg "$BIN/createdb" -h 127.0.0.1 -p "$port" -U prefect prefect 2>/dev/null || true
    echo "postgresql+asyncpg://prefect@127.0.0.1:$port/prefect"
    ;;
  stop)
    as_pg "$BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    ;;
  *) echo "usage: $0 start DATA_DIR PORT | stop DATA_DIR" >&2; exit 2 ;;
esac
