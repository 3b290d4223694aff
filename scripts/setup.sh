#!/usr/bin/env bash
# Create ./.venv (first run only) and install tinygrad_edu into it in editable mode.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install -q -e '.[plot]'

echo "tinygrad_edu is installed in ./.venv (try: .venv/bin/tinygrad-edu train)"
