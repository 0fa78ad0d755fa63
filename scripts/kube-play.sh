#!/usr/bin/env bash
# The Kubernetes dev overlay's pods, run for real with `podman kube play` (podman 4.3, offline).
#
#   scripts/kube-play.sh up     build the images (scripts/stack.sh images, cached), render the overlay
#                               (`kubectl kustomize k8s/overlays/dev`), translate it for podman
#                               (scripts/kube-play/translate.ts), then play: InfluxDB and Kafka first,
#                               the KafkaTopics created (as Strimzi's topic operator would), then
#                               ingest, analyze, store, shifts and the dashboard, until each /readyz
#                               answers 200; prints the time taken
#   scripts/kube-play.sh smoke  on the played pods:
#                               1. every pod runs, every crowdpulse container answers /readyz;
#                               2. /metrics refuses a request without the overlay's access token, and
#                                  answers with it;
#                               3. posts flow: ingest's replay → Kafka → analyze → Kafka → store →
#                                  InfluxDB (read back as the overlay's InfluxDB user, auth on), and the
#                                  store's posts_total counts them;
#                               4. the dashboard reads every role's /metrics through the Service names,
#                                  and serves the stored topics;
#                               5. SIGTERM to the analyze pod's container (as a rollout or an
#                                  eviction sends it): exit 0 within terminationGracePeriodSeconds;
#                                  started again, it is ready and posts keep flowing
#   scripts/kube-play.sh down   remove the pods, their volumes, the secrets and the network
#   scripts/kube-play.sh plan   only render and translate (prints what is and is not covered)
#
# What the translation does and leaves out is in scripts/kube-play/translate.ts and in the README
# (Kubernetes, "Played with podman"): Deployments and the StatefulSet become pods with their fixed
# replica counts, Services become host aliases (one pod per name, no load balancing), Strimzi's Kafka
# becomes one KRaft pod on the stack's Kafka image; HPA, PDBs, NetworkPolicies, the ServiceMonitor and
# the PrometheusRule have no podman equivalent and are listed, not played.
#
# Images: the manifests' `crowdpulse:0.1.0` and `influxdb:1.8.10` are the stack's offline builds
# (localhost/crowdpulse:stack and localhost/crowdpulse-stack-influxdb:1.8.10, tagged with the manifests'
# names); Strimzi's Kafka image is replaced by localhost/crowdpulse-stack-kafka:4.1.0.
#
# Environment (all optional): KUBE_PLAY_OVERLAY=k8s/overlays/dev  KUBE_PLAY_NETWORK=crowdpulse-kube
#   KUBE_PLAY_SUBNET=10.89.77 (a /24; pods get .10 and up)  KUBE_PLAY_READY_TIMEOUT=180
#   KUBE_PLAY_SMOKE_TIMEOUT=180  KUBECTL=kubectl
# Needs: root (rootful podman; the host reaches the pods' addresses), kubectl (else kustomize is built
# from the Go module proxy), and what scripts/stack.sh images needs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/crowdpulse"
WORK="$CACHE_ROOT/kube-play"
OVERLAY="${KUBE_PLAY_OVERLAY:-k8s/overlays/dev}"
NETWORK="${KUBE_PLAY_NETWORK:-crowdpulse-kube}"
SUBNET="${KUBE_PLAY_SUBNET:-10.89.77}"
READY_TIMEOUT="${KUBE_PLAY_READY_TIMEOUT:-180}"
SMOKE_TIMEOUT="${KUBE_PLAY_SMOKE_TIMEOUT:-180}"
KUSTOMIZE_VERSION=v5.5.0
STACK_CROWDPULSE_IMAGE="localhost/crowdpulse:stack"
STACK_INFLUXDB_IMAGE="localhost/crowdpulse-stack-influxdb:1.8.10"
KAFKA_IMAGE="localhost/crowdpulse-stack-kafka:4.1.0"
# scripts/image.sh writes this containers.conf (runtime runc, ulimits the host allows).
export CONTAINERS_CONF="${IMAGE_CACHE_DIR:-$CACHE_ROOT/image}/containers.conf"

log() { printf '[kube-play.sh] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
indent() { sed 's/^/       /' >&2; }

# kustomize_render DIR: kubectl's built-in kustomize, else kustomize built from the Go module proxy.
kustomize_render() {
  local kubectl="${KUBECTL:-kubectl}"
  if command -v "$kubectl" >/dev/null 2>&1; then
    (cd "$ROOT" && "$kubectl" kustomize "$1")
    return
  fi
  local bin="$CACHE_ROOT/bin/kustomize-$KUSTOMIZE_VERSION"
  if [[ ! -x "$bin" ]]; then
    log "no kubectl: building kustomize $KUSTOMIZE_VERSION from the Go module proxy"
    mkdir -p "$CACHE_ROOT/bin/gobin"
    GOBIN="$CACHE_ROOT/bin/gobin" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
    mv "$CACHE_ROOT/bin/gobin/kustomize" "$bin"
  fi
  (cd "$ROOT" && "$bin" build "$1")
}

plan() {
  mkdir -p "$WORK"
  rm -rf "$WORK/pods" "$WORK/secrets"
  kustomize_render "$OVERLAY" >"$WORK/rendered.yaml"
  (cd "$ROOT" && node --import tsx scripts/kube-play/translate.ts "$WORK/rendered.yaml" "$WORK" "$SUBNET" "$KAFKA_IMAGE") >&2
}

# pods [GROUP]: "name ip file group httpPort component grace" lines of the plan (tab-separated).
pods() {
  [[ -f "$WORK/pods.tsv" ]] || return 0
  if (($# == 0)); then cat "$WORK/pods.tsv"; else awk -F'\t' -v g="$1" '$4 == g' "$WORK/pods.tsv"; fi
}

field() { jq -r "$1" "$WORK/plan.json"; }

images() {
  ((EUID == 0)) || die "run as root (rootful podman)"
  bash "$ROOT/scripts/stack.sh" images
  # The manifests' image names, resolved to the offline builds.
  local name
  for name in $(grep -ho 'image: [^ ]*' "$WORK/rendered.yaml" | awk '{print $2}' | sort -u); do
    case "$name" in
      crowdpulse:*) podman tag "$STACK_CROWDPULSE_IMAGE" "localhost/$name" ;;
      influxdb:*) podman tag "$STACK_INFLUXDB_IMAGE" "localhost/$name" ;;
      *) die "no offline build for the manifests' image $name" ;;
    esac
  done
}

wait_until() {
  local what="$1" deadline=$((SECONDS + READY_TIMEOUT))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "$what not ready within $READY_TIMEOUT s"
    sleep 1
  done
}

tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2"; }
http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

play() {
  local name="$1" ip="$2" file="$3"
  podman kube play --network "$NETWORK" --ip "$ip" "$file" >"$WORK/play-$name.log" 2>&1 ||
    { cat "$WORK/play-$name.log" >&2; die "podman kube play $file failed"; }
}

token() { jq -r '.["http-token"]' "$(field '.secrets[] | select(.name | startswith("crowdpulse-secrets")) | .file')" | base64 -d; }

up() {
  local start=$SECONDS
  ((EUID == 0)) || die "run as root (rootful podman)"
  plan
  images
  local built=$SECONDS
  down quiet
  podman network create --subnet "$SUBNET.0/24" "$NETWORK" >/dev/null
  local name file
  while IFS=$'\t' read -r name file; do
    podman secret create "$name" "$file" >/dev/null
  done < <(field '.secrets[] | [.name, .file] | @tsv')

  local ip port
  while IFS=$'\t' read -r name ip file _; do play "$name" "$ip" "$file"; done < <(pods infra)
  local influx kafka
  influx="$(field '.services[] | select(.name == "crowdpulse-influxdb") | .ip')"
  kafka="$(field '.services[] | select(.name | endswith("-kafka-bootstrap")) | .ip')"
  wait_until "InfluxDB ($influx)" http_ok "http://$influx:8086/health"
  wait_until "Kafka ($kafka)" tcp_open "$kafka" 9092
  log "InfluxDB and Kafka up after $((SECONDS - built)) s; creating the KafkaTopics"
  podman run --rm --network "$NETWORK" --add-host "$(field '.services[] | select(.name | endswith("-kafka-bootstrap")) | "\(.name):\(.ip)"')" \
    --entrypoint node -v "$ROOT/scripts/kube-play/create-topics.mjs:/app/kube-play-create-topics.mjs:ro" \
    -v "$WORK/topics.json:/tmp/topics.json:ro" "$STACK_CROWDPULSE_IMAGE" /app/kube-play-create-topics.mjs \
    "$(field '.services[] | select(.name | endswith("-kafka-bootstrap")) | .name'):9092" /tmp/topics.json 2>&1 | indent

  while IFS=$'\t' read -r name ip file _; do play "$name" "$ip" "$file"; done < <(pods app)
  while IFS=$'\t' read -r name ip _ _ port _; do
    [[ "$port" == - ]] || wait_until "$name /readyz" http_ok "http://$ip:$port/readyz"
  done < <(pods app)
  log "up: $((SECONDS - start)) s in all (images $((built - start)) s, pods $((SECONDS - built)) s)"
  podman pod ps --filter "network=$NETWORK" >&2
}

# metric URL NAME [LABEL_FILTER]: the sum of a counter's samples whose labels contain the filter.
metric() {
  curl -fsS --max-time 5 -H "Authorization: Bearer $(token)" "$1" |
    awk -v n="$2" -v f="${3:-}" 'index($0, n"{") == 1 && index($0, f) { s += $NF } END { print s + 0 }'
}

influx_count() {
  local ip user pass secret
  ip="$(field '.services[] | select(.name == "crowdpulse-influxdb") | .ip')"
  secret="$(field '.secrets[] | select(.name | startswith("crowdpulse-influxdb")) | .file')"
  user="$(jq -r '.user' "$secret" | base64 -d)" pass="$(jq -r '.["user-password"]' "$secret" | base64 -d)"
  curl -fsS --max-time 10 -u "$user:$pass" -G "http://$ip:8086/query" --data-urlencode "db=crowdpulse" \
    --data-urlencode 'q=SELECT count("score") FROM "post_sentiment"' | jq -r '.results[0].series[0].values[0][1] // 0'
}

ip_of() { awk -F'\t' -v c="$1" '$6 == c { print $2; exit }' "$WORK/pods.tsv"; }
name_of() { awk -F'\t' -v c="$1" '$6 == c { print $1; exit }' "$WORK/pods.tsv"; }

smoke() {
  local start=$SECONDS fail=0
  [[ -f "$WORK/plan.json" ]] && podman network exists "$NETWORK" || die "nothing played: scripts/kube-play.sh up"
  local name ip port state
  # 1. Every pod runs, every crowdpulse container is ready.
  while IFS=$'\t' read -r name ip _ _ port _; do
    state="$(podman pod inspect --format '{{.State}}' "$name" 2>/dev/null || echo missing)"
    if [[ "$state" != Running ]]; then log "FAIL pod $name: $state"; fail=1; continue; fi
    if [[ "$port" == - ]]; then log "ok   pod $name ($ip) running"; continue; fi
    # Readiness may drop for a moment (a consumer group rebalancing): wait for it, as a Service would.
    # The answer that ends the wait is the verdict: asking again could meet the next short drop (a
    # shifts pod failed that way in a CI run, ready then 503 a moment later).
    local deadline=$((SECONDS + READY_TIMEOUT)) ready=0
    while :; do
      if http_ok "http://$ip:$port/readyz" 2>/dev/null; then ready=1; break; fi
      ((SECONDS < deadline)) || break
      sleep 1
    done
    if ((ready)); then
      log "ok   pod $name ($ip) running, /readyz 200"
    else
      log "FAIL pod $name ($ip) /readyz: $(curl -s --max-time 2 "http://$ip:$port/readyz")"; fail=1
    fi
  done < <(pods)

  # 2. The access token guards /metrics on 0.0.0.0.
  local store_ip code
  store_ip="$(ip_of store)"
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$store_ip:9464/metrics")"
  if [[ "$code" == 401 ]] && [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $(token)" "http://$store_ip:9464/metrics")" == 200 ]]; then
    log "ok   /metrics: 401 without the token, 200 with the overlay's crowdpulse-secrets/http-token"
  else
    log "FAIL /metrics without the token answered $code (want 401; 200 with it)"; fail=1
  fi

  # 3. Posts flow from the replay into InfluxDB.
  local stored=0 rows=0 first_rows
  first_rows="$(influx_count || echo 0)"
  local deadline=$((SECONDS + SMOKE_TIMEOUT))
  while ((SECONDS < deadline)); do
    stored="$(metric "http://$store_ip:9464/metrics" crowdpulse_posts_total 'stage="store",direction="out"' || echo 0)"
    rows="$(influx_count || echo 0)"
    ((stored >= 100 && rows > first_rows && rows >= stored)) && break
    sleep 2
  done
  if ((stored >= 100 && rows >= stored)); then
    log "ok   posts flow: the store counts $stored posts stored, InfluxDB holds $rows rows (read as the dev user, auth on)"
  else
    log "FAIL posts do not flow: store posts_total $stored, InfluxDB rows $rows after $SMOKE_TIMEOUT s"; fail=1
  fi

  # 4. The dashboard reads every role through the Service names and serves the stored topics.
  local dash sources topics
  dash="$(ip_of dashboard)"
  sources="$(curl -fsS --max-time 10 -H "Authorization: Bearer $(token)" "http://$dash:9464/dashboard/api/health" |
    jq -r '.sources[] | "\(.name) \(if .ok then "ok" else "FAILED" end)"' || true)"
  if [[ -n "$sources" ]] && ! grep -q ' FAILED$' <<<"$sources"; then
    log "ok   the dashboard reads every role's /metrics through the Service names:"
  else
    log "FAIL the dashboard's metrics sources:"; fail=1
  fi
  indent <<<"$sources"
  # The fixtures are dated in the past: the window ends at the newest stored post (dataEnd).
  local data_end
  data_end="$(curl -fsS --max-time 20 -H "Authorization: Bearer $(token)" "http://$dash:9464/dashboard/api/sentiment" | jq -r '.dataEnd // empty' || true)"
  topics="$(curl -fsS --max-time 20 -H "Authorization: Bearer $(token)" "http://$dash:9464/dashboard/api/sentiment?at=$data_end&window=604800" |
    jq -r '[.summaries[] | "\(.topic) \(.count)"] | join(", ")' || true)"
  if [[ -n "$topics" ]]; then log "ok   the dashboard serves the stored topics (posts in the week to $data_end): $topics"; else log "FAIL the dashboard serves no topics"; fail=1; fi

  # 5. SIGTERM to the analyze container; started again, it is ready and posts keep flowing.
  local analyze analyze_ip grace t0 exit_code before after
  analyze="$(name_of analyze)" analyze_ip="$(ip_of analyze)"
  grace="$(awk -F'\t' -v c=analyze '$6 == c { print $7; exit }' "$WORK/pods.tsv")"
  # The container, not the pod: like the kubelet, which keeps the pod's network (its infra container)
  # until the containers have exited. `podman pod stop` stops the infra container at the same time,
  # and the role then drains with its network gone (seen: a 5 s broker transport failure on close).
  t0=$SECONDS
  podman stop -t "$grace" "$analyze-crowdpulse" >/dev/null
  exit_code="$(podman inspect --format '{{.State.ExitCode}}' "$analyze-crowdpulse")"
  if [[ "$exit_code" == 0 ]]; then
    log "ok   SIGTERM to $analyze: exit 0 after $((SECONDS - t0)) s (grace $grace s)"
  else
    log "FAIL SIGTERM to $analyze: exit $exit_code after $((SECONDS - t0)) s"; fail=1
    podman logs --tail 20 "$analyze-crowdpulse" >&2 || true
  fi
  before="$(influx_count || echo 0)"
  podman start "$analyze-crowdpulse" >/dev/null
  wait_until "$analyze /readyz after the restart" http_ok "http://$analyze_ip:9464/readyz"
  deadline=$((SECONDS + SMOKE_TIMEOUT))
  after="$before"
  while ((SECONDS < deadline)); do
    after="$(influx_count || echo 0)"
    ((after > before)) && break
    sleep 2
  done
  if ((after > before)); then
    log "ok   $analyze ready again after its restart (container); InfluxDB rows $before → $after"
  else
    log "FAIL no new rows after $analyze restarted ($before)"; fail=1
  fi

  ((fail == 0)) || die "smoke: FAILED after $((SECONDS - start)) s"
  log "smoke: all checks passed in $((SECONDS - start)) s"
  log "not played (no podman equivalent): $(field '[.notCovered[] | "\(.kind)/\(.name)"] | join(", ")')"
}

down() {
  local quiet="${1:-}" name ip file rest
  while IFS=$'\t' read -r name ip file rest; do
    [[ -f "$file" ]] || continue
    podman pod exists "$name" 2>/dev/null || continue
    podman kube play --down "$file" >/dev/null 2>&1 || podman pod rm -f -t 30 "$name" >/dev/null 2>&1 || true
  done < <(pods)
  if [[ -f "$WORK/plan.json" ]]; then
    # The claims' named volumes (kube play --down keeps them, as a cluster keeps PVCs).
    for name in $(field '.volumes[]?'); do podman volume rm -f "$name" >/dev/null 2>&1 || true; done
    for name in $(field '.secrets[].name'); do podman secret rm "$name" >/dev/null 2>&1 || true; done
  fi
  podman network exists "$NETWORK" 2>/dev/null && podman network rm -f "$NETWORK" >/dev/null
  [[ -n "$quiet" ]] || log "down: pods, claim volumes, secrets and network $NETWORK removed"
}

case "${1:-}" in
  up) up ;;
  smoke) smoke ;;
  down) down ;;
  plan) plan && jq . "$WORK/plan.json" ;;
  *) echo "usage: $0 up | smoke | down | plan" >&2; exit 2 ;;
esac
