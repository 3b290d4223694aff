"""numpy's floating-point warnings never reach the user from inside the package.

numpy warns "RuntimeWarning: divide by zero encountered in log" at the line of numpy code that
hit it, and inside the engine that line is one of the package's own (ops/elementwise.py:106):
it named neither the op nor the user's code, and it printed before the engine's own report,
anomaly mode's error or `train`'s divergence stop. The package now leaves those warnings out
for its own code (see anomaly.py); what an op returns is unchanged (log(0) = -inf, 0/0 = nan,
as numpy and PyTorch give), anomaly mode says which op made it and where, and the user's own
numpy calls warn as before.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg

PACKAGE_DIR = os.path.dirname(os.path.abspath(tg.__file__))


@pytest.fixture
def caught() -> Iterator[list]:
    """Every warning shown meanwhile, under the filters in force (catch_warnings also forgets
    which warnings were shown already, so a second one from the same line is not hidden)."""
    with warnings.catch_warnings(record=True) as log:
        yield log
    tg.set_detect_anomaly(False)


def from_the_package(caught: list) -> list[str]:
    """The RuntimeWarnings that point into the package's files."""
    return [
        f"{w.filename}:{w.lineno}: {w.message}"
        for w in caught
        if issubclass(w.category, RuntimeWarning) and w.filename.startswith(PACKAGE_DIR)
    ]


def _leaf(*values: float) -> tg.Tensor:
    return tg.Tensor(np.array(values), requires_grad=True)


def log_of_zero() -> tg.Tensor:
    x = _leaf(0.0, 1.0)
    x.log().sum().backward()  # log(0) = -inf forward; 1/0 = inf backward
    return x.grad


def divide_by_zero() -> tg.Tensor:
    return _leaf(1.0, 0.0) / 0  # inf, nan (0/0)


def sqrt_of_negative() -> tg.Tensor:
    return _leaf(-1.0, 4.0).sqrt()  # nan, 2


def exp_overflow() -> tg.Tensor:
    return _leaf(1000.0).exp()  # inf


def sqrt_backward_at_zero() -> tg.Tensor:
    x = _leaf(0.0, 4.0)
    x.sqrt().sum().backward()  # forward fine, backward 1 / (2 sqrt(0)) = inf
    return x.grad


CASES: dict[str, tuple[Callable[[], tg.Tensor], list, str]] = {
    # what it returns (numpy's, unchanged), and the op anomaly mode names (forward or backward)
    "log(0)": (log_of_zero, [np.inf, 1.0], "Log produced Inf in its output (forward)"),
    "x/0": (divide_by_zero, [np.inf, np.nan], "Div produced NaN in its output (forward)"),
    "sqrt(-1)": (sqrt_of_negative, [np.nan, 2.0], "Sqrt produced NaN in its output (forward)"),
    "exp(1000)": (exp_overflow, [np.inf], "Exp produced Inf in its output (forward)"),
    "sqrt'(0)": (sqrt_backward_at_zero, [np.inf, 0.25], "the backward of Sqrt produced Inf"),
}


@pytest.mark.parametrize("case", CASES)
def test_eager_ops_return_numpys_values_without_numpys_warning(case: str, caught: list) -> None:
    run, expected, _ = CASES[case]
    np.testing.assert_array_equal(run().numpy(), expected)
    assert from_the_package(caught) == []


@pytest.mark.parametrize("case", CASES)
def test_in_anomaly_mode_the_engines_error_is_all_the_user_sees(case: str, caught: list) -> None:
    run, _, message = CASES[case]
    with tg.detect_anomaly(), pytest.raises(RuntimeError, match="anomaly detected") as info:
        run()
    assert message in str(info.value)
    assert "test_float_warnings.py" in str(info.value)  # the user's line
    assert from_the_package(caught) == []


def test_second_derivatives_do_not_warn_either(caught: list) -> None:
    x = _leaf(0.0, 1.0)
    (g,) = tg.grad(x.log().sum(), x, create_graph=True)  # 1/x, recorded
    g.sum().backward()  # -1/x**2
    np.testing.assert_array_equal(x.grad.numpy(), [-np.inf, -1.0])
    assert from_the_package(caught) == []


def test_the_users_own_numpy_still_warns(caught: list) -> None:
    """Only the package's own lines are quiet: numpy called from the user's code warns."""
    assert np.log(np.zeros(1))[0] == -np.inf
    mine = [w for w in caught if w.filename == __file__]
    assert [str(w.message) for w in mine] == ["divide by zero encountered in log"]


def test_the_filter_comes_back_when_the_filters_list_is_swapped(caught: list) -> None:
    """catch_warnings() swaps warnings.filters for a copy and back; a package first imported
    inside one (pytest imports conftest.py so) loses a filter set then. The next op puts it
    back."""
    warnings.filters = [f for f in warnings.filters if "tinygrad_edu" not in str(f[3])]
    divide_by_zero()
    assert from_the_package(caught) == []


def test_the_users_own_filters_come_first(caught: list) -> None:
    """Asking for every warning (or for errors: python -W error) still shows numpy's."""
    warnings.simplefilter("always")
    divide_by_zero()
    assert any("divide by zero encountered" in w for w in from_the_package(caught))


def test_numpys_errstate_raise_still_stops_inside_an_op() -> None:
    """np.errstate(all="raise") is numpy's own switch for stopping at the first bad number."""
    with np.errstate(all="raise"), pytest.raises(FloatingPointError, match="divide by zero"):
        _leaf(0.0).log()


def _python(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`python ARGS` in a fresh interpreter, with Python's default warning filters (as a
    learner runs it)."""
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_anomaly_error_is_the_first_thing_printed(tmp_path: Path) -> None:
    code = (
        "import tinygrad_edu as tg\n"
        "with tg.detect_anomaly():\n"
        "    tg.Tensor([0.0, 1.0], requires_grad=True).log()\n"
    )
    result = _python("-c", code, cwd=tmp_path)
    assert result.returncode == 1
    assert "anomaly detected: Log produced Inf" in result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert result.stderr.startswith("Traceback"), result.stderr


def test_a_diverging_train_run_prints_only_its_own_message(tmp_path: Path) -> None:
    """`tinygrad-edu train --lr 100`: the loss overflows in epoch 1 (in Linear, CrossEntropy
    and the optimizer's update); the run stops with its message and numpy says nothing."""
    out = str(tmp_path / "run")
    result = _python(
        "-m", "tinygrad_edu", "train", "--lr", "100", "--no-progress", "--out", out, cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr
    assert "training diverged in epoch 1" in result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert result.stderr.startswith("tinygrad-edu train: training diverged"), result.stderr
