#!/usr/bin/env bash
# Builds (cached) and runs InfluxDB 1.8.10 or 2.7.12 on 127.0.0.1 for crowdpulse's InfluxDB sink.
#
#   scripts/influxdb.sh up       build if needed, start, wait for /health, then
#                                1.8: create the database + retention policy;
#                                2.7: onboard (org, bucket, operator token, user) through POST /api/v2/setup and
#                                     map the bucket to database INFLUXDB_DB/autogen for InfluxQL (/api/v2/dbrps)
#   scripts/influxdb.sh down     stop the server (SIGTERM, then SIGKILL after INFLUXDB_STOP_TIMEOUT s)
#   scripts/influxdb.sh status   print running/stopped and the URL
#   scripts/influxdb.sh reset    stop and delete the instance's data
#   scripts/influxdb.sh install  only build the binary
#
# Environment (all optional):
#   INFLUXDB_VERSION=1.8     or 2.7 (the two can run side by side: different default ports and directories)
#   INFLUXDB_PORT=18086 (1.8) / 18087 (2.7)  INFLUXDB_RPC_PORT=18088 (1.8 only)
#   INFLUXDB_DB=crowdpulse  INFLUXDB_RETENTION=INF (1.8: an InfluxQL duration; 2.7: INF or <n>s|m|h|d|w)
#   INFLUXDB_SERVICE_DIR=<repo>/.services/influxdb (1.8) / <repo>/.services/influxdb2 (2.7)
#                            (config, data, pid, log of this instance)
#   INFLUXDB_BIN_DIR=<repo>/.services/influxdb/bin (1.8) / ~/.cache/crowdpulse/influxdb/v2.7.12 (2.7)
#                            (the cached influxd, shared by instances)
#   INFLUXDB_READY_TIMEOUT=60  INFLUXDB_STOP_TIMEOUT=30
#   1.8: INFLUXDB_AUTH=false   true: auth-enabled, with admin INFLUXDB_ADMIN_USER (admin) / INFLUXDB_ADMIN_PASSWORD
#                              (required then); clients use token "user:password" on the v2 API
#   2.7: auth is always on. INFLUXDB_ORG=crowdpulse  INFLUXDB_BUCKET=$INFLUXDB_DB
#        INFLUXDB_TOKEN=crowdpulse-test-token (the operator token given at setup; clients use it, or a token made with it)
#        INFLUXDB_ADMIN_USER=admin  INFLUXDB_ADMIN_PASSWORD=crowdpulse-admin (at least 8 characters)
# Needs: go >= 1.21 (first build only; module proxy reachable), curl; 2.7 also cargo/rustc and a C compiler.
# 1.8.10 is pure Go (flux 0.65 without libflux), so CGO_ENABLED=0 builds it; Go 1.26 links it
# without -checklinkname=0 (checked 2026-11).
# 2.7.12 links flux's Rust libflux through cgo: its build resolves `pkg-config flux` with influxdata's own
# pkg-config wrapper (github.com/influxdata/pkg-config, the version in influxdb's go.mod), which builds libflux
# from the flux module's source with `cargo build --release` (crates from crates.io) into the Go build cache.
# Built without the UI assets (they are downloaded from GitHub): the server answers the API only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
MAJOR="${INFLUXDB_VERSION:-1.8}"
case "$MAJOR" in
  1.8)
    VERSION="v1.8.10"
    DEFAULT_PORT=18086
    DEFAULT_SERVICE_DIR="$ROOT/.services/influxdb"
    DEFAULT_BIN_DIR="$ROOT/.services/influxdb/bin"
    ;;
  2.7)
    # The newest 2.7 patch on the Go module proxy (go list -m -versions github.com/influxdata/influxdb/v2, 2026-12).
    VERSION="v2.7.12"
    DEFAULT_PORT=18087
    DEFAULT_SERVICE_DIR="$ROOT/.services/influxdb2"
    DEFAULT_BIN_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/crowdpulse/influxdb/$VERSION"
    ;;
  *) printf '[influxdb.sh] INFLUXDB_VERSION must be 1.8 or 2.7, not "%s"\n' "$MAJOR" >&2; exit 2 ;;
esac
HTTP_PORT="${INFLUXDB_PORT:-$DEFAULT_PORT}"
RPC_PORT="${INFLUXDB_RPC_PORT:-18088}"
DB="${INFLUXDB_DB:-crowdpulse}"
RETENTION="${INFLUXDB_RETENTION:-INF}"
SERVICE_DIR="${INFLUXDB_SERVICE_DIR:-$DEFAULT_SERVICE_DIR}"
[[ "$SERVICE_DIR" == /* ]] || SERVICE_DIR="$PWD/$SERVICE_DIR"
BIN_DIR="${INFLUXDB_BIN_DIR:-$DEFAULT_BIN_DIR}"
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
CMDLINE="influxd -config $CONF"
if [[ "$MAJOR" == "2.7" ]]; then
  ORG="${INFLUXDB_ORG:-crowdpulse}"
  BUCKET="${INFLUXDB_BUCKET:-$DB}"
  TOKEN="${INFLUXDB_TOKEN:-crowdpulse-test-token}"
  ADMIN_PASSWORD="${ADMIN_PASSWORD:-crowdpulse-admin}"
  CURL_AUTH=(-H "Authorization: Token $TOKEN")
  # The command line that identifies this instance (pid checks); 2.x takes its settings as flags.
  CMDLINE="influxd --bolt-path $DATA/influxd.bolt"
elif [[ "$AUTH" == "true" ]]; then
  [[ -n "$ADMIN_PASSWORD" ]] || { printf '[influxdb.sh] INFLUXDB_AUTH=true needs INFLUXDB_ADMIN_PASSWORD\n' >&2; exit 2; }
  CURL_AUTH=(-u "$ADMIN_USER:$ADMIN_PASSWORD")
fi

log() { printf '[influxdb.sh] %s\n' "$*" >&2; }

running_pid() {
  local pid=""
  [[ -f "$PIDFILE" ]] && pid="$(cat "$PIDFILE")"
  # Guard against a recycled pid: it must be our influxd with our config.
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$CMDLINE"; then
    echo "$pid"
    return 0
  fi
  # The pid file can be lost (a reset, a crashed script) while our server runs on: find it by its config.
  pid="$(pgrep -f -- "$CMDLINE( |\$)" | head -n 1)" || return 1
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
  local start=$SECONDS tmp
  tmp="$(mktemp -d)"
  # Build into a temporary directory so that an interrupted build never leaves a half binary behind.
  if [[ "$MAJOR" == "1.8" ]]; then
    log "building influxd $VERSION from the Go module proxy into $BIN_DIR (takes ~2 min on 2 cores)"
    (cd "$tmp" && CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS=-buildvcs=false \
      go install -ldflags="-X main.version=${VERSION#v}" "github.com/influxdata/influxdb/cmd/influxd@$VERSION")
  else
    command -v cargo >/dev/null || { log "cargo not found (needed to build flux's libflux for InfluxDB $VERSION)"; exit 3; }
    log "building influxd $VERSION from the Go module proxy, libflux with cargo, into $BIN_DIR (~4 min on 2 cores with empty caches)"
    # A writable copy of the module: `go build` inside it uses influxdb's own go.mod/go.sum (its replace
    # directive included), and the pkg-config wrapper finds the flux version through that go.mod.
    local src
    src="$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "github.com/influxdata/influxdb/v2@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [[ -d "$src" ]] || { log "go mod download github.com/influxdata/influxdb/v2@$VERSION failed"; exit 3; }
    # flux pins Rust 1.72 in rust-toolchain.toml, which rustup cannot download here: build with the installed
    # default toolchain instead. flux-core has #![deny(warnings)] (its default feature "strict"), and newer rustc
    # lints (mismatched_lifetime_syntaxes, dead_code) then fail the build. --cap-lints warn keeps them warnings,
    # but RUSTFLAGS does not reach flux-core: with --target (the wrapper passes one) cargo applies RUSTFLAGS to
    # target crates only, and flux-core is also a build dependency (host). So a RUSTC_WRAPPER adds it to every
    # rustc call that has no --cap-lints yet (Rust 1.95 builds flux v0.196.1 this way, 2026-12).
    if [[ -z "${RUSTUP_TOOLCHAIN:-}" ]] && command -v rustup >/dev/null; then
      RUSTUP_TOOLCHAIN="$(rustup default | cut -d ' ' -f 1)"
      export RUSTUP_TOOLCHAIN
    fi
    mkdir -p "$tmp/tools"
    # shellcheck disable=SC2016
    printf '%s\n' '#!/bin/sh' 'rustc="$1"; shift' \
      'case " $* " in *" --cap-lints "*) exec "$rustc" "$@" ;; esac' \
      'exec "$rustc" "$@" --cap-lints warn' >"$tmp/tools/rustc-cap-lints"
    chmod +x "$tmp/tools/rustc-cap-lints"
    export RUSTC_WRAPPER="$tmp/tools/rustc-cap-lints"
    cp -R "$src" "$tmp/src"
    chmod -R u+w "$tmp/src"
    (cd "$tmp/src" && GOBIN="$tmp/tools" GOFLAGS=-buildvcs=false go install github.com/influxdata/pkg-config)
    (cd "$tmp/src" && PKG_CONFIG="$tmp/tools/pkg-config" GOFLAGS=-buildvcs=false \
      go build -tags sqlite_foreign_keys,sqlite_json -ldflags="-X main.version=${VERSION#v} -X main.commit=goproxy" \
      -o "$tmp/influxd" ./cmd/influxd)
  fi
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
  curl -fsS --max-time 2 "$URL/health" 2>/dev/null | grep -q '"status": *"pass"'
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

# 2.7: one v2 API call with the operator token; prints the response body, fails (with the body) on HTTP >= 400.
api() {
  local method="$1" path="$2"
  shift 2
  curl -sS --fail-with-body --max-time 10 -X "$method" "${CURL_AUTH[@]}" "$@" "$URL$path"
}

# The first 16-hex-digit "id" in a v2 API answer (an org's, a bucket's).
first_id() {
  grep -o '"id": *"[0-9a-f]\{16\}"' | head -n 1 | grep -o '[0-9a-f]\{16\}'
}

retention_seconds() {
  local n unit
  [[ "$RETENTION" == "INF" ]] && { echo 0; return 0; }
  [[ "$RETENTION" =~ ^([0-9]+)([smhdw])$ ]] || { log "INFLUXDB_RETENTION=$RETENTION: 2.7 takes INF or <n>s|m|h|d|w"; return 1; }
  n="${BASH_REMATCH[1]}" unit="${BASH_REMATCH[2]}"
  case "$unit" in s) echo "$n" ;; m) echo $((n * 60)) ;; h) echo $((n * 3600)) ;; d) echo $((n * 86400)) ;; w) echo $((n * 604800)) ;; esac
}

# 2.7: onboarding (first start only), then the bucket and its DBRP mapping (database $DB, retention policy
# autogen) so that InfluxQL on the v1-compatible /query reads it. Idempotent.
setup_v2() {
  local v secs out org_id bucket_id
  for v in "$ORG" "$BUCKET" "$DB" "$TOKEN" "$ADMIN_USER" "$ADMIN_PASSWORD"; do
    [[ "$v" != *[\"\\]* ]] || { log "org, bucket, database, token, user and password must not contain \" or \\"; return 1; }
  done
  secs="$(retention_seconds)"
  if curl -fsS --max-time 10 "$URL/api/v2/setup" | grep -q '"allowed": *true'; then
    out="$(curl -sS --fail-with-body --max-time 10 -XPOST "$URL/api/v2/setup" -H 'Content-Type: application/json' \
      --data "{\"username\":\"$ADMIN_USER\",\"password\":\"$ADMIN_PASSWORD\",\"org\":\"$ORG\",\"bucket\":\"$BUCKET\",\"retentionPeriodSeconds\":$secs,\"token\":\"$TOKEN\"}")" \
      || { log "onboarding (POST /api/v2/setup) failed: $out"; return 1; }
    log "onboarded: org $ORG, bucket $BUCKET, user $ADMIN_USER, operator token from INFLUXDB_TOKEN"
  fi
  out="$(api GET /api/v2/orgs -G --data-urlencode "org=$ORG")" \
    || { log "org $ORG not readable with INFLUXDB_TOKEN (was this instance set up with another token? reset it): $out"; return 1; }
  org_id="$(first_id <<<"$out")"
  out="$(api GET /api/v2/buckets -G --data-urlencode "orgID=$org_id" --data-urlencode "name=$BUCKET")" || { log "listing buckets failed: $out"; return 1; }
  bucket_id="$(first_id <<<"$out" || true)"
  if [[ -z "$bucket_id" ]]; then
    out="$(api POST /api/v2/buckets -H 'Content-Type: application/json' \
      --data "{\"orgID\":\"$org_id\",\"name\":\"$BUCKET\",\"retentionRules\":[{\"type\":\"expire\",\"everySeconds\":$secs}]}")" \
      || { log "creating bucket $BUCKET failed: $out"; return 1; }
    bucket_id="$(first_id <<<"$out")"
  fi
  out="$(api GET /api/v2/dbrps -G --data-urlencode "orgID=$org_id" --data-urlencode "db=$DB" --data-urlencode "rp=autogen")" \
    || { log "listing DBRP mappings failed: $out"; return 1; }
  if ! grep -q '"bucketID"' <<<"$out"; then
    out="$(api POST /api/v2/dbrps -H 'Content-Type: application/json' \
      --data "{\"orgID\":\"$org_id\",\"bucketID\":\"$bucket_id\",\"database\":\"$DB\",\"retention_policy\":\"autogen\",\"default\":true}")" \
      || { log "mapping $DB/autogen to bucket $BUCKET failed: $out"; return 1; }
  fi
}

start_server() {
  if [[ "$MAJOR" == "1.8" ]]; then
    render_config
    # setsid: the server outlives the shell that started it (CI step, test helper).
    setsid "$BIN" -config "$CONF" >>"$LOGFILE" 2>&1 </dev/null &
  else
    mkdir -p "$DATA"
    # 2.x reads a config.{toml,yaml,json} from its working directory: start it in the data directory.
    # --bolt-path first: it identifies this instance (CMDLINE).
    (cd "$DATA" && exec setsid "$BIN" --bolt-path "$DATA/influxd.bolt" --engine-path "$DATA/engine" \
      --sqlite-path "$DATA/influxd.sqlite" --http-bind-address "127.0.0.1:$HTTP_PORT" \
      --reporting-disabled --ui-disabled --log-level warn >>"$LOGFILE" 2>&1 </dev/null) &
  fi
  echo $! >"$PIDFILE"
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
    mkdir -p "$SERVICE_DIR"
    local start=$SECONDS
    start_server
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
  if [[ "$MAJOR" == "1.8" ]]; then
    create_database
    log "database \"$DB\" with retention policy autogen ($RETENTION) ready; bucket for the v2 API: $DB/autogen"
  else
    setup_v2
    log "InfluxDB $VERSION ready: url=$URL org=$ORG bucket=$BUCKET token=$TOKEN (InfluxQL: database $DB, rp autogen)"
  fi
}

down() {
  stop_service
}

status() {
  local pid
  if pid="$(running_pid)"; then
    if ! healthy; then
      echo "starting pid=$pid url=$URL"
    elif [[ "$MAJOR" == "1.8" ]]; then
      echo "running pid=$pid url=$URL database=$DB"
    else
      echo "running pid=$pid url=$URL version=${VERSION#v} org=$ORG bucket=$BUCKET"
    fi
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
