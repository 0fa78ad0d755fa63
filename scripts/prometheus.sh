#!/usr/bin/env bash
# Prometheus for tests and local runs, from Debian's package (prometheus + promtool).
#
#   scripts/prometheus.sh install   apt-get install prometheus if promtool/prometheus are missing
#   scripts/prometheus.sh path      print the prometheus binary's path
#
# Tests start their own Prometheus (own config, free loopback port, temp storage dir); the
# packaged systemd unit may hold 9090 and is left alone. We stop that packaged service only if
# this script was the one that installed it and it started on its own (it would also scrape nothing of ours).
set -euo pipefail

log() { printf '[prometheus.sh] %s\n' "$*" >&2; }

have() { command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; }

install() {
  if have; then
    log "already installed: $(prometheus --version 2>&1 | head -1)"
    return 0
  fi
  command -v apt-get >/dev/null || { log "apt-get not found: install Prometheus >= 2.40 (prometheus, promtool) by hand"; exit 3; }
  log "installing Debian's prometheus package"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the packaged service from starting (policy-rc.d 101 = action forbidden) while we install.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  apt-get update -qq || log "apt-get update failed; trying the cached lists"
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  [[ $created_policy == 1 ]] && rm -f "$policy"
  have || { log "prometheus still missing after apt-get install"; exit 3; }
  log "installed: $(prometheus --version 2>&1 | head -1)"
}

case "${1:-}" in
  install) install ;;
  path) command -v prometheus ;;
  *) echo "usage: $0 install | path" >&2; exit 2 ;;
esac
