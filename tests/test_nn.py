"""tg.nn: Module bookkeeping, state dicts, repr, scopes, Linear, MLP, Dropout and activations.

Expected values come from numpy formulas written out here (commented) or from PyTorch, never
from this package's own output. PyTorch comparisons get torch via `torch_or_skip()` inside the
test, so the torch-free checks beside them always run.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F

# -- helpers ----------------------------------------------------------------------------------


def _t64(a, requires_grad=False):
    return tg.Tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


class Block(nn.Module):
    """A hand-made module: one own parameter, one sub-module, one plain attribute."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(3))
        self.inner = nn.Linear(3, 2)
        self.note = "not registered"
        self.plain = tg.Tensor(np.zeros(2))  # a plain Tensor is not a parameter

    def forward(self, x):
        return self.inner(x * self.scale)


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.MLP([3, 4, 2])
        self.head = nn.Linear(2, 1)

    def forward(self, x):
        return self.head(self.net(x))


def _all_nodes(root):
    """Every graph node reachable from root (each once)."""
    seen, out, stack = set(), [], [root.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        stack.extend(t.grad_fn for t in node.inputs)
    return out


# -- Module: registration ---------------------------------------------------------------------


def test_attribute_assignment_registers_parameters_and_modules():
    b = Block()
    names = [n for n, _ in b.named_parameters()]
    assert names == ["scale", "inner.weight", "inner.bias"]
    assert [id(p) for p in b.parameters()] == [
        id(b.scale),
        id(b.inner.weight),
        id(b.inner.bias),
    ]
    assert list(b.children()) == [b.inner]
    assert all(p.requires_grad and p.is_leaf for p in b.parameters())


def test_reassigning_to_non_parameter_deregisters():
    b = Block()
    b.scale = tg.Tensor(np.ones(3))  # a plain tensor now: no longer a parameter
    assert [n for n, _ in b.named_parameters()] == ["inner.weight", "inner.bias"]
    b.inner = None  # no longer a module
    assert list(b.children()) == []
    assert list(b.named_parameters()) == []
    b.inner = nn.Linear(3, 2)  # registered again
    assert [n for n, _ in b.named_parameters()] == ["inner.weight", "inner.bias"]
    del b.inner
    assert list(b.children()) == []


def test_reassigning_a_parameter_keeps_its_place():
    # PyTorch keeps the registration order when a parameter is replaced by another one
    # (torch.nn.Linear: after `lin.weight = Parameter(...)` the keys are still weight, bias).
    lin = nn.Linear(3, 2)
    new = nn.Parameter(np.zeros((2, 3)))
    lin.weight = new
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    assert lin.weight is new
    assert list(lin.state_dict()) == ["weight", "bias"]


def test_replacing_a_sequential_layer_keeps_its_place():
    # PyTorch: setattr(seq, "0", new) replaces layer 0 in place; forward still runs it first.
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    new_first = nn.Linear(3, 4)
    setattr(seq, "0", new_first)
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    assert seq[0] is new_first
    assert seq(tg.randn(5, 3)).shape == (5, 2)


def test_named_parameters_dotted_paths_nested():
    o = Outer()
    assert [n for n, _ in o.named_parameters()] == [
        "net.0.weight",
        "net.0.bias",
        "net.2.weight",
        "net.2.bias",
        "head.weight",
        "head.bias",
    ]
    params = dict(o.named_parameters())
    assert params["net.2.weight"] is o.net[2].weight
    assert params["head.bias"] is o.head.bias


def test_shared_parameters_and_modules_listed_once():
    a, b = nn.Linear(3, 3), nn.Linear(3, 3)
    b.weight = a.weight  # tied weight
    seq = nn.Sequential(a, b)
    # torch.nn.Sequential(a, b) with b.weight = a.weight lists 0.weight, 0.bias, 1.bias
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    assert len(list(seq.parameters())) == 3

    twice = nn.Sequential(a, a)  # the same module twice: listed once, as in PyTorch
    assert [n for n, _ in twice.named_modules()] == ["", "0"]
    assert [n for n, _ in twice.named_parameters()] == ["0.weight", "0.bias"]


def test_children_named_modules_and_modules():
    o = Outer()
    assert list(o.children()) == [o.net, o.head]
    named = list(o.named_modules())
    # depth first, in assignment order, "" for the module itself (PyTorch's order)
    assert [n for n, _ in named] == ["", "net", "net.0", "net.1", "net.2", "head"]
    assert named[0][1] is o
    assert dict(named)["net.1"] is o.net[1]
    assert list(o.modules()) == [m for _, m in named]
    assert isinstance(o.net[1], nn.ReLU)


def test_train_and_eval_propagate():
    o = Outer()
    assert all(m.training for m in o.modules())
    assert o.eval() is o
    assert not any(m.training for m in o.modules())
    assert o.train() is o
    assert all(m.training for m in o.modules())
    o.train(False)
    assert not any(m.training for m in o.modules())
    o.net.train()  # only the sub-tree
    assert o.training is False and o.head.training is False
    assert all(m.training for m in o.net.modules())


def test_zero_grad_sets_grads_to_none():
    net = nn.MLP([3, 4, 2])
    net(tg.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_forgetting_super_init_is_explained():
    class Bad(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=re.escape("super().__init__()")):
        Bad()


def test_call_runs_forward_with_args_and_kwargs():
    class Add(nn.Module):
        def forward(self, x, y=0.0, *, z=0.0):
            return x + y + z

    out = Add()(_t64([1.0, 2.0]), _t64([10.0, 20.0]), z=_t64([100.0, 200.0]))
    np.testing.assert_array_equal(out.numpy(), [111.0, 222.0])


def test_module_without_forward_raises_not_implemented():
    with pytest.raises(NotImplementedError):
        nn.Module()(tg.ones(2))


# -- Module: state dict -----------------------------------------------------------------------


def test_state_dict_keys_values_and_shared_data():
    net = nn.MLP([3, 4, 4, 2])
    sd = net.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    for name, p in net.named_parameters():
        assert sd[name].shape == p.shape
        np.testing.assert_array_equal(sd[name].numpy(), p.numpy())
        assert np.shares_memory(sd[name].data, p.data)  # like PyTorch: the same storage
        assert not sd[name].requires_grad and sd[name].grad_fn is None  # detached
    with tg.no_grad():
        net[0].bias.add_(1.0)  # an in-place update shows through the state dict
    np.testing.assert_array_equal(sd["0.bias"].numpy(), net[0].bias.numpy())


def test_load_state_dict_copies_values_into_the_same_parameters():
    net = nn.MLP([3, 4, 2])
    before = {n: p for n, p in net.named_parameters()}
    rng = np.random.default_rng(0)
    src = {n: rng.standard_normal(p.shape).astype(p.dtype) for n, p in before.items()}
    src["2.bias"] = tg.Tensor(src["2.bias"])  # Tensors and arrays both accepted
    result = net.load_state_dict(src)
    assert tuple(result) == ([], [])
    # PyTorch's named tuple and its repr, which a prompt echoes
    assert (result.missing_keys, result.unexpected_keys) == ([], [])
    assert repr(result) == "<All keys matched successfully>"
    for n, p in net.named_parameters():
        assert p is before[n]  # the same objects (an optimiser holding them keeps working)
        np.testing.assert_array_equal(p.numpy(), np.asarray(src[n]))
    src["0.weight"][...] = 99.0  # a copy, not an alias of the source
    assert not np.any(net[0].weight.numpy() == 99.0)


def test_load_state_dict_strict_lists_every_problem_and_changes_nothing():
    net = nn.MLP([3, 4, 2])
    snapshot = {n: p.numpy().copy() for n, p in net.named_parameters()}
    bad = {
        "0.weight": np.zeros((5, 3), np.float32),  # wrong shape
        "0.bias": np.full(4, 42.0, np.float32),  # fits, but must not be loaded
        "2.weight": np.zeros((2, 4), np.float32),  # fits
        "extra.weight": np.zeros(1, np.float32),  # unexpected
    }  # "2.bias" missing
    with pytest.raises(ValueError) as err:
        net.load_state_dict(bad)
    msg = str(err.value)
    assert "missing" in msg and "2.bias" in msg
    assert "unexpected" in msg and "extra.weight" in msg
    assert "shape" in msg and "0.weight" in msg and "(5, 3)" in msg and "(4, 3)" in msg
    for n, p in net.named_parameters():
        np.testing.assert_array_equal(p.numpy(), snapshot[n])


def test_load_state_dict_non_strict_returns_missing_and_unexpected():
    net = nn.MLP([3, 4, 2])
    snapshot = {n: p.numpy().copy() for n, p in net.named_parameters()}
    part = {"0.bias": np.full(4, 7.0, np.float32), "junk": np.zeros(2)}
    result = net.load_state_dict(part, strict=False)
    missing, unexpected = result
    assert result.missing_keys is missing and result.unexpected_keys is unexpected
    assert repr(result) == (
        "IncompatibleKeys(missing_keys=['0.weight', '2.weight', '2.bias'], "
        "unexpected_keys=['junk'])"
    )
    assert missing == ["0.weight", "2.weight", "2.bias"]
    assert unexpected == ["junk"]
    np.testing.assert_array_equal(net[0].bias.numpy(), np.full(4, 7.0))
    np.testing.assert_array_equal(net[0].weight.numpy(), snapshot["0.weight"])
    # a shape mismatch is an error even when not strict (as in PyTorch), and changes nothing
    with pytest.raises(ValueError, match="shape"):
        net.load_state_dict({"0.bias": np.zeros(3), "2.bias": np.zeros(2)}, strict=False)
    np.testing.assert_array_equal(net[0].bias.numpy(), np.full(4, 7.0))
    np.testing.assert_array_equal(net[2].bias.numpy(), snapshot["2.bias"])


# -- Module: repr -----------------------------------------------------------------------------

MLP_64_128_10_REPR = """MLP(
  (0): Linear(in_features=64, out_features=128, bias=True)
  (1): ReLU()
  (2): Linear(in_features=128, out_features=10, bias=True)
)"""  # PyTorch's format: name(, then "  (key): child" lines, then ")"


def test_repr_literal_in_pytorch_format():
    assert repr(nn.MLP([64, 128, 10])) == MLP_64_128_10_REPR
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.Linear(3, 4, bias=False)) == "Linear(in_features=3, out_features=4, bias=False)"
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"


def test_repr_matches_torch(torch_or_skip):
    torch = torch_or_skip()
    tnn = torch.nn
    mine = repr(nn.MLP([64, 128, 10])).splitlines()
    theirs = repr(tnn.Sequential(tnn.Linear(64, 128), tnn.ReLU(), tnn.Linear(128, 10)))
    assert mine[0] == "MLP("
    assert mine[1:] == theirs.splitlines()[1:]

    nested = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Tanh(), nn.Linear(3, 1, bias=False)))
    t_nested = tnn.Sequential(
        tnn.Linear(2, 3), tnn.Sequential(tnn.Tanh(), tnn.Linear(3, 1, bias=False))
    )
    assert repr(nested) == repr(t_nested)
    assert repr(nn.Sigmoid()) == repr(tnn.Sigmoid())
    assert repr(nn.Identity()) == repr(tnn.Identity())


# -- Module: scopes ---------------------------------------------------------------------------


def test_every_node_made_in_a_module_call_carries_its_scope():
    net = nn.MLP([3, 4, 2])
    y = net(tg.randn(5, 3))
    assert y.grad_fn.scope == (net, net[2])  # the bias add of the last Linear
    scopes = {node.name + str(id(node)): node.scope for node in _all_nodes(y)}
    assert all(s[0] is net and len(s) == 2 for s in scopes.values())
    seen_layers = {id(s[1]) for s in scopes.values()}
    assert seen_layers == {id(net[0]), id(net[1]), id(net[2])}
    relu_nodes = [n for n in _all_nodes(y) if n.name.lower().startswith("relu")]
    assert relu_nodes and all(n.scope == (net, net[1]) for n in relu_nodes)
    loss = (y * y).sum()  # made outside any module
    assert loss.grad_fn.scope == ()


def test_nested_scopes_outermost_first_and_restored_after_errors():
    o = Outer()
    y = o(tg.randn(2, 3))
    assert y.grad_fn.scope == (o, o.head)
    first = [n for n in _all_nodes(y) if len(n.scope) == 3]
    assert first and all(n.scope[:2] == (o, o.net) for n in first)
    assert {id(n.scope[2]) for n in first} == {id(o.net[0]), id(o.net[1]), id(o.net[2])}
    with pytest.raises(ValueError):
        o(tg.randn(2, 5))  # wrong width raises inside the scopes...
    z = tg.randn(2, requires_grad=True) * 2
    assert z.grad_fn.scope == ()  # ...which are left anyway
    with tg.scope("outside"):
        w = o.head(tg.randn(1, 2))
    assert w.grad_fn.scope == ("outside", o.head)


# -- Linear -----------------------------------------------------------------------------------


def test_linear_shapes_and_registration():
    lin = nn.Linear(5, 3)
    assert lin.weight.shape == (3, 5) and lin.bias.shape == (3,)
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    nob = nn.Linear(5, 3, bias=False)
    assert nob.bias is None
    assert [n for n, _ in nob.named_parameters()] == ["weight"]


def test_linear_init_uniform_within_pytorch_bound():
    tg.manual_seed(1234)
    n_in, n_out = 400, 300
    lin = nn.Linear(n_in, n_out)
    k = 1 / math.sqrt(n_in)  # PyTorch's default: weight and bias ~ U(-k, k)
    w = lin.weight.numpy().astype(np.float64).ravel()
    b = lin.bias.numpy()
    assert np.all(np.abs(w) <= k) and np.all(np.abs(b) <= k)
    n = w.size
    # U(-k, k): mean 0, variance k^2/3, Var(X^2) = E[X^4] - E[X^2]^2 = k^4/5 - k^4/9 = 4k^4/45.
    # The sample mean has std sqrt(k^2/3 / n) and the sample variance std sqrt(4k^4/45 / n);
    # 5 standard deviations of either is a false alarm once in millions of seeds.
    assert abs(w.mean()) < 5 * math.sqrt(k**2 / 3 / n)
    assert abs(w.var() - k**2 / 3) < 5 * math.sqrt(4 * k**4 / 45 / n)
    # each of 10 equal bins holds Binomial(n, 0.1) values: std sqrt(n * 0.1 * 0.9)
    counts, _ = np.histogram(w, bins=10, range=(-k, k))
    assert np.all(np.abs(counts - n / 10) < 5 * math.sqrt(n * 0.09))
    # it is not just a narrower distribution: values come close to both ends
    assert w.min() < -0.99 * k and w.max() > 0.99 * k
    assert len(np.unique(b)) == n_out


def test_linear_init_reproducible_with_manual_seed():
    tg.manual_seed(7)
    a = nn.Linear(6, 4)
    tg.manual_seed(7)
    b = nn.Linear(6, 4)
    tg.manual_seed(8)
    c = nn.Linear(6, 4)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    np.testing.assert_array_equal(a.bias.numpy(), b.bias.numpy())
    assert not np.array_equal(a.weight.numpy(), c.weight.numpy())


@pytest.mark.parametrize("shape", [(4, 5), (5,), (2, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_matches_numpy(shape, bias):
    lin = nn.Linear(5, 3, bias=bias, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal(shape)
    y = lin(_t64(x))
    w = lin.weight.numpy()
    expected = x @ w.T + (lin.bias.numpy() if bias else 0.0)  # y = x W^T + b
    assert y.shape == shape[:-1] + (3,)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(F.linear(_t64(x), lin.weight, lin.bias).numpy(), expected)


def test_linear_gradients_match_hand_formulas():
    lin = nn.Linear(4, 3, dtype=np.float64)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 4))
    g = rng.standard_normal((6, 3))
    xt = _t64(x, requires_grad=True)
    lin(xt).backward(g)
    w = lin.weight.numpy()
    # y = x W^T + b:  dL/dW = g^T x,  dL/db = sum_rows g,  dL/dx = g W
    np.testing.assert_allclose(lin.weight.grad.numpy(), g.T @ x, rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.numpy(), g.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), g @ w, rtol=1e-12)


def test_linear_wrong_input_width_names_layer_expected_and_got():
    lin = nn.Linear(5, 3)
    with pytest.raises(ValueError) as err:
        lin(tg.randn(4, 3))
    msg = str(err.value)
    assert "Linear" in msg and "5" in msg and "(4, 3)" in msg
    with pytest.raises(ValueError):
        lin(tg.Tensor(1.0))  # 0-d


@pytest.mark.parametrize("bad", [0, -2, 2.5, True])
def test_linear_bad_sizes(bad):
    with pytest.raises(ValueError):
        nn.Linear(bad, 3)
    with pytest.raises(ValueError):
        nn.Linear(3, bad)


def _torch_sequential(torch, sizes, activation="relu"):
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[activation]
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(a, b, dtype=torch.float64))
        if i < len(sizes) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_torch_state_dict_loads_into_mlp_same_outputs_and_grads(torch_or_skip, activation):
    torch = torch_or_skip()
    torch.manual_seed(0)
    sizes = [6, 10, 8, 4]
    tnet = _torch_sequential(torch, sizes, activation)
    net = nn.MLP(sizes, activation, dtype=np.float64)
    missing, unexpected = net.load_state_dict(tnet.state_dict())  # as is, no renaming
    assert missing == [] and unexpected == []
    assert list(net.state_dict()) == list(tnet.state_dict())

    rng = np.random.default_rng(3)
    x = rng.standard_normal((7, 6))
    y = rng.integers(0, 4, size=7)
    out = net(_t64(x))
    tout = tnet(torch.from_numpy(x))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-12)

    F.cross_entropy(out, tg.Tensor(y)).backward()
    torch.nn.functional.cross_entropy(tout, torch.from_numpy(y)).backward()
    tgrads = {n: p.grad.numpy() for n, p in tnet.named_parameters()}
    for n, p in net.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tgrads[n], rtol=1e-10, atol=1e-13)


def test_torch_float32_state_dict_casts_into_float64_mlp(torch_or_skip):
    torch = torch_or_skip()
    torch.manual_seed(1)
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    net = nn.MLP([3, 4, 2], dtype=np.float64)
    net.load_state_dict(tnet.state_dict())
    assert all(p.dtype == np.float64 for p in net.parameters())
    for n, v in tnet.state_dict().items():
        np.testing.assert_array_equal(dict(net.named_parameters())[n].numpy(), v.double().numpy())


# -- MLP --------------------------------------------------------------------------------------

_ACT_TYPES = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
}
_ACT_NUMPY = {  # the activations written out
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
}


@pytest.mark.parametrize("activation", list(_ACT_TYPES))
def test_mlp_layout_keys_and_forward(activation):
    net = nn.MLP([4, 8, 6, 3], activation=activation, dtype=np.float64)
    assert isinstance(net, nn.Sequential) and len(net) == 5
    kinds = [type(m) for m in net]
    act = _ACT_TYPES[activation]
    assert kinds == [nn.Linear, act, nn.Linear, act, nn.Linear]  # none after the last
    assert [n for n, _ in net.named_parameters()] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
        "4.weight",
        "4.bias",
    ]
    assert [(m.in_features, m.out_features) for m in net if isinstance(m, nn.Linear)] == [
        (4, 8),
        (8, 6),
        (6, 3),
    ]
    x = np.random.default_rng(2).standard_normal((5, 4))
    h = x
    for i, layer in enumerate(m for m in net if isinstance(m, nn.Linear)):
        h = h @ layer.weight.numpy().T + layer.bias.numpy()
        if i < 2:
            h = _ACT_NUMPY[activation](h)
    np.testing.assert_allclose(net(_t64(x)).numpy(), h, rtol=1e-12, atol=1e-15)


def test_mlp_default_activation_is_relu_and_two_sizes_is_one_linear():
    assert isinstance(nn.MLP([3, 5, 2])[1], nn.ReLU)
    single = nn.MLP([3, 2])
    assert len(single) == 1 and isinstance(single[0], nn.Linear)


def test_mlp_unknown_activation_lists_valid_ones():
    with pytest.raises(ValueError) as err:
        nn.MLP([3, 4, 2], activation="gelu")
    msg = str(err.value)
    assert "gelu" in msg
    for name in ("relu", "tanh", "sigmoid", "leaky_relu"):
        assert name in msg


def test_mlp_needs_two_sizes():
    with pytest.raises(ValueError):
        nn.MLP([3])


def test_sequential_indexing_and_non_module_items():
    a, b = nn.Linear(2, 3), nn.Tanh()
    seq = nn.Sequential(a, b)
    assert seq[0] is a and seq[-1] is b and list(seq) == [a, b] and len(seq) == 2
    with pytest.raises(TypeError):
        nn.Sequential(a, lambda x: x)


# -- Dropout ----------------------------------------------------------------------------------


def test_dropout_eval_passes_through():
    drop = nn.Dropout(0.5).eval()
    x = tg.randn(10, 10)
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    np.testing.assert_array_equal(F.dropout(x, 0.5, training=False).numpy(), x.numpy())


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_train_zeros_about_p_and_scales_the_rest(p):
    tg.manual_seed(0)
    drop = nn.Dropout(p)
    assert drop.training
    x = tg.Tensor(np.full((200, 500), 2.0))  # float64
    y = drop(x).numpy()
    n = y.size
    zero_frac = np.mean(y == 0)
    # the zero count is Binomial(n, p): the fraction's std is sqrt(p (1 - p) / n)
    assert abs(zero_frac - p) < 5 * math.sqrt(p * (1 - p) / n)
    kept = y[y != 0]
    np.testing.assert_allclose(kept, 2.0 / (1 - p), rtol=1e-15)  # scaled by 1/(1-p)
    # expectation preserved: mean = 2/(1-p) * kept fraction, std 2/(1-p) * sqrt(p(1-p)/n)
    assert abs(y.mean() - 2.0) < 5 * 2.0 / (1 - p) * math.sqrt(p * (1 - p) / n)


def test_dropout_gradient_matches_mask():
    tg.manual_seed(3)
    p = 0.3
    x = tg.Tensor(np.random.default_rng(0).standard_normal((50, 40)) + 5.0, requires_grad=True)
    y = nn.Dropout(p)(x)
    g = np.random.default_rng(1).standard_normal((50, 40))
    y.backward(g)
    mask = y.numpy() != 0  # x > 0 everywhere, so a zero output means a dropped element
    # y = x * mask / (1 - p):  dL/dx = g * mask / (1 - p)
    np.testing.assert_allclose(x.grad.numpy(), g * mask / (1 - p), rtol=1e-15)
    np.testing.assert_allclose(y.numpy(), x.numpy() * mask / (1 - p), rtol=1e-15)


def test_dropout_follows_model_mode_and_p_zero_is_identity():
    tg.manual_seed(0)
    net = nn.Sequential(nn.Identity(), nn.Dropout(0.5))
    x = tg.ones(1000)
    assert np.any(net(x).numpy() == 0)
    net.eval()
    np.testing.assert_array_equal(net(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())


def test_dropout_keeps_float32():
    x = tg.ones(100)  # default float32
    assert nn.Dropout(0.5)(x).dtype == np.float32


@pytest.mark.parametrize("p", [-0.1, 1.5, 2])
def test_dropout_p_out_of_range(p):
    with pytest.raises(ValueError, match=re.escape(str(p))):
        nn.Dropout(p)
    with pytest.raises(ValueError):
        F.dropout(tg.ones(3), p)


# -- activations as modules -------------------------------------------------------------------


def test_activation_modules_equal_tensor_functions_and_formulas():
    x = np.random.default_rng(5).standard_normal((4, 6)) * 3
    t = _t64(x)
    cases = [
        (nn.ReLU(), t.relu(), np.maximum(x, 0)),
        (nn.Tanh(), t.tanh(), np.tanh(x)),
        (nn.Sigmoid(), t.sigmoid(), 1 / (1 + np.exp(-x))),
        (nn.LeakyReLU(), t.leaky_relu(), np.where(x > 0, x, 0.01 * x)),
        (nn.LeakyReLU(0.2), t.leaky_relu(0.2), np.where(x > 0, x, 0.2 * x)),
        (nn.Identity(), t, x),
    ]
    for module, by_tensor, formula in cases:
        out = module(t)
        np.testing.assert_array_equal(out.numpy(), by_tensor.numpy())
        np.testing.assert_allclose(out.numpy(), formula, rtol=1e-14, atol=1e-300)
    for axis in (-1, 0):
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        softmax = e / e.sum(axis=axis, keepdims=True)  # e^x / sum e^x
        out = nn.Softmax(axis)(t)
        np.testing.assert_array_equal(out.numpy(), t.softmax(axis).numpy())
        np.testing.assert_allclose(out.numpy(), softmax, rtol=1e-14)
    np.testing.assert_allclose(nn.Softmax()(t).numpy().sum(axis=-1), 1.0, rtol=1e-14)
    assert nn.Identity()(t) is t


def test_functional_activations_equal_tensor_methods():
    x = np.random.default_rng(6).standard_normal((3, 5))
    t = _t64(x)
    np.testing.assert_array_equal(F.relu(t).numpy(), t.relu().numpy())
    np.testing.assert_array_equal(F.tanh(t).numpy(), t.tanh().numpy())
    np.testing.assert_array_equal(F.sigmoid(t).numpy(), t.sigmoid().numpy())
    np.testing.assert_array_equal(F.leaky_relu(t, 0.3).numpy(), t.leaky_relu(0.3).numpy())
    np.testing.assert_array_equal(F.softmax(t, 0).numpy(), t.softmax(0).numpy())
    lse = np.log(np.exp(x).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(F.log_softmax(t).numpy(), x - lse, rtol=1e-13)  # x - log sum e^x


def test_activation_modules_match_torch(torch_or_skip):
    torch = torch_or_skip()
    x = np.random.default_rng(7).standard_normal((3, 4)) * 4
    pairs = [
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.Tanh(), torch.nn.Tanh()),
        (nn.Sigmoid(), torch.nn.Sigmoid()),
        (nn.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)),
        (nn.Softmax(1), torch.nn.Softmax(dim=1)),
        (nn.Softmax(0), torch.nn.Softmax(dim=0)),
    ]
    g = np.random.default_rng(8).standard_normal((3, 4))
    for mine, theirs in pairs:
        t = _t64(x, requires_grad=True)
        tt = torch.tensor(x, requires_grad=True)
        out, tout = mine(t), theirs(tt)
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-13, atol=1e-16)
        out.backward(g)
        tout.backward(torch.from_numpy(g))
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-12, atol=1e-15)
