#!/usr/bin/env bash
# Lint and test tinygrad_edu. Extra arguments go to pytest, e.g. `bash scripts/test.sh -k matmul`.
# No `set -e`: optional steps (PyTorch, Graphviz) may fail; required ones are checked by hand.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "test.sh: $*" >&2; exit 1; }

# 1. Virtual environment with the package and its dev tools.
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv || die "could not create .venv"
fi
.venv/bin/pip install -q -e '.[dev]' || die "pip install -e '.[dev]' failed"

# 2. PyTorch, only for the comparison tests. Always this exact pin: an unpinned
#    torch would pull gigabytes of CUDA wheels.
if ! .venv/bin/pip install -q torch==2.13.0; then
    echo "note: PyTorch 2.13.0 could not be installed; PyTorch comparisons will be skipped."
fi

# 3. Debian's Graphviz (`dot`, for rendering graphs) and Chromium (for the graph explorer's
#    browser tests, driven by Playwright); tests that need them skip without them, outside CI.
bash scripts/install_debian.sh dot graphviz "the graph rendering tests" || die "could not install Graphviz"
bash scripts/install_debian.sh chromium chromium "the graph explorer's browser tests" ||
    die "could not install Chromium"

# 4. Lint and format check.
.venv/bin/ruff check . || die "ruff check failed"
.venv/bin/ruff format --check . || die "ruff format --check failed (run: .venv/bin/ruff format .)"

# 5. Tests. Exit code 5 means pytest collected nothing: never accept an empty run.
.venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
    die "pytest collected no tests (exit code 5); an empty test run counts as a failure"
fi
exit "$status"
