#!/usr/bin/env bash
# A small Python environment for the tokenizer parity test (test/model/wordpiece-parity.test.ts):
# only the `tokenizers` wheel (the reference WordPiece implementation). ~10 s; idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=models/.venv-parity
if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/python" -c "import tokenizers" 2>/dev/null || "$VENV/bin/pip" install -q --disable-pip-version-check "tokenizers==0.23.3"
"$VENV/bin/python" -c "import tokenizers; print('parity venv ready: tokenizers', tokenizers.__version__)"
