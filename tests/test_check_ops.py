"""`tinygrad-edu gradcheck`: the table of every op, and its exit status."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tinygrad_edu.cli import main
from tinygrad_edu.opinfo import OPS
from tinygrad_edu.ops.elementwise import Mul


def test_every_op_passes_and_is_listed(capsys):
    assert main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    for op in OPS:
        assert any(line.split()[0] == op.name for line in out.splitlines() if line.strip())
    assert f"{len(OPS)} passed, 0 failed" in out
    assert "FAIL" not in out


def test_one_op_and_seed_change_the_inputs(capsys):
    assert main(["gradcheck", "--op", "matmul", "--seed", "1"]) == 0
    first = capsys.readouterr().out
    assert main(["gradcheck", "--op", "matmul", "--seed", "2"]) == 0
    second = capsys.readouterr().out
    assert "matmul" in first and "1 passed, 0 failed" in first
    assert first != second  # other inputs, other errors


def test_a_wrong_backward_fails_the_table_with_exit_1(monkeypatch, capsys):
    def wrong(self, grad):
        x, y = self.saved_tensors
        return grad * y * 1.01, grad * x  # dz/dx off by 1%

    monkeypatch.setattr(Mul, "backward", wrong)
    assert main(["gradcheck", "--op", "mul"]) == 1
    out = capsys.readouterr().out
    mul_row = next(line for line in out.splitlines() if line.startswith("mul "))
    assert mul_row.endswith("FAIL")
    assert "0 passed, 1 failed" in out


def test_unknown_op_exits_2_listing_the_ops(capsys):
    assert main(["gradcheck", "--op", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown op nope" in err and "matmul" in err


@pytest.mark.parametrize("flags", [["--seed", "-1"], ["--seed", "x"], ["--bogus"]])
def test_bad_flags_exit_2(flags):
    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu", "gradcheck", *flags],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "usage:" in done.stderr
