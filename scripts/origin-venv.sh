#!/usr/bin/env bash
# The Python environment of the bench's origin analyser (bench/origin/roberta.py): PyTorch and
# transformers from PyPI, pinned in bench/origin/requirements.txt.
#
#   scripts/origin-venv.sh install   create the venv (if missing) and install the pinned packages
#   scripts/origin-venv.sh python    print the venv's python path (after install)
#
# The venv lives outside the repository (it is ~5.5 GB): $CROWDPULSE_ORIGIN_VENV, default
# ${XDG_CACHE_HOME:-~/.cache}/crowdpulse/origin-venv. A stamp file holds the requirements' hash, so
# a second install with the same pins does nothing.
set -euo pipefail

log() { printf '[origin-venv.sh] %s\n' "$*" >&2; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$here/bench/origin/requirements.txt"
venv="${CROWDPULSE_ORIGIN_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/crowdpulse/origin-venv}"
stamp="$venv/.crowdpulse-requirements.sha256"

install() {
  local want
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [[ -x $venv/bin/python && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
    log "up to date: $venv"
    return 0
  fi
  local python="${PYTHON:-python3}"
  command -v "$python" >/dev/null || { log "$python not found: install Python >= 3.10"; exit 3; }
  if [[ ! -x $venv/bin/python ]]; then
    log "creating $venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
  fi
  log "installing $(grep -cv '^\s*\(#\|$\)' "$requirements") pinned packages from PyPI (torch is ~3 GB the first time)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" >"$stamp"
  log "ready: $("$venv/bin/python" -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)')"
}

case "${1:-}" in
  install) install ;;
  python) [[ -x $venv/bin/python ]] || { log "no venv at $venv: run $0 install"; exit 3; }; echo "$venv/bin/python" ;;
  *) echo "usage: $0 install | python" >&2; exit 2 ;;
esac
