"""Shared test set-up: hypothesis profiles, the optional PyTorch, and tg's default dtype.

Hypothesis profiles (pick one with HYPOTHESIS_PROFILE=dev|ci):
  dev  30 examples per property, no deadline (the default on a laptop);
  ci   25 examples, no deadline, derandomized (the same examples on every run), and no
       "too slow" health check: the default when CI=true.

PyTorch is optional (SPEC: tests compare with it when it is installed and skip with a reason
when it is not). Under CI=true a missing PyTorch is a set-up bug, so the test fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import tinygrad_edu as tg

IN_CI = os.environ.get("CI", "").strip().lower() == "true"

settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))

TORCH_PIN = "torch==2.13.0"


def torch_or_skip() -> Any:
    """The torch module; skip the calling test when PyTorch is missing (fail it under CI=true).

    Call it inside the test body (not at import time), so that only the comparison is skipped.
    """
    try:
        import torch
    except ImportError:
        if IN_CI:
            pytest.fail(
                f"CI=true but PyTorch is not installed: CI must install it ({TORCH_PIN}, a CPU "
                "build) so that the PyTorch comparisons run; see scripts/test.sh",
                pytrace=False,
            )
        pytest.skip(f"PyTorch is not installed: comparison skipped (pip install {TORCH_PIN})")
    return torch


@pytest.fixture(scope="session", name="torch_or_skip")
def _torch_or_skip_fixture() -> Callable[[], Any]:
    """The `torch_or_skip` helper, for test files that cannot import from conftest.

    Session-scoped, so hypothesis tests may take it: `torch = torch_or_skip()` in the body.
    """
    return torch_or_skip


@pytest.fixture(autouse=True)
def _restore_default_dtype() -> Iterator[None]:
    """Whatever a test does to tg's default float dtype is undone after it."""
    before = tg.get_default_dtype()
    yield
    tg.set_default_dtype(before)


@pytest.fixture
def default_float64() -> Iterator[None]:
    """Python floats become float64 for this test only (the default is restored afterwards)."""
    before = tg.get_default_dtype()
    tg.set_default_dtype(np.float64)
    yield
    tg.set_default_dtype(before)
