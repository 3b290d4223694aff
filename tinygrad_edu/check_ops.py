"""`tinygrad-edu gradcheck`: every differentiable op against finite differences, as a table.

It reads the same table of ops as the tests (`opinfo.OPS`): for each op it draws inputs with a
seeded generator, compares backward's gradient with central differences (first derivatives)
and does the same for the gradient function itself (second derivatives), all in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinygrad_edu.gradcheck import Comparison, compare_gradients, second_derivative_problem
from tinygrad_edu.opinfo import OPS, Chooser, OpInfo
from tinygrad_edu.tensor import Tensor

ATOL, RTOL = 1e-5, 1e-3  # gradcheck's defaults


@dataclass
class Row:
    op: str
    shapes: str
    first: float  # max relative error of the first derivatives
    second: float | None  # ... of the second derivatives (None: not checked for this op)
    passed: bool
    error: str = ""  # an exception's message, if the check itself failed


def _within(comparisons: list[Comparison]) -> bool:
    return all(
        np.all(np.abs(c.analytic - c.numerical) <= ATOL + RTOL * np.abs(c.numerical))
        for c in comparisons
    )


def _worst(comparisons: list[Comparison]) -> float:
    return max((c.relative_error() for c in comparisons), default=0.0)


def check_op(op: OpInfo, rng: np.random.Generator) -> Row:
    sample = op.sample(Chooser(rng))
    shapes = " ".join(str(tuple(np.shape(a))) for a in sample.args)
    inputs = [Tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in sample.args]

    def fn(*xs: Tensor) -> Tensor:
        return op.fn(*xs, **sample.kwargs)

    try:
        first = compare_gradients(fn, inputs)
        passed = _within(first)
        second_error = None
        if op.gradgrad:
            problem, args = second_derivative_problem(fn, inputs)
            second = compare_gradients(problem, args, seed=2)
            passed = passed and _within(second)
            second_error = _worst(second)
        return Row(op.name, shapes, _worst(first), second_error, passed)
    except Exception as err:  # a crash is a failure to report, not a reason to stop the table
        return Row(op.name, shapes, float("nan"), None, False, f"{type(err).__name__}: {err}")


def check_ops(names: list[str] | None = None, seed: int = 0) -> list[Row]:
    """One row per op (all of OPS, or those named), inputs drawn with `seed`."""
    rng = np.random.default_rng(seed)
    ops = OPS if not names else [op for op in OPS if op.name in names]
    return [check_op(op, rng) for op in ops]


def format_table(rows: list[Row]) -> str:
    width = max([len("op"), *(len(r.op) for r in rows)])
    shape_width = min(40, max([len("input shapes"), *(len(r.shapes) for r in rows)]))
    head = (
        f"{'op':<{width}}  {'input shapes':<{shape_width}}  {'1st deriv.':>10}  "
        f"{'2nd deriv.':>10}  result"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        second = "-" if r.second is None else f"{r.second:.1e}"
        shapes = r.shapes if len(r.shapes) <= shape_width else r.shapes[: shape_width - 3] + "..."
        result = "pass" if r.passed else "FAIL"
        lines.append(
            f"{r.op:<{width}}  {shapes:<{shape_width}}  {r.first:>10.1e}  {second:>10}  {result}"
        )
        if r.error:
            lines.append(f"{'':<{width}}  error: {r.error}")
    failed = sum(not r.passed for r in rows)
    lines.append(
        f"{len(rows) - failed} passed, {failed} failed  (max relative error of the analytic "
        f"gradient against central differences, float64; pass: every element within "
        f"{ATOL:g} + {RTOL:g} * |numerical|)"
    )
    return "\n".join(lines)
