"""register_hook and retain_grad, with PyTorch's semantics."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg


def test_hook_sees_the_gradient_and_can_replace_it():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    y.register_hook(lambda g: g * 10)  # replaces dL/dy before it flows on
    (y * y).sum().backward()
    # dL/dy = 2y = [6, 12]; replaced by [60, 120]; dL/dx = 3 * that
    np.testing.assert_array_equal(seen[0], [6.0, 12.0])
    np.testing.assert_array_equal(x.grad.numpy(), [180.0, 360.0])


def test_leaf_hook_runs_once_on_the_total_gradient():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(g.numpy().copy()))
    (x * 2 + x * 3).sum().backward()  # two paths: the hook sees their sum, once
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], [5.0, 5.0])


def test_leaf_hook_replacement_reaches_grad_and_tg_grad():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 0)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    (gx,) = tg.grad((x * x).sum(), x)
    np.testing.assert_array_equal(gx.numpy(), [0.0, 0.0])


def test_handle_remove_stops_the_hook():
    x = tg.Tensor([1.0], requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    (x * 2).sum().backward()
    handle.remove()
    (x * 2).sum().backward()
    assert calls == [1]


def test_hook_errors():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="function"):
        x.register_hook(42)
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.Tensor([1.0]).register_hook(lambda g: g)
    x.register_hook(lambda g: tg.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(3,\), expected \(2,\)"):
        (x * 2).sum().backward()


def test_retain_grad_keeps_a_nonleaf_gradient():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    h.retain_grad()
    other = x * 2
    (h * 3 + other).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), [3.0, 3.0])  # dL/dh = 3
    assert other.grad is None  # only tensors that asked keep theirs
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 14.0])  # 6x + 2


def test_retain_grad_accumulates_and_does_not_alias_leaf_grads():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    h = x + 0.0
    h.retain_grad()
    loss = h.sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(h.grad.numpy(), [2.0, 2.0])
    assert not np.shares_memory(h.grad.numpy(), x.grad.numpy())
