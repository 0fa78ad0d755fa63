#!/bin/bash
# influxd in the background, then, like influxdb:1.8's image, its first start initialised from the
# environment once /health passes: INFLUXDB_ADMIN_USER/_PASSWORD (an admin; needed first when
# INFLUXDB_HTTP_AUTH_ENABLED=true), the database INFLUXDB_DB, and INFLUXDB_USER/_PASSWORD with all
# privileges on it. Then wait on influxd; SIGTERM/SIGINT are passed on so that `podman stop` shuts
# influxd down cleanly.
set -euo pipefail
first_start=false
[[ -f "${INFLUXDB_META_DIR:-/var/lib/influxdb/meta}/meta.db" ]] || first_start=true
influxd "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT

# influxql [USER:PASSWORD] STATEMENT
influxql() {
  local auth=()
  if (($# == 2)); then auth=(-u "$1"); shift; fi
  curl -fsS --max-time 10 "${auth[@]}" -XPOST http://127.0.0.1:8086/query --data-urlencode "q=$1" >/dev/null
}

if [[ -n "${INFLUXDB_DB:-}" || -n "${INFLUXDB_ADMIN_USER:-}" ]]; then
  for _ in $(seq 1 300); do
    curl -fsS --max-time 2 http://127.0.0.1:8086/health >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  admin=()
  if [[ -n "${INFLUXDB_ADMIN_USER:-}" ]]; then
    admin=("$INFLUXDB_ADMIN_USER:${INFLUXDB_ADMIN_PASSWORD:?INFLUXDB_ADMIN_PASSWORD is required with INFLUXDB_ADMIN_USER}")
    # Only on the first start (as the official image): later the user exists, and auth may forbid it.
    if [[ "$first_start" == true ]]; then
      influxql "CREATE USER \"$INFLUXDB_ADMIN_USER\" WITH PASSWORD '$INFLUXDB_ADMIN_PASSWORD' WITH ALL PRIVILEGES"
    fi
  fi
  if [[ -n "${INFLUXDB_DB:-}" ]]; then
    influxql "${admin[@]}" "CREATE DATABASE \"$INFLUXDB_DB\""
    if [[ -n "${INFLUXDB_USER:-}" && "$first_start" == true ]]; then
      influxql "${admin[@]}" "CREATE USER \"$INFLUXDB_USER\" WITH PASSWORD '${INFLUXDB_USER_PASSWORD:?INFLUXDB_USER_PASSWORD is required with INFLUXDB_USER}'"
      influxql "${admin[@]}" "GRANT ALL ON \"$INFLUXDB_DB\" TO \"$INFLUXDB_USER\""
    fi
  fi
fi
# wait returns early when the trap runs: wait again until influxd has exited, with its status.
set +e
wait "$pid"
rc=$?
while kill -0 "$pid" 2>/dev/null; do
  wait "$pid"
  rc=$?
done
exit "$rc"
