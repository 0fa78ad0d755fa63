#!/usr/bin/env bash
# Installs (cached) and runs a Confluent-compatible Schema Registry on 127.0.0.1: Apicurio Registry
# (its ccompat API, /apis/ccompat/v7), storing its schemas in a topic of the broker that
# scripts/kafka.sh runs (kafkasql storage), so they survive a restart of the registry.
#
#   scripts/schema-registry.sh up       install if needed, start, wait until the API answers; prints its URL
#   scripts/schema-registry.sh down     stop it (SIGTERM, then SIGKILL after SCHEMA_REGISTRY_STOP_TIMEOUT s)
#   scripts/schema-registry.sh status   print running/stopped and the URL
#   scripts/schema-registry.sh install  only fetch the distribution from Maven Central
#
# Why Apicurio: Karapace is not on PyPI (only on GitHub), Confluent's registry is not on Maven
# Central, and Apicurio 3.1+ needs Java 21; 3.0.9 runs on Java 17 and its distribution
# (io.apicurio:apicurio-registry-app:3.0.9:tar.gz:all, 104 MiB) is on Maven Central.
#
# Environment (all optional):
#   SCHEMA_REGISTRY_PORT=18081  KAFKA_PORT=19092 (the broker it stores into)
#   SCHEMA_REGISTRY_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT  SCHEMA_REGISTRY_TOPIC=crowdpulse.schema-registry.journal
#   SCHEMA_REGISTRY_SERVICE_DIR=<repo>/.services/schema-registry (pid file, log)
#   SCHEMA_REGISTRY_HOME=${XDG_CACHE_HOME:-~/.cache}/crowdpulse/apicurio-registry-<version> (the install)
#   SCHEMA_REGISTRY_HEAP_OPTS='-Xms128m -Xmx512m'  SCHEMA_REGISTRY_READY_TIMEOUT=120  SCHEMA_REGISTRY_STOP_TIMEOUT=30
# Needs: java >= 17, mvn (first install only), node (readiness probe), a running broker (scripts/kafka.sh up).
set -euo pipefail

VERSION=3.0.9
ARTIFACT="io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
PORT="${SCHEMA_REGISTRY_PORT:-18081}"
BOOTSTRAP="${SCHEMA_REGISTRY_KAFKA_BOOTSTRAP:-127.0.0.1:${KAFKA_PORT:-19092}}"
TOPIC="${SCHEMA_REGISTRY_TOPIC:-crowdpulse.schema-registry.journal}"
SERVICE_DIR="${SCHEMA_REGISTRY_SERVICE_DIR:-$ROOT/.services/schema-registry}"
HOME_DIR="${SCHEMA_REGISTRY_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/crowdpulse/apicurio-registry-$VERSION}"
JAR="$HOME_DIR/apicurio-registry-app-$VERSION-runner.jar"
PIDFILE="$SERVICE_DIR/schema-registry.pid"
LOGFILE="$SERVICE_DIR/schema-registry.log"
READY_TIMEOUT="${SCHEMA_REGISTRY_READY_TIMEOUT:-120}"
STOP_TIMEOUT="${SCHEMA_REGISTRY_STOP_TIMEOUT:-30}"
HEAP="${SCHEMA_REGISTRY_HEAP_OPTS:--Xms128m -Xmx512m}"
URL="http://127.0.0.1:$PORT/apis/ccompat/v7"

log() { printf '[schema-registry.sh] %s\n' "$*" >&2; }

running_pid() { pid_file_process 'apicurio-registry-app'; }

install() {
  if [[ -f "$HOME_DIR/.complete" && -f "$JAR" ]]; then
    return 0
  fi
  command -v java >/dev/null || { log "java not found (need >= 17)"; exit 3; }
  command -v mvn >/dev/null || { log "mvn not found (apt-get install maven)"; exit 3; }
  log "fetching $ARTIFACT from Maven Central into $HOME_DIR"
  local start=$SECONDS download
  download="$(mktemp -d)"
  mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$download"
  rm -rf "$HOME_DIR" && mkdir -p "$HOME_DIR"
  tar -xzf "$download/apicurio-registry-app-$VERSION-all.tar.gz" -C "$HOME_DIR"
  rm -rf "$download"
  [[ -f "$JAR" ]] || { log "the distribution has no $(basename "$JAR")"; exit 1; }
  touch "$HOME_DIR/.complete"
  log "installed in $((SECONDS - start)) s"
}

# 0 when the ccompat API answers (the registry has read its journal and serves requests).
probe() {
  node -e '
    fetch(process.argv[1] + "/subjects", { signal: AbortSignal.timeout(2000) })
      .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));
  ' "$URL"
}

wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT)) pid
  while ((SECONDS < deadline)); do
    pid="$(running_pid)" || return 1
    probe && return 0
    sleep 0.5
  done
  return 1
}

broker_reachable() {
  local host="${BOOTSTRAP%%,*}"
  (exec 3<>"/dev/tcp/${host%:*}/${host##*:}") 2>/dev/null
}

up() {
  install
  local pid
  if pid="$(running_pid)"; then
    log "already running (pid $pid)"
    # Its broker may have been restarted meanwhile: it must still answer.
    wait_ready || { log "running but not answering on $URL; last log lines:"; tail -n 30 "$LOGFILE" >&2 || true; exit 1; }
  else
    broker_reachable || { log "no Kafka broker at $BOOTSTRAP (start it first: scripts/kafka.sh up)"; exit 1; }
    mkdir -p "$SERVICE_DIR"
    local start=$SECONDS
    # setsid: the registry outlives the calling shell (CI step, test harness) until `down`.
    # shellcheck disable=SC2086
    setsid java $HEAP -XX:+UseG1GC -Djava.awt.headless=true \
      -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$PORT" \
      -Dapicurio.storage.kind=kafkasql \
      -Dapicurio.kafkasql.bootstrap.servers="$BOOTSTRAP" \
      -Dapicurio.kafkasql.topic="$TOPIC" \
      -jar "$JAR" >>"$LOGFILE" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    log "started pid $(cat "$PIDFILE"), log $LOGFILE"
    if ! wait_ready; then
      log "registry did not become ready; last log lines:"
      tail -n 30 "$LOGFILE" >&2 || true
      down
      exit 1
    fi
    log "ready in $((SECONDS - start)) s"
  fi
  echo "$URL"
}

down() {
  stop_service
}

status() {
  local pid
  if pid="$(running_pid)"; then
    echo "running pid=$pid url=$URL kafka=$BOOTSTRAP"
  else
    echo "stopped"
    return 1
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  install) install ;;
  *) echo "usage: $0 up|down|status|install" >&2; exit 2 ;;
esac
