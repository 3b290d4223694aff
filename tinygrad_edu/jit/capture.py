"""Running a step once, eagerly, with the recorder listening (see record.py).

For the length of one call, three hooks are in place and then removed again:
  * `Function.apply` first turns the data of every tensor an op reads into a Traced view
    (parameters and other tensors from outside the step included), and labels the kernels
    that follow with the op's name; each recorded node's `backward` labels its own kernels;
  * `Optimizer.step` is recorded as one event (which parameters, which gradient buffers)
    and then runs as usual, unrecorded: program.py replays it over flat buffers;
  * tg's random generator is wrapped, so that random draws (Dropout's mask) are kernels too.
The engine itself is not changed: it computes as it always does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_edu import creation, mode
from tinygrad_edu.function import Function
from tinygrad_edu.jit import JitError, record
from tinygrad_edu.jit.kernel import Root, View, _owner
from tinygrad_edu.jit.record import Recorder, RecordingGenerator, Traced
from tinygrad_edu.mode import state
from tinygrad_edu.nn import module as nn_module
from tinygrad_edu.optim.optimizer import Optimizer
from tinygrad_edu.tensor import Tensor, get_default_dtype

_plain_apply = Function.__dict__["apply"].__func__
_plain_step = Optimizer.step


class OptimizerEvent:
    """One `optimizer.step()` of the recorded call: per group, each parameter and the view of
    its gradient (None where it had none)."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.groups: list[tuple[dict, list[tuple[Tensor, View | None]]]] = []


class Recording:
    """What one recorded call did: its kernels and roots, and how to rebuild its results."""

    def __init__(self, rec: Recorder) -> None:
        self.rec = rec
        self.inputs: list[tuple[Any, Root]] = []  # (position or keyword, root)
        self.outputs: Any = None  # the returned structure, with Views where tensors were
        self.final_grads: list[tuple[Tensor, View | None]] = []  # each parameter's .grad after
        self.params: list[Tensor] = []  # parameter tensors the step read
        self.modules: list[Any] = []  # every module under those that ran ops
        self.grad_enabled = state.grad_enabled
        self.default_dtype = get_default_dtype()
        self.structure = nn_module.structure_changes


def _capture(rec: Recorder, t: Tensor) -> None:
    """Make the data of `t`, an op's input, a Traced view, and know where it came from."""
    d = t.data
    if isinstance(d, Traced):
        return
    if t._hooks:
        raise JitError(
            f"tg.jit: a gradient hook is registered on a tensor of shape {t.shape} that the "
            "step uses; hooks run Python code during backward, which a replay cannot. Remove "
            "the hook (handle.remove()) or call the step without tg.jit"
        )
    owner = _owner(d)
    root = rec.roots.get(id(owner))
    if root is None:
        kind = "param" if t.requires_grad and t.grad_fn is None else "external"
        root = Root(owner, kind, len(rec.roots))
        root.tensor = t
        root.data = d  # what t.data was: a replay checks it still is
        rec.roots[id(owner)] = root
        if kind == "param" and t.grad is not None:  # a gradient from before the step
            g = _owner(t.grad.data)
            if id(g) not in rec.roots:
                rec.roots[id(g)] = Root(g, "prevgrad", len(rec.roots))
    if root.kind in ("param", "external"):
        rec.captured.append((t, d, root))
    rec.swapped.append((t, d))
    t.data = d.view(Traced)


def _recording_apply(cls: type, *inputs: Any, **params: Any) -> Any:
    rec = record.active()
    if rec is None:
        return _plain_apply(cls, *inputs, **params)
    for t in inputs:
        if isinstance(t, Tensor):
            _capture(rec, t)
    if state.scope:
        top = state.scope[0]
        rec.scoped_modules[id(top)] = top
    rec.ops += 1
    rec.label = ("forward", cls.__name__, state.scope)
    out = _plain_apply(cls, *inputs, **params)
    rec.label = ("forward", "(between ops)", state.scope)
    node = getattr(out, "grad_fn", None)
    if node is not None and "backward" not in node.__dict__:
        node.backward = _labelled_backward(node, node.backward)
    return out


def _labelled_backward(node: Function, backward: Any) -> Any:
    def run(grad: Any) -> Any:
        rec = record.active()
        if rec is not None:
            if state.grad_enabled:
                raise JitError(
                    "tg.jit: backward(create_graph=True) (or tg.grad with create_graph) inside "
                    "a jitted step: the gradients would be a graph of Tensors, which a replay "
                    "does not build. Call this step without tg.jit"
                )
            if node._hooks:
                raise JitError(
                    f"tg.jit: a gradient hook is registered on the output of {node.name}; hooks "
                    "run Python code during backward, which a replay cannot. Remove the hook or "
                    "call the step without tg.jit"
                )
            rec.label = ("backward", node.name, node.scope)
        try:
            return backward(grad)
        finally:
            if rec is not None:
                rec.label = ("backward", "(engine: sums and copies of gradients)", ())

    return run


def _recording_step(self: Optimizer) -> None:
    rec = record.active()
    if rec is None:
        return _plain_step(self)
    event = OptimizerEvent(self)
    for group in self.param_groups:
        items = []
        for p in group["params"]:
            items.append((p, None if p.grad is None else rec.view(p.grad.data)))
        event.groups.append((group, items))
    rec.optimizer_events.append(event)
    rec.label = ("optimizer", type(self).__name__, ())
    rec.record("optimizer", None, (), {}, (), extra=event)
    rec.paused += 1
    try:
        return _plain_step(self)
    finally:
        rec.paused -= 1


def record_call(fn: Any, args: tuple, kwargs: dict) -> tuple[Any, Recording]:
    """Run fn(*args, **kwargs) eagerly while recording; return its result and the recording."""
    rec = Recorder()
    recording = Recording(rec)

    def as_input(key: Any, x: Any) -> Any:
        if not isinstance(x, Tensor):
            return x
        plain = np.empty_like(x.data, order="K")  # laid out as the caller's array
        np.copyto(plain, x.data)
        root = Root(plain, "input", len(rec.roots))
        rec.roots[id(plain)] = root
        owned = plain.view(Traced)
        recording.inputs.append((key, root))
        t = Tensor._make(owned)
        t.name = x.name
        return t

    call_args = tuple(as_input(i, a) for i, a in enumerate(args))
    call_kwargs = {k: as_input(k, v) for k, v in kwargs.items()}
    clock = mode.inplace_changes
    generator = creation._rng
    proxy = RecordingGenerator(generator)
    record._active = rec
    Function.apply = classmethod(_recording_apply)
    Optimizer.step = _recording_step
    creation._rng = proxy
    try:
        result = fn(*call_args, **call_kwargs)
    finally:
        record._active = None
        Function.apply = classmethod(_plain_apply)
        Optimizer.step = _plain_step
        if creation._rng is proxy:
            creation._rng = generator
        for t, d in reversed(rec.swapped):
            t.data = d
    ticks = mode.inplace_changes - clock
    _finish(recording, result, ticks)
    return _plain_result(result), recording


def _finish(recording: Recording, result: Any, ticks: int) -> None:
    """Describe the outputs and the final state, and refuse what a replay could not repeat."""
    rec = recording.rec
    returned: set[int] = set()

    def spec(x: Any) -> Any:
        if isinstance(x, Tensor):
            return ("tensor", rec.view(x.data))
        if isinstance(x, (tuple, list)):
            return (type(x), [spec(y) for y in x])
        if isinstance(x, dict):
            return (dict, {k: spec(v) for k, v in x.items()})
        if x is None or isinstance(x, (str, bool)):
            return ("const", x)
        if isinstance(x, (int, float, np.number)):
            found = rec.escapes.get(id(x))
            if found is not None and found[0] is x:
                returned.add(id(x))
                if found[2] is not None:  # returned, so an output rather than a guard
                    rec.kernels.remove(found[2])
                return ("item", found[1])
            return ("const", x)
        raise JitError(
            f"tg.jit: the step returned a {type(x).__name__}; a jitted step may return Tensors, "
            "numbers read with .item(), and tuples, lists or dicts of them"
        )

    recording.outputs = spec(result)
    problems = []
    if rec.refusal:
        problems.append(rec.refusal)
    reads = list(rec.python_reads)
    reads += [e[3] for key, e in rec.escapes.items() if e[2] is None and key not in returned]
    if reads:
        problems.append(
            f"the step reads values into Python ({', '.join(sorted(set(reads)))}) and does not "
            "return them; a replay runs no Python code, so the value would be stale. Return "
            "what you need (e.g. `return loss`) and read it outside the step, outside tg.jit"
        )
    if ticks != len(rec.optimizer_events):
        problems.append(
            "the step changes a tensor in place (add_, t[i] = ..., zero_grad(set_to_none="
            "False)) besides the optimizer's update; a replay repeats only the recorded "
            "numpy work and the optimizer step. Write it out of place, or leave it out of "
            "the jitted step"
        )
    for k in rec.kernels:
        views = k.views()
        if k.kind == "optimizer":
            views += [v for _, items in k.extra.groups for _, v in items if v is not None]
        if any(v.root.kind == "prevgrad" for v in views):
            problems.append(
                "the step adds to gradients left from before the call (.grad was not None "
                "when backward ran); call optimizer.zero_grad() inside the jitted step"
            )
            break
        if any(v.root.kind == "input" for v in k.outs):
            problems.append("the step writes into one of its input tensors in place")
            break
    if problems:
        raise JitError(
            "tg.jit cannot replay this step (it ran once, eagerly, and its effects stand): "
            + "; ".join(dict.fromkeys(problems))
        )
    # every parameter the step read or the optimizer updated, and its .grad afterwards
    params: dict[int, Tensor] = {}
    for root in rec.roots.values():
        if root.kind == "param":
            params[id(root.tensor)] = root.tensor
    for event in rec.optimizer_events:
        for _, items in event.groups:
            for p, _ in items:
                params.setdefault(id(p), p)
    recording.params = list(params.values())
    for p in recording.params:
        g = p.grad
        recording.final_grads.append((p, None if g is None else rec.view(g.data)))
        if g is not None and isinstance(g.data, Traced):
            g.data = g.data.view(np.ndarray)
    seen: dict[int, Any] = {}
    for top in rec.scoped_modules.values():
        if hasattr(top, "modules"):
            for m in top.modules():
                seen[id(m)] = m
    recording.modules = list(seen.values())


def _plain_result(x: Any) -> Any:
    """The eager result as the user gets it: tensors hold plain arrays."""
    if isinstance(x, Tensor):
        if isinstance(x.data, Traced):
            x.data = x.data.view(np.ndarray)
        return x
    if isinstance(x, (tuple, list)):
        return type(x)(_plain_result(y) for y in x)
    if isinstance(x, dict):
        return {k: _plain_result(v) for k, v in x.items()}
    return x
