"""Every row of the op table (`tinygrad_edu.opinfo.OPS`), checked on hypothesis-drawn inputs.

For each differentiable op:
  (a) gradcheck in float64: analytic gradients against central differences, with a random
      upstream gradient (so a backward that forgets to multiply by it cannot pass);
  (b) gradgradcheck: second derivatives through `create_graph=True`;
  (c) PyTorch (when installed): the same forward values, output shape and gradients;
  (d) float32 in, float32 out: the output and every gradient keep the inputs' dtype;
  (e) gradients never share memory with each other, the inputs, the output or the seed.
Then: the table reaches every primitive class of `tinygrad_edu/ops`, and a deliberately wrong
backward makes the very same check fail (proof that these checks can fail at all).

Shapes and options are drawn through hypothesis (so a failure shrinks to the smallest shape);
the array values come from a numpy generator seeded by one hypothesis draw (fast).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu.function import Function
from tinygrad_edu.opinfo import OPS, OPS_BY_NAME, Chooser, OpInfo, Sample
from tinygrad_edu.ops import dual, elementwise, matmul, movement, reduce

SEEDS = st.integers(0, 2**32 - 1)

# Values near 0 (a difference of nearly equal numbers, a matmul sum that cancels, added up in
# another order by another BLAS) can only agree to about float64's epsilon in absolute terms,
# so the relative tolerance gets a tiny absolute companion.
RTOL64, ATOL64 = 1e-10, 1e-12


class HypothesisChooser(Chooser):
    """Shapes, axes and options drawn by hypothesis (they shrink); values from a seeded numpy rng.

    The inherited `choice` picks `options[self.int(0, len - 1)]`, so it draws through
    hypothesis as well, and shrinks towards the first option.
    """

    def __init__(self, data: st.DataObject) -> None:
        self.data = data
        super().__init__(np.random.default_rng(data.draw(SEEDS, label="seed of the values")))

    def int(self, lo: int, hi: int) -> int:
        return self.data.draw(st.integers(lo, hi))


def by_name(ops: list[OpInfo]) -> Any:
    """Parametrize over table rows, with the op names as test ids."""
    return pytest.mark.parametrize("op", ops, ids=[op.name for op in ops])


def is_float_array(a: Any) -> bool:
    """A float array, or a 0-d numpy float (numpy returns those from 0-d array arithmetic)."""
    return isinstance(a, (np.ndarray, np.floating)) and a.dtype.kind == "f"


def leaves(sample: Sample, dtype: Any = np.float64) -> list:
    """The sample's arrays as Tensors of `dtype` that require grad (other args as they are)."""
    return [
        tg.Tensor(np.asarray(a, dtype=dtype), requires_grad=True) if is_float_array(a) else a
        for a in sample.args
    ]


def bound(op: OpInfo, sample: Sample) -> Any:
    """The op as a function of its Tensor arguments only (axes, indices ... fixed)."""
    return lambda *xs: op.fn(*xs, **sample.kwargs)


def upstream(chooser: Chooser, shape: tuple, dtype: Any = np.float64) -> np.ndarray:
    """A random upstream gradient: never all ones, so a backward must multiply by it."""
    return np.asarray(chooser.rng.standard_normal(shape), dtype=dtype)


def check_gradients(op: OpInfo, sample: Sample, seed: int = 0) -> bool:
    """What test (a) asserts; the wrong-backward test runs exactly this too."""
    return tg.gradcheck(bound(op, sample), leaves(sample), seed=seed)


# -- (a) first derivatives ------------------------------------------------------------------


@by_name(OPS)
@given(data=st.data())
def test_gradcheck(op: OpInfo, data: st.DataObject) -> None:
    sample = op.sample(HypothesisChooser(data))
    assert check_gradients(op, sample, seed=data.draw(SEEDS, label="seed of the upstream"))


# -- (b) second derivatives -----------------------------------------------------------------


@by_name([op for op in OPS if op.gradgrad])
@given(data=st.data())
def test_gradgradcheck(op: OpInfo, data: st.DataObject) -> None:
    sample = op.sample(HypothesisChooser(data))
    seed = data.draw(SEEDS, label="seed of the upstream")
    assert tg.gradgradcheck(bound(op, sample), leaves(sample), seed=seed)


# -- (c) PyTorch as the reference ---------------------------------------------------------------


@by_name([op for op in OPS if op.torch_fn is not None])
def test_matches_torch(op: OpInfo, torch_or_skip: Any) -> None:
    torch = torch_or_skip()  # before hypothesis runs: a missing torch skips (fails under CI)

    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        chooser = HypothesisChooser(data)
        sample = op.sample(chooser)
        xs = leaves(sample)
        txs = [
            torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=True)
            if is_float_array(a)
            else a
            for a in sample.args
        ]
        out = op.fn(*xs, **sample.kwargs)
        tout = op.torch_fn(*txs, **sample.kwargs)
        assert out.shape == tuple(tout.shape), f"output shape {out.shape} != torch's"
        assert out.dtype == np.float64
        np.testing.assert_allclose(
            out.data, tout.detach().numpy(), rtol=RTOL64, atol=ATOL64, err_msg="forward values"
        )
        v = upstream(chooser, out.shape)
        out.backward(v)
        tout.backward(torch.from_numpy(v.copy()))
        for i, (x, tx) in enumerate(zip(xs, txs)):
            if not isinstance(x, tg.Tensor):
                continue
            assert (x.grad is None) == (tx.grad is None), f"input {i}: one side has no gradient"
            if x.grad is not None:
                assert x.grad.shape == x.shape == tuple(tx.grad.shape)
                np.testing.assert_allclose(
                    x.grad.data,
                    tx.grad.numpy(),
                    rtol=RTOL64,
                    atol=ATOL64,
                    err_msg=f"gradient of input {i}",
                )

    check()


# -- (d) float32 stays float32 ---------------------------------------------------------------


@by_name(OPS)
@given(data=st.data())
def test_float32_stays_float32(op: OpInfo, data: st.DataObject) -> None:
    chooser = HypothesisChooser(data)
    sample = op.sample(chooser)
    xs = leaves(sample, np.float32)
    out = op.fn(*xs, **sample.kwargs)
    assert out.dtype == np.float32, f"{op.name} turned float32 inputs into {out.dtype}"
    v = upstream(chooser, out.shape, np.float32)
    out.backward(v)

    # the same computation in float64 on the same (float32-rounded) values, as a reference
    xs64 = [
        tg.Tensor(x.data.astype(np.float64), requires_grad=True) if isinstance(x, tg.Tensor) else x
        for x in xs
    ]
    out64 = op.fn(*xs64, **sample.kwargs)
    out64.backward(v.astype(np.float64))
    for i, (x, x64) in enumerate(zip(xs, xs64)):
        if not isinstance(x, tg.Tensor):
            continue
        assert x.grad is not None, f"input {i} got no gradient"  # every input reaches the output
        assert x.grad.dtype == np.float32, f"gradient of input {i} is {x.grad.dtype}"
        scale = 1.0 + np.max(np.abs(x64.grad.data), initial=0.0)
        np.testing.assert_allclose(x.grad.data, x64.grad.data, rtol=1e-4, atol=1e-4 * scale)


# -- (e) no aliasing -----------------------------------------------------------------------------


@by_name(OPS)
@given(data=st.data())
def test_gradients_do_not_alias(op: OpInfo, data: st.DataObject) -> None:
    chooser = HypothesisChooser(data)
    sample = op.sample(chooser)
    xs = leaves(sample)
    out = op.fn(*xs, **sample.kwargs)
    v = upstream(chooser, out.shape)
    out.backward(v)
    xs = [x for x in xs if isinstance(x, tg.Tensor)]
    others = {f"the data of input {j}": x.data for j, x in enumerate(xs)}
    others["the upstream gradient"] = v
    others["the output"] = out.data
    for i, x in enumerate(xs):
        g = x.grad.data
        for what, arr in others.items():
            assert not np.shares_memory(g, arr), f"the gradient of input {i} shares {what}"
        others[f"the gradient of input {i}"] = g  # compared with the gradients that follow


# -- the table reaches every primitive ---------------------------------------------------------

PRIMITIVE_MODULES = (elementwise, reduce, movement, matmul)


def primitive_names() -> set[str]:
    """Names of the Function subclasses defined in tinygrad_edu/ops (not imported there)."""
    return {
        name
        for module in PRIMITIVE_MODULES
        for name, obj in vars(module).items()
        if inspect.isclass(obj) and issubclass(obj, Function) and obj.__module__ == module.__name__
    }


def graph_names(roots: Any) -> set[str]:
    """The op names in the graphs behind `roots` (an explicit stack: no recursion)."""
    stack = [r.grad_fn for r in roots if r is not None and r.grad_fn is not None]
    seen: set[Function] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(t.grad_fn for t in node.inputs if t.grad_fn is not None)
    return {node.name for node in seen}


def test_ops_table_covers_every_primitive() -> None:
    """Each primitive is reached by some row, in its forward graph or (ScatterAdd, the backward
    of indexing) in the graph that `create_graph=True` records for the gradients."""
    seen: set[str] = set()
    for i, op in enumerate(OPS):
        chooser = Chooser(np.random.default_rng(i))
        sample = op.sample(chooser)
        xs = leaves(sample)
        out = op.fn(*xs, **sample.kwargs)
        seen |= graph_names([out])
        grads = tg.grad(
            out,
            [x for x in xs if isinstance(x, tg.Tensor)],
            # an upstream that requires grad: the backward of indexing (a ScatterAdd of it)
            # then records a node even where the op is linear in its inputs
            grad_outputs=tg.Tensor(upstream(chooser, out.shape), requires_grad=True),
            create_graph=True,
            allow_unused=True,
        )
        seen |= graph_names(grads)
    assert "ScatterAdd" in seen  # only double backward of indexing reaches it
    missing = primitive_names() - seen
    assert not missing, f"primitives that no row of OPS exercises: {sorted(missing)}"


# -- the checks can fail --------------------------------------------------------------------------


def mul_backward_one_percent_off(self: Any, grad: Any) -> tuple:
    x, y = self.saved_tensors
    return grad * y * 1.01, grad * x  # dz/dx is y, not 1.01 y


def sum_backward_ignoring_upstream(self: Any, grad: Any) -> Any:
    ones = grad * 0 + 1  # forgets to multiply by grad: right only for an all-ones upstream
    return dual.broadcast_to(
        ones.reshape(reduce.kept_shape(self.in_shape, self.axis)), self.in_shape
    )


@pytest.mark.parametrize(
    "primitive, wrong_backward, sample",
    [
        (
            elementwise.Mul,
            mul_backward_one_percent_off,
            Sample((np.linspace(0.5, 2.0, 12).reshape(3, 4), np.linspace(-2.0, -0.5, 4))),
        ),
        (
            reduce.Sum,
            sum_backward_ignoring_upstream,
            Sample((np.linspace(-1.0, 1.0, 12).reshape(3, 4),), {"axis": 0, "keepdims": False}),
        ),
    ],
    ids=["mul_one_percent_off", "sum_ignores_upstream"],
)
def test_a_wrong_backward_fails_gradcheck(
    monkeypatch: pytest.MonkeyPatch, primitive: type, wrong_backward: Any, sample: Sample
) -> None:
    op = OPS_BY_NAME[primitive.__name__.lower()]
    assert check_gradients(op, sample)  # the correct backward passes ...
    monkeypatch.setattr(primitive, "backward", wrong_backward)
    with pytest.raises(tg.GradcheckError, match="gradient of input 0"):
        check_gradients(op, sample)  # ... and the wrong one is caught by the same check


def test_cast_backward_casts_the_gradient_back() -> None:
    """Cast (astype) directly: z = x as float64;  dz/dx = 1, the gradient cast to x's dtype."""
    x = tg.Tensor(np.array([0.5, -1.25, 3.0], dtype=np.float32), requires_grad=True)
    v = np.array([0.1, -2.0, 7.5])  # float64 upstream
    z = x.astype(np.float64)
    assert z.dtype == np.float64 and z.grad_fn.name == "Cast"
    z.backward(v)
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, v.astype(np.float32))  # dz/dx = 1
    # float64 -> float32 -> float64 loses precision, so finite differences need a large eps
    y = tg.Tensor(np.linspace(-1.0, 1.0, 5), requires_grad=True)
    assert tg.gradcheck(lambda y: y.astype(np.float32) * 3.0, [y], eps=1e-2, atol=1e-4)
