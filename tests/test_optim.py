"""tg.optim: SGD, Adam and AdamW.

The headline check trains the same float64 MLP from the same weights (copied from a PyTorch
model) on the same batches with each optimiser and compares every step's loss and the final
weights with PyTorch's. Torch-free tests check the first two steps of each rule against the
update formulas written out by hand, state saving and restoring, warnings, dtypes and bad input.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F
from tinygrad_edu.optim import SGD, Adam, AdamW

SIZES = [8, 16, 16, 4]


def _batches(n_steps=30, batch=16, seed=0):
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((batch, SIZES[0])), rng.integers(0, SIZES[-1], size=batch))
        for _ in range(n_steps)
    ]


def _train(model, opt, batches):
    """Plain training loop; returns the loss of every step (before its update)."""
    losses = []
    for x, y in batches:
        opt.zero_grad()
        loss = F.cross_entropy(model(tg.Tensor(x)), tg.Tensor(y))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _torch_pair(torch, activation, seed=0):
    """A float64 torch Sequential and the tg MLP holding the same weights."""
    torch.manual_seed(seed)
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[activation]
    layers = []
    for i, (a, b) in enumerate(zip(SIZES, SIZES[1:])):
        layers.append(torch.nn.Linear(a, b, dtype=torch.float64))
        if i < len(SIZES) - 2:
            layers.append(act())
    tmodel = torch.nn.Sequential(*layers)
    model = nn.MLP(SIZES, activation, dtype=np.float64)
    model.load_state_dict(tmodel.state_dict())
    return tmodel, model


def _train_torch(torch, tmodel, topt, batches):
    losses = []
    for x, y in batches:
        topt.zero_grad()
        loss = torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        topt.step()
        losses.append(loss.item())
    return losses


def _assert_same_weights(model, tmodel, rtol=1e-9):
    theirs = {k: v.numpy() for k, v in tmodel.state_dict().items()}
    mine = {k: v.numpy() for k, v in model.state_dict().items()}
    assert list(mine) == list(theirs)
    for k in mine:
        np.testing.assert_allclose(mine[k], theirs[k], rtol=rtol, atol=1e-12, err_msg=k)


CONFIGS = [
    ("SGD", {"lr": 0.1}, "tanh"),
    ("SGD", {"lr": 0.05, "momentum": 0.9}, "relu"),
    ("SGD", {"lr": 0.05, "momentum": 0.9}, "tanh"),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1}, "tanh"),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, "relu"),
    ("SGD", {"lr": 0.1, "weight_decay": 0.01}, "tanh"),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.2, "weight_decay": 0.01}, "relu"),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}, "tanh"),
    ("Adam", {"lr": 0.01}, "tanh"),
    ("Adam", {"lr": 0.01}, "relu"),
    ("Adam", {"lr": 0.01, "weight_decay": 0.01}, "tanh"),
    ("Adam", {"lr": 0.005, "betas": (0.8, 0.99), "eps": 1e-6}, "relu"),
    ("AdamW", {"lr": 0.01}, "tanh"),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "betas": (0.85, 0.995)}, "relu"),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "activation"),
    CONFIGS,
    ids=[f"{n}-{a}-" + ",".join(f"{k}={v}" for k, v in kw.items()) for n, kw, a in CONFIGS],
)
def test_training_matches_torch_step_for_step(torch_or_skip, name, kwargs, activation):
    torch = torch_or_skip()
    tmodel, model = _torch_pair(torch, activation)
    batches = _batches()
    opt = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW}[name](model.parameters(), **kwargs)
    topt = getattr(torch.optim, name)(tmodel.parameters(), **kwargs)
    losses = _train(model, opt, batches)
    tlosses = _train_torch(torch, tmodel, topt, batches)
    np.testing.assert_allclose(losses, tlosses, rtol=1e-9)
    assert losses[-1] < losses[0]  # it did learn something
    _assert_same_weights(model, tmodel)


def test_parameter_groups_match_torch(torch_or_skip):
    torch = torch_or_skip()
    tmodel, model = _torch_pair(torch, "tanh", seed=1)
    batches = _batches(20, seed=1)

    def groups(layers):
        first = [p for n, p in layers if n.startswith("0.")]
        rest = [p for n, p in layers if not n.startswith("0.")]
        return [{"params": first, "lr": 0.2}, {"params": rest, "momentum": 0.5}]

    opt = SGD(groups(list(model.named_parameters())), lr=0.05, momentum=0.9)
    topt = torch.optim.SGD(groups(list(tmodel.named_parameters())), lr=0.05, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.2, 0.05]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.5]
    np.testing.assert_allclose(
        _train(model, opt, batches), _train_torch(torch, tmodel, topt, batches), rtol=1e-9
    )
    _assert_same_weights(model, tmodel)

    tmodel, model = _torch_pair(torch, "relu", seed=2)
    opt = Adam(groups(list(model.named_parameters())), lr=0.01)
    topt = torch.optim.Adam(groups(list(tmodel.named_parameters())), lr=0.01)
    np.testing.assert_allclose(
        _train(model, opt, batches), _train_torch(torch, tmodel, topt, batches), rtol=1e-9
    )
    _assert_same_weights(model, tmodel)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_state_dict_layout_and_values_match_torch(torch_or_skip, name):
    torch = torch_or_skip()
    tmodel, model = _torch_pair(torch, "tanh")
    kwargs = {"lr": 0.05, "momentum": 0.9} if name == "SGD" else {"lr": 0.01}
    opt = {"SGD": SGD, "Adam": Adam}[name](model.parameters(), **kwargs)
    topt = getattr(torch.optim, name)(tmodel.parameters(), **kwargs)
    batches = _batches(5)
    _train(model, opt, batches)
    _train_torch(torch, tmodel, topt, batches)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == sorted(tsd["state"]) == [0, 1, 2, 3, 4, 5]
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    for key, value in sd["param_groups"][0].items():
        assert key in tsd["param_groups"][0], key
        assert tsd["param_groups"][0][key] == pytest.approx(value), key
    for i, entry in sd["state"].items():
        assert set(entry) == set(tsd["state"][i])
        for key, value in entry.items():
            theirs = tsd["state"][i][key]
            if key == "step":
                assert float(value) == float(theirs) == 5
            else:
                np.testing.assert_allclose(np.asarray(value), theirs.numpy(), rtol=1e-9, atol=1e-15)


# -- the update rules by hand (no torch): two steps each ---------------------------------------

W0 = np.array([1.0, -2.0, 0.5])
G0 = np.array([0.3, -0.1, 0.8])
G1 = np.array([-0.2, 0.4, 0.1])


def _two_steps(opt_cls, **kwargs):
    """Run two steps with the gradients G0 then G1 set by hand; return (w after 1, w after 2)."""
    w = nn.Parameter(W0.copy())
    opt = opt_cls([w], **kwargs)
    out = []
    for g in (G0, G1):
        w.grad = tg.Tensor(g)
        opt.step()
        out.append(w.numpy().copy())
    return out


def _check(got, expected):
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_sgd_plain_by_hand():
    lr = 0.1
    w1 = W0 - lr * G0  # w <- w - lr g
    w2 = w1 - lr * G1
    _check(_two_steps(SGD, lr=lr), [w1, w2])


def test_sgd_weight_decay_by_hand():
    lr, wd = 0.1, 0.01
    w1 = W0 - lr * (G0 + wd * W0)  # g <- g + wd w
    w2 = w1 - lr * (G1 + wd * w1)
    _check(_two_steps(SGD, lr=lr, weight_decay=wd), [w1, w2])


@pytest.mark.parametrize("dampening", [0.0, 0.1])
def test_sgd_momentum_by_hand(dampening):
    lr, m = 0.1, 0.9
    v1 = G0  # first step: the buffer is the gradient itself (no dampening)
    w1 = W0 - lr * v1
    v2 = m * v1 + (1 - dampening) * G1  # then v <- m v + (1 - dampening) g
    w2 = w1 - lr * v2
    _check(_two_steps(SGD, lr=lr, momentum=m, dampening=dampening), [w1, w2])


def test_sgd_nesterov_by_hand():
    lr, m = 0.1, 0.9
    v1 = G0
    w1 = W0 - lr * (G0 + m * v1)  # Nesterov: step along g + m v
    v2 = m * v1 + G1
    w2 = w1 - lr * (G1 + m * v2)
    _check(_two_steps(SGD, lr=lr, momentum=m, nesterov=True), [w1, w2])


def _adam_by_hand(lr, b1, b2, eps, wd=0.0, decoupled=False):
    w, m, v, out = W0.copy(), np.zeros(3), np.zeros(3), []
    for t, g in enumerate((G0, G1), start=1):
        if decoupled:
            w = w * (1 - lr * wd)  # AdamW: shrink the weights themselves
        else:
            g = g + wd * w  # Adam: L2 penalty in the gradient
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)  # bias corrections
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(w)
    return out


def test_adam_by_hand():
    _check(_two_steps(Adam, lr=0.01), _adam_by_hand(0.01, 0.9, 0.999, 1e-8))
    kw = {"lr": 0.02, "betas": (0.8, 0.9), "eps": 1e-3}
    _check(_two_steps(Adam, **kw), _adam_by_hand(0.02, 0.8, 0.9, 1e-3))


def test_adam_first_step_is_lr_times_sign():
    # m_hat = g and v_hat = g^2 on step 1, so the step is lr * g / (|g| + eps) ~ lr * sign(g)
    (w1, _) = _two_steps(Adam, lr=0.01, eps=0.0)
    np.testing.assert_allclose(w1, W0 - 0.01 * np.sign(G0), rtol=1e-15)


def test_adam_weight_decay_by_hand():
    _check(
        _two_steps(Adam, lr=0.01, weight_decay=0.1),
        _adam_by_hand(0.01, 0.9, 0.999, 1e-8, wd=0.1),
    )


def test_adamw_by_hand():
    _check(_two_steps(AdamW, lr=0.01), _adam_by_hand(0.01, 0.9, 0.999, 1e-8, 1e-2, True))
    _check(
        _two_steps(AdamW, lr=0.05, weight_decay=0.3),
        _adam_by_hand(0.05, 0.9, 0.999, 1e-8, 0.3, True),
    )


def test_defaults():
    w = nn.Parameter(np.zeros(2))
    g = Adam([w]).param_groups[0]
    assert (g["lr"], g["betas"], g["eps"], g["weight_decay"]) == (1e-3, (0.9, 0.999), 1e-8, 0)
    assert AdamW([w]).param_groups[0]["weight_decay"] == 1e-2
    s = SGD([w], lr=0.1).param_groups[0]
    assert (s["momentum"], s["dampening"], s["weight_decay"], s["nesterov"]) == (0, 0, 0, False)


def test_parameter_groups_by_hand():
    a, b = nn.Parameter(W0.copy()), nn.Parameter(W0.copy())
    opt = SGD([{"params": [a], "lr": 1.0}, {"params": [b]}], lr=0.1)
    a.grad, b.grad = tg.Tensor(G0), tg.Tensor(G0)
    opt.step()
    np.testing.assert_allclose(a.numpy(), W0 - 1.0 * G0, rtol=1e-15)
    np.testing.assert_allclose(b.numpy(), W0 - 0.1 * G0, rtol=1e-15)


def test_parameter_without_grad_is_left_alone_and_state_is_per_parameter():
    a, b = nn.Parameter(W0.copy()), nn.Parameter(W0.copy())
    opt = SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = tg.Tensor(G0), tg.Tensor(G1)
    opt.step()
    np.testing.assert_allclose(a.numpy(), W0 - 0.1 * G0, rtol=1e-15)
    np.testing.assert_allclose(b.numpy(), W0 - 0.1 * G1, rtol=1e-15)
    b.grad = None
    with pytest.warns(UserWarning):
        opt.step()
    np.testing.assert_allclose(b.numpy(), W0 - 0.1 * G1, rtol=1e-15)  # unchanged
    # a: v = 0.9 G0 + G0 (its own buffer, not b's)
    np.testing.assert_allclose(a.numpy(), W0 - 0.1 * G0 - 0.1 * 1.9 * G0, rtol=1e-14)


# -- training a model, without torch -----------------------------------------------------------


@pytest.mark.parametrize(
    ("opt_cls", "kwargs"),
    [(SGD, {"lr": 0.1, "momentum": 0.9}), (Adam, {"lr": 0.01}), (AdamW, {"lr": 0.01})],
)
def test_training_lowers_the_loss(opt_cls, kwargs):
    tg.manual_seed(0)
    model = nn.MLP(SIZES, "tanh", dtype=np.float64)
    opt = opt_cls(model.parameters(), **kwargs)
    batch = _batches(1)[0]
    losses = _train(model, opt, [batch] * 40)  # one fixed batch: it must be memorised
    assert losses[-1] < 0.5 * losses[0]


# -- saving and restoring ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opt_cls", "kwargs"),
    [
        (SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
        (SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
        (Adam, {"lr": 0.01, "weight_decay": 0.01}),
        (AdamW, {"lr": 0.01}),
    ],
)
def test_state_dict_round_trip_resumes_identically(opt_cls, kwargs):
    batches = _batches(20, seed=3)
    tg.manual_seed(0)
    model = nn.MLP(SIZES, "tanh", dtype=np.float64)
    opt = opt_cls(model.parameters(), **kwargs)
    _train(model, opt, batches[:10])
    # deep copies, as with PyTorch: a state dict shares the model's storage
    saved_model = copy.deepcopy(model.state_dict())
    saved_opt = copy.deepcopy(opt.state_dict())
    expected = _train(model, opt, batches[10:])

    tg.manual_seed(1)  # other initial weights, other hyper-parameters: all replaced on load
    fresh = nn.MLP(SIZES, "tanh", dtype=np.float64)
    fresh_opt = opt_cls(fresh.parameters(), **{**kwargs, "lr": 0.5})
    fresh.load_state_dict(saved_model)
    fresh_opt.load_state_dict(saved_opt)
    assert fresh_opt.param_groups[0]["lr"] == kwargs["lr"]
    assert _train(fresh, fresh_opt, batches[10:]) == expected  # exactly the same numbers
    for (n, p), (_, q) in zip(model.named_parameters(), fresh.named_parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=n)


def test_state_dict_layout():
    a, b, c = (nn.Parameter(np.ones(s)) for s in [(2, 3), (3,), (4,)])
    opt = Adam([{"params": [a, b]}, {"params": [c], "lr": 0.1}], lr=0.01)
    for p in (a, b, c):
        p.grad = tg.ones(p.shape, dtype=np.float64)
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    # PyTorch's layout: parameters numbered in order across groups
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.01, 0.1]
    assert sorted(sd["state"]) == [0, 1, 2]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["exp_avg"].shape == (2, 3)
    assert sd["state"][2]["exp_avg"].shape == (4,)
    assert sd["state"][1]["step"] == 1

    w = nn.Parameter(np.ones(3))
    sgd = SGD([w], lr=0.1, momentum=0.9)
    assert sgd.state_dict()["state"] == {}  # no state before the first step
    w.grad = tg.Tensor(G0)
    sgd.step()
    assert set(sgd.state_dict()["state"][0]) == {"momentum_buffer"}
    np.testing.assert_array_equal(np.asarray(sgd.state_dict()["state"][0]["momentum_buffer"]), G0)


def test_load_state_dict_rejects_a_different_layout():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    opt = SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = tg.ones(2, dtype=np.float64), tg.ones(3, dtype=np.float64)
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError):
        SGD([a], lr=0.1).load_state_dict(sd)  # 1 parameter here, 2 saved
    with pytest.raises(ValueError):
        SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)  # 2 groups vs 1
    with pytest.raises(ValueError, match="shape"):
        SGD([b, a], lr=0.1).load_state_dict(sd)  # buffers of the wrong shapes


# -- warnings ---------------------------------------------------------------------------------


def test_step_warns_when_a_parameter_got_no_gradient():
    used, unused = nn.Parameter(np.ones(3)), nn.Parameter(np.ones((2, 2)))
    opt = SGD([used, unused], lr=0.1)
    (used * used).sum().backward()
    with pytest.warns(UserWarning, match="no gradient") as record:
        opt.step()
    assert "(2, 2)" in str(record[0].message)
    assert record[0].filename == __file__  # points at the caller's step()


def test_step_does_not_warn_when_no_parameter_got_a_gradient():
    a, b = nn.Parameter(np.ones(3)), nn.Parameter(np.ones(2))
    opt = Adam([a, b], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()  # nothing to do, nothing to say
    np.testing.assert_array_equal(a.numpy(), np.ones(3))
    assert opt.state_dict()["state"] == {}


def test_step_does_not_warn_when_every_parameter_got_a_gradient():
    model = nn.MLP([3, 4, 2], dtype=np.float64)
    opt = SGD(model.parameters(), lr=0.1)
    model(tg.Tensor(np.ones((2, 3)))).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()


# -- zero_grad, dtypes, graph ------------------------------------------------------------------


def test_zero_grad_sets_grads_to_none():
    model = nn.MLP([3, 4, 2], dtype=np.float64)
    opt = Adam(model.parameters())
    model(tg.Tensor(np.ones((2, 3)))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize(
    ("opt_cls", "kwargs"),
    [
        (SGD, {"lr": 0.1}),
        (SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "nesterov": True}),
        (Adam, {"lr": 0.01, "weight_decay": 0.01}),
        (AdamW, {"lr": 0.01}),
    ],
)
def test_float32_model_stays_float32(opt_cls, kwargs):
    tg.manual_seed(0)
    model = nn.MLP(SIZES, "relu")  # default dtype: float32
    assert all(p.dtype == np.float32 for p in model.parameters())
    opt = opt_cls(model.parameters(), **kwargs)
    batches = [(x.astype(np.float32), y) for x, y in _batches(3)]
    _train(model, opt, batches)
    for p in model.parameters():
        assert p.dtype == np.float32 and p.grad.dtype == np.float32
    for entry in opt.state_dict()["state"].values():
        for key, value in entry.items():
            if key != "step":
                assert np.asarray(value).dtype == np.float32, key


def test_step_records_no_graph_and_keeps_parameters_leaves():
    model = nn.MLP([3, 4, 2], dtype=np.float64)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    params = list(model.parameters())
    model(tg.Tensor(np.ones((2, 3)))).sum().backward()
    opt.step()
    assert list(model.parameters()) == params  # updated in place, the same objects
    assert all(p.is_leaf and p.grad_fn is None and p.requires_grad for p in params)


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("opt_cls", [SGD, Adam, AdamW])
def test_empty_parameter_list(opt_cls):
    with pytest.raises(ValueError, match="empty"):
        opt_cls([], lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        opt_cls(iter([]), lr=0.1)


@pytest.mark.parametrize("opt_cls", [SGD, Adam, AdamW])
def test_negative_learning_rate(opt_cls):
    with pytest.raises(ValueError, match="-0.1"):
        opt_cls([nn.Parameter(np.ones(2))], lr=-0.1)


@pytest.mark.parametrize("opt_cls", [SGD, Adam, AdamW])
def test_single_tensor_instead_of_list(opt_cls):
    with pytest.raises(TypeError, match="list"):
        opt_cls(nn.Parameter(np.ones(2)), lr=0.1)


@pytest.mark.parametrize("opt_cls", [SGD, Adam])
def test_non_leaf_and_non_grad_tensors_rejected(opt_cls):
    w = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="leaf"):
        opt_cls([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="requires_grad"):
        opt_cls([tg.Tensor(np.ones(2))], lr=0.1)
    with pytest.raises(TypeError):
        opt_cls([np.ones(2)], lr=0.1)


def test_parameter_in_two_groups_rejected():
    w = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError):
        SGD([{"params": [w]}, {"params": [w]}], lr=0.1)


def test_sgd_bad_hyper_parameters():
    w = [nn.Parameter(np.ones(2))]
    with pytest.raises(ValueError, match="[Nn]esterov"):
        SGD(w, lr=0.1, nesterov=True)  # without momentum
    with pytest.raises(ValueError, match="[Nn]esterov"):
        SGD(w, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)  # as PyTorch
    with pytest.raises(ValueError, match="momentum"):
        SGD(w, lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="weight_decay"):
        SGD(w, lr=0.1, weight_decay=-1.0)


@pytest.mark.parametrize("opt_cls", [Adam, AdamW])
def test_adam_bad_hyper_parameters(opt_cls):
    w = [nn.Parameter(np.ones(2))]
    for betas in [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.999)]:
        with pytest.raises(ValueError, match="betas"):
            opt_cls(w, betas=betas)
    with pytest.raises(ValueError, match="eps"):
        opt_cls(w, eps=-1e-8)
    with pytest.raises(ValueError, match="weight_decay"):
        opt_cls(w, weight_decay=-0.1)


def test_repr_lists_hyper_parameters():
    text = repr(SGD([nn.Parameter(np.ones(2))], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "lr: 0.1" in text and "momentum: 0.9" in text
    assert "Parameter Group 0" in text
