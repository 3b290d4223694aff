"""tg.gradcheck and tg.gradgradcheck: they pass correct gradients and catch wrong ones.

The wrong ones are custom Functions whose backward has a known, deliberate mistake; a checker
that lets any of them through is broken.
"""

import re
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.function import Function


def _saved_x(fn):
    (x,) = fn.saved_tensors
    return x


class Square(Function):
    """z = x**2;   dz/dx = 2 * x"""

    def forward(self, x):
        self.save_for_backward(x)
        return x**2

    def backward(self, grad):
        return grad * 2 * _saved_x(self)


class WrongSquare(Function):
    """z = x**2;   dz/dx = x   (wrong: the factor 2 is missing)"""

    def forward(self, x):
        self.save_for_backward(x)
        return x**2

    def backward(self, grad):
        return grad * _saved_x(self)


class SquareIgnoringGrad(Function):
    """z = x**2;   dz/dx = 2 * x   (wrong: forgets to multiply by the upstream gradient)"""

    def forward(self, x):
        self.save_for_backward(x)
        return x**2

    def backward(self, grad):
        return 2 * _saved_x(self)


class SquareThroughConstant(Function):
    """z = x**2;   dz/dx = 2 * x, with x taken as a constant copy (wrong second derivative)

    The first derivative is right, but when backward is recorded (create_graph) the copy
    `Tensor(x.data)` cuts the graph, so d/dx (grad * 2 * x) loses its 2 * grad term.
    """

    def forward(self, x):
        self.save_for_backward(x)
        return x**2

    def backward(self, grad):
        x = _saved_x(self)
        if isinstance(x, tg.Tensor):
            x = tg.Tensor(x.data)  # detached: the graph no longer sees x
        return grad * 2 * x


class WrongMulSecondInput(Function):
    """z = x * y;   dz/dx = y,   dz/dy = y   (wrong: should be x)"""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x * y

    def backward(self, grad):
        x, y = self.saved_tensors
        return grad * y, grad * y


def _numbers(text):
    return [float(s) for s in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)]


def _mentions(text, value, rel=1e-6):
    return any(abs(v - value) <= rel * max(1.0, abs(value)) for v in _numbers(text))


# -- correct gradients pass --------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn, shapes",
    [
        (lambda x: (x * x).sum(), [(3, 4)]),
        (lambda x: x.tanh(), [(5,)]),
        (lambda x, y: x * y + x / (y * y + 1.0), [(3, 4), (4,)]),  # broadcasting
        (lambda x, y: x @ y, [(2, 3), (3, 4)]),
        (lambda x: x.exp().sum(axis=1), [(3, 2)]),
        (lambda x: x.sigmoid().log(), [(2, 3)]),
        (lambda x: Square.apply(x), [(4,)]),
    ],
)
def test_correct_gradients_pass(fn, shapes):
    rng = np.random.default_rng(0)
    inputs = [tg.Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    assert tg.gradcheck(fn, inputs) is True
    assert tg.gradgradcheck(fn, inputs) is True


def test_several_outputs():
    rng = np.random.default_rng(1)
    x = tg.Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    y = tg.Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert tg.gradcheck(lambda x, y: (x * y, x.exp(), (y * y).sum()), [x, y])


def test_only_inputs_that_require_grad_are_checked():
    rng = np.random.default_rng(2)
    x = tg.Tensor(rng.standard_normal(4), requires_grad=True)
    c = tg.Tensor(rng.standard_normal(4))  # a constant input
    assert tg.gradcheck(lambda x, c: x * c + c, [x, c])
    assert tg.gradgradcheck(lambda x, c: x * x * c, [x, c])
    # the wrong dz/dy is never used when y does not require grad ...
    assert tg.gradcheck(lambda x, y: WrongMulSecondInput.apply(x, y), [x, c])
    # ... and is caught, naming input 1, once it does
    c.requires_grad_()
    with pytest.raises(tg.GradcheckError, match=r"input 1"):
        tg.gradcheck(lambda x, y: WrongMulSecondInput.apply(x, y), [x, c])


def test_non_tensor_inputs_are_passed_through():
    x = tg.Tensor(np.array([0.5, -1.0]), requires_grad=True)
    assert tg.gradcheck(lambda x, k, scale: (x**k) * scale, [x, 3, 2.5])


def test_inputs_are_float64_copies():
    # float32 inputs: central differences with eps = 1e-6 would be useless in float32, so the
    # check must run on float64 copies, leaving the caller's tensors as they were
    x = tg.Tensor([0.3, -0.7, 1.1], requires_grad=True)
    y = tg.Tensor([[2.0, 0.5, -1.5]], requires_grad=True)
    x_before, y_before = x.data.copy(), y.data.copy()
    seen = []

    def fn(a, b):
        seen.append((a.dtype, b.dtype, a is x, b is y))
        return (a * b).tanh()

    assert tg.gradcheck(fn, [x, y])
    assert tg.gradgradcheck(fn, [x, y])
    assert all(da == np.float64 and db == np.float64 for da, db, _, _ in seen)
    assert not any(same_a or same_b for _, _, same_a, same_b in seen)
    assert x.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_array_equal(x.data, x_before)
    np.testing.assert_array_equal(y.data, y_before)
    assert x.grad is None and y.grad is None


# -- wrong gradients are caught ----------------------------------------------------------------


def test_wrong_backward_is_caught_with_a_useful_message():
    # at x = (1, 3) the analytic (wrong) gradient is x = (1, 3) and the true one 2x = (2, 6);
    # the largest error is at element 1: analytic 3, numerical 6
    x = tg.Tensor(np.array([1.0, 3.0]), requires_grad=True)
    with pytest.raises(tg.GradcheckError) as excinfo:
        tg.gradcheck(lambda x: WrongSquare.apply(x).sum(), [x])
    msg = str(excinfo.value)
    assert "input 0" in msg
    assert "element" in msg and "(1,)" in msg
    assert _mentions(msg, 3.0) and _mentions(msg, 6.0, rel=1e-4)


def test_wrong_backward_warns_when_not_raising():
    x = tg.Tensor(np.array([1.0, 3.0]), requires_grad=True)
    with pytest.warns(UserWarning, match=r"input 0"):
        ok = tg.gradcheck(lambda x: WrongSquare.apply(x).sum(), [x], raise_exception=False)
    assert ok is False


def test_correct_backward_does_not_warn():
    x = tg.Tensor(np.array([1.0, 3.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tg.gradcheck(lambda x: Square.apply(x).sum(), [x], raise_exception=False)


def test_error_names_a_named_input():
    x = tg.Tensor(np.array([1.0, 3.0]), requires_grad=True, name="weights")
    with pytest.raises(tg.GradcheckError, match="weights"):
        tg.gradcheck(lambda x: WrongSquare.apply(x).sum(), [x])


def test_upstream_gradient_is_random():
    # For a non-scalar output an all-ones upstream gradient makes "2x" and "grad * 2x" agree;
    # a random one does not, so a backward that ignores grad must be caught.
    x = tg.Tensor(np.array([0.5, -1.2, 2.0, 0.8]), requires_grad=True)
    with pytest.raises(tg.GradcheckError):
        tg.gradcheck(lambda x: SquareIgnoringGrad.apply(x), [x])
    # (with a scalar output the upstream gradient is 1, and the same backward is right)
    assert tg.gradcheck(lambda x: SquareIgnoringGrad.apply(x).sum(), [x])


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = tg.Tensor(np.array([0.5, -1.2, 2.0]), requires_grad=True)
    fn = lambda x: SquareThroughConstant.apply(x)  # noqa: E731
    assert tg.gradcheck(fn, [x])  # the first derivative is right
    with pytest.raises(tg.GradcheckError):
        tg.gradgradcheck(fn, [x])
    with pytest.warns(UserWarning):
        assert tg.gradgradcheck(fn, [x], raise_exception=False) is False


def test_nothing_to_check_is_an_error():
    with pytest.raises(ValueError, match="requires grad"):
        tg.gradcheck(lambda x: x * 2.0, [tg.Tensor([1.0, 2.0])])
