#!/bin/bash
# Like apache/kafka's image: every KAFKA_<NAME> variable becomes the broker setting <name>
# (lower case, _ → .), e.g. KAFKA_PROCESS_ROLES=broker,controller → process.roles=broker,controller.
# The storage is formatted on the first start (KRaft), then the broker runs as PID 1's child via exec.
set -euo pipefail
conf=/opt/kafka/server.properties
: >"$conf"
while IFS='=' read -r name value; do
  case "$name" in
    KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_CLUSTER_ID) continue ;;
    KAFKA_*) key="${name#KAFKA_}"; key="${key,,}"; printf '%s=%s\n' "${key//_/.}" "$value" >>"$conf" ;;
  esac
done < <(env)
grep -q '^log.dirs=' "$conf" || echo 'log.dirs=/var/lib/kafka/data' >>"$conf"
data="$(sed -n 's/^log.dirs=//p' "$conf")"
mkdir -p "$data"
if [[ ! -f "$data/meta.properties" ]]; then
  id="${KAFKA_CLUSTER_ID:--}"
  while [[ "$id" == -* ]]; do id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"; done
  java -cp '/opt/kafka/libs/*' kafka.tools.StorageTool format -t "$id" -c "$conf" --ignore-formatted
fi
# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several options
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m} -XX:+UseG1GC -Djava.awt.headless=true \
  -cp '/opt/kafka/libs/*' kafka.Kafka "$conf"
