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


def test_examples_run_as_scripts():
    for script in sorted(EXAMPLES.glob("*.py")):
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{script.name} failed:\n{done.stderr}"
