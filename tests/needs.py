"""What a test needs from the machine, and what happens without it: outside CI the test is
skipped with the reason; under CI=true the set-up is wrong, so the test fails instead."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() == "true"


def unavailable(why: str) -> None:
    """Skip (or, under CI=true, fail) because `why`: e.g. "Chromium is not installed"."""
    if IN_CI:
        pytest.fail(f"CI=true but {why}", pytrace=False)
    pytest.skip(why)


def dot_or_skip() -> None:
    """Graphviz's `dot` program, or a skip that says how to install it."""
    if shutil.which("dot") is None:
        unavailable("Graphviz's `dot` is not installed (apt-get install graphviz)")
