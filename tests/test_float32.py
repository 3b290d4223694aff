"""A float32 network stays float32 end to end: no silent promotion to float64 anywhere.

numpy 2 promotes float32 arrays combined with numpy float64 scalars, which makes training about
ten times slower without changing a single printed digit; these tests catch it.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F

F32 = np.dtype(np.float32)


def _dtypes_of(obj) -> set:
    """Every array dtype inside an optimiser state (nested dicts of arrays and numbers)."""
    if isinstance(obj, np.ndarray):
        return {obj.dtype}
    if isinstance(obj, tg.Tensor):
        return {obj.dtype}
    if isinstance(obj, dict):
        return set().union(*(_dtypes_of(v) for v in obj.values())) if obj else set()
    return set()


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_training_keeps_float32(optimizer, activation):
    tg.manual_seed(0)
    model = tg.nn.MLP([8, 16, 4], activation=activation)
    params = list(model.parameters())
    opt = {
        "sgd": lambda: tg.optim.SGD(params, lr=np.float64(0.1), momentum=0.9, weight_decay=1e-4),
        "adam": lambda: tg.optim.Adam(params, lr=1e-3, weight_decay=1e-4),
        "adamw": lambda: tg.optim.AdamW(params, lr=1e-3),
    }[optimizer]()
    x = tg.Tensor(np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32))
    y = tg.Tensor(np.array([0, 1, 2, 3, 0]))
    for _ in range(3):
        logits = model(x * np.float64(0.5) + 0.25)  # numpy and Python scalars on purpose
        assert logits.dtype == F32
        loss = F.cross_entropy(logits, y) + F.mse_loss(logits.softmax(), logits.softmax() * 0.9)
        assert loss.dtype == F32
        opt.zero_grad()
        loss.backward()
        opt.step()
        for p in params:
            assert p.dtype == F32 and p.grad.dtype == F32
    assert _dtypes_of(opt.state) == {F32}


def test_every_op_in_the_table_keeps_float32():
    from tinygrad_edu.opinfo import OPS, Chooser

    rng = np.random.default_rng(1)
    for op in OPS:
        sample = op.sample(Chooser(rng))
        xs = [tg.Tensor(np.asarray(a, dtype=np.float32), requires_grad=True) for a in sample.args]
        out = op.fn(*xs, **sample.kwargs)
        assert out.dtype == F32, op.name
        out.backward(tg.Tensor(np.ones(out.shape, dtype=np.float32)))
        assert all(x.grad.dtype == F32 for x in xs if x.grad is not None), op.name


def test_float32_create_graph_keeps_float32():
    x = tg.Tensor(np.array([0.5, -1.0, 2.0], dtype=np.float32), requires_grad=True)
    (g,) = tg.grad((x.tanh() * x).sum(), x, create_graph=True)
    (h,) = tg.grad(g.sum(), x)
    assert g.dtype == F32 and h.dtype == F32
