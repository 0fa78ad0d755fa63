#!/usr/bin/env bash
# Headless Chromium for the dashboard's browser tests, from Debian's package.
#
#   scripts/chromium.sh install   apt-get install chromium if /usr/bin/chromium is missing
#   scripts/chromium.sh path      print the browser's path
#
# Tests drive it with playwright-core (executablePath /usr/bin/chromium); playwright's own browser
# downloads are never used (they come from a host these machines cannot reach).
set -euo pipefail

log() { printf '[chromium.sh] %s\n' "$*" >&2; }
BIN="${CHROMIUM_PATH:-/usr/bin/chromium}"

install() {
  if [[ -x $BIN ]]; then
    log "already installed: $("$BIN" --version 2>/dev/null | head -1)"
    return 0
  fi
  command -v apt-get >/dev/null || { log "apt-get not found: install chromium by hand and set CHROMIUM_PATH"; exit 3; }
  log "installing Debian's chromium package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || log "apt-get update failed; trying the cached lists"
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  [[ -x $BIN ]] || { log "$BIN still missing after apt-get install"; exit 3; }
  log "installed: $("$BIN" --version 2>/dev/null | head -1)"
}

case "${1:-}" in
  install) install ;;
  path) echo "$BIN" ;;
  *) echo "usage: $0 install | path" >&2; exit 2 ;;
esac
