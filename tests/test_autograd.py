"""The backward engine: graph nodes, the iterative walk, accumulation, freeing, higher-order
gradients, tg.grad, hooks, grad mode and scopes.

Expected gradients are derived by hand (the formula is in a comment) or computed by numpy.
"""

import gc
import math
import threading

import numpy as np
import pytest

import tinygrad_edu as tg


def leaf(values, dtype=np.float64):
    """A float64 leaf that requires grad (float64: the hand-derived values compare tightly)."""
    return tg.Tensor(np.array(values, dtype=dtype), requires_grad=True)


# -- the graph's nodes -------------------------------------------------------------------------


def test_node_name_formula_inputs():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    z = x * y
    node = z.grad_fn
    assert node.name == "Mul"
    assert isinstance(node.formula, str)
    assert "\n" not in node.formula and "=" in node.formula
    assert "z = x * y" in node.formula
    assert "dz/dx = y" in node.formula and "dz/dy = x" in node.formula
    assert len(node.inputs) == 2
    assert node.inputs[0] is x and node.inputs[1] is y  # the very tensors, in order


def test_node_inputs_of_scalar_and_reversed_operands():
    x = leaf([1.0, 2.0])
    node = (x * 3.0).grad_fn
    assert node.inputs[0] is x
    assert isinstance(node.inputs[1], tg.Tensor) and node.inputs[1].item() == 3.0
    node = (3.0 - x).grad_fn  # reversed operand: inputs follow the maths, 3 - x
    assert node.name == "Sub"
    assert node.inputs[0].item() == 3.0 and node.inputs[1] is x


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda x, y: x + y, "Add"),
        (lambda x, y: x - y, "Sub"),
        (lambda x, y: x * y, "Mul"),
        (lambda x, y: x / y, "Div"),
        (lambda x, y: x @ y.T, "MatMul"),
        (lambda x, y: x.sum(), "Sum"),
        (lambda x, y: x.exp(), "Exp"),
        (lambda x, y: x.tanh(), "Tanh"),
        (lambda x, y: x.reshape(6), "Reshape"),
        (lambda x, y: x.transpose(1, 0), "Transpose"),
        (lambda x, y: x[0], "Getitem"),
        (lambda x, y: tg.cat([x, y]), "Cat"),
    ],
)
def test_every_node_has_a_one_line_formula(make, name):
    x = leaf(np.ones((2, 3)))
    y = leaf(np.full((2, 3), 2.0))
    node = make(x, y).grad_fn
    assert node.name == name
    assert node.formula.strip() and "\n" not in node.formula and "=" in node.formula
    assert all(isinstance(t, tg.Tensor) for t in node.inputs)
    assert node.inputs[0] is x


def test_scope_labels_nodes_outermost_first():
    x = leaf([1.0, 2.0])
    outside = x * 2.0
    with tg.scope("model"):
        a = x * 3.0
        with tg.scope("layer1"):
            b = a + 1.0
            with tg.scope("relu"):
                c = b.relu()
        d = c.sum()
    assert outside.grad_fn.scope == ()
    assert tuple(a.grad_fn.scope) == ("model",)
    assert tuple(b.grad_fn.scope) == ("model", "layer1")
    assert tuple(c.grad_fn.scope) == ("model", "layer1", "relu")
    assert tuple(d.grad_fn.scope) == ("model",)
    assert (x * 1.0).grad_fn.scope == ()


def test_scope_accepts_objects_and_is_restored_after_an_error():
    class Layer:
        pass

    layer = Layer()
    x = leaf([1.0])
    with pytest.raises(ZeroDivisionError):
        with tg.scope(layer):
            assert (x * 2.0).grad_fn.scope[0] is layer
            1 / 0  # noqa: B018
    assert (x * 2.0).grad_fn.scope == ()


# -- the walk ----------------------------------------------------------------------------------


def test_node_used_twice_accumulates():
    # b = a + a = 2a;  c = b + b = 4a;  dc/da = 4  (a walk that does not wait for both uses of b
    # before running b's node would give 2 or 6)
    a = leaf(1.5)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_diamond_of_depth_100_is_walked_once_per_node():
    # y <- y + y, 100 times: y = 2**100 x, dy/dx = 2**100 exactly (each node visited once:
    # following every path separately would take 2**100 steps)
    x = leaf(1.0)
    y = x
    for _ in range(100):
        y = y + y
    y.backward()
    assert x.grad.item() == 2.0**100


def test_shared_subexpression():
    # f = u * u + u with u = x * y:  df/dx = (2u + 1) y,  df/dy = (2u + 1) x
    x, y = leaf([1.0, -2.0, 0.5]), leaf([3.0, 0.25, -4.0])
    u = x * y
    (u * u + u).sum().backward()
    xd, yd, ud = x.data, y.data, x.data * y.data
    np.testing.assert_allclose(x.grad.data, (2 * ud + 1) * yd, rtol=1e-12)
    np.testing.assert_allclose(y.grad.data, (2 * ud + 1) * xd, rtol=1e-12)


def test_broadcast_gradients_sum_back_to_input_shapes():
    # z = x * b with x (3, 4) and b (4,): dL/db_j = sum_i g_ij x_ij, dL/dx = g * b
    rng = np.random.default_rng(0)
    xv, bv, g = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((3, 4))
    x, b = leaf(xv), leaf(bv)
    (x * b).backward(g)
    assert x.grad.shape == (3, 4) and b.grad.shape == (4,)
    np.testing.assert_allclose(x.grad.data, g * bv, rtol=1e-12)
    np.testing.assert_allclose(b.grad.data, (g * xv).sum(axis=0), rtol=1e-12)


def test_million_op_chain_is_walked_without_recursion():
    # y = x * c * c * ... (10**6 times). Backward multiplies the upstream gradient by c once per
    # node, starting from 1: the same float64 products as the Python loop below, so the
    # gradient must match it exactly (and c**n up to rounding).
    n, c = 10**6, 1.0000001
    x = leaf([1.0])
    # The cyclic garbage collector re-scans the growing graph while it is built (4x the time);
    # the graph has no cycles to find, so it is paused for the build and the walk only.
    gc.disable()
    try:
        y = x
        for _ in range(n):
            y = y * c
        y.backward(np.ones(1))
    finally:
        gc.enable()
    expected = 1.0
    for _ in range(n):
        expected *= c
    assert x.grad.data[0] == expected
    assert y.data[0] == expected  # forward: 1 * c * c * ... in the same order
    assert math.isclose(x.grad.data[0], c**n, rel_tol=1e-9)
    del y  # freeing a million-deep chain of tensors must not overflow the C stack either
    gc.collect()
    assert x.grad is not None


# -- where gradients land ----------------------------------------------------------------------


def test_grad_only_on_leaves_that_require_it():
    x = leaf([1.0, 2.0])
    c = tg.Tensor([3.0, 4.0])  # a leaf that does not require grad
    h = x * c
    out = (h * h).sum()
    out.backward()
    # out = sum (c x)^2: d/dx = 2 c^2 x
    np.testing.assert_allclose(x.grad.data, 2 * np.array([9.0, 16.0]) * np.array([1.0, 2.0]))
    assert c.grad is None
    assert h.grad is None  # non-leaf: no .grad unless retain_grad()
    assert out.grad is None


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    h.retain_grad()
    (h * h).sum().backward()
    # L = sum h^2: dL/dh = 2h = 6x;  dL/dx = 3 * 6x = 18x
    np.testing.assert_allclose(h.grad.data, [6.0, 12.0])
    np.testing.assert_allclose(x.grad.data, [18.0, 36.0])
    assert h.grad.grad_fn is None


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, -2.0])
    (x * x).sum().backward()  # 2x
    (x * 3.0).sum().backward()  # + 3
    np.testing.assert_allclose(x.grad.data, [2.0 + 3.0, -4.0 + 3.0])


def test_backward_of_a_leaf_and_with_an_explicit_gradient():
    x = leaf([1.0, 2.0, 3.0])
    x.backward(np.array([0.5, -1.0, 2.0]))
    np.testing.assert_array_equal(x.grad.data, [0.5, -1.0, 2.0])
    s = leaf(2.0)
    s.backward()  # a one-element output: the gradient defaults to 1
    assert s.grad.item() == 1.0
    y = leaf([[1.0, 2.0]])
    (y * y).backward(tg.Tensor([[3.0, 4.0]]))  # g * 2y
    np.testing.assert_allclose(y.grad.data, [[6.0, 16.0]])


def test_grad_keeps_the_leaf_dtype():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)  # float32
    (x * tg.Tensor(np.array([1.0, 1.0]))).sum().backward()  # goes through float64
    assert x.grad.dtype == np.float32
    assert x.grad.shape == x.shape


# -- gradients never alias ---------------------------------------------------------------------


def _buffers(*tensors):
    return [t.data for t in tensors]


def test_gradients_do_not_share_memory():
    x, y = leaf([1.0, 2.0, 3.0]), leaf([4.0, 5.0, 6.0])
    z = x + y
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 1.0])
    assert not np.shares_memory(x.grad.data, y.grad.data)
    for g in (x.grad.data, y.grad.data):
        for d in _buffers(x, y, z):
            assert not np.shares_memory(g, d)
    x.grad.data[0] = 100.0  # writing into one gradient leaves the other alone
    assert y.grad.data[0] == 1.0


@pytest.mark.parametrize("create_graph", [False, True])
def test_gradients_do_not_share_memory_with_create_graph(create_graph):
    x, y = leaf([1.0, 2.0, 3.0]), leaf([4.0, 5.0, 6.0])
    (x + y).sum().backward(create_graph=create_graph)
    assert not np.shares_memory(x.grad.data, y.grad.data)
    assert not np.shares_memory(x.grad.data, x.data)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize(
    "make",
    [
        lambda x: x,  # the root is the leaf itself
        lambda x: x + 0.0,  # Add passes the gradient through unchanged
        lambda x: x.reshape(2, 3),  # Reshape's backward is a view of the gradient
        lambda x: x.T.T,  # so is Transpose's
        lambda x: x[...],
    ],
    ids=["leaf", "add", "reshape", "transpose", "getitem"],
)
def test_user_gradient_is_not_stored_as_grad(make, create_graph):
    x = leaf(np.arange(6.0).reshape(2, 3))
    y = make(x)
    g = np.arange(1.0, 7.0).reshape(y.shape)
    y.backward(gradient=g, create_graph=create_graph)
    np.testing.assert_array_equal(x.grad.data, np.arange(1.0, 7.0).reshape(2, 3))
    assert not np.shares_memory(x.grad.data, g)
    g[...] = -1.0  # changing the caller's array afterwards must not change .grad
    np.testing.assert_array_equal(x.grad.data, np.arange(1.0, 7.0).reshape(2, 3))


def test_user_gradient_tensor_is_not_stored_as_grad():
    x = leaf([1.0, 2.0])
    g = tg.Tensor([5.0, 7.0], dtype=np.float64)
    (x + 0.0).backward(g)
    assert x.grad is not g
    assert not np.shares_memory(x.grad.data, g.data)


# -- freeing saved values ----------------------------------------------------------------------


def test_second_backward_through_a_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        y.backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])  # the failed call added nothing


def test_retain_graph_allows_a_second_backward_and_doubles_grad():
    x = leaf([1.0, 2.0])
    y = (x * x * x).sum()  # dy/dx = 3x^2
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.data, 2 * 3 * np.array([1.0, 4.0]))
    y.backward()  # a third time, now freeing
    np.testing.assert_allclose(x.grad.data, 3 * 3 * np.array([1.0, 4.0]))
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        y.backward()


def test_retain_graph_defaults_to_create_graph():
    x = leaf(2.0)
    y = x * x * x
    y.backward(create_graph=True)  # keeps the graph: a second backward works
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 3 * 4.0)  # 3x^2 twice
    z = x * x
    z.backward(create_graph=True, retain_graph=False)  # explicit False wins
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        z.backward()


def test_freed_part_of_a_graph_is_detected_from_a_new_root():
    x = leaf([1.0, 2.0])
    h = x * x
    h.sum().backward()  # frees Mul's saved x
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        (h * 2.0).sum().backward()


# -- higher-order gradients --------------------------------------------------------------------


def test_create_graph_gives_differentiable_gradients():
    x = leaf([0.5, -1.0, 2.0])
    (x * x * x).sum().backward(create_graph=True)
    g = x.grad  # 3x^2, itself a function of x
    np.testing.assert_allclose(g.data, 3 * x.data**2)
    assert g.grad_fn is not None and g.requires_grad
    (h,) = tg.grad(g.sum(), x)  # d/dx 3x^2 = 6x
    np.testing.assert_allclose(h.data, 6 * x.data)


def test_plain_backward_gives_constant_gradients():
    x = leaf([0.5, 2.0])
    (x * x).sum().backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad


def test_second_and_third_derivative_of_cube():
    # f = x^3: f' = 3x^2, f'' = 6x, f''' = 6
    xv = np.array([-1.5, 0.5, 2.0])
    x = leaf(xv)
    (d1,) = tg.grad((x**3).sum(), x, create_graph=True)
    (d2,) = tg.grad(d1.sum(), x, create_graph=True)
    (d3,) = tg.grad(d2.sum(), x)
    np.testing.assert_allclose(d1.data, 3 * xv**2, rtol=1e-12)
    np.testing.assert_allclose(d2.data, 6 * xv, rtol=1e-12)
    np.testing.assert_allclose(d3.data, [6.0, 6.0, 6.0], rtol=1e-12)


def test_second_derivative_of_tanh():
    # t = tanh x: t' = 1 - t^2,  t'' = -2 t (1 - t^2)
    xv = np.linspace(-2.0, 2.0, 7)
    x = leaf(xv)
    (d1,) = tg.grad(x.tanh().sum(), x, create_graph=True)
    (d2,) = tg.grad(d1.sum(), x)
    t = np.tanh(xv)
    np.testing.assert_allclose(d1.data, 1 - t**2, rtol=1e-12)
    np.testing.assert_allclose(d2.data, -2 * t * (1 - t**2), rtol=1e-10, atol=1e-15)


def test_third_derivative_of_exp_composition():
    # f = exp(2x) + sigmoid(x):  f''' = 8 exp(2x) + s (1 - s) (1 - 6 s + 6 s^2)
    xv = np.array([-1.0, 0.0, 0.7])
    x = leaf(xv)
    f = ((x * 2.0).exp() + x.sigmoid()).sum()
    (d1,) = tg.grad(f, x, create_graph=True)
    (d2,) = tg.grad(d1.sum(), x, create_graph=True)
    (d3,) = tg.grad(d2.sum(), x)
    s = 1 / (1 + np.exp(-xv))
    np.testing.assert_allclose(d2.data, 4 * np.exp(2 * xv) + s * (1 - s) * (1 - 2 * s), rtol=1e-10)
    expected = 8 * np.exp(2 * xv) + s * (1 - s) * (1 - 6 * s + 6 * s**2)
    np.testing.assert_allclose(d3.data, expected, rtol=1e-10)


def test_mixed_partials():
    # f = x y^2:  f_x = y^2, f_y = 2xy, f_xx = 0, f_xy = f_yx = 2y, f_yy = 2x
    x, y = leaf(1.5), leaf(-2.0)
    f = x * y * y
    fx, fy = tg.grad(f, [x, y], create_graph=True)
    assert fx.item() == pytest.approx(4.0)
    assert fy.item() == pytest.approx(2 * 1.5 * -2.0)
    fxx, fxy = tg.grad(fx, [x, y], retain_graph=True, allow_unused=True)
    fyx, fyy = tg.grad(fy, [x, y])
    assert fxx is None or fxx.item() == 0.0
    assert fxy.item() == pytest.approx(-4.0)
    assert fyx.item() == pytest.approx(-4.0)
    assert fyy.item() == pytest.approx(3.0)


def test_hessian_vector_product_matches_torch():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: comparison skipped")
    rng = np.random.default_rng(3)
    wv, xv, vv = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(4)

    def f(lib_tanh, w, x):
        return lib_tanh(w @ x).sum() + (x * x * x).sum()

    w, x = tg.Tensor(wv), leaf(xv)
    (g,) = tg.grad(f(lambda t: t.tanh(), w, x), x, create_graph=True)
    (hv,) = tg.grad((g * tg.Tensor(vv)).sum(), x)

    tw, tx = torch.tensor(wv), torch.tensor(xv, requires_grad=True)
    (tg_,) = torch.autograd.grad(f(torch.tanh, tw, tx), tx, create_graph=True)
    (thv,) = torch.autograd.grad((tg_ * torch.tensor(vv)).sum(), tx)
    np.testing.assert_allclose(g.data, tg_.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(hv.data, thv.numpy(), rtol=1e-10)


# -- tg.grad -----------------------------------------------------------------------------------


def test_grad_returns_a_tuple_and_leaves_dot_grad_untouched():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    out = (x * y).sum()
    result = tg.grad(out, [x, y])
    assert isinstance(result, tuple) and len(result) == 2
    np.testing.assert_allclose(result[0].data, [3.0, 4.0])  # d/dx = y
    np.testing.assert_allclose(result[1].data, [1.0, 2.0])  # d/dy = x
    assert x.grad is None and y.grad is None
    single = tg.grad((x * x).sum(), x)
    assert isinstance(single, tuple) and len(single) == 1


def test_grad_does_not_touch_existing_dot_grad():
    x = leaf([1.0, 2.0])
    (x * 5.0).sum().backward()
    before = x.grad.data.copy()
    tg.grad((x * x).sum(), x)
    np.testing.assert_array_equal(x.grad.data, before)


def test_grad_with_respect_to_an_intermediate():
    # h = 2x;  L = sum h^2:  dL/dh = 2h = 4x
    x = leaf([1.0, -3.0])
    h = x * 2.0
    (gh,) = tg.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.data, [4.0, -12.0])
    assert x.grad is None and h.grad is None


def test_grad_allow_unused_gives_none():
    x, unused = leaf([1.0, 2.0]), leaf([5.0])
    gx, gu = tg.grad((x * x).sum(), [x, unused], allow_unused=True)
    np.testing.assert_allclose(gx.data, [2.0, 4.0])
    assert gu is None


def test_grad_of_several_outputs_sums():
    # d/dx (sum x^2) + d/dx (sum 3x) = 2x + 3
    x = leaf([1.0, 2.0])
    (g,) = tg.grad([(x * x).sum(), (x * 3.0).sum()], x)
    np.testing.assert_allclose(g.data, [5.0, 7.0])


def test_grad_with_grad_outputs():
    # y = x^2 elementwise, upstream v: v * 2x
    x = leaf([1.0, 2.0, 3.0])
    v = np.array([0.5, -1.0, 2.0])
    (g,) = tg.grad(x * x, x, grad_outputs=tg.Tensor(v))
    np.testing.assert_allclose(g.data, v * 2 * x.data)
    (g2,) = tg.grad([x * x], [x], grad_outputs=[v])
    np.testing.assert_allclose(g2.data, v * 2 * x.data)


def test_grad_frees_the_graph_unless_retained():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    tg.grad(y, x, retain_graph=True)
    (g,) = tg.grad(y, x)
    np.testing.assert_allclose(g.data, [2.0, 4.0])
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        tg.grad(y, x)


def test_grad_results_do_not_alias():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    gx, gy = tg.grad((x + y).sum(), [x, y])
    assert not np.shares_memory(gx.data, gy.data)
    assert not np.shares_memory(gx.data, x.data) and not np.shares_memory(gy.data, y.data)


# -- hooks (basic; the hooks issue expands these) ----------------------------------------------


def test_leaf_hook_sees_the_gradient():
    x = leaf([1.0, 2.0, 3.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.data.copy()))
    (x * x).sum().backward()  # 2x
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [2.0, 4.0, 6.0])
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0, 6.0])


def test_leaf_hook_can_replace_the_gradient_and_be_removed():
    x = leaf([1.0, 2.0, 3.0])
    handle = x.register_hook(lambda g: g * 10.0)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [20.0, 40.0, 60.0])
    handle.remove()
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0, 6.0])


def test_one_element_leaf_hook():
    s = leaf(2.0)
    calls = []
    handle = s.register_hook(lambda g: calls.append(g.item()) or g * 10.0)
    (s * s).backward()  # 2s = 4, replaced by 40
    assert calls == [4.0]
    assert s.grad.item() == 40.0
    handle.remove()
    (s * s).backward()
    assert calls == [4.0]
    assert s.grad.item() == 44.0


def test_non_leaf_hook_changes_what_flows_on():
    # b = 3a, L = sum b^2: dL/db = 2b; doubled by the hook: 4b = 12a; dL/da = 3 * 12a = 36a
    a = leaf([1.0, 2.0])
    b = a * 3.0
    seen = []
    handle = b.register_hook(lambda g: seen.append(g.data.copy()) or g * 2.0)
    (b * b).sum().backward()
    np.testing.assert_allclose(seen[0], [6.0, 12.0])
    np.testing.assert_allclose(a.grad.data, [36.0, 72.0])
    handle.remove()
    a.grad = None
    b2 = a * 3.0
    (b2 * b2).sum().backward()  # a new graph: no hook
    np.testing.assert_allclose(a.grad.data, [18.0, 36.0])


def test_hook_in_tg_grad():
    x = leaf(3.0)
    x.register_hook(lambda g: g + 1.0)
    (g,) = tg.grad(x * x, x)  # 2x + 1
    assert g.item() == 7.0


# -- grad mode ---------------------------------------------------------------------------------


def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    assert tg.is_grad_enabled()
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = x * x + 1.0
        assert y.grad_fn is None and not y.requires_grad and y.is_leaf
        np.testing.assert_allclose(y.data, [2.0, 5.0])
    assert tg.is_grad_enabled()
    with pytest.raises(RuntimeError):
        y.sum().backward()


def test_leaf_made_under_no_grad_still_requires_grad():
    with tg.no_grad():
        x = tg.Tensor([1.0, 2.0], requires_grad=True)
        z = tg.zeros(2, requires_grad=True)
    assert x.requires_grad and z.requires_grad
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])


def test_enable_grad_inside_no_grad():
    x = leaf([1.0, 2.0])
    with tg.no_grad():
        with tg.enable_grad():
            assert tg.is_grad_enabled()
            y = x * x
        assert not tg.is_grad_enabled()
        z = x * x
    assert y.grad_fn is not None and z.grad_fn is None


def test_grad_mode_decorators():
    x = leaf([1.0])

    @tg.no_grad()
    def predict(t):
        assert not tg.is_grad_enabled()
        return t * 2.0

    @tg.enable_grad()
    def train_step(t):
        return t * 2.0

    assert predict.__name__ == "predict"
    assert predict(x).grad_fn is None
    assert tg.is_grad_enabled()
    with tg.no_grad():
        assert train_step(x).grad_fn is not None
        assert not tg.is_grad_enabled()


def test_grad_mode_decorators_without_parentheses():
    # PyTorch accepts both @torch.no_grad() and @torch.no_grad
    x = leaf([1.0])

    @tg.no_grad
    def predict(t):
        return t * 2.0

    @tg.enable_grad
    def train_step(t):
        return t * 2.0

    assert predict(x).grad_fn is None
    with tg.no_grad():
        assert train_step(x).grad_fn is not None


def test_grad_mode_is_restored_after_an_exception():
    @tg.no_grad()
    def boom():
        raise KeyError("x")

    with pytest.raises(KeyError):
        boom()
    assert tg.is_grad_enabled()
    with pytest.raises(KeyError):
        with tg.no_grad():
            raise KeyError("y")
    assert tg.is_grad_enabled()


def test_set_grad_enabled():
    x = leaf([1.0])
    with tg.set_grad_enabled(False):
        assert (x * 2.0).grad_fn is None
    with tg.set_grad_enabled(True):
        assert (x * 2.0).grad_fn is not None
    assert tg.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = []
    with tg.no_grad():
        worker = threading.Thread(target=lambda: seen.append(tg.is_grad_enabled()))
        worker.start()
        worker.join()
        assert not tg.is_grad_enabled()
    assert seen == [True]


def test_gradients_of_0d_leaves_stay_arrays_when_summed():
    # two paths into a 0-d leaf, and two backward calls: numpy would hand back np.float64
    w = tg.Tensor(1.5, requires_grad=True)
    (w * w + w * 3).backward()
    assert type(w.grad.data) is np.ndarray and w.grad.shape == ()
    (w * 2).backward()
    assert type(w.grad.data) is np.ndarray
    assert w.grad.item() == 2 * 1.5 + 3 + 2  # d/dw (w² + 3w) + d/dw 2w


def test_sgd_momentum_on_a_0d_parameter():
    # v1 = g1, v2 = m v1 + g2: the buffer must be updated in place across steps
    w = tg.Tensor(1.0, requires_grad=True, dtype=np.float64)
    opt = tg.optim.SGD([w], lr=0.1, momentum=0.5)
    expected_w, v = 1.0, None
    for _ in range(3):
        opt.zero_grad()
        (w * w + w).backward()  # two paths: the summed gradient 2w + 1
        g = 2 * expected_w + 1
        v = g if v is None else 0.5 * v + g
        expected_w -= 0.1 * v
        opt.step()
    assert w.item() == pytest.approx(expected_w, rel=1e-12)
