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

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$here/scripts/schema-registry/requirements.txt"
venv="${CROWDPULSE_REGISTRY_CONSUMER_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/crowdpulse/registry-consumer-venv}"
stamp="$venv/.crowdpulse-requirements.sha256"

install() {
  local want
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [[ -x $venv/bin/python && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
    log "up to date: $venv"
    return 0
  fi
  local python="${PYTHON:-python3}"
  command -v "$python" >/dev/null || { log "$python not found: install Python >= 3.9"; exit 3; }
  local start=$SECONDS
  if [[ ! -x $venv/bin/python ]]; then
    log "creating $venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
  fi
  log "installing $(grep -cv '^\s*\(#\|$\)' "$requirements") pinned packages from PyPI"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" >"$stamp"
  log "ready in $((SECONDS - start)) s: $("$venv/bin/python" -c 'import confluent_kafka; print("confluent-kafka", confluent_kafka.__version__, "librdkafka", confluent_kafka.libversion()[0])')"
}

case "${1:-}" in
  install) install ;;
  python) [[ -x $venv/bin/python ]] || { log "no venv at $venv: run $0 install"; exit 3; }; echo "$venv/bin/python" ;;
  *) echo "usage: $0 install | python" >&2; exit 2 ;;
esac
