#!/usr/bin/env bash
# Shared by the service scripts (kafka.sh, influxdb.sh, schema-registry.sh), sourced after each has
# defined `log`, `running_pid` (our process's pid, or failure), PIDFILE and STOP_TIMEOUT.

# down: SIGTERM our process, SIGKILL once STOP_TIMEOUT seconds have passed, forget its pid.
stop_service() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    rm -f "$PIDFILE"
    return 0
  fi
  kill -TERM "$pid"
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "no exit after ${STOP_TIMEOUT} s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  rm -f "$PIDFILE"
  log "stopped (pid $pid)"
}
