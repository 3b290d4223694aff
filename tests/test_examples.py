"""Every script in examples/ runs, and its key numbers are right."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np

import tinygrad_edu as tg

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str) -> dict:
    module = runpy.run_path(str(EXAMPLES / name))
    try:
        return module["main"]()
    finally:
        tg.set_default_dtype(np.float32)


def test_first_steps_gradients_and_descent(capsys):
    result = run_example("first_steps.py")
    # engine and chain rule agree to rounding; twenty steps of descent cut the cost a lot
    assert result["hand_error"] < 1e-12
    assert result["last_cost"] < result["first_cost"] / 100
    assert "gradcheck: the engine's gradients match" in capsys.readouterr().out


def test_examples_run_as_scripts(tmp_path):
    # run from a scratch folder: examples that draw write their pictures where they run
    for script in sorted(EXAMPLES.glob("*.py")):
        done = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert done.returncode == 0, f"{script.name} failed:\n{done.stderr}"


def test_digits_classifier_learns_the_digits():
    result = run_example("digits_classifier.py")
    # a 64-128-64-10 MLP with SGD reaches well above 95% on held-out digits
    assert result["accuracy"] >= 0.95
    assert result["final_cost"] < 0.05
    # part 6: the jitted loop gives the eager costs exactly, and really replayed
    assert result["jit_final_cost"] == result["final_cost"]
    assert result["jit_stats"]["replayed"] > 1000
    assert result["jit_stats"]["eager"] == 0


def test_cross_entropy_learns_faster_than_squared_error():
    results = run_example("mse_vs_cross_entropy.py")
    mse, ce = results["squared error"], results["cross-entropy"]
    assert len(mse) == len(ce) == 15
    # early on the gap is wide; at the end both have learnt, cross-entropy more
    assert ce[2] > mse[2] + 0.2
    assert ce[-1] >= 0.9
    assert 0.5 < mse[-1] < ce[-1]
