#!/usr/bin/env bash
# Installs (cached) and runs a single-node Apache Kafka broker (KRaft) on 127.0.0.1.
#
#   scripts/kafka.sh up       install if needed, start, wait until the broker answers metadata
#   scripts/kafka.sh down     stop the broker (SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT s)
#   scripts/kafka.sh status   print running/stopped and the bootstrap address
#   scripts/kafka.sh reset    stop and delete the broker's data (topics, offsets)
#   scripts/kafka.sh install  only resolve the jars from Maven Central
#
# Environment (all optional):
#   KAFKA_PORT=19092  KAFKA_CONTROLLER_PORT=19093  KAFKA_SERVICE_DIR=<repo>/.services/kafka
#   KAFKA_HEAP_OPTS='-Xms256m -Xmx1g'  KAFKA_READY_TIMEOUT=120  KAFKA_STOP_TIMEOUT=30
# Needs: java >= 17, mvn (first install only), node (readiness probe through node-rdkafka).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
TEMPLATES="$ROOT/scripts/kafka"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
SERVICE_DIR="${KAFKA_SERVICE_DIR:-$ROOT/.services/kafka}"
LIBS="$SERVICE_DIR/libs"
DATA="$SERVICE_DIR/data"
CONF="$SERVICE_DIR/server.properties"
PIDFILE="$SERVICE_DIR/kafka.pid"
LOGFILE="$SERVICE_DIR/kafka.log"
READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-120}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
HEAP="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"

log() { printf '[kafka.sh] %s\n' "$*" >&2; }

running_pid() { pid_file_process 'kafka.Kafka'; }

install() {
  if [[ -f "$LIBS/.complete" ]]; then
    return 0
  fi
  command -v java >/dev/null || { log "java not found (need >= 17)"; exit 3; }
  command -v mvn >/dev/null || { log "mvn not found (apt-get install maven)"; exit 3; }
  log "resolving Kafka jars from Maven Central into $LIBS"
  local start=$SECONDS
  rm -rf "$LIBS" && mkdir -p "$LIBS"
  mvn -q -B -Dstyle.color=never -f "$TEMPLATES/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIBS"
  touch "$LIBS/.complete"
  log "installed in $((SECONDS - start)) s"
}

render_config() {
  mkdir -p "$DATA"
  sed -e "s|@BROKER_PORT@|$KAFKA_PORT|g" \
      -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@DATA_DIR@|$DATA|g" \
      "$TEMPLATES/server.properties.template" >"$CONF"
}

format_storage() {
  if [[ -f "$DATA/meta.properties" ]]; then
    return 0
  fi
  # A cluster id is 16 random bytes, url-safe base64 without padding (22 chars).
  local id
  # An id that starts with '-' would be read as an option by StorageTool: draw again.
  id="-"
  while [[ "$id" == -* ]]; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  done
  if ! java -cp "$LIBS/*" kafka.tools.StorageTool format -t "$id" -c "$CONF" --ignore-formatted \
    >>"$LOGFILE" 2>&1; then
    log "formatting the KRaft storage in $DATA failed; last log lines:"
    tail -n 30 "$LOGFILE" >&2 || true
    exit 1
  fi
}

up() {
  install
  local pid
  if pid="$(running_pid)"; then
    log "already running (pid $pid)"
    # A running broker may still be starting (another `up` just launched it).
    wait_ready
  else
    # Another process (another checkout's broker, say) on our port would answer the readiness probe
    # for a broker of ours that never started.
    if (: <"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null || (: <"/dev/tcp/127.0.0.1/$KAFKA_CONTROLLER_PORT") 2>/dev/null; then
      log "port $KAFKA_PORT or $KAFKA_CONTROLLER_PORT already serves something that is not this instance ($SERVICE_DIR): stop it, or set KAFKA_PORT/KAFKA_CONTROLLER_PORT"
      exit 1
    fi
    mkdir -p "$SERVICE_DIR"
    render_config
    format_storage
    local start=$SECONDS
    # setsid: the broker outlives the calling shell (CI step, test harness) until `down`.
    # shellcheck disable=SC2086
    setsid java $HEAP -XX:+UseG1GC -Djava.awt.headless=true \
      -Dorg.slf4j.simpleLogger.showDateTime=true \
      "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX" \
      -cp "$LIBS/*" kafka.Kafka "$CONF" >>"$LOGFILE" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    log "started pid $(cat "$PIDFILE"), log $LOGFILE"
    if ! wait_ready || ! running_pid >/dev/null; then
      log "broker did not become ready; last log lines:"
      tail -n 30 "$LOGFILE" >&2 || true
      exit 1
    fi
    log "ready in $((SECONDS - start)) s"
  fi
  echo "$BOOTSTRAP"
}

wait_ready() {
  node "$TEMPLATES/wait-ready.mjs" "$BOOTSTRAP" "$READY_TIMEOUT" >&2
}

down() {
  stop_service
}

status() {
  local pid
  if pid="$(running_pid)"; then
    echo "running pid=$pid bootstrap=$BOOTSTRAP"
  else
    echo "stopped"
    return 1
  fi
}

reset() {
  down
  rm -rf "$DATA" "$CONF"
  log "data removed"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  reset) reset ;;
  install) install ;;
  *) echo "usage: $0 up|down|status|reset|install" >&2; exit 2 ;;
esac
