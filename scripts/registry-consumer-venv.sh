#!/usr/bin/env bash
# The Python environment of the standard Schema Registry consumer (scripts/schema-registry/avro-consumer.py):
# confluent-kafka with its Avro deserializer from PyPI (the wheels bundle librdkafka), pinned in
# scripts/schema-registry/requirements.txt. test/kafka/schema-registry.test.ts runs that consumer.
#
#   scripts/registry-consumer-venv.sh install   create the venv (if missing) and install the pinned packages
#   scripts/registry-consumer-venv.sh python    print the venv's python path (after install)
#
# The venv lives outside the repository: $CROWDPULSE_REGISTRY_CONSUMER_VENV, default
# ${XDG_CACHE_HOME:-~/.cache}/crowdpulse/registry-consumer-venv (~90 MB). A stamp file holds the
# requirements' hash, so a second install with the same pins does nothing.
set -euo pipefail

log() { printf '[registry-consumer-venv.sh] %s\n' "$*" >&2; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

pinned_venv "${1:-}" "${CROWDPULSE_REGISTRY_CONSUMER_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/crowdpulse/registry-consumer-venv}" \
  "$ROOT/scripts/schema-registry/requirements.txt" 3.9 "" \
  'import confluent_kafka; print("confluent-kafka", confluent_kafka.__version__, "librdkafka", confluent_kafka.libversion()[0])'
