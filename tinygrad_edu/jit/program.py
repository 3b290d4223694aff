"""A recorded step turned into a program: numpy kernels over planned buffers, run in a loop.

Compiling a `Recording` (capture.py) decides where every root lives during a replay:
  * the step's inputs: buffers of their own, into which each call's arrays are copied;
  * parameters the optimizer updates: one flat buffer per parameter group and dtype (their
    `.data` become views of it), with their gradients in another flat buffer and the
    optimizer's state (momentum, Adam's averages) in more, so that the update is one numpy
    call per buffer instead of a Python loop over parameters;
  * other tensors the step reads: their own arrays, read as they are at each replay;
  * temporaries: blocks of memory shared between temporaries whose lifetimes do not overlap
    (a buffer is reused once its last reader has run);
  * what outlives the step (outputs, `.grad`s): buffers of their own.
Each kernel is then bound to those arrays once, as a ready-to-call `functools.partial`, and a
replay is `for kernel in kernels: kernel()`: no Tensor objects, no nodes, no graph walk.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from tinygrad_edu import creation
from tinygrad_edu.jit import JitError, trace
from tinygrad_edu.jit.buckets import adopt, optimizer_step
from tinygrad_edu.jit.capture import Recording
from tinygrad_edu.jit.kernel import Kernel, View, _address, _owner
from tinygrad_edu.jit.plan import plan_memory
from tinygrad_edu.mode import state
from tinygrad_edu.nn import module as nn_module
from tinygrad_edu.tensor import Tensor, get_default_dtype

# ufuncs whose outputs numpy 2 no longer wants by position (a DeprecationWarning)
_NO_POSITIONAL = {np.maximum, np.minimum}


class GuardFailed(Exception):
    """A value read in Python during recording is different now: the step would branch."""

    def __init__(self, position: int, what: str) -> None:
        super().__init__(what)
        self.position = position


# -- the program ----------------------------------------------------------------------------------


class Program:
    """One recorded step, compiled. `check()` says whether it may replay now, `run()` replays."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        rec = recording.rec
        self.ops = rec.ops
        self.grad_enabled = recording.grad_enabled
        self.default_dtype = recording.default_dtype
        self.structure = recording.structure
        self.training = [(m, m.training) for m in recording.modules]
        self._names(recording)
        # optimizer steps: flat buckets (moves the parameters' data into them)
        self.opt_steps = []
        for k in rec.kernels:
            if k.kind == "optimizer":
                self.opt_steps.append((k, k.extra, adopt(k.extra)))
        self._relocate: dict[int, list] = {}  # id(old owner) -> [(start, end, raw, new start)]
        for _, _, buckets in self.opt_steps:
            for b in buckets:
                raw = b.P.view(np.uint8)
                for old, off in zip(b.old, b.offsets):
                    owner = _owner(old)
                    start = _address(old) - _address(owner)
                    entry = (start, start + old.nbytes, raw, int(off) * b.P.itemsize)
                    self._relocate.setdefault(id(owner), []).append(entry)
        plan_memory(self, rec)
        self._bind(rec)
        self._guards(recording)
        for _, _, buckets in self.opt_steps:
            for b in buckets:
                b.old = []  # relocated: the old arrays need not be kept
        rec.swapped, rec.escapes = [], {}  # the recorded step's tensors can go

    # -- names for the trace ---------------------------------------------------------------
    def _names(self, recording: Recording) -> None:
        rec = recording.rec
        paths: dict[int, str] = {}
        self.module_paths: dict[int, str] = {}
        for top in rec.scoped_modules.values():
            if hasattr(top, "named_parameters"):
                for name, p in top.named_parameters():
                    paths.setdefault(id(p), name)
                for name, m in top.named_modules():
                    self.module_paths.setdefault(id(m), name or type(m).__name__)
        self.param_spans: dict[int, list] = {}
        for t, d, root in rec.captured:
            if root.kind == "param":
                start = _address(d) - _address(root.array)
                name = paths.get(id(t)) or t.name or f"p{len(self.param_spans)}"
                self.param_spans.setdefault(root.index, []).append((start, start + d.nbytes, name))
        counts: dict[str, int] = {}
        for root in rec.roots.values():
            if root.kind == "param" and root.tensor is not None:
                root.name = paths.get(id(root.tensor)) or root.tensor.name or ""
            if not root.name:
                prefix = {"input": "in", "param": "p", "external": "ext", "const": "c",
                          "scratch": "s", "temp": "t", "prevgrad": "g"}[root.kind]  # fmt: skip
                root.name = f"{prefix}{counts.get(prefix, 0)}"
                counts[prefix] = counts.get(prefix, 0) + 1

    # -- memory ----------------------------------------------------------------------------
    def _param_name(self, p: Any) -> str:
        for r in self.recording.rec.roots.values():
            if r.tensor is p and r.name:
                return r.name
        return "?"

    def bind(self, v: Any) -> Any:
        """The array (or structure) a kernel will use for an operand."""
        if isinstance(v, View):
            where = self.storage.get(v.root.index)
            if where is None:
                return v.array
            offset = v.offset
            if isinstance(where, str):  # a parameter moved into a flat buffer
                for start, stop, raw, new in self._relocate[id(v.root.array)]:
                    if start <= offset < stop or (start == offset == stop):
                        where, offset = raw, new + offset - start
                        break
                else:
                    return v.array  # this tensor did not move (a frozen parameter, say)
            return np.ndarray(v.shape, v.dtype, buffer=where, offset=offset, strides=v.strides)
        if isinstance(v, tuple):
            return tuple(self.bind(x) for x in v)
        if isinstance(v, list):
            return [self.bind(x) for x in v]
        if isinstance(v, dict):
            return {k: self.bind(x) for k, x in v.items()}
        return v

    def _bind(self, rec: Any) -> None:
        calls = []
        self.first_mutation = len(self.kernels)
        for i, k in enumerate(self.kernels):
            calls.append(self._callable(i, k))
            if k.kind == "optimizer" or any(
                v.root.kind in ("param", "external", "const") for v in k.outs
            ):
                self.first_mutation = min(self.first_mutation, i)
        self.calls = calls
        guards = [i for i, k in enumerate(self.kernels) if k.kind == "guard"]
        # random draws before a guard: a replay that stops there must give the draws back
        self.draws = bool(guards) and any(k.kind == "random" for k in self.kernels[: max(guards)])
        self.inputs = [(key, root.array.view(np.ndarray)) for key, root in self.recording.inputs]
        self.final_grads = [
            (p, None if v is None else Tensor._make(self.bind(v)))
            for p, v in self.recording.final_grads
        ]
        self._outputs = _bind_outputs(self.recording.outputs, self.bind)
        # drop the recorded arrays of everything that now lives elsewhere
        for k in self.kernels:
            for v in k.views():
                if isinstance(self.storage.get(v.root.index), np.ndarray):
                    v.array = None
        self.roots = list(rec.roots.values())
        for r in self.roots:
            if isinstance(self.storage.get(r.index), np.ndarray):
                r.array = _Shape(r.array)  # its memory is elsewhere now

    def _callable(self, i: int, k: Kernel) -> Any:
        b = self.bind
        if k.kind == "ufunc":
            args, kw = b(k.args), b(k.kwargs)
            if k.extra == "at":
                return partial(k.fn, *args, **kw)
            outs = tuple(b(v) for v in k.outs)
            ufunc = k.fn.__self__
            if k.extra == "__call__" and len(args) == ufunc.nin and ufunc not in _NO_POSITIONAL:
                return partial(k.fn, *args, *outs, **kw)  # outputs by position: 0.3 us less
            return partial(k.fn, *args, out=outs[0] if len(outs) == 1 else outs, **kw)
        if k.kind == "func":
            args, kw = b(k.args), b(k.kwargs)
            if k.fn is np.copyto:
                return partial(np.copyto, b(k.outs[0]), *args, **kw)
            if k.extra == "out":
                return partial(k.fn, *args, **kw)
            return partial(_into, b(k.outs[0]), k.fn, args, kw)
        if k.kind == "restore":
            snapshot = k.args[0]
            if (
                snapshot.dtype.kind in "biuf"
                and not snapshot.any()
                and not (snapshot.dtype.kind == "f" and np.signbit(snapshot).any())
            ):
                return partial(b(k.outs[0]).fill, 0)  # all +0: the same bits, at memset speed
            return partial(np.copyto, b(k.outs[0]), snapshot)
        if k.kind == "tograd":
            return partial(np.copyto, k.extra, b(k.args[0]))
        if k.kind == "reshape":
            return partial(_reshape_into, b(k.outs[0]), b(k.args[0]), k.extra)
        if k.kind == "gather":
            return partial(_gather, b(k.outs[0]), b(k.args[0]), b(k.args[1]))
        if k.kind == "scatter":
            return partial(b(k.outs[0]).__setitem__, b(k.args[0]), b(k.args[1]))
        if k.kind == "fill":
            return partial(b(k.outs[0]).fill, k.args[0])
        if k.kind == "random":
            return partial(_draw, b(k.outs[0]), k.fn, k.args, k.kwargs)
        if k.kind == "guard":
            return partial(_guard, i, k.fn, b(k.args[0]), k.extra)
        if k.kind == "optimizer":
            buckets = next(bs for kk, _, bs in self.opt_steps if kk is k)
            grads = {id(b_): G for b_, G in self.grad_buffers}
            event = k.extra
            params = [p for bk in buckets for p in bk.params]
            missing = sum(1 for _, items in event.groups for _, v in items if v is None)
            pairs = [(bk, grads[id(bk)]) for bk in buckets]
            return partial(optimizer_step, event.optimizer, pairs, params, missing * bool(params))
        raise JitError(f"tg.jit: unknown kernel kind {k.kind!r}")  # pragma: no cover

    # -- guards ----------------------------------------------------------------------------
    def _guards(self, recording: Recording) -> None:
        moved = {}
        for _, _, buckets in self.opt_steps:
            for bk in buckets:
                moved.update({id(p): (p, v) for p, v in zip(bk.params, bk.views)})
        data = {}
        for t, d, _ in recording.rec.captured:
            data[id(t)] = moved.get(id(t), (t, d))
        for key, pair in moved.items():
            data.setdefault(key, pair)
        self.data_guard = [(t, d, t.requires_grad) for t, d in data.values()]
        self.opt_guard = []
        for _, event, buckets in self.opt_steps:
            opt = event.optimizer
            lists = [(g, g["params"], len(g["params"])) for g, _ in event.groups]
            self.opt_guard.append((opt, opt.param_groups, len(opt.param_groups), lists, buckets))

    def check(self) -> str | None:
        """None if this program may replay now, else what changed since it was recorded."""
        if state.grad_enabled is not self.grad_enabled:
            return "grad mode (tg.no_grad / enable_grad) is not what it was when recorded"
        if nn_module.structure_changes != self.structure:
            return "a module's parameters or sub-modules were reassigned"
        if get_default_dtype() != self.default_dtype:
            return "the default dtype changed (tg.set_default_dtype)"
        for m, flag in self.training:
            if m.training is not flag:
                return f"{type(m).__name__} was switched to {'train' if m.training else 'eval'}()"
        for t, d, needs_grad in self.data_guard:
            if t.data is not d:
                return f"the .data of a tensor of shape {t.shape} was replaced"
            if t.requires_grad is not needs_grad:
                return f"requires_grad of a tensor of shape {t.shape} changed"
        for opt, groups, n, lists, buckets in self.opt_guard:
            if opt.param_groups is not groups or len(groups) != n:
                return f"{type(opt).__name__}'s parameter groups changed"
            for (g, params, m), now in zip(lists, groups):
                if now is not g or g["params"] is not params or len(params) != m:
                    return f"{type(opt).__name__}'s parameters changed"
            for bk in buckets:
                if opt.state is not bk.state_dict_obj:
                    return f"{type(opt).__name__}'s state was replaced (load_state_dict)"
        return None

    # -- running ---------------------------------------------------------------------------
    def run(self, args: tuple, kwargs: dict) -> Any:
        """Replay: copy the inputs in, run every kernel, set .grad, give the outputs."""
        for key, buf in self.inputs:
            np.copyto(buf, (args[key] if type(key) is int else kwargs[key]).data)
        for call in self.calls:
            call()
        for p, g in self.final_grads:
            p.grad = g
        return self._outputs()

    # -- state, for the check against eager -------------------------------------------------
    def state_arrays(self) -> list[np.ndarray]:
        """Every array whose contents a step changes and that outlives it."""
        arrays = []
        for _, _, buckets in self.opt_steps:
            for bk in buckets:
                arrays.append(bk.P)
                arrays += [v for v in bk.flat_state.values() if isinstance(v, np.ndarray)]
        for r in self.roots:
            if r.written and r.kind in ("param", "external", "const") and r.tensor is not None:
                arrays.append(r.tensor.data)
        return arrays

    def scalar_states(self) -> list[tuple[dict, str]]:
        return [
            (s, key)
            for _, _, buckets in self.opt_steps
            for bk in buckets
            for s in bk.states
            for key in bk.scalar_keys
        ]

    def describe(self) -> str:
        """The trace: one line per kernel (trace.py)."""
        return trace.describe(self)

    def __len__(self) -> int:
        return len(self.kernels)


class _Shape:
    """What is left of a recorded root once the program keeps its memory elsewhere."""

    def __init__(self, a: np.ndarray) -> None:
        self.shape, self.dtype, self.nbytes, self.strides = a.shape, a.dtype, a.nbytes, a.strides
        self.flags = a.flags


def _bind_outputs(spec: Any, bind: Any) -> Any:
    """A function that builds the step's result (fresh Tensors: outputs never alias)."""
    kind, body = spec
    if kind == "tensor":
        arr = bind(body)
        return lambda: Tensor._make(arr.copy())
    if kind == "item":
        arr = bind(body)
        return arr.item
    if kind == "const":
        return lambda: body
    makers = (
        {k: _bind_outputs(s, bind) for k, s in body.items()}
        if kind is dict
        else [_bind_outputs(s, bind) for s in body]
    )
    if kind is dict:
        return lambda: {k: f() for k, f in makers.items()}
    return lambda: kind(f() for f in makers)


def _into(out: np.ndarray, fn: Any, args: tuple, kw: dict) -> None:
    np.copyto(out, fn(*args, **kw))


def _reshape_into(out: np.ndarray, src: np.ndarray, shape: tuple) -> None:
    np.copyto(out, src.reshape(shape))


def _gather(out: np.ndarray, src: np.ndarray, index: tuple) -> None:
    np.copyto(out, src[index])


def _draw(out: np.ndarray, method: str, args: tuple, kw: dict) -> None:
    np.copyto(out, getattr(creation.generator(), method)(*args, **kw))


def _guard(position: int, conv: Any, arr: np.ndarray, expected: Any) -> None:
    if conv(arr) != expected:
        raise GuardFailed(position, f"{conv.__name__}() of a value read in the step changed")
