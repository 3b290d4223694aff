"""Losses: MSELoss, CrossEntropyLoss, BCELoss, BCEWithLogitsLoss and their functions.

Expected values are hand formulas (written out in comments) or PyTorch's (float64, through
`torch_or_skip()` inside the test); never this package's own output.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F

REDUCTIONS = ["mean", "sum", "none"]


def _t64(a, requires_grad=False):
    return tg.Tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _sigmoid(x):
    # 1 / (1 + e^-x), written with e^-|x| so that it never overflows
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _logsumexp(x):
    m = x.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0]


def _data(kind, seed=0):
    """(input, target) numpy arrays for one loss."""
    rng = np.random.default_rng(seed)
    if kind == "mse":
        return rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    if kind == "cross_entropy":
        return rng.standard_normal((6, 4)) * 2, rng.integers(0, 4, size=6)
    if kind == "bce":
        return rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0.0, 1.0, (3, 4))
    if kind == "bce_logits":
        return rng.standard_normal((3, 4)) * 3, rng.uniform(0.0, 1.0, (3, 4))
    raise AssertionError(kind)


FUNCTIONS = {
    "mse": F.mse_loss,
    "cross_entropy": F.cross_entropy,
    "bce": F.binary_cross_entropy,
    "bce_logits": F.binary_cross_entropy_with_logits,
}
MODULES = {
    "mse": nn.MSELoss,
    "cross_entropy": nn.CrossEntropyLoss,
    "bce": nn.BCELoss,
    "bce_logits": nn.BCEWithLogitsLoss,
}
TORCH_NAMES = {
    "mse": "mse_loss",
    "cross_entropy": "cross_entropy",
    "bce": "binary_cross_entropy",
    "bce_logits": "binary_cross_entropy_with_logits",
}
TARGET_HAS_GRAD = {"mse", "bce_logits"}  # float targets whose gradient we also check


def _hand(kind, x, t):
    """Per-element loss and its derivatives by hand: (loss, dloss/dx, dloss/dt or None)."""
    if kind == "mse":
        # (x - t)^2;  d/dx = 2 (x - t);  d/dt = -2 (x - t)
        return (x - t) ** 2, 2 * (x - t), -2 * (x - t)
    if kind == "cross_entropy":
        # per row: logsumexp(x) - x[t];  d/dx = softmax(x) - onehot(t)
        n, c = x.shape
        onehot = np.eye(c)[t]
        soft = np.exp(x - _logsumexp(x)[:, None])
        return _logsumexp(x) - x[np.arange(n), t], soft - onehot, None
    if kind == "bce":
        # -(t log p + (1 - t) log(1 - p));  d/dp = (p - t) / (p (1 - p))
        return -(t * np.log(x) + (1 - t) * np.log(1 - x)), (x - t) / (x * (1 - x)), None
    if kind == "bce_logits":
        # max(x, 0) - x t + log(1 + e^-|x|);  d/dx = sigmoid(x) - t;  d/dt = -x
        loss = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
        return loss, _sigmoid(x) - t, -x
    raise AssertionError(kind)


def _upstream(kind, reduction, per_elem_shape, seed=1):
    """The weight each element's loss gets in the reduced loss (and the seed for 'none')."""
    if reduction == "mean":
        return np.full(per_elem_shape, 1.0 / np.prod(per_elem_shape))
    if reduction == "sum":
        return np.ones(per_elem_shape)
    return np.random.default_rng(seed).standard_normal(per_elem_shape)


def _run(kind, reduction, x, t, via_module=False):
    xt = _t64(x, requires_grad=True)
    tt = tg.Tensor(t) if kind == "cross_entropy" else _t64(t, requires_grad=kind in TARGET_HAS_GRAD)
    fn = MODULES[kind](reduction=reduction) if via_module else FUNCTIONS[kind]
    out = fn(xt, tt) if via_module else fn(xt, tt, reduction)
    return out, xt, tt


# -- values and gradients against hand formulas (no torch) ------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", list(FUNCTIONS))
def test_loss_matches_hand_formula(kind, reduction):
    x, t = _data(kind)
    loss, dx, dt = _hand(kind, x, t)
    out, xt, tt = _run(kind, reduction, x, t)
    w = _upstream(kind, reduction, loss.shape)
    if reduction == "none":
        assert out.shape == loss.shape
        np.testing.assert_allclose(out.numpy(), loss, rtol=1e-12)
        out.backward(w)
    else:
        assert out.shape == ()
        expected = loss.mean() if reduction == "mean" else loss.sum()
        np.testing.assert_allclose(out.item(), expected, rtol=1e-12)
        out.backward()
    w_x = w[:, None] if kind == "cross_entropy" else w  # a row's weight reaches all its logits
    np.testing.assert_allclose(xt.grad.numpy(), w_x * dx, rtol=1e-10, atol=1e-15)
    if dt is not None:
        np.testing.assert_allclose(tt.grad.numpy(), w * dt, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", list(FUNCTIONS))
def test_module_equals_function(kind, reduction):
    x, t = _data(kind, seed=4)
    by_fn, _, _ = _run(kind, reduction, x, t)
    by_module, _, _ = _run(kind, reduction, x, t, via_module=True)
    np.testing.assert_array_equal(by_module.numpy(), by_fn.numpy())
    assert MODULES[kind]().reduction == "mean"


def test_cross_entropy_small_example_by_hand():
    # logits [0, ln 3] (softmax [1/4, 3/4]), target 1:  loss = -ln(3/4);  grad = [1/4, -1/4]
    logits = _t64([[0.0, np.log(3.0)]], requires_grad=True)
    loss = F.cross_entropy(logits, tg.Tensor([1]))
    np.testing.assert_allclose(loss.item(), -np.log(0.75), rtol=1e-14)
    loss.backward()
    np.testing.assert_allclose(logits.grad.numpy(), [[0.25, -0.25]], rtol=1e-14)


# -- against PyTorch --------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", list(FUNCTIONS))
def test_loss_matches_torch(torch_or_skip, kind, reduction):
    torch = torch_or_skip()
    x, t = _data(kind, seed=2)
    out, xt, tt = _run(kind, reduction, x, t, via_module=True)
    tx = torch.tensor(x, requires_grad=True)
    if kind == "cross_entropy":
        ttarget = torch.from_numpy(t)
    else:
        ttarget = torch.tensor(t, requires_grad=kind in TARGET_HAS_GRAD)
    tmod = {
        "mse": torch.nn.MSELoss,
        "cross_entropy": torch.nn.CrossEntropyLoss,
        "bce": torch.nn.BCELoss,
        "bce_logits": torch.nn.BCEWithLogitsLoss,
    }[kind](reduction=reduction)
    tout = tmod(tx, ttarget)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-15)
    g = np.random.default_rng(9).standard_normal(tout.shape)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-15)
    if kind in TARGET_HAS_GRAD:
        np.testing.assert_allclose(tt.grad.numpy(), ttarget.grad.numpy(), rtol=1e-10, atol=1e-15)
    # and the functional form agrees with torch's functional form
    fn_out = FUNCTIONS[kind](_t64(x), tg.Tensor(t), reduction)
    t_fn = getattr(torch.nn.functional, TORCH_NAMES[kind])(
        tx.detach(), ttarget.detach(), reduction=reduction
    )
    np.testing.assert_allclose(fn_out.numpy(), t_fn.numpy(), rtol=1e-10, atol=1e-15)


# -- gradcheck and gradgradcheck --------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", list(FUNCTIONS))
def test_gradcheck_and_gradgradcheck(kind, reduction):
    x, t = _data(kind, seed=5)
    fn = FUNCTIONS[kind]
    xt = _t64(x, requires_grad=True)
    if kind == "cross_entropy":
        target = tg.Tensor(t)
        inputs = [xt]

        def f(a):
            return fn(a, target, reduction)

    elif kind in TARGET_HAS_GRAD:
        inputs = [xt, _t64(t, requires_grad=True)]

        def f(a, b):
            return fn(a, b, reduction)

    else:
        target = _t64(t)
        inputs = [xt]

        def f(a):
            return fn(a, target, reduction)

    assert tg.gradcheck(f, inputs)
    assert tg.gradgradcheck(f, inputs)


# -- extreme values ---------------------------------------------------------------------------


@pytest.mark.parametrize("big", [100.0, 1e4])
def test_cross_entropy_extreme_logits_stay_finite(big):
    x = np.array([[big, -big, 0.0], [-big, big, 0.0], [big, big, -big], [0.0, -big, -big]])
    y = np.array([0, 0, 1, 2])
    xt = _t64(x, requires_grad=True)
    for reduction in REDUCTIONS:
        xt.grad = None
        loss = F.cross_entropy(xt, tg.Tensor(y), reduction)
        assert np.all(np.isfinite(loss.numpy()))
        loss.sum().backward()
        assert np.all(np.isfinite(xt.grad.numpy()))
    # the hand formula, computed stably: logsumexp(x) - x[y];  grad = softmax(x) - onehot(y)
    per_row = _logsumexp(x) - x[np.arange(4), y]
    np.testing.assert_allclose(
        F.cross_entropy(_t64(x), tg.Tensor(y), "none").numpy(), per_row, rtol=1e-12
    )
    expected_grad = np.exp(x - _logsumexp(x)[:, None]) - np.eye(3)[y]
    np.testing.assert_allclose(xt.grad.numpy(), expected_grad, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("big", [100.0, 1e4])
def test_bce_with_logits_extreme_logits_stay_finite(big):
    x = np.array([big, -big, big, -big, 0.0])
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    xt = _t64(x, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(xt, _t64(t), "none")
    assert np.all(np.isfinite(loss.numpy()))
    # max(x, 0) - x t + log(1 + e^-|x|): about 0, 0, big, big, and ln 2 for x = 0
    expected = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12, atol=1e-40)
    loss.sum().backward()
    assert np.all(np.isfinite(xt.grad.numpy()))
    np.testing.assert_allclose(xt.grad.numpy(), _sigmoid(x) - t, rtol=1e-12, atol=1e-40)


@pytest.mark.parametrize("big", [100.0, 1e4])
def test_extreme_logits_match_torch(torch_or_skip, big):
    torch = torch_or_skip()
    x = np.array([[big, -big, 0.0], [-big, big, 3.0]])
    y = np.array([1, 0])
    xt, tx = _t64(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss, tloss = (
        F.cross_entropy(xt, tg.Tensor(y)),
        torch.nn.functional.cross_entropy(tx, torch.from_numpy(y)),
    )
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-300)

    z, t = x.ravel(), np.array([1.0, 0.0, 0.3, 1.0, 0.0, 0.7])
    zt, tz = _t64(z, requires_grad=True), torch.tensor(z, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(zt, _t64(t))
    tloss = torch.nn.functional.binary_cross_entropy_with_logits(tz, torch.from_numpy(t))
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(zt.grad.numpy(), tz.grad.numpy(), rtol=1e-12, atol=1e-300)


def test_bce_with_logits_gradient_at_zero_logit():
    t = np.array([0.0, 0.25, 0.5, 1.0])
    x = _t64(np.zeros(4), requires_grad=True)
    F.binary_cross_entropy_with_logits(x, _t64(t), "sum").backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.5 - t)  # sigmoid(0) - t, exactly
    x.grad = None
    F.binary_cross_entropy_with_logits(x, _t64(t), "mean").backward()
    np.testing.assert_allclose(x.grad.numpy(), (0.5 - t) / 4, rtol=1e-15)


def test_bce_at_probabilities_exactly_zero_and_one():
    # PyTorch clamps each log at -100, so the loss is finite: a confident right answer costs 0
    # and a confident wrong one 100; its gradient (p - t) / max(p (1 - p), 1e-12) is finite
    # too (0 where p == t). A saturated sigmoid gives exactly these probabilities.
    p = _t64([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    t = _t64([0.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy(p, t, "none")
    np.testing.assert_array_equal(loss.numpy(), [0.0, 0.0, 100.0, 100.0])
    loss.sum().backward()
    g = p.grad.numpy()
    assert np.all(np.isfinite(g)), g
    np.testing.assert_array_equal(g[:2], [0.0, 0.0])
    assert g[2] < 0 and g[3] > 0  # pushes towards the target


# -- dtypes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(FUNCTIONS))
def test_float32_stays_float32(kind):
    x, t = _data(kind, seed=6)
    xt = tg.Tensor(x.astype(np.float32), requires_grad=True)
    tt = tg.Tensor(t) if kind == "cross_entropy" else tg.Tensor(t.astype(np.float32))
    for reduction in REDUCTIONS:
        xt.grad = None
        out = FUNCTIONS[kind](xt, tt, reduction)
        assert out.dtype == np.float32
        out.sum().backward()
        assert xt.grad.dtype == np.float32


# -- bad input --------------------------------------------------------------------------------


def test_cross_entropy_targets_out_of_range_are_listed():
    logits = tg.randn(5, 3)
    with pytest.raises(ValueError) as err:
        F.cross_entropy(logits, tg.Tensor(np.array([0, 3, -1, 2, 7])))
    msg = str(err.value)
    for bad in ("3", "-1", "7"):
        assert bad in msg
    assert "[0, 2]" in msg or "0..2" in msg or "3 classes" in msg


@pytest.mark.parametrize(
    "dtype", ["int8", "int16", "int32", "int64", "uint8", "uint64", ">i8", ">u4", "<i2"]
)
def test_cross_entropy_target_range_check_for_every_integer_dtype(dtype):
    # the check reads signed targets as unsigned (one pass): -1 must still be caught
    logits = tg.randn(3, 4)
    ok = F.cross_entropy(logits, tg.Tensor(np.array([0, 3, 1], dtype=dtype)))
    assert np.isfinite(ok.item())
    bad = [0, 4, 1] if np.dtype(dtype).kind == "u" else [0, -1, 1]
    # the message lists the bad value itself ("4" alone would also match "for 4 classes")
    with pytest.raises(ValueError, match=rf"got \[{bad[1]}\]"):
        F.cross_entropy(logits, tg.Tensor(np.array(bad, dtype=dtype)))
    # targets that are a strided view (Tensor() copies an array, so slice the Tensor instead)
    strided = tg.Tensor(np.array([0, 9, 2, 9, 3, 9], dtype=dtype))[::2]  # [0, 2, 3]
    assert not strided.data.flags.c_contiguous
    assert np.isfinite(F.cross_entropy(logits, strided).item())


def test_cross_entropy_float_targets_type_error():
    with pytest.raises(TypeError, match="int"):
        F.cross_entropy(tg.randn(4, 3), tg.Tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(TypeError):
        nn.CrossEntropyLoss()(tg.randn(2, 3), tg.Tensor(np.eye(3)[[0, 1]]))


def test_cross_entropy_wrong_target_shape():
    with pytest.raises(ValueError) as err:
        F.cross_entropy(tg.randn(4, 3), tg.Tensor(np.zeros((4, 1), np.int64)))
    assert "(4, 1)" in str(err.value)
    with pytest.raises(ValueError):
        F.cross_entropy(tg.randn(4, 3), tg.Tensor(np.zeros(3, np.int64)))


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4), ()])
def test_cross_entropy_logits_must_be_2d(shape):
    n = shape[0] if shape else 1
    with pytest.raises(ValueError, match=re.escape(str(shape))):
        F.cross_entropy(tg.Tensor(np.zeros(shape)), tg.Tensor(np.zeros(n, np.int64)))


@pytest.mark.parametrize("fn", [F.mse_loss, F.binary_cross_entropy_with_logits])
def test_shape_mismatch_names_both_shapes(fn):
    a, b = tg.Tensor(np.full(3, 0.5)), tg.Tensor(np.full((3, 1), 0.5))  # numpy would broadcast
    with pytest.raises(ValueError) as err:
        fn(a, b)
    msg = str(err.value)
    assert "(3,)" in msg and "(3, 1)" in msg and fn.__name__ in msg


def test_bce_shape_mismatch():
    with pytest.raises(ValueError, match=re.escape("(2, 2)")):
        F.binary_cross_entropy(tg.Tensor(np.full(4, 0.5)), tg.Tensor(np.full((2, 2), 0.5)))


@pytest.mark.parametrize("kind", list(FUNCTIONS))
def test_unknown_reduction_lists_the_valid_ones(kind):
    with pytest.raises(ValueError) as err:
        MODULES[kind](reduction="average")
    msg = str(err.value)
    assert "average" in msg and all(r in msg for r in REDUCTIONS)
    x, t = _data(kind)
    tt = tg.Tensor(t)
    with pytest.raises(ValueError) as err:
        FUNCTIONS[kind](_t64(x), tt, "avg")
    msg = str(err.value)
    assert "avg" in msg and all(r in msg for r in REDUCTIONS)


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_bce_inputs_outside_unit_interval(bad):
    p = tg.Tensor(np.array([0.2, bad, 0.7]))
    with pytest.raises(ValueError, match="probabilities"):
        F.binary_cross_entropy(p, tg.Tensor(np.array([0.0, 1.0, 1.0])))
    with pytest.raises(ValueError):
        nn.BCELoss()(p, tg.Tensor(np.array([0.0, 1.0, 1.0])))


def test_losses_reject_non_tensor_inputs():
    with pytest.raises(TypeError, match="Tensor"):
        F.mse_loss([1.0, 2.0], tg.Tensor([1.0, 2.0]))
