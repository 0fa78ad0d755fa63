#!/usr/bin/env bash
# The compose stack (docker-compose.yml) with podman, offline: docker-compose.yml plus
# deploy/podman/compose.override.yml through podman-compose (PyPI, in a venv under ~/.cache).
#
#   scripts/stack.sh up      build what is missing (cached), then start Kafka (KRaft) and InfluxDB 1.8,
#                            wait until they answer, start the X API emulator (the source), ingest,
#                            analyze ×2, store, the dashboard and Prometheus, and wait until every
#                            role's healthcheck passes; prints the time taken
#   scripts/stack.sh smoke   end to end, on the running stack:
#                            1. Prometheus scrapes every role, each analyze replica on its own (DNS
#                               service discovery through podman's aardvark-dns);
#                            2. a fresh run: the stored posts are dropped, the emulator starts its
#                               recording over and ingest follows it again;
#                            3. mid-stream, SIGTERM to one analyze replica (podman stop): it must exit 0;
#                            4. every post the emulator serves for rules.example.yaml is stored exactly
#                               once per topic (rows per topic, distinct posts, no (post, topic) twice),
#                               computed without the pipeline by scripts/stack/expected.ts;
#                            then the stopped replica is started again.
#   scripts/stack.sh down    stop and remove the stack's containers, its network and its volumes
#   scripts/stack.sh ps      podman-compose ps
#   scripts/stack.sh images  only build the images
#
# Images (none can be pulled here): crowdpulse from scripts/image.sh (tag localhost/crowdpulse:stack,
# so that CI's localhost/crowdpulse:dev is left alone); Kafka, InfluxDB and Prometheus from
# deploy/podman/*.Containerfile on the same offline base: Debian's OpenJDK 17 + the jars scripts/kafka.sh
# resolves from Maven Central, the influxd 1.8.10 that scripts/influxdb.sh builds from the Go module
# proxy, Debian's prometheus. Each is rebuilt only when its inputs change (a label holds their hash).
# Grafana is not part of this stack (no image; not needed by the checks).
#
# podman 4.3 (Debian 12) has no `podman wait --condition=healthy` (podman-compose ignores
# depends_on conditions below podman 4.6) and no systemd here runs healthchecks on a timer: this
# script starts the stack in two steps and runs the healthchecks itself (`podman healthcheck run`).
#
# Environment (all optional):
#   CROWDPULSE_STACK_POSTS=1500   distinct posts the emulator serves (the first that match the rules)
#   CROWDPULSE_STACK_RATE=40      posts per second the emulator publishes
#   CROWDPULSE_STACK_PROJECT=crowdpulse  the compose project (container names PROJECT_SERVICE_N)
#   CROWDPULSE_IMAGE=localhost/crowdpulse:stack  STACK_READY_TIMEOUT=180  STACK_SMOKE_TIMEOUT=300
#   CROWDPULSE_HTTP_TOKEN_SECRET=./deploy/http-token.dev (as docker-compose.yml)
# Host ports (as docker-compose.yml): InfluxDB 127.0.0.1:8086, dashboard 127.0.0.1:8080,
# Prometheus 127.0.0.1:9090.
# Needs: root (rootful podman), apt-get (first run), python3 -m venv, npm, java + mvn, go, and node with
# the checkout's dependencies installed (npm ci): scripts/stack/expected.ts runs under tsx.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/crowdpulse"
CACHE="$CACHE_ROOT/stack"
VENV="${CROWDPULSE_PODMAN_COMPOSE_VENV:-$CACHE_ROOT/podman-compose-venv}"
PODMAN_COMPOSE_VERSION=1.6.0
export CROWDPULSE_IMAGE="${CROWDPULSE_IMAGE:-localhost/crowdpulse:stack}"
export CROWDPULSE_STACK_PROJECT="${CROWDPULSE_STACK_PROJECT:-crowdpulse}"
export CROWDPULSE_STACK_RATE="${CROWDPULSE_STACK_RATE:-40}"
POSTS="${CROWDPULSE_STACK_POSTS:-1500}"
READY_TIMEOUT="${STACK_READY_TIMEOUT:-180}"
SMOKE_TIMEOUT="${STACK_SMOKE_TIMEOUT:-300}"
BASE_IMAGE="localhost/crowdpulse-base:node24-bookworm"
KAFKA_IMAGE="localhost/crowdpulse-stack-kafka:4.1.0"
INFLUXDB_IMAGE="localhost/crowdpulse-stack-influxdb:1.8.10"
PROMETHEUS_IMAGE="localhost/crowdpulse-stack-prometheus:2.42"
export CROWDPULSE_STACK_KAFKA_IMAGE="$KAFKA_IMAGE" CROWDPULSE_STACK_INFLUXDB_IMAGE="$INFLUXDB_IMAGE"
export CROWDPULSE_STACK_PROMETHEUS_IMAGE="$PROMETHEUS_IMAGE"
KEY_LABEL="org.crowdpulse.stack.key"
# scripts/image.sh writes this containers.conf (runtime runc, ulimits the host allows).
export CONTAINERS_CONF="${IMAGE_CACHE_DIR:-$CACHE_ROOT/image}/containers.conf"
P="$CROWDPULSE_STACK_PROJECT"
INFLUX_URL="http://127.0.0.1:8086"
PROM_URL="http://127.0.0.1:9090"

log() { printf '[stack.sh] %s\n' "$*" >&2; }
# podman without its complaints that no systemd is there to schedule healthchecks (start, stop, restart).
# Through a file, not a pipe: conmon, which `podman start` leaves running, would hold a pipe open.
pm() {
  local err rc=0
  err="$(mktemp)"
  podman "$@" 2>"$err" || rc=$?
  grep -v -e 'unable to get systemd connection' -e 'healthcheck: unable to get systemd' "$err" >&2 || true
  rm -f "$err"
  return "$rc"
}
die() { log "$*"; exit 1; }
indent() { sed 's/^/       /' >&2; }

compose() {
  (cd "$ROOT" && "$VENV/bin/podman-compose" -p "$P" -f docker-compose.yml -f deploy/podman/compose.override.yml "$@")
}

install_podman_compose() {
  if [[ -x "$VENV/bin/podman-compose" ]] && [[ "$("$VENV/bin/podman-compose" version 2>/dev/null | head -n 1)" == *" $PODMAN_COMPOSE_VERSION" ]]; then
    return 0
  fi
  log "installing podman-compose $PODMAN_COMPOSE_VERSION from PyPI into $VENV"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "podman-compose==$PODMAN_COMPOSE_VERSION"
}

# build_image TAG CONTAINERFILE CONTEXT: podman build unless TAG carries the hash of its inputs.
build_image() {
  local tag="$1" file="$2" ctx="$3" key
  key="$( (sha256sum <"$file"; cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum | cut -c1-16)"
  if podman image exists "$tag" && [[ "$(podman image inspect --format "{{index .Labels \"$KEY_LABEL\"}}" "$tag")" == "$key" ]]; then
    log "$tag cached"
    return 0
  fi
  log "podman build $tag"
  podman build --quiet --format docker --pull=never --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    --label "$KEY_LABEL=$key" -t "$tag" -f "$file" "$ctx" >/dev/null
}

images() {
  local start=$SECONDS
  ((EUID == 0)) || die "run as root (rootful podman)"
  install_podman_compose
  # The crowdpulse image and its offline base (also installs podman/runc and writes containers.conf).
  bash "$ROOT/scripts/image.sh" build >"$CACHE_ROOT/stack-image-build.log" 2>&1 ||
    { tail -n 30 "$CACHE_ROOT/stack-image-build.log" >&2; die "scripts/image.sh build failed"; }
  mkdir -p "$CACHE"
  # Kafka: the jars from Maven Central (cached), copied (hard links) into a build context.
  KAFKA_SERVICE_DIR="$CACHE/kafka" bash "$ROOT/scripts/kafka.sh" install
  rm -rf "$CACHE/kafka-ctx" && mkdir -p "$CACHE/kafka-ctx"
  cp -al "$CACHE/kafka/libs" "$CACHE/kafka-ctx/libs"
  rm -f "$CACHE/kafka-ctx/libs/.complete"
  cp "$ROOT/deploy/podman/kafka-entrypoint.sh" "$CACHE/kafka-ctx/"
  build_image "$KAFKA_IMAGE" "$ROOT/deploy/podman/kafka.Containerfile" "$CACHE/kafka-ctx"
  # InfluxDB 1.8.10: influxd built from the Go module proxy (cached).
  INFLUXDB_BIN_DIR="$CACHE/influxdb-v1.8.10" bash "$ROOT/scripts/influxdb.sh" install
  rm -rf "$CACHE/influxdb-ctx" && mkdir -p "$CACHE/influxdb-ctx"
  cp "$CACHE/influxdb-v1.8.10/influxd" "$ROOT/deploy/podman/influxdb-entrypoint.sh" "$CACHE/influxdb-ctx/"
  build_image "$INFLUXDB_IMAGE" "$ROOT/deploy/podman/influxdb.Containerfile" "$CACHE/influxdb-ctx"
  # Prometheus: Debian's package.
  rm -rf "$CACHE/prometheus-ctx" && mkdir -p "$CACHE/prometheus-ctx"
  build_image "$PROMETHEUS_IMAGE" "$ROOT/deploy/podman/prometheus.Containerfile" "$CACHE/prometheus-ctx"
  log "images ready in $((SECONDS - start)) s"
}

# The emulator's --limit: how many posts of the fixture hold CROWDPULSE_STACK_POSTS matching ones.
emulator_limit() {
  local n
  n="$(cd "$ROOT" && node --import tsx scripts/stack/expected.ts limit "$POSTS")" || die "scripts/stack/expected.ts limit $POSTS failed"
  export CROWDPULSE_STACK_EMULATOR_LIMIT="$n"
}

containers_of() {
  podman ps -a --filter "label=io.podman.compose.project=$P" --filter "label=io.podman.compose.service=$1" --format '{{.Names}}' | sort
}

# wait_healthy CONTAINER...: runs each container's healthcheck until it passes (podman 4.3 has no
# timer for it here), within READY_TIMEOUT.
wait_healthy() {
  local c deadline=$((SECONDS + READY_TIMEOUT))
  for c in "$@"; do
    until podman healthcheck run "$c" >/dev/null 2>&1; do
      [[ "$(podman inspect --format '{{.State.Running}}' "$c" 2>/dev/null)" == true ]] ||
        log "$c is not running (yet); restart policy: unless-stopped"
      if ((SECONDS >= deadline)); then
        podman logs --tail 30 "$c" >&2 || true
        die "$c not healthy after $READY_TIMEOUT s"
      fi
      sleep 1
    done
  done
}

wait_http() {
  local url="$1" deadline=$((SECONDS + READY_TIMEOUT))
  until curl -fsS -o /dev/null --max-time 2 "$url"; do
    ((SECONDS < deadline)) || die "$url did not answer within $READY_TIMEOUT s"
    sleep 1
  done
}

up() {
  local start=$SECONDS
  images
  local built=$SECONDS
  emulator_limit
  log "starting kafka and influxdb"
  compose up -d --no-build kafka influxdb >"$CACHE/compose-up.log" 2>&1 ||
    { tail -n 30 "$CACHE/compose-up.log" >&2; die "podman-compose up (kafka, influxdb) failed"; }
  # shellcheck disable=SC2046 # container names have no spaces
  wait_healthy $(containers_of kafka) $(containers_of influxdb)
  log "kafka and influxdb healthy after $((SECONDS - built)) s; starting the rest ($POSTS posts at $CROWDPULSE_STACK_RATE/s from the emulator, emulator --limit $CROWDPULSE_STACK_EMULATOR_LIMIT)"
  compose up -d --no-build >>"$CACHE/compose-up.log" 2>&1 ||
    { tail -n 30 "$CACHE/compose-up.log" >&2; die "podman-compose up failed"; }
  local analyze
  mapfile -t analyze < <(containers_of analyze)
  ((${#analyze[@]} == 2)) || die "expected 2 analyze replicas, found: ${analyze[*]}"
  # shellcheck disable=SC2046
  wait_healthy $(containers_of emulator) $(containers_of ingest) "${analyze[@]}" $(containers_of store) $(containers_of dashboard)
  wait_http "$PROM_URL/-/ready"
  log "up: $((SECONDS - start)) s in all (images $((built - start)) s, containers $((SECONDS - built)) s)"
  compose ps >&2 2>/dev/null || true
}

# Prometheus' active targets as "job instance health" lines.
# shellcheck disable=SC2016 # JavaScript template literals
prom_targets() {
  curl -fsS --max-time 5 "$PROM_URL/api/v1/targets?state=active" | node -e '
    const t = JSON.parse(require("fs").readFileSync(0, "utf8")).data.activeTargets;
    for (const x of t) console.log(`${x.labels.job} ${x.labels.instance} ${x.health}`);'
}

# analyzed CONTAINER: its crowdpulse_posts_total{stage="analyze",direction="out"} (0 if unreadable),
# read from inside the container with the access token of the compose secret.
# shellcheck disable=SC2016 # JavaScript template literals
analyzed() {
  podman exec "$1" node -e '
    const token = require("fs").readFileSync("/run/secrets/http-token", "utf8").trim();
    fetch("http://127.0.0.1:9464/metrics", { headers: { authorization: `Bearer ${token}` } })
      .then((r) => r.text())
      .then((t) => {
        let n = 0;
        for (const l of t.split("\n"))
          if (l.startsWith("crowdpulse_posts_total{") && l.includes(`stage="analyze"`) && l.includes(`direction="out"`)) n += Number(l.split(" ").pop());
        console.log(n);
      }, () => console.log(0));' 2>/dev/null || echo 0
}

# check: prints expected.ts's JSON line; status 0 when the store holds exactly what it must.
check_rows() {
  (cd "$ROOT" && node --import tsx scripts/stack/expected.ts check "$POSTS" "$INFLUX_URL")
}

influxql() {
  curl -fsS --max-time 10 -XPOST "$INFLUX_URL/query" --data-urlencode "db=crowdpulse" --data-urlencode "q=$1" >/dev/null
}

stored_rows() {
  sed -n 's/.*"rows":\([0-9]*\).*/\1/p' <<<"$1"
}

smoke() {
  local start=$SECONDS fail=0 out
  [[ -x "$VENV/bin/podman-compose" ]] || die "no stack: scripts/stack.sh up"
  emulator_limit
  local analyze ingest emulator
  mapfile -t analyze < <(containers_of analyze)
  ingest="$(containers_of ingest)" emulator="$(containers_of emulator)"
  if ((${#analyze[@]} != 2)) || [[ -z "$ingest" || -z "$emulator" ]]; then die "the stack is not up (scripts/stack.sh up)"; fi
  local c
  for c in "${analyze[@]}"; do
    [[ "$(podman inspect --format '{{.State.Running}}' "$c")" == true ]] || pm start "$c" >/dev/null
  done

  # 1. Prometheus scrapes every role, each analyze replica on its own.
  local deadline=$((SECONDS + 90)) targets up_analyze up_roles
  while :; do
    targets="$(prom_targets || true)"
    up_analyze="$(grep -c '^crowdpulse-analyze .* up$' <<<"$targets" || true)"
    up_roles="$(grep -c '^crowdpulse .* up$' <<<"$targets" || true)"
    ((up_analyze == 2 && up_roles == 3)) && break
    ((SECONDS < deadline)) || break
    sleep 3
  done
  if ((up_analyze == 2 && up_roles == 3)); then
    log "ok   Prometheus scrapes both analyze replicas and ingest, store, dashboard (token from the secret):"
  else
    log "FAIL Prometheus targets after 90 s (want 2 analyze and 3 other roles up):"; fail=1
  fi
  indent <<<"$targets"
  local ips
  ips="$(podman exec "$(containers_of prometheus)" getent ahostsv4 analyze 2>/dev/null | awk '{print $1}' | sort -u | tr '\n' ' ' || true)"
  log "     the network's DNS answers 'analyze' with: ${ips:-(getent not available)}"

  # 1b. The dashboard reads every role's /metrics, each analyze replica by its container name.
  local token_file="${CROWDPULSE_HTTP_TOKEN_SECRET:-$ROOT/deploy/http-token.dev}" sources
  # shellcheck disable=SC2016 # JavaScript template literal
  sources="$(curl -fsS --max-time 10 -H "Authorization: Bearer $(tr -d '\n' <"$token_file")" http://127.0.0.1:8080/dashboard/api/health |
    node -e 'for (const s of JSON.parse(require("fs").readFileSync(0, "utf8")).sources) console.log(`${s.name} ${s.ok ? "ok" : "FAILED"}`)' || true)"
  if [[ -n "$sources" ]] && ! grep -q ' FAILED$' <<<"$sources" && grep -q "${analyze[0]}:9464" <<<"$sources" && grep -q "${analyze[1]}:9464" <<<"$sources"; then
    log "ok   the dashboard reads every role's /metrics, both analyze replicas included:"
  else
    log "FAIL the dashboard's metrics sources (want all ok, both analyze replicas):"; fail=1
  fi
  indent <<<"$sources"

  # 2. A fresh run: let the pipeline settle, drop the stored posts, serve the recording again.
  local prev="" now stable=0
  deadline=$((SECONDS + SMOKE_TIMEOUT))
  while ((stable < 3 && SECONDS < deadline)); do
    now="$(stored_rows "$(check_rows || true)")"
    [[ "$now" == "$prev" ]] && stable=$((stable + 1)) || stable=0
    prev="$now"
    sleep 2
  done
  pm stop -t 30 "$ingest" >/dev/null
  influxql 'DROP MEASUREMENT "post_sentiment"' || die "could not drop the stored posts"
  out="$(check_rows || true)"
  [[ "$(stored_rows "$out")" == 0 ]] || die "rows left after DROP MEASUREMENT: $out"
  local run_start=$SECONDS
  local before0 before1
  before0="$(analyzed "${analyze[0]}")" before1="$(analyzed "${analyze[1]}")"
  pm restart -t 5 "$emulator" >/dev/null
  pm start "$ingest" >/dev/null
  log "fresh run: $POSTS posts at $CROWDPULSE_STACK_RATE/s from the emulator (measurement dropped, emulator and ingest restarted)"

  # 3. Mid-stream, SIGTERM to one analyze replica.
  # The victim: the replica that has analysed more of this run's posts so far (it holds partitions).
  local expected_rows victim stopped=0 d0 d1
  expected_rows="$(sed -n 's/.*"expectedRows":\([0-9]*\).*/\1/p' <<<"$out")"
  while ((SECONDS < deadline)); do
    now="$(stored_rows "$(check_rows || true)")"
    if ((${now:-0} * 4 >= expected_rows)); then
      local t0=$SECONDS code
      d0=$(($(analyzed "${analyze[0]}") - before0)) d1=$(($(analyzed "${analyze[1]}") - before1))
      if ((d1 >= d0)); then victim="${analyze[1]}"; else victim="${analyze[0]}"; fi
      log "     posts analysed so far in this run: ${analyze[0]} $d0, ${analyze[1]} $d1"
      ((d0 > 0 || d1 > 0)) || { log "FAIL no analyze replica has analysed a post of this run"; fail=1; }
      pm stop -t 30 "$victim" >/dev/null
      code="$(podman inspect --format '{{.State.ExitCode}}' "$victim")"
      stopped=1
      if [[ "$code" == 0 ]]; then
        log "ok   SIGTERM to $victim at $now of $expected_rows rows: exit 0 after $((SECONDS - t0)) s"
      else
        log "FAIL SIGTERM to $victim: exit $code after $((SECONDS - t0)) s"; fail=1
        podman logs --tail 20 "$victim" >&2 || true
      fi
      break
    fi
    sleep 1
  done
  ((stopped)) || { log "FAIL no rows stored within $SMOKE_TIMEOUT s"; fail=1; }

  # 4. Everything stored exactly once per topic (waits for the stream's end, then for the count to
  # stay put for 10 s, so that rows too many would show).
  local ok=0 last="" same=0
  while ((SECONDS < deadline)); do
    if out="$(check_rows)"; then ok=1; else ok=0; fi
    now="$(stored_rows "$out")"
    [[ "$now" == "$last" ]] && same=$((same + 1)) || same=0
    last="$now"
    ((ok && same >= 5)) && break
    sleep 2
  done
  if ((ok)); then
    log "ok   stored exactly once per topic, $((SECONDS - run_start)) s after the fresh run started: $out"
  else
    log "FAIL the store does not hold what the emulator served: $out"; fail=1
  fi
  [[ -z "${victim:-}" ]] || pm start "$victim" >/dev/null || true
  ((fail == 0)) || die "smoke: FAILED after $((SECONDS - start)) s"
  log "smoke: all checks passed in $((SECONDS - start)) s"
}

down() {
  [[ -x "$VENV/bin/podman-compose" ]] || { log "no podman-compose venv: nothing was started by this script"; return 0; }
  # ingest first, while the emulator still serves: an ingest that gets SIGTERM just as it reconnects
  # to a stream that the emulator closed (stopped before it) was seen to hang until SIGKILL.
  local c
  for c in $(containers_of ingest); do pm stop -t 30 "$c" >/dev/null || true; done
  compose --profile grafana down -v -t 30 >"$CACHE/compose-down.log" 2>&1 ||
    { tail -n 20 "$CACHE/compose-down.log" >&2; die "podman-compose down failed"; }
  log "down: containers, network and volumes of project $P removed"
}

case "${1:-}" in
  up) up ;;
  smoke) smoke ;;
  down) down ;;
  ps) compose ps ;;
  images) images ;;
  *) echo "usage: $0 up | down | smoke | ps | images" >&2; exit 2 ;;
esac
