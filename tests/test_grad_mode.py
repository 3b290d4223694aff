"""Grad mode: no_grad / enable_grad as blocks and decorators, per thread."""

from __future__ import annotations

import threading

import tinygrad_edu as tg


def test_no_grad_records_nothing_but_keeps_leaves_requiring_grad():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = x * 2
        w = tg.Tensor([1.0], requires_grad=True)  # a leaf made here still requires grad
    assert tg.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert w.requires_grad and w.is_leaf
    assert (w * 2).grad_fn is not None


def test_enable_grad_inside_no_grad_and_nesting_restores():
    x = tg.Tensor([1.0], requires_grad=True)
    with tg.no_grad():
        with tg.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
        with tg.no_grad():
            pass
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


def test_decorators():
    @tg.no_grad()
    def predict(x):
        return x * 2

    @tg.enable_grad()
    def train_step(x):
        return x * 2

    x = tg.Tensor([1.0], requires_grad=True)
    assert predict.__name__ == "predict"
    assert not predict(x).requires_grad
    with tg.no_grad():
        assert train_step(x).requires_grad
    assert tg.is_grad_enabled()


def test_grad_mode_restored_after_an_exception():
    try:
        with tg.no_grad():
            raise KeyError("boom")
    except KeyError:
        pass
    assert tg.is_grad_enabled()


def test_grad_mode_is_per_thread():
    # one thread sits inside no_grad while the other records a graph: neither sees the other
    inside = threading.Event()
    checked = threading.Event()
    seen: dict = {}

    def evaluator():
        with tg.no_grad():
            inside.set()
            checked.wait(timeout=10)
            seen["evaluator"] = tg.is_grad_enabled()

    thread = threading.Thread(target=evaluator)
    thread.start()
    assert inside.wait(timeout=10)
    x = tg.Tensor([1.0], requires_grad=True)
    seen["main"] = tg.is_grad_enabled()
    seen["main_records"] = (x * 2).grad_fn is not None
    checked.set()
    thread.join(timeout=10)
    assert seen == {"evaluator": False, "main": True, "main_records": True}


def test_scope_is_per_thread_too():
    seen = {}

    def other():
        seen["scope"] = (tg.Tensor([1.0], requires_grad=True) * 2).grad_fn.scope

    with tg.scope("layer"):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert (tg.Tensor([1.0], requires_grad=True) * 2).grad_fn.scope == ("layer",)
    assert seen["scope"] == ()
