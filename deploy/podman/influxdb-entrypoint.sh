#!/bin/bash
# influxd in the background, the database INFLUXDB_DB created once /health passes, then wait on it;
# SIGTERM/SIGINT are passed on so that `podman stop` shuts influxd down cleanly.
set -euo pipefail
influxd "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT
if [[ -n "${INFLUXDB_DB:-}" ]]; then
  for _ in $(seq 1 300); do
    curl -fsS --max-time 2 http://127.0.0.1:8086/health >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  curl -fsS --max-time 10 -XPOST http://127.0.0.1:8086/query --data-urlencode "q=CREATE DATABASE \"$INFLUXDB_DB\"" >/dev/null
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
