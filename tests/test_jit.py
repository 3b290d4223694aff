"""tg.jit: a replayed step is the eager step, bit for bit, and a replay never goes silently wrong.

Every exactness test runs the same training twice from the same seed, once eagerly and once
with the step under tg.jit, and compares every loss and every parameter with `==` on the
bits (np.array_equal on the arrays): not a tolerance.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.nn import functional as F

# -- helpers -----------------------------------------------------------------------------------


def _digits_batches(n_steps: int, batch: int, dtype: np.dtype, seed: int = 0) -> list:
    """n_steps batches of the digits, the last epoch's last batch smaller (a new signature)."""
    X, y = tg.datasets.load_digits()
    X = (X / 16.0).astype(dtype)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))[:300]  # 300 = 4 batches of 64 and one of 44 per epoch
    out = []
    while len(out) < n_steps:
        for i in range(0, len(order), batch):
            idx = order[i : i + batch]
            out.append((X[idx], y[idx]))
    return out[:n_steps]


def _optimizer(name: str, params: list) -> tg.optim.Optimizer:
    if name == "sgd":
        return tg.optim.SGD(params, lr=0.05)
    if name == "momentum":
        return tg.optim.SGD(params, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-3)
    if name == "nesterov":
        return tg.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
    if name == "adam":
        return tg.optim.Adam(params, lr=1e-3, weight_decay=1e-4)
    if name == "adamw":
        return tg.optim.AdamW(params, lr=1e-3)
    raise ValueError(name)


def _model(kind: str, dtype: np.dtype) -> tg.nn.Module:
    tg.manual_seed(3)
    if kind == "digits":
        model = tg.nn.MLP([64, 32, 10])
    else:
        model = tg.nn.Sequential(
            tg.nn.Linear(64, 16), tg.nn.Tanh(), tg.nn.Linear(16, 8), tg.nn.Sigmoid(),
            tg.nn.Linear(8, 1),
        )  # fmt: skip
    for p in model.parameters():
        p.data = p.data.astype(dtype)
    return model


def _train(kind: str, opt_name: str, dtype: np.dtype, jit: bool, steps: int) -> tuple:
    model = _model(kind, dtype)
    opt = _optimizer(opt_name, list(model.parameters()))

    def step(x: tg.Tensor, y: tg.Tensor) -> tg.Tensor:
        opt.zero_grad()
        out = model(x)
        if kind == "digits":
            loss = F.cross_entropy(out, y)
        else:
            target = (y.astype(dtype) / 9.0).reshape(-1, 1)
            loss = F.mse_loss(out, target)
        loss.backward()
        opt.step()
        return loss

    run = tg.jit(step) if jit else step
    losses = [run(tg.Tensor(x), tg.Tensor(y)).item() for x, y in _digits_batches(steps, 64, dtype)]
    params = [p.data.copy() for p in model.parameters()]
    return losses, params, run


# -- exactness ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("opt_name", ["sgd", "momentum", "nesterov", "adam", "adamw"])
@pytest.mark.parametrize("kind", ["digits", "tanh_sigmoid_mse"])
def test_replay_is_the_eager_step_bit_for_bit_over_200_steps(kind, opt_name, dtype):
    eager_losses, eager_params, _ = _train(kind, opt_name, dtype, jit=False, steps=200)
    jit_losses, jit_params, run = _train(kind, opt_name, dtype, jit=True, steps=200)
    assert jit_losses == eager_losses
    for a, b in zip(eager_params, jit_params):
        assert a.dtype == b.dtype == dtype
        assert np.array_equal(a, b)
    # the two signatures (batches of 64 and the last one of 44) each recorded once and were
    # checked once; everything else replayed
    assert run.stats["recorded"] == 2
    assert run.stats["checked"] == 2
    assert run.stats["replayed"] == 200 - 4
    assert run.stats["eager"] == 0


def test_the_losses_actually_fall():
    # a replay that did nothing would be "exact" against a broken eager run: the loss must fall
    losses, _, _ = _train("digits", "momentum", np.float32, jit=True, steps=60)
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:5])


def test_gradients_after_a_replayed_step_are_the_eager_ones():
    grads = []
    for jit in (False, True):
        model = _model("digits", np.float32)
        opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y, model=model, opt=opt):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        run = tg.jit(step) if jit else step
        for x, y in _digits_batches(5, 64, np.float32):
            run(tg.Tensor(x), tg.Tensor(y))
        grads.append([p.grad.data.copy() for p in model.parameters()])
    assert all(np.array_equal(a, b) for a, b in zip(*grads))


# -- what a replay returns -------------------------------------------------------------------------


def _simple_step(dropout: float = 0.0):
    tg.manual_seed(0)
    layers = [tg.nn.Linear(8, 16), tg.nn.ReLU()]
    if dropout:
        layers.append(tg.nn.Dropout(dropout))
    model = tg.nn.Sequential(*layers, tg.nn.Linear(16, 3))
    opt = tg.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, opt, step


def _batch(seed: int, n: int = 6):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8)).astype(np.float32)
    return tg.Tensor(x), tg.Tensor(rng.integers(0, 3, n))


def test_outputs_are_fresh_tensors_that_never_alias():
    _, _, step = _simple_step()
    run = tg.jit(step)
    kept = [run(*_batch(i)) for i in range(6)]
    values = [t.item() for t in kept]
    run(*_batch(99))
    assert [t.item() for t in kept] == values  # a later replay did not overwrite them
    assert len({id(t.data) for t in kept}) == len(kept)
    assert all(t.grad_fn is None for t in kept[2:])  # replays (3rd call on) give plain tensors


def test_returning_item_and_structures():
    model, opt, _ = _simple_step()

    @tg.jit
    def step(x, y):
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        return {"loss": loss.item(), "pred": logits.argmax(axis=1), "both": (loss, 7)}

    for i in range(5):
        x, y = _batch(i)
        out = step(x, y)
        assert isinstance(out["loss"], float)
        assert out["both"][1] == 7
        assert out["both"][0].item() == out["loss"]
        assert out["pred"].shape == (6,)
    assert step.stats["replayed"] == 3


def test_a_jitted_method():
    model, opt, _ = _simple_step()

    class Trainer:
        @tg.jit
        def step(self, x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

    t = Trainer()
    losses = [t.step(*_batch(i)).item() for i in range(4)]
    assert all(np.isfinite(losses))
    assert Trainer.step.stats["replayed"] == 2  # the method, bound to t, replays too


# -- guards: a change the replay could not see records anew or runs eagerly ----------------------


def _twin_runs(change, n_before: int = 4, n_after: int = 4, dropout: float = 0.0):
    """Train eagerly and jitted side by side, call `change(model, opt)` on both in the middle,
    and return both loss lists and parameter lists."""
    results = []
    for jit in (False, True):
        model, opt, step = _simple_step(dropout)
        run = tg.jit(step) if jit else step
        tg.manual_seed(11)
        losses = [run(*_batch(i)).item() for i in range(n_before)]
        change(model, opt)
        losses += [run(*_batch(100 + i)).item() for i in range(n_after)]
        results.append((losses, [p.data.copy() for p in model.parameters()], run))
    (le, pe, _), (lj, pj, run) = results
    assert lj == le
    assert all(np.array_equal(a, b) for a, b in zip(pe, pj))
    return run


def test_learning_rate_changed_through_param_groups_is_used():
    def halve(model, opt):
        for g in opt.param_groups:
            g["lr"] *= 0.5

    run = _twin_runs(halve)
    assert run.stats["recorded"] == 1  # hyper-parameters are read at every replay


def test_momentum_switched_on_midway():
    def switch(model, opt):
        opt.param_groups[0]["momentum"] = 0.9

    _twin_runs(switch)


def test_train_eval_switch_records_anew_and_dropout_masks_are_fresh():
    def to_eval(model, opt):
        model.eval()

    run = _twin_runs(to_eval, dropout=0.5)
    assert run.stats["recorded"] == 2


def test_dropout_draws_a_new_mask_every_replay():
    # same seed, eager vs jit: equal bit for bit, so the replay draws what eager draws
    run = _twin_runs(lambda m, o: None, n_before=8, n_after=0, dropout=0.5)
    assert run.stats["replayed"] == 6


def test_replaced_parameter_data_records_anew():
    def replace(model, opt):
        w = model[0].weight
        w.data = w.data * 0.5

    run = _twin_runs(replace)
    assert run.stats["recorded"] == 2


def test_replaced_layer_records_anew():
    def replace(model, opt):
        tg.manual_seed(5)
        new = tg.nn.Linear(16, 3)
        model[-1].weight.data[...] = new.weight.data  # (values only: the same parameter)
        model[-1].bias.data[...] = new.bias.data

    _twin_runs(replace)
    model, opt, step = _simple_step()
    run = tg.jit(step)
    for i in range(3):
        run(*_batch(i))
    setattr(model, "0", tg.nn.Linear(8, 16))  # a new module: not the optimizer's parameters
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "got no gradient" from SGD
        run(*_batch(5))
    assert run.stats["recorded"] == 2


def test_freezing_a_parameter_records_anew():
    def freeze(model, opt):
        model[0].weight.requires_grad_(False)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # SGD: "got no gradient"
        run = _twin_runs(freeze)
    assert run.stats["recorded"] == 2


def test_optimizer_load_state_dict_records_anew():
    def reload(model, opt):
        opt.load_state_dict(opt.state_dict())

    run = _twin_runs(reload)
    assert run.stats["recorded"] == 2


def test_no_grad_around_a_jitted_step_behaves_as_eager():
    _, _, step = _simple_step()
    run = tg.jit(step)
    for i in range(3):
        run(*_batch(i))
    with tg.no_grad():
        with pytest.raises(RuntimeError, match="does not require grad"):
            run(*_batch(9))


def test_python_branch_on_a_value_is_guarded():
    results = []
    for jit in (False, True):
        model, opt, _ = _simple_step()

        def step(x, y, model=model, opt=opt):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            if (x.sum() > 0).item():  # a branch that depends on the batch
                loss = loss * 2.0
            loss.backward()
            opt.step()
            return loss

        run = tg.jit(step) if jit else step
        results.append([run(*_batch(i)).item() for i in range(12)])
    assert results[0] == results[1]
    signs = [bool(_batch(i)[0].data.sum() > 0) for i in range(12)]
    assert len(set(signs)) == 2  # the batches take both branches
    assert run.stats["recorded"] == 2  # one program per branch, each replayed when it fits
    assert run.stats["eager"] == 0


def test_bad_targets_at_replay_raise_as_eager():
    _, _, step = _simple_step()
    run = tg.jit(step)
    for i in range(3):
        run(*_batch(i))
    x, _ = _batch(7)
    with pytest.raises(ValueError, match="targets must be in"):
        run(x, tg.Tensor(np.array([0, 1, 2, 3, 0, 1])))


def test_anomaly_mode_runs_eagerly():
    _, _, step = _simple_step()
    run = tg.jit(step)
    for i in range(3):
        run(*_batch(i))
    with tg.detect_anomaly():
        x, y = _batch(4)
        x.data[0, 0] = np.nan
        with pytest.raises(RuntimeError, match="NaN"):
            run(x, y)
    assert run.stats["eager"] == 1


def test_new_shapes_record_new_programs_up_to_max_traces():
    _, _, step = _simple_step()
    run = tg.jit(step, max_traces=2)
    for n in (4, 5, 6, 4):
        run(*_batch(n, n))
    assert run.stats["recorded"] == 4  # 4 was evicted by 6 and recorded again


# -- refusals: a clear error instead of a wrong replay -------------------------------------------


def _refused(step, match):
    run = tg.jit(step)
    with pytest.raises(tg.JitError, match=match):
        run(*_batch(0))


def test_refuses_hooks():
    model, opt, step = _simple_step()
    model[0].weight.register_hook(lambda g: g * 2)
    _refused(step, "hook")


def test_refuses_create_graph():
    model, opt, _ = _simple_step()

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward(create_graph=True)
        opt.step()
        return loss

    _refused(step, "create_graph")


def test_refuses_floats_read_and_not_returned():
    model, opt, _ = _simple_step()
    seen = []

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        seen.append(loss.item())  # a replay would not append
        loss.backward()
        opt.step()
        return loss

    _refused(step, r"reads values into Python \(.item\(\)\)")


def test_refuses_in_place_changes_besides_the_optimizer():
    model, opt, _ = _simple_step()
    count = tg.zeros(())

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        count.add_(1.0)
        return loss

    _refused(step, "in place")


def test_refuses_gradients_accumulated_from_before_the_call():
    model, opt, _ = _simple_step()

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        loss.backward()  # no zero_grad: adds to last call's .grad
        opt.step()
        return loss

    x, y = _batch(0)
    step(x, y)  # leaves .grad behind
    _refused(step, "zero_grad")


def test_refuses_arguments_it_cannot_key_on():
    _, _, step = _simple_step()
    run = tg.jit(step)
    x, y = _batch(0)
    with pytest.raises(TypeError, match="numpy array"):
        run(x.data, y)
    with pytest.raises(tg.JitError, match="requires grad"):
        run(tg.Tensor(x.data, requires_grad=True), y)
    with pytest.raises(TypeError, match="expected a function"):
        tg.jit(3)


def test_numpy_outside_the_recording_is_caught_by_the_check_call():
    model, opt, _ = _simple_step()
    results = []
    for jit in (False, True):
        model, opt, _ = _simple_step()

        def step(x, y, model=model, opt=opt):
            opt.zero_grad()
            scale = float(np.asarray(x.data).std())  # numpy on plain data: invisible
            loss = F.cross_entropy(model(x), y) * scale
            loss.backward()
            opt.step()
            return loss

        run = tg.jit(step) if jit else step
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results.append([run(*_batch(i)).item() for i in range(5)])
    assert results[0] == results[1]  # the wrong replay never reached the user
    assert any(issubclass(w.category, tg.JitWarning) for w in caught)
    assert run.stats["eager"] == 3


# -- the trace ---------------------------------------------------------------------------------


def test_trace_lists_the_kernels_for_learners():
    _, _, step = _simple_step()
    run = tg.jit(step)
    assert "nothing recorded" in run.trace
    run(*_batch(0))
    text = run.trace
    assert "matmul" in text and "SGD.update" in text and "maximum" in text
    assert "0.weight" in text  # parameters by their module path
    assert "kernels (" in text and "KiB" in text and "reused" in text
    lines = [line for line in text.splitlines() if line[:4].strip().isdigit()]
    assert len(lines) == len(run.last)
    assert str(run).startswith("<tg.jit of step")


def test_replay_runs_no_engine_code(monkeypatch):
    _, _, step = _simple_step()
    run = tg.jit(step)
    for i in range(2):
        run(*_batch(i))

    def forbidden(*a, **k):
        raise AssertionError("the engine ran during a replay")

    from tinygrad_edu import autograd
    from tinygrad_edu.function import Function

    monkeypatch.setattr(Function, "apply", classmethod(forbidden))
    monkeypatch.setattr(autograd, "backward_steps", forbidden)
    monkeypatch.setattr(tg.optim.SGD, "step", forbidden)
    loss = run(*_batch(5))
    assert np.isfinite(loss.item())
    assert run.stats["replayed"] == 1


def test_the_readme_example_runs_as_shown(capsys):
    from pathlib import Path

    text = (Path(__file__).parents[1] / "README.md").read_text()
    section = text[text.index("## Replaying a step") :]
    code = section.split("```python")[1].split("```")[0]
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert out.startswith("{'recorded': 1, 'checked': 1, 'replayed': 3, 'eager': 0}")
    assert "SGD.update" in out


# -- other kinds of step -----------------------------------------------------------------------


def test_an_evaluation_step_without_gradients():
    model, _, _ = _simple_step()

    @tg.jit
    @tg.no_grad()
    def predict(x):
        return model(x).argmax(axis=1), model(x).softmax().max()

    for i in range(5):
        x, _ = _batch(i)
        pred, top = predict(x)
        with tg.no_grad():
            logits = model(x)
        assert np.array_equal(pred.data, logits.argmax(axis=1).data)
        assert top.item() == logits.softmax().max().item()
    assert predict.stats["replayed"] == 3


def test_a_gradient_only_step_leaves_the_gradients_in_grad():
    grads = []
    for jit in (False, True):
        model, _, _ = _simple_step()

        def grad_step(x, y, model=model):
            model.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            return loss

        run = tg.jit(grad_step) if jit else grad_step
        for i in range(4):
            run(*_batch(i))
        grads.append([p.grad.data.copy() for p in model.parameters()])
    assert all(np.array_equal(a, b) for a, b in zip(*grads))


def test_a_jitted_step_inside_another_is_part_of_it():
    model, opt, _ = _simple_step()

    @tg.jit
    def forward(x, y):
        return F.cross_entropy(model(x), y)

    @tg.jit
    def step(x, y):
        opt.zero_grad()
        loss = forward(x, y)
        loss.backward()
        opt.step()
        return loss

    for i in range(4):
        step(*_batch(i))
    assert step.stats["replayed"] == 2
    # inside step's recording it was part of step; it never replayed on its own (a replay's
    # outputs have no graph, and step differentiates them)
    assert forward.stats["replayed"] == 0


def test_check_false_replays_from_the_second_call():
    _, _, step = _simple_step()
    run = tg.jit(step, check=False)
    for i in range(3):
        run(*_batch(i))
    assert run.stats == {"recorded": 1, "checked": 0, "replayed": 2, "eager": 0}
