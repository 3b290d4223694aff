"""Tensor: construction and dtype rules, creation functions, numpy interop, metadata.

Every expected value comes from numpy computing the same thing, or from a rule of SPEC.md
written out by hand; none is copied from tinygrad_edu's own output.
"""

import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg


@pytest.fixture
def float64_default():
    """Make Python floats become float64 for one test, and always restore the default."""
    previous = tg.get_default_dtype()
    tg.set_default_dtype(np.float64)
    try:
        yield
    finally:
        tg.set_default_dtype(previous)


# -- construction and SPEC's dtype rules ------------------------------------------------------


def test_default_float_dtype_is_float32():
    assert tg.get_default_dtype() == np.float32
    assert tg.Tensor(0.5).dtype == np.float32
    assert tg.Tensor([1.0, 2.0]).dtype == np.float32


@pytest.mark.parametrize(
    "data, dtype",
    [
        (0.5, np.float32),  # a Python float
        ([1.0, 2.0], np.float32),
        ([1, 2.5], np.float32),  # a list holding any float
        ([[1, 2], [3, 4.0]], np.float32),  # ... anywhere in it
        (3, np.int64),  # a Python int
        ([1, 2, 3], np.int64),
        ([[1], [2]], np.int64),
        (True, np.bool_),  # a bool
        ([True, False], np.bool_),
    ],
)
def test_python_data_dtype(data, dtype):
    t = tg.Tensor(data)
    assert t.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(t.data, np.array(data))


@pytest.mark.parametrize(
    "dtype",
    [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, np.bool_],
)
def test_numpy_array_keeps_its_dtype(dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    t = tg.Tensor(a)
    assert t.dtype == np.dtype(dtype)
    assert t.shape == (2, 3)
    np.testing.assert_array_equal(t.data, a)


def test_explicit_dtype_wins():
    assert tg.Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert tg.Tensor(0.5, dtype=np.float64).dtype == np.float64
    assert tg.Tensor(np.ones(2, np.float32), dtype=tg.float64).dtype == np.float64


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0, 3.0])
    t = tg.Tensor(a)
    a[0] = 100.0
    assert t.data[0] == 1.0
    u = tg.Tensor(t)  # from a Tensor: a new leaf with its own copy
    t.data[1] = -7.0
    assert u.data[1] == 2.0
    assert u.grad_fn is None and not u.requires_grad


@given(st.lists(st.integers(-(10**6), 10**6), min_size=1, max_size=8))
def test_list_of_ints_is_int64(values):
    t = tg.Tensor(values)
    assert t.dtype == np.int64
    np.testing.assert_array_equal(t.data, np.array(values, dtype=np.int64))


@given(
    st.lists(st.integers(-1000, 1000), min_size=0, max_size=6),
    st.floats(-1e3, 1e3, allow_nan=False),
    st.integers(0, 6),
)
def test_list_with_any_float_is_default_float(ints, value, position):
    values = list(ints)
    values.insert(min(position, len(values)), value)  # exactly one float somewhere
    t = tg.Tensor(values)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.array(values, dtype=np.float32))


def test_set_default_dtype_changes_what_floats_become(float64_default):
    assert tg.get_default_dtype() == np.float64
    assert tg.Tensor(0.5).dtype == np.float64
    assert tg.Tensor([1, 2.5]).dtype == np.float64
    assert tg.Tensor([1, 2]).dtype == np.int64  # ints are unaffected
    assert tg.zeros(2).dtype == np.float64
    assert tg.randn(2).dtype == np.float64
    assert (tg.Tensor([1, 2]) * 0.5).dtype == np.float64  # int with a float scalar


# -- dtype rules for operations ----------------------------------------------------------------


def _f32(values):
    return tg.Tensor(np.array(values, dtype=np.float32))


@pytest.mark.parametrize("scalar", [0.5, np.float64(0.5), np.float32(0.5), 2, np.int64(2)])
@pytest.mark.parametrize(
    "op", [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]
)
def test_scalar_never_changes_a_float_tensors_dtype(op, scalar):
    x = np.array([1.5, 2.0, 3.0], dtype=np.float32)
    t = tg.Tensor(x)
    for result, expected in [
        (op(t, scalar), op(x, np.float32(scalar))),
        (op(scalar, t), op(np.float32(scalar), x)),
    ]:
        assert isinstance(result, tg.Tensor)
        assert result.dtype == np.float32
        np.testing.assert_allclose(result.data, expected, rtol=1e-6)


def test_float64_tensor_with_scalar_stays_float64():
    t = tg.Tensor(np.array([1.0, 2.0]))
    assert (t * 0.5).dtype == np.float64
    assert (t * np.float32(0.5)).dtype == np.float64


@pytest.mark.parametrize(
    "a, b",
    [
        (np.float32, np.float64),
        (np.float64, np.float32),
        (np.float32, np.float32),
        (np.int64, np.float32),
        (np.int64, np.float64),
        (np.int32, np.int64),
    ],
)
def test_two_tensors_promote_like_numpy(a, b):
    x = tg.Tensor(np.array([1, 2], dtype=a))
    y = tg.Tensor(np.array([3, 4], dtype=b))
    assert (x + y).dtype == np.result_type(a, b)
    assert (x * y).dtype == np.result_type(a, b)


def test_int_tensor_with_float_scalar_gives_default_float():
    t = tg.Tensor([1, 2, 3])
    r = t * 0.5
    assert r.dtype == np.float32
    np.testing.assert_array_equal(r.data, [0.5, 1.0, 1.5])
    assert (0.5 + t).dtype == np.float32
    assert (t - np.float64(0.5)).dtype == np.float32


def test_int_tensor_with_int_scalar_stays_int():
    t = tg.Tensor([1, 2, 3])
    assert (t + 1).dtype == np.int64
    assert (t * 2).dtype == np.int64
    np.testing.assert_array_equal((t * 2).data, [2, 4, 6])


def test_int_division_gives_default_float():
    t = tg.Tensor([1, 2, 3])
    r = t / 2  # true division, like Python 3 and PyTorch
    assert r.dtype == np.float32
    np.testing.assert_array_equal(r.data, [0.5, 1.0, 1.5])
    assert (t / tg.Tensor([2, 2, 2])).dtype == np.float32
    r = 3 / t
    assert r.dtype == np.float32
    np.testing.assert_allclose(r.data, [3.0, 1.5, 1.0])


def test_bool_tensor_with_scalars():
    t = tg.Tensor([True, False])
    assert (t * 0.5).dtype == np.float32
    np.testing.assert_array_equal((t * 0.5).data, [0.5, 0.0])
    assert (t + 1).dtype == np.int64
    np.testing.assert_array_equal((t + 1).data, [2, 1])


# -- creation functions ------------------------------------------------------------------------


def test_zeros_and_ones():
    for fn, value in [(tg.zeros, 0.0), (tg.ones, 1.0)]:
        for t in (fn(2, 3), fn((2, 3)), fn([2, 3])):
            assert t.shape == (2, 3)
            assert t.dtype == np.float32
            np.testing.assert_array_equal(t.data, np.full((2, 3), value))
            assert t.is_leaf and not t.requires_grad
        assert fn(4, dtype=np.float64).dtype == np.float64
        assert fn(3, requires_grad=True).requires_grad
        assert fn().shape == ()


def test_full():
    t = tg.full((2, 2), 0.5)
    assert t.shape == (2, 2) and t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.full((2, 2), 0.5))
    t = tg.full(3, 7)  # the dtype follows the value: an int gives int64
    assert t.shape == (3,) and t.dtype == np.int64
    np.testing.assert_array_equal(t.data, [7, 7, 7])
    assert tg.full((2,), 1, dtype=np.float64).dtype == np.float64
    assert tg.full((2,), 1.5, requires_grad=True).requires_grad


def test_zeros_like_and_ones_like():
    src = tg.Tensor(np.arange(6, dtype=np.int32).reshape(3, 2))
    z = tg.zeros_like(src)
    o = tg.ones_like(src)
    assert z.shape == o.shape == (3, 2)
    assert z.dtype == o.dtype == np.int32
    np.testing.assert_array_equal(z.data, np.zeros((3, 2)))
    np.testing.assert_array_equal(o.data, np.ones((3, 2)))
    assert tg.zeros_like(src, dtype=np.float64).dtype == np.float64
    f = tg.ones_like(tg.zeros(2), requires_grad=True)
    assert f.requires_grad and f.dtype == np.float32
    assert not np.shares_memory(z.data, src.data)


def test_eye():
    np.testing.assert_array_equal(tg.eye(3).data, np.eye(3))
    assert tg.eye(3).dtype == np.float32
    np.testing.assert_array_equal(tg.eye(2, 4).data, np.eye(2, 4))
    assert tg.eye(2, dtype=np.float64).dtype == np.float64


def test_arange():
    t = tg.arange(5)
    assert t.dtype == np.int64
    np.testing.assert_array_equal(t.data, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(tg.arange(2, 8, 2).data, [2, 4, 6])
    np.testing.assert_array_equal(tg.arange(5, 0, -2).data, [5, 3, 1])
    t = tg.arange(1, 2, 0.25)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, [1.0, 1.25, 1.5, 1.75])
    assert tg.arange(3.0).dtype == np.float32
    assert tg.arange(3, dtype=np.float64).dtype == np.float64


def test_randn_and_rand_shapes_and_ranges():
    tg.manual_seed(1234)
    n = tg.randn(200, 50)
    u = tg.rand(200, 50)
    assert n.shape == u.shape == (200, 50)
    assert n.dtype == u.dtype == np.float32
    # 10,000 draws: the sample mean is within 4 standard errors (0.04) of the truth
    assert abs(n.data.mean()) < 0.04
    assert abs(n.data.std() - 1.0) < 0.04
    assert u.data.min() >= 0.0 and u.data.max() < 1.0
    assert abs(u.data.mean() - 0.5) < 0.04  # uniform: mean 1/2, sd 1/sqrt(12)
    assert tg.randn(3, requires_grad=True).requires_grad
    assert tg.rand((2, 2), dtype=np.float64).dtype == np.float64


def test_manual_seed_makes_runs_repeat():
    tg.manual_seed(7)
    a, b = tg.randn(4, 3), tg.rand(5)
    tg.manual_seed(7)
    c, d = tg.randn(4, 3), tg.rand(5)
    np.testing.assert_array_equal(a.data, c.data)
    np.testing.assert_array_equal(b.data, d.data)
    e = tg.randn(4, 3)  # the generator moved on
    assert not np.array_equal(a.data, e.data)
    tg.manual_seed(8)
    assert not np.array_equal(a.data, tg.randn(4, 3).data)


# -- numpy interop -----------------------------------------------------------------------------


def test_array_protocol():
    t = tg.Tensor([[1.0, 2.0], [3.0, 4.0]])
    a = np.asarray(t)
    assert isinstance(a, np.ndarray)
    np.testing.assert_array_equal(a, [[1.0, 2.0], [3.0, 4.0]])
    assert a.dtype == np.float32
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    b = np.array(t)  # np.array copies
    b[0, 0] = 99.0
    assert t.data[0, 0] == 1.0


@pytest.mark.parametrize(
    "op", [operator.add, operator.sub, operator.mul, operator.truediv, operator.matmul]
)
def test_array_on_the_left_returns_a_tensor(op):
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = np.array([[0.5, -1.0], [2.0, 4.0]])
    r = op(a, tg.Tensor(x))
    assert isinstance(r, tg.Tensor)
    np.testing.assert_allclose(r.data, op(a, x))


def test_array_times_tensor_is_differentiable():
    a = np.array([2.0, -3.0])
    x = tg.Tensor([1.0, 1.0], requires_grad=True)
    y = a * x
    assert isinstance(y, tg.Tensor) and y.grad_fn is not None
    y.sum().backward()  # d(sum a*x)/dx = a
    np.testing.assert_array_equal(x.grad.data, a)


def test_numpy_item_tolist():
    t = tg.Tensor([[1.5, 2.5], [3.5, 4.5]])
    assert t.numpy() is t.data or np.shares_memory(t.numpy(), t.data)
    assert t.tolist() == [[1.5, 2.5], [3.5, 4.5]]
    assert isinstance(t.tolist()[0][0], float)
    assert tg.Tensor(2.5).item() == 2.5
    assert isinstance(tg.Tensor(2.5).item(), float)
    assert tg.Tensor([[7]]).item() == 7
    assert isinstance(tg.Tensor([[7]]).item(), int)
    assert tg.Tensor(3).tolist() == 3


def test_len():
    assert len(tg.zeros(4, 2)) == 4
    assert len(tg.Tensor([1.0, 2.0, 3.0])) == 3
    with pytest.raises(TypeError, match="0-d"):
        len(tg.Tensor(1.0))


# -- metadata and repr -------------------------------------------------------------------------


def test_attributes():
    t = tg.Tensor(np.zeros((2, 3, 4)), name="w")
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.ndim == 3
    assert t.size == 24
    assert t.dtype == np.float64 and isinstance(t.dtype, np.dtype)
    assert t.name == "w"
    assert t.is_leaf and t.grad_fn is None and t.grad is None
    assert not t.requires_grad
    assert tg.Tensor(1.0).shape == () and tg.Tensor(1.0).ndim == 0 and tg.Tensor(1.0).size == 1
    assert tg.Tensor(1.0).name is None


def test_attributes_of_a_computed_tensor():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    assert not y.is_leaf
    assert y.grad_fn is not None and y.grad_fn.name == "Mul"
    assert y.requires_grad
    z = tg.Tensor([1.0, 2.0]) * 2.0  # nothing requires grad: a plain leaf
    assert z.is_leaf and z.grad_fn is None and not z.requires_grad


def test_repr():
    plain = repr(tg.Tensor([1.0, 2.0]))
    assert plain.startswith("Tensor(")
    assert "1." in plain and "2." in plain
    assert "grad_fn" not in plain and "requires_grad" not in plain
    x = tg.Tensor([1.5, -2.25], requires_grad=True)
    r = repr(x)
    assert "1.5" in r and "-2.25" in r and "requires_grad=True" in r
    r = repr(x * x)
    assert "grad_fn=<Mul>" in r and "2.25" in r  # 1.5**2 = 2.25
    r = repr(x + x)
    assert "grad_fn=<Add>" in r and "requires_grad=True" not in r
    assert "7" in repr(tg.Tensor(7))


def test_detach():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = (x * 2.0).detach()
    assert d.is_leaf and d.grad_fn is None and not d.requires_grad
    np.testing.assert_array_equal(d.data, [2.0, 4.0, 6.0])
    e = x.detach()
    assert e is not x and np.shares_memory(e.data, x.data)  # same storage, like PyTorch
    # no gradient flows through a detached tensor: d(sum c * x)/dx = c, with c = x held constant
    (x.detach() * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0, 3.0])


def test_requires_grad_():
    t = tg.Tensor([1.0, 2.0])
    assert t.requires_grad_() is t
    assert t.requires_grad
    assert t.requires_grad_(False) is t
    assert not t.requires_grad


# -- comparisons and arg-reductions ------------------------------------------------------------


@pytest.mark.parametrize(
    "op", [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]
)
def test_comparisons_give_bool_tensors(op):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], dtype=np.float32)
    b = np.array([2.0, 2.0, 2.0], dtype=np.float32)
    x = tg.Tensor(a, requires_grad=True)
    for other, ref in [(tg.Tensor(b), b), (b, b), (2.0, 2.0), (2, 2)]:
        r = op(x, other)
        assert isinstance(r, tg.Tensor)
        assert r.dtype == np.bool_
        assert r.grad_fn is None and not r.requires_grad  # not differentiable
        np.testing.assert_array_equal(r.data, op(a, ref))


def test_comparison_of_int_tensor_with_float():
    t = tg.Tensor([1, 2, 3])
    np.testing.assert_array_equal((t < 1.5).data, [True, False, False])
    np.testing.assert_array_equal((t == 2).data, [False, True, False])


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_argmax_argmin(axis):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5))
    t = tg.Tensor(a, requires_grad=True)
    for mine, ref in [(t.argmax(axis), np.argmax(a, axis)), (t.argmin(axis), np.argmin(a, axis))]:
        assert isinstance(mine, tg.Tensor)
        assert mine.dtype.kind == "i"
        assert mine.grad_fn is None
        np.testing.assert_array_equal(mine.data, ref)


def test_creation_functions_take_a_name():
    # the name shows in repr, in draw_graph and in explain
    assert tg.randn(2, name="w").name == "w"
    assert tg.rand(2, name="r").name == "r"
    assert tg.zeros(2, name="b").name == "b"
    assert tg.ones(2, 3, name="o").name == "o"
    assert "name='w'" in repr(tg.randn(2, requires_grad=True, name="w"))
