"""Edge values and graph shapes that a correct engine must get right, with expected values
worked out by hand from the maths (the formula is in a comment beside each one).

Numerical stability (huge logits, saturated sigmoid, log near 0), ties in max/min, numpy's
matmul rules, the indexing forms, nodes used more than once, and broadcasting's gradients.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg

FLOATS = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


def tol(dtype: Any) -> dict:
    """Tolerances for values that are exact in the maths: a few ulps of the dtype."""
    return {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


def leaf(values: Any, dtype: Any = np.float64) -> tg.Tensor:
    return tg.Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# -- softmax and log-softmax of huge logits ------------------------------------------------------

# (logits, softmax, log_softmax), the exact values for axis -1. With m = max(x):
#   softmax_i = exp(x_i - m) / sum_j exp(x_j - m)
#   log_softmax_i = x_i - m - log(sum_j exp(x_j - m))
# exp(-1e4) ~ 1e-4343 is 0 in any float, so a logit 1e4 below the max contributes nothing.
E1 = math.exp(-1.0)
HUGE_LOGITS = [
    ([1e4, -1e4, 0.0], [1.0, 0.0, 0.0], [0.0, -2e4, -1e4]),
    ([1e4, 1e4, 1e4], [1 / 3] * 3, [-math.log(3)] * 3),  # equal logits: 1/3 each
    ([-1e4, -1e4, -1e4], [1 / 3] * 3, [-math.log(3)] * 3),
    ([-1e4, 1e4], [0.0, 1.0], [-2e4, 0.0]),
    # x = [1e4, 1e4 - 1]: softmax = [1, e^-1] / (1 + e^-1), the shift must keep the difference
    ([1e4, 1e4 - 1], [1 / (1 + E1), E1 / (1 + E1)], [-math.log1p(E1), -1 - math.log1p(E1)]),
]
HUGE_IDS = ["1e4,-1e4,0", "all_1e4", "all_-1e4", "-1e4,1e4", "1e4,1e4-1"]


@FLOATS
@pytest.mark.parametrize("logits, p, logp", HUGE_LOGITS, ids=HUGE_IDS)
def test_softmax_of_huge_logits(dtype: Any, logits: list, p: list, logp: list) -> None:
    x = leaf(logits, dtype)
    s = x.softmax()
    assert s.dtype == dtype
    assert np.isfinite(s.data).all()
    np.testing.assert_allclose(s.data.sum(), 1.0, **tol(dtype))
    np.testing.assert_allclose(s.data, p, **tol(dtype))
    g = np.linspace(-1.0, 2.0, len(logits))  # a non-uniform upstream gradient
    s.backward(g.astype(dtype))
    assert np.isfinite(x.grad.data).all()
    p = np.array(p)
    # d softmax: dx_i = p_i * (g_i - sum_j p_j g_j)
    np.testing.assert_allclose(x.grad.data, p * (g - p @ g), **tol(dtype))


@FLOATS
@pytest.mark.parametrize("logits, p, logp", HUGE_LOGITS, ids=HUGE_IDS)
def test_log_softmax_of_huge_logits(dtype: Any, logits: list, p: list, logp: list) -> None:
    x = leaf(logits, dtype)
    z = x.log_softmax()
    assert z.dtype == dtype
    assert np.isfinite(z.data).all()
    np.testing.assert_allclose(z.data, logp, rtol=tol(dtype)["rtol"], atol=tol(dtype)["atol"])
    g = np.linspace(-1.0, 2.0, len(logits))
    z.backward(g.astype(dtype))
    assert np.isfinite(x.grad.data).all()
    # d log_softmax: dx_i = g_i - p_i * sum_j g_j
    np.testing.assert_allclose(x.grad.data, g - np.array(p) * g.sum(), **tol(dtype))


@FLOATS
def test_softmax_of_huge_logits_along_axis_0(dtype: Any) -> None:
    # columns [1e4, -1e4] and [0, 0]: softmax [1, 0] and [1/2, 1/2]
    x = leaf([[1e4, 0.0], [-1e4, 0.0]], dtype)
    s = x.softmax(axis=0)
    np.testing.assert_allclose(s.data, [[1.0, 0.5], [0.0, 0.5]], **tol(dtype))
    np.testing.assert_allclose(s.data.sum(axis=0), [1.0, 1.0], **tol(dtype))
    s.backward(np.array([[1.0, 2.0], [3.0, 5.0]], dtype=dtype))
    # column 0: p = [1, 0] gives dx = p * (g - p.g) = [0, 0];
    # column 1: p = [1/2, 1/2], g = [2, 5], p.g = 3.5 gives dx = [-0.75, 0.75]
    np.testing.assert_allclose(x.grad.data, [[0.0, -0.75], [0.0, 0.75]], **tol(dtype))


# -- sigmoid saturated, log near zero --------------------------------------------------------------


@FLOATS
def test_sigmoid_at_plus_minus_1000(dtype: Any) -> None:
    x = leaf([1000.0, -1000.0, 5.0], dtype)
    z = x.sigmoid()
    assert np.isfinite(z.data).all()
    # sigmoid(x) = 1 / (1 + e^-x): e^-1000 underflows, so exactly 1 and 0; at 5, 1 / (1 + e^-5)
    np.testing.assert_allclose(z.data, [1.0, 0.0, 1 / (1 + math.exp(-5))], **tol(dtype))
    z.backward(np.ones(3, dtype=dtype))
    assert np.isfinite(x.grad.data).all()
    # sigmoid' = s (1 - s) = e^-|x| / (1 + e^-|x|)^2: 0 in any float at +-1000 (e^-1000 ~ 1e-435)
    e5 = math.exp(-5)
    np.testing.assert_allclose(x.grad.data, [0.0, 0.0, e5 / (1 + e5) ** 2], rtol=1e-4, atol=0)


def test_log_near_zero_float64() -> None:
    x = leaf([1e-300, 1e-10, 1.0])
    z = x.log()
    # log(10^-k) = -k ln 10
    np.testing.assert_allclose(z.data, [-300 * math.log(10), -10 * math.log(10), 0.0], rtol=1e-14)
    z.backward(np.ones(3))
    assert np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(x.grad.data, [1e300, 1e10, 1.0], rtol=1e-14)  # d log x = 1/x


def test_log_near_zero_float32() -> None:
    x = leaf([1e-30], np.float32)
    z = x.log()
    z.backward(np.ones(1, dtype=np.float32))
    assert x.grad.dtype == np.float32 and np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(x.grad.data, [1e30], rtol=1e-6)  # 1/x, below float32's 3.4e38


# -- max and min with ties ----------------------------------------------------------------------

# (values, axis, keepdims, upstream, expected gradient) for max: the upstream gradient of each
# reduced slot is shared equally by the k elements that equal its maximum (1/k each).
MAX_TIES = [
    pytest.param([1.0, 3.0, 3.0], None, False, 1.0, [0.0, 0.5, 0.5], id="1-D_pair"),
    pytest.param([3.0, 3.0, 3.0, 3.0], 0, False, 2.0, [0.5] * 4, id="1-D_all_four"),  # 2/4 each
    # rows: [1, 3, 3] -> g0/2 to the two 3s; [2, 2, 0] -> g1/2 to the two 2s
    pytest.param(
        [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]],
        1,
        False,
        [4.0, 6.0],
        [[0, 2, 2], [3, 3, 0]],
        id="2-D_rows",
    ),
    # columns: [3, 3] tied -> g0/2 each; [1, 2] -> all of g1 to the 2
    pytest.param(
        [[3.0, 1.0], [3.0, 2.0]],
        0,
        True,
        [[4.0, 6.0]],
        [[2.0, 0.0], [2.0, 6.0]],
        id="2-D_columns",
    ),
    # the whole matrix: its two 3s share g
    pytest.param(
        [[3.0, 1.0], [2.0, 3.0]], None, False, 5.0, [[2.5, 0.0], [0.0, 2.5]], id="2-D_all_axes"
    ),
    pytest.param(
        [[3.0, 1.0], [2.0, 3.0]],
        (0, 1),
        True,
        [[5.0]],
        [[2.5, 0.0], [0.0, 2.5]],
        id="2-D_axis_tuple_keepdims",
    ),
]


def _reduce_and_backward(name: str, values: Any, axis: Any, keepdims: bool, g: Any) -> tg.Tensor:
    x = leaf(values)
    z = getattr(x, name)(axis=axis, keepdims=keepdims)
    z.backward(np.asarray(g, dtype=np.float64))
    return x


@pytest.mark.parametrize("values, axis, keepdims, g, expected", MAX_TIES)
def test_max_ties_split_the_gradient(values, axis, keepdims, g, expected) -> None:
    x = _reduce_and_backward("max", values, axis, keepdims, g)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-15)


@pytest.mark.parametrize("values, axis, keepdims, g, expected", MAX_TIES)
def test_min_ties_split_the_gradient(values, axis, keepdims, g, expected) -> None:
    # min(x) = -max(-x): the same ties, so the same shares
    x = _reduce_and_backward("min", -np.array(values), axis, keepdims, g)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-15)


@pytest.mark.parametrize("name, torch_name", [("max", "amax"), ("min", "amin")])
@pytest.mark.parametrize("values, axis, keepdims, g, expected", MAX_TIES)
def test_ties_match_torch(torch_or_skip, name, torch_name, values, axis, keepdims, g, expected):
    torch = torch_or_skip()
    sign = 1.0 if name == "max" else -1.0
    values = sign * np.array(values)
    x = _reduce_and_backward(name, values, axis, keepdims, g)
    tx = torch.tensor(values, requires_grad=True)
    dim = () if axis is None else axis  # torch reads dim=() as every axis
    tz = getattr(torch, torch_name)(tx, dim=dim, keepdim=keepdims)
    tz.backward(torch.tensor(np.asarray(g, dtype=np.float64)))
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-15)


# -- matmul: numpy's rules for 1-D and batched operands ------------------------------------------

# (x shape, y shape, einsum of z = x @ y). Gradients come from the einsum, not from matmul:
# for z = einsum("X,Y->Z", x, y), dL/dx = einsum("Z,Y->X", g, y) and dL/dy = einsum("X,Z->Y", x, g).
MATMUL_CASES = [
    pytest.param((3,), (3,), "k,k->", id="1-D@1-D"),  # dot product: a scalar
    pytest.param((3,), (3, 2), "k,km->m", id="1-D@2-D"),  # the vector is a row, dropped again
    pytest.param((2, 3), (3,), "nk,k->n", id="2-D@1-D"),  # a column, dropped again
    pytest.param((2, 3), (3, 4), "nk,km->nm", id="2-D@2-D"),
    pytest.param((4, 2, 3), (3, 5), "bnk,km->bnm", id="3-D@2-D"),  # a stack times one matrix
    pytest.param((3,), (4, 3, 2), "k,bkm->bm", id="1-D@3-D"),
    # (B,1,n,k) @ (C,k,m) -> (B,C,n,m): the batch axes broadcast
    pytest.param((2, 1, 3, 4), (5, 4, 2), "bnk,ckm->bcnm", id="(B,1,n,k)@(C,k,m)"),
]


@pytest.mark.parametrize("xshape, yshape, spec", MATMUL_CASES)
def test_matmul_shapes_against_numpy(xshape: tuple, yshape: tuple, spec: str) -> None:
    rng = np.random.default_rng(0)
    xa, ya = rng.standard_normal(xshape), rng.standard_normal(yshape)
    x, y = leaf(xa), leaf(ya)
    z = x @ y
    expected = np.matmul(xa, ya)
    assert z.shape == expected.shape
    np.testing.assert_allclose(z.data, expected, rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(z.shape)
    z.backward(g)
    sx, sy_z = spec.split(",")
    sy, sz = sy_z.split("->")
    # the (B,1,n,k) operand enters the einsum without its size-1 axis
    xe = xa.reshape(xa.shape[0], *xa.shape[2:]) if len(sx) < xa.ndim else xa
    np.testing.assert_allclose(z.data, np.einsum(spec, xe, ya), rtol=1e-12, atol=1e-12)
    dx = np.einsum(f"{sz},{sy}->{sx}", g, ya).reshape(xshape)
    dy = np.einsum(f"{sx},{sz}->{sy}", xe, g)
    assert x.grad.shape == xshape and y.grad.shape == yshape
    np.testing.assert_allclose(x.grad.data, dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.grad.data, dy, rtol=1e-12, atol=1e-12)


# -- indexing ---------------------------------------------------------------------------------


def test_repeated_integer_index_adds_gradients() -> None:
    x = leaf([10.0, 20.0, 30.0])
    x[[0, 0, 2]].sum().backward()
    # x[[0,0,2]] = [x0, x0, x2]: x0 is picked twice, x1 never
    np.testing.assert_array_equal(x.grad.data, [2.0, 0.0, 1.0])

    x = leaf([10.0, 20.0, 30.0])
    x[np.array([0, 0, 2])].backward(np.array([1.5, -4.0, 7.0]))
    np.testing.assert_array_equal(x.grad.data, [1.5 - 4.0, 0.0, 7.0])  # [g0 + g1, 0, g2]


def test_repeated_rows_and_element_pairs() -> None:
    x = leaf(np.arange(6.0).reshape(3, 2))
    g = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x[np.array([1, 1, 1])].backward(g)
    # row 1 is picked three times: it collects g's three rows
    np.testing.assert_array_equal(x.grad.data, [[0, 0], [9.0, 12.0], [0, 0]])

    x = leaf(np.arange(6.0).reshape(3, 2))
    x[[0, 0, 2], [1, 1, 0]].backward(np.array([2.0, 3.0, 4.0]))
    # elements (0,1) twice and (2,0) once
    np.testing.assert_array_equal(x.grad.data, [[0, 5.0], [0, 0], [4.0, 0]])


def test_bool_mask_index() -> None:
    x = leaf([-1.0, 2.0, -3.0, 4.0])
    mask = x > 0  # a bool Tensor
    y = x[mask]
    np.testing.assert_array_equal(y.data, [2.0, 4.0])
    y.backward(np.array([5.0, 7.0]))
    np.testing.assert_array_equal(x.grad.data, [0.0, 5.0, 0.0, 7.0])  # g where picked, else 0

    x = leaf([[1.0, -2.0], [-3.0, 4.0]])
    y = x[np.array([[True, False], [False, True]])]
    y.backward(np.array([5.0, 7.0]))
    np.testing.assert_array_equal(x.grad.data, [[5.0, 0.0], [0.0, 7.0]])


def test_none_ellipsis_int_index() -> None:
    xa = np.arange(24.0).reshape(2, 3, 4)
    x = leaf(xa)
    y = x[None, ..., 1]
    assert y.shape == (1, 2, 3)
    np.testing.assert_array_equal(y.data, xa[None, ..., 1])
    g = np.arange(1.0, 7.0).reshape(1, 2, 3)
    y.backward(g)
    expected = np.zeros((2, 3, 4))
    expected[:, :, 1] = g[0]  # only the picked column gets gradient
    np.testing.assert_array_equal(x.grad.data, expected)


# -- nodes used more than once ------------------------------------------------------------------


def test_diamond_graph(default_float64: None) -> None:
    a = tg.Tensor(3.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    # c = 2b = 4a, so dc/da = 4: b passes 2 down each of its two edges into a
    assert a.grad.item() == 4.0
    assert c.item() == 12.0


def test_node_used_many_times(default_float64: None) -> None:
    x = tg.Tensor([1.0, -2.0, 0.5], requires_grad=True)
    (x * x * x).backward(np.array([1.0, 2.0, -3.0]))
    # d(x^3)/dx = 3 x^2, times the upstream g
    np.testing.assert_allclose(x.grad.data, 3 * np.array([1.0, 4.0, 0.25]) * [1.0, 2.0, -3.0])


def test_repeated_backward_accumulates(default_float64: None) -> None:
    x = tg.Tensor([2.0], requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [8.0])  # 2x twice: 4 + 4


# -- broadcasting: gradients in the inputs' shapes ----------------------------------------------


def test_scalar_times_matrix_gradient_shapes() -> None:
    s = leaf(2.0)
    m = leaf(np.arange(6.0).reshape(2, 3))
    g = np.arange(1.0, 7.0).reshape(2, 3)
    (s * m).backward(g)
    assert s.grad.shape == () and m.grad.shape == (2, 3)
    np.testing.assert_allclose(s.grad.data, np.sum(g * m.data))  # ds = sum_ij g_ij m_ij
    np.testing.assert_allclose(m.grad.data, 2.0 * g)  # dm = s g


def test_column_plus_row_gradient_shapes() -> None:
    a = leaf(np.array([[1.0], [2.0], [3.0]]))  # (3, 1)
    b = leaf(np.array([[10.0, 20.0, 30.0, 40.0]]))  # (1, 4)
    g = np.arange(12.0).reshape(3, 4)
    (a * b).backward(g)
    assert a.grad.shape == (3, 1) and b.grad.shape == (1, 4)
    # z_ij = a_i b_j: da_i = sum_j g_ij b_j, db_j = sum_i g_ij a_i
    np.testing.assert_allclose(a.grad.data, (g * b.data).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(b.grad.data, (g * a.data).sum(axis=0, keepdims=True))

    a, b = leaf(np.ones((3, 1))), leaf(np.ones((1, 4)))
    (a + b).backward(g)
    np.testing.assert_array_equal(a.grad.data, g.sum(axis=1, keepdims=True))  # dz/da = 1
    np.testing.assert_array_equal(b.grad.data, g.sum(axis=0, keepdims=True))


# -- ReLU at the ends of the float range ---------------------------------------------------------


@FLOATS
def test_relu_of_infinities_and_nan(dtype) -> None:
    # max(x, 0): -inf -> 0, +inf -> +inf, NaN stays NaN (as np.maximum and PyTorch);
    # the gradient is 1 where x > 0 and 0 elsewhere (NaN > 0 is false)
    x = leaf([-np.inf, -1.0, -0.0, 0.0, 2.0, np.inf, np.nan], dtype)
    y = x.relu()
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 0.0, 0.0, 2.0, np.inf, np.nan])
    assert y.dtype == dtype
    y.backward(np.ones(7, dtype))
    np.testing.assert_array_equal(x.grad.data, [0, 0, 0, 0, 1, 1, 0])


# -- backward order: nodes made in an order unlike the graph's shape -----------------------------


def test_backward_waits_for_every_consumer_of_a_node() -> None:
    # h is made first and used by a node made much later, after a long chain also built on h:
    # backward must add up both paths before running h's node.
    # L = sum(h * 3) + sum(c), c = h + 1 + 1 + ... (5 times), h = x^2:
    #   dL/dh = 3 + 1 = 4 per element, dL/dx = 4 * 2x
    x = leaf([1.0, -2.0, 0.5])
    h = x * x
    c = h
    for _ in range(5):
        c = c + 1.0
    late = (h * 3.0).sum()  # made after the whole chain
    L = c.sum() + late
    L.backward()
    np.testing.assert_allclose(x.grad.data, 8.0 * x.data, rtol=1e-12)


def test_backward_through_nodes_made_inside_an_earlier_backward() -> None:
    # create_graph makes new nodes during backward; their creation order must also give a
    # valid order for a second backward through them: d2/dx2 of x^3 = 6x
    x = leaf([2.0, -1.0])
    (g,) = tg.grad((x**3).sum(), x, create_graph=True)  # 3x^2
    (gg,) = tg.grad(g.sum(), x)
    np.testing.assert_allclose(gg.data, 6.0 * x.data, rtol=1e-12)
