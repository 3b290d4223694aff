"""Anomaly mode stops at the first op whose output or gradient holds NaN or Inf."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_edu as tg


@pytest.fixture(autouse=True)
def _quiet_numpy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
    tg.set_detect_anomaly(False)


def test_forward_raises_at_the_op_that_makes_inf():
    x = tg.Tensor([1.0, 0.0], requires_grad=True)
    with tg.detect_anomaly():
        y = x * 2  # fine
        with pytest.raises(RuntimeError) as info:
            y.log()  # log(0) = -inf
    message = str(info.value)
    assert "Log" in message and "Inf" in message and "forward" in message
    assert "test_anomaly.py" in message  # where the user made it
    assert "inputs were all finite" in message


def test_forward_names_nan_and_an_input_that_already_held_it():
    x = tg.Tensor([np.nan, 1.0])
    with tg.detect_anomaly(), pytest.raises(RuntimeError, match=r"Mul .*NaN.*input 0 already"):
        x * 2


def test_backward_raises_at_the_node_whose_gradient_is_inf():
    x = tg.Tensor([4.0, 0.0], requires_grad=True)
    with tg.detect_anomaly():
        loss = x.sqrt().sum()  # sqrt(0) = 0 is finite; its gradient 1/(2*0) is not
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    message = str(info.value)
    assert "backward of Sqrt" in message and "Inf" in message and "input 0" in message
    assert "test_anomaly.py" in message


def test_without_anomaly_mode_nan_flows_silently():
    x = tg.Tensor([4.0, 0.0], requires_grad=True)
    loss = x.sqrt().sum()
    loss.backward()
    assert np.isinf(x.grad.numpy()[1])


def test_set_detect_anomaly_switches_globally_and_the_decorator_restores():
    tg.set_detect_anomaly(True)
    assert tg.is_anomaly_enabled()
    with pytest.raises(RuntimeError, match="Div"):
        tg.Tensor([1.0]) / 0.0
    tg.set_detect_anomaly(False)
    assert not tg.is_anomaly_enabled()

    @tg.detect_anomaly()
    def f(x):
        return x.log()

    with pytest.raises(RuntimeError, match="Log"):
        f(tg.Tensor([-1.0]))
    assert not tg.is_anomaly_enabled()


def test_anomaly_mode_checks_create_graph_gradients():
    x = tg.Tensor([0.0], requires_grad=True)
    with tg.detect_anomaly():
        y = (x * x + 1.0).log()
        (g,) = tg.grad(y, x, create_graph=True)
        np.testing.assert_allclose(g.numpy(), [0.0])  # 2x / (x² + 1) at 0
