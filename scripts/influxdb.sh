#!/usr/bin/env bash
# Builds (cached) and runs InfluxDB 1.8.10 on 127.0.0.1 for crowdpulse's InfluxDB sink.
#
#   scripts/influxdb.sh up       build if needed, start, create the database + retention policy, wait for /health
#   scripts/influxdb.sh down     stop the server (SIGTERM, then SIGKILL after INFLUXDB_STOP_TIMEOUT s)
#   scripts/influxdb.sh status   print running/stopped and the URL
#   scripts/influxdb.sh reset    stop and delete the instance's data
#   scripts/influxdb.sh install  only build the binary
#
# Environment (all optional):
#   INFLUXDB_PORT=18086  INFLUXDB_RPC_PORT=18088  INFLUXDB_DB=crowdpulse  INFLUXDB_RETENTION=INF
#   INFLUXDB_SERVICE_DIR=<repo>/.services/influxdb   (config, data, pid, log of this instance)
#   INFLUXDB_BIN_DIR=<repo>/.services/influxdb/bin   (the cached influxd, shared by instances)
#   INFLUXDB_READY_TIMEOUT=60  INFLUXDB_STOP_TIMEOUT=30
#   INFLUXDB_AUTH=false   true: auth-enabled, with admin INFLUXDB_ADMIN_USER (admin) / INFLUXDB_ADMIN_PASSWORD
#                         (required then); clients use token "user:password" on the v2 API
# Needs: go >= 1.21 (first build only; module proxy reachable), curl.
# 1.8.10 is pure Go (flux 0.65 without libflux), so CGO_ENABLED=0 builds it; Go 1.26 links it
# without -checklinkname=0 (checked 2026-11).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="v1.8.10"
HTTP_PORT="${INFLUXDB_PORT:-18086}"
RPC_PORT="${INFLUXDB_RPC_PORT:-18088}"
DB="${INFLUXDB_DB:-crowdpulse}"
RETENTION="${INFLUXDB_RETENTION:-INF}"
SERVICE_DIR="${INFLUXDB_SERVICE_DIR:-$ROOT/.services/influxdb}"
BIN_DIR="${INFLUXDB_BIN_DIR:-$ROOT/.services/influxdb/bin}"
BIN="$BIN_DIR/influxd"
DATA="$SERVICE_DIR/data"
CONF="$SERVICE_DIR/influxdb.conf"
PIDFILE="$SERVICE_DIR/influxd.pid"
LOGFILE="$SERVICE_DIR/influxd.log"
READY_TIMEOUT="${INFLUXDB_READY_TIMEOUT:-60}"
STOP_TIMEOUT="${INFLUXDB_STOP_TIMEOUT:-30}"
URL="http://127.0.0.1:$HTTP_PORT"
AUTH="${INFLUXDB_AUTH:-false}"
ADMIN_USER="${INFLUXDB_ADMIN_USER:-admin}"
ADMIN_PASSWORD="${INFLUXDB_ADMIN_PASSWORD:-}"
CURL_AUTH=()
if [[ "$AUTH" == "true" ]]; then
  [[ -n "$ADMIN_PASSWORD" ]] || { printf '[influxdb.sh] INFLUXDB_AUTH=true needs INFLUXDB_ADMIN_PASSWORD\n' >&2; exit 2; }
  CURL_AUTH=(-u "$ADMIN_USER:$ADMIN_PASSWORD")
fi

log() { printf '[influxdb.sh] %s\n' "$*" >&2; }

running_pid() {
  local pid=""
  [[ -f "$PIDFILE" ]] && pid="$(cat "$PIDFILE")"
  # Guard against a recycled pid: it must be our influxd with our config.
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "influxd -config $CONF"; then
    echo "$pid"
    return 0
  fi
  # The pid file can be lost (a reset, a crashed script) while our server runs on: find it by its config.
  pid="$(pgrep -f -- "influxd -config $CONF( |\$)" | head -n 1)" || return 1
  [[ -n "$pid" ]] || return 1
  echo "$pid" >"$PIDFILE"
  echo "$pid"
}

install() {
  if [[ -x "$BIN" ]]; then
    return 0
  fi
  command -v go >/dev/null || { log "go not found (need >= 1.21 to build InfluxDB $VERSION)"; exit 3; }
  mkdir -p "$BIN_DIR"
  log "building influxd $VERSION from the Go module proxy into $BIN_DIR (takes ~2 min on 2 cores)"
  local start=$SECONDS tmp
  tmp="$(mktemp -d)"
  # Build into a temporary GOBIN so that an interrupted build never leaves a half binary behind.
  (cd "$tmp" && CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-buildvcs=false \
    go install -ldflags="-X main.version=${VERSION#v}" "github.com/influxdata/influxdb/cmd/influxd@$VERSION")
  mv "$tmp/influxd" "$BIN"
  rm -rf "$tmp"
  log "built in $((SECONDS - start)) s"
}

render_config() {
  mkdir -p "$DATA"
  sed -e "s|@HTTP_PORT@|$HTTP_PORT|g" \
      -e "s|@RPC_PORT@|$RPC_PORT|g" \
      -e "s|@DATA_DIR@|$DATA|g" \
      -e "s|@AUTH@|$AUTH|g" \
      "$ROOT/scripts/influxdb/influxdb.conf.template" >"$CONF"
}

healthy() {
  curl -fsS --max-time 2 "$URL/health" 2>/dev/null | grep -q '"status":"pass"'
}

influxql() {
  local out
  out="$(curl -fsS --max-time 10 "${CURL_AUTH[@]}" -XPOST "$URL/query" --data-urlencode "q=$1")" || { log "query failed: $1"; return 1; }
  if grep -q '"error"' <<<"$out"; then
    log "query error: $1 -> $out"
    return 1
  fi
}

create_admin() {
  # With auth on and no user yet, 1.8 accepts exactly this statement without credentials.
  local users
  users="$(curl -sS --max-time 10 "${CURL_AUTH[@]}" -XPOST "$URL/query" --data-urlencode "q=SHOW USERS")"
  if grep -q '"error"' <<<"$users"; then
    curl -fsS --max-time 10 -XPOST "$URL/query" \
      --data-urlencode "q=CREATE USER \"$ADMIN_USER\" WITH PASSWORD '$ADMIN_PASSWORD' WITH ALL PRIVILEGES" >/dev/null \
      || { log "could not create admin user $ADMIN_USER"; return 1; }
    log "created admin user $ADMIN_USER"
  fi
}

create_database() {
  [[ "$AUTH" == "true" ]] && create_admin
  influxql "CREATE DATABASE \"$DB\""
  influxql "ALTER RETENTION POLICY \"autogen\" ON \"$DB\" DURATION $RETENTION DEFAULT"
}

up() {
  install
  local pid
  if pid="$(running_pid)"; then
    log "already running (pid $pid) on $URL"
  else
    if curl -fsS --max-time 2 "$URL/health" >/dev/null 2>&1; then
      log "port $HTTP_PORT already serves something that is not this instance ($SERVICE_DIR)"
      exit 4
    fi
    render_config
    local start=$SECONDS
    # setsid: the server outlives the shell that started it (CI step, test helper).
    setsid "$BIN" -config "$CONF" >>"$LOGFILE" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    local deadline=$((SECONDS + READY_TIMEOUT))
    until healthy; do
      if ! running_pid >/dev/null; then
        log "influxd exited during start; last log lines:"
        tail -n 20 "$LOGFILE" >&2 || true
        exit 5
      fi
      if ((SECONDS >= deadline)); then
        log "not healthy after $READY_TIMEOUT s; see $LOGFILE"
        exit 5
      fi
      sleep 0.2
    done
    log "started (pid $(cat "$PIDFILE")) in $((SECONDS - start)) s on $URL"
  fi
  create_database
  log "database \"$DB\" with retention policy autogen ($RETENTION) ready; bucket for the v2 API: $DB/autogen"
}

down() {
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
      log "still running after $STOP_TIMEOUT s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$PIDFILE"
  log "stopped"
}

status() {
  local pid
  if pid="$(running_pid)"; then
    if healthy; then echo "running pid=$pid url=$URL database=$DB"; else echo "starting pid=$pid url=$URL"; fi
  else
    echo "stopped url=$URL"
    return 1
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  reset) down; rm -rf "$DATA"; log "data removed" ;;
  install) install ;;
  *) echo "usage: $0 up|down|status|reset|install" >&2; exit 2 ;;
esac
