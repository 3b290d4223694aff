"""The allocator setting of malloc.py: applied where glibc is, and switchable off."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tinygrad_edu.malloc import keep_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a glibc setting (Linux only)")
def test_glibc_accepts_the_settings():
    assert keep_freed_memory() is True


def test_the_environment_variable_turns_it_off(monkeypatch):
    monkeypatch.setenv("TINYGRAD_EDU_KEEP_MEMORY", "0")
    assert keep_freed_memory() is False


def test_results_do_not_depend_on_it():
    # one training step's loss and gradients, with and without the setting, in fresh processes
    code = (
        "import numpy as np, tinygrad_edu as tg\n"
        "tg.manual_seed(0)\n"
        "m = tg.nn.MLP([64, 256, 10])\n"
        "x = tg.Tensor(np.random.default_rng(0).standard_normal((256, 64)).astype('float32'))\n"
        "y = tg.Tensor(np.arange(256) % 10)\n"
        "loss = tg.nn.functional.cross_entropy(m(x), y)\n"
        "loss.backward()\n"
        "print(repr(loss.item()), repr(float(m[0].weight.grad.numpy().sum())))\n"
    )
    outs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "TINYGRAD_EDU_KEEP_MEMORY": flag},
        ).stdout
        for flag in ("1", "0")
    ]
    assert outs[0] == outs[1] and outs[0]
