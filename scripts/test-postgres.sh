#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL cluster for the test suite, owned by the
# "postgres" system user, listening on 127.0.0.1 only. Prints the admin DSN on start.
# pg_stat_statements is loaded so that the benchmarks can count statements per operation.
#   scripts/test-postgres.sh start   ->  postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable
#   scripts/test-postgres.sh stop
set -euo pipefail
PORT=${VSCARD_TEST_PG_PORT:-55432}
DIR=${VSCARD_TEST_PG_DIR:-/tmp/vscard-test-pg}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$BIN" ] || { echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2; exit 1; }

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; elif [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

case "${1:-start}" in
start)
  if ! as_postgres "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
    rm -rf "$DIR"; mkdir -p "$DIR"; chown postgres: "$DIR" 2>/dev/null || true
    as_postgres "$BIN/initdb" -D "$DIR" -U postgres --auth=trust -E UTF8 >/dev/null
    as_postgres "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_preload_libraries=pg_stat_statements" start >/dev/null
  fi
  echo "postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"
  ;;
stop)
  as_postgres "$BIN/pg_ctl" -D "$DIR" -m fast stop >/dev/null 2>&1 || true
  ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
