"""The benchmark engines compute the same step (nothing here is timed: speed is measured by
benchmarks/, never by a unit test). A benchmark that compared different computations would
report meaningless ratios, so the engines' losses must agree step for step."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from _mlp import (  # noqa: E402
    CONFIGS,
    Config,
    EnginesDisagree,
    NumpyMLP,
    TinygradJitMLP,
    TinygradMLP,
    check_agreement,
    make_problem,
)

TINY = Config("tiny", 8, (5, 7, 6, 3), bar_numpy=1.0)


@pytest.mark.parametrize("config", [TINY, CONFIGS["S"]], ids=["tiny", "S"])
def test_the_numpy_and_tinygrad_engines_agree(config):
    problem = make_problem(config)
    engines = [NumpyMLP(problem), TinygradMLP(problem, config.sizes)]
    losses = check_agreement(engines, steps=5)
    assert len(losses) == 2 and all(np.isfinite(v).all() for v in losses.values())
    first = losses["numpy"]
    assert first[-1] < first[0]  # the updates really train: the loss on the batch goes down


def test_check_agreement_catches_a_different_computation():
    problem = make_problem(TINY)
    other = make_problem(TINY, seed=1)  # other weights: the losses cannot agree
    engines = [NumpyMLP(problem), TinygradMLP(other, TINY.sizes)]
    with pytest.raises(EnginesDisagree):
        check_agreement(engines, steps=2)


@pytest.mark.parametrize("config", [TINY, CONFIGS["S"]], ids=["tiny", "S"])
def test_the_jit_engine_is_the_eager_engine_bit_for_bit_and_replays(config):
    problem = make_problem(config)
    eager, jit = TinygradMLP(problem, config.sizes), TinygradJitMLP(problem, config.sizes)
    eager_losses = [eager.step() for _ in range(8)]
    jit_losses = [jit.step() for _ in range(8)]
    assert jit_losses == eager_losses
    assert jit._step.stats == {"recorded": 1, "checked": 1, "replayed": 6, "eager": 0}
    for (_, a), (_, b) in zip(eager.model.named_parameters(), jit.model.named_parameters()):
        assert np.array_equal(a.data, b.data)
