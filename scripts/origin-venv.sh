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

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

pinned_venv "${1:-}" "${CROWDPULSE_ORIGIN_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/crowdpulse/origin-venv}" \
  "$ROOT/bench/origin/requirements.txt" 3.10 " (torch is ~3 GB the first time)" \
  'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'
