"""Checking analytic gradients against finite differences.

For a function f and inputs x, backward computes v . df/dx for an upstream gradient v. The same
number can be estimated without any calculus: nudge one element of x by +-eps and see how
v . f changes,

    v . df/dx_i  ~  (v . f(x + eps e_i) - v . f(x - eps e_i)) / (2 eps)

(central differences, error O(eps**2)). In float64 with eps = 1e-6 the two agree to about 1e-8
for a correct backward; a wrong formula is off by far more. `gradgradcheck` applies the same test
to the gradient function itself, which checks second derivatives.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from tinygrad_edu.autograd import grad as _grad
from tinygrad_edu.mode import enable_grad, no_grad
from tinygrad_edu.tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by gradcheck when an analytic gradient disagrees with finite differences."""


def _as_inputs(inputs: Any) -> list:
    items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    out = []
    for x in items:
        if isinstance(x, Tensor):
            if x.dtype.kind == "f":
                copy = Tensor(x.data.astype(np.float64), name=x.name)
                copy.requires_grad = x.requires_grad
                x = copy
            out.append(x)
        else:
            out.append(x)  # passed through unchanged (ints, options ...)
    return out


def _checked(args: list, who: str) -> list[int]:
    """Positions of the inputs whose gradient is checked: the Tensors that require grad."""
    checked = [i for i, x in enumerate(args) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(f"{who}: no input requires grad, so there is nothing to check")
    return checked


def _outputs(result: Any) -> list[Tensor]:
    items = list(result) if isinstance(result, (list, tuple)) else [result]
    for r in items:
        if r is not None and not isinstance(r, Tensor):
            raise TypeError(f"gradcheck: fn must return Tensors, got {type(r).__name__}")
    return items


def _probe(fn: Callable, args: list, vs: list) -> float:
    """v . f(args): the scalar whose derivative backward computes."""
    outs = _outputs(fn(*args))
    return float(
        sum(np.sum(o.data.astype(np.float64) * v) for o, v in zip(outs, vs) if o is not None)
    )


class Comparison(NamedTuple):
    """The analytic and the numerical gradient of one input, both float64 arrays."""

    index: int  # position of the input among fn's arguments
    input: Tensor  # its float64 copy
    analytic: np.ndarray
    numerical: np.ndarray

    def relative_error(self) -> float:
        """max |analytic - numerical|, relative to the gradient's largest entry."""
        scale = max(float(np.abs(self.numerical).max(initial=0.0)), 1e-12)
        return float(np.abs(self.analytic - self.numerical).max(initial=0.0)) / scale


def compare_gradients(
    fn: Callable[..., Any], inputs: Any, eps: float = 1e-6, seed: int = 0
) -> list[Comparison]:
    """Backward's gradient and the central-difference estimate, for every input requiring grad.

    Works on float64 copies of the inputs; non-scalar outputs get a random (seeded) upstream
    gradient v, so both sides are v . d fn / d input.
    """
    args = _as_inputs(inputs)
    checked = _checked(args, "gradcheck")
    rng = np.random.default_rng(seed)
    with enable_grad():
        outs = _outputs(fn(*args))
    vs = [
        None if o is None else (np.ones(o.shape) if o.size == 1 else rng.standard_normal(o.shape))
        for o in outs
    ]
    # analytic: v . df/dx by the engine
    live = [(o, v) for o, v in zip(outs, vs) if o is not None and o.requires_grad]
    if live:
        analytic = _grad(
            [o for o, _ in live],
            [args[i] for i in checked],
            grad_outputs=[Tensor(v.astype(o.dtype)) for o, v in live],
            allow_unused=True,
        )
    else:
        analytic = (None,) * len(checked)
    # numerical: central differences, one element at a time
    results = []
    for i, g in zip(checked, analytic):
        x = args[i]
        n = np.zeros(x.shape)
        flat = x.data.reshape(-1)  # a view: nudging it nudges x
        with no_grad():
            for k in range(flat.size):
                orig = flat[k]
                flat[k] = orig + eps
                up = _probe(fn, args, vs)
                flat[k] = orig - eps
                down = _probe(fn, args, vs)
                flat[k] = orig
                n.reshape(-1)[k] = (up - down) / (2 * eps)
        a = np.zeros(x.shape) if g is None else g.data.astype(np.float64)
        results.append(Comparison(i, x, a, n))
    return results


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Compare the gradients backward computes for `fn` with central finite differences.

    Every float input that requires grad is checked, element by element, on float64 copies.
    Non-scalar outputs get a random upstream gradient (seeded), so a backward that forgets to
    multiply by it cannot pass. A mismatch raises GradcheckError naming the input, the element,
    both values and the error (or, with raise_exception=False, warns and returns False).

    >>> x = tg.Tensor(np.random.rand(3, 4), requires_grad=True)
    >>> tg.gradcheck(lambda x: (x * x).sum(axis=0), [x])
    True
    """
    for i, x, a, n in compare_gradients(fn, inputs, eps, seed):
        bad = np.abs(a - n) > atol + rtol * np.abs(n)
        if bad.any():
            k = np.unravel_index(np.argmax(np.abs(a - n) * bad), x.shape)
            name = f" ({x.name})" if x.name else ""
            msg = (
                f"gradcheck: gradient of input {i}{name} (shape {x.shape}) is wrong at element "
                f"{tuple(int(j) for j in k)}: analytic {a[k]:.10g}, numerical {n[k]:.10g}, "
                f"error {abs(a[k] - n[k]):.3g} > atol {atol} + rtol {rtol} * |numerical| "
                f"({int(bad.sum())} of {bad.size} elements differ)"
            )
            if raise_exception:
                raise GradcheckError(msg)
            warnings.warn(msg, stacklevel=2)
            return False
    return True


def second_derivative_problem(
    fn: Callable[..., Any],
    inputs: Any,
    grad_outputs: Sequence[Any] | None = None,
    seed: int = 0,
) -> tuple[Callable[..., Any], list]:
    """The function (x, v) -> v . d fn / dx and its inputs: its gradient holds second derivatives.

    Its gradient with respect to x is computed by backward through backward
    (`create_graph=True`); its gradient with respect to v checks the first derivatives again,
    this time as a recorded graph. v (`grad_outputs`) is drawn at random unless given.
    """
    args = _as_inputs(inputs)
    checked = _checked(args, "gradgradcheck")
    with enable_grad():
        outs = _outputs(fn(*args))
    rng = np.random.default_rng(seed + 1)
    if grad_outputs is None:
        grad_outputs = [rng.standard_normal(o.shape) for o in outs]
    vs = [
        Tensor(np.asarray(v.data if isinstance(v, Tensor) else v, dtype=np.float64))
        for v in grad_outputs
    ]
    for v in vs:
        v.requires_grad_()
    n_args = len(args)

    def first_derivatives(*xs_and_vs: Any) -> tuple:
        xs, v = list(xs_and_vs[:n_args]), list(xs_and_vs[n_args:])
        with enable_grad():  # gradcheck probes under no_grad; these gradients need a graph
            out = _outputs(fn(*xs))
            live = [(o, g) for o, g in zip(out, v) if o is not None and o.requires_grad]
            if not live:
                return ()
            grads = _grad(
                [o for o, _ in live],
                [xs[i] for i in checked],
                grad_outputs=[g for _, g in live],
                create_graph=True,
                allow_unused=True,
            )
        return tuple(g for g in grads if g is not None)

    return first_derivatives, [*args, *vs]


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    grad_outputs: Sequence[Any] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck the function (x, v) -> v . df/dx.

    Its gradient with respect to x holds the second derivatives of fn, computed by backward
    through backward (`create_graph=True`); its gradient with respect to v checks the first
    derivatives again, this time as a recorded graph. `grad_outputs` (the v) are drawn at
    random unless given.

    >>> x = tg.Tensor(np.random.rand(3), requires_grad=True)
    >>> tg.gradgradcheck(lambda x: x.tanh(), [x])
    True
    """
    problem, args = second_derivative_problem(fn, inputs, grad_outputs, seed)
    return gradcheck(problem, args, eps, atol, rtol, raise_exception, seed=seed + 2)
