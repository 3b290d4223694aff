"""`Jitted`: what `tg.jit(fn)` returns. It records one whole training step, then replays the
recorded numpy work.

    @tg.jit
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for x, y in loader:
        loss = step(x, y)          # 1st call: eager, recorded; 2nd: checked; then replayed

The life of one input signature (the shapes and dtypes of the tensor arguments, and the values
of the others):
  1. first call: runs eagerly with the recorder on (record.py, capture.py) and is compiled into
     a Program (program.py). Its result is the eager one.
  2. second call: the check. The program replays, its results and every changed state are put
     aside and the state is put back; then the step runs eagerly and the two must agree bit for
     bit. If they do, later calls replay; if not, tg.jit warns and the signature stays eager.
  3. later calls: guards (`Program.check`), then the replay. A guard that fails records anew.

A new signature (the last, smaller batch of an epoch) gets a program of its own, kept beside
the others (at most `max_traces`).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np

from tinygrad_edu import creation, mode
from tinygrad_edu.jit import JitError, JitWarning, record
from tinygrad_edu.jit.capture import record_call
from tinygrad_edu.jit.program import GuardFailed, Program
from tinygrad_edu.tensor import Tensor

_BRANCHED = object()  # a replay stopped at a guard before changing anything


class _Entry:
    __slots__ = ("program", "verified")

    def __init__(self, program: Program) -> None:
        self.program = program
        self.verified = False


class Jitted:
    """A step function under tg.jit. Call it as the function; `.trace` shows the recorded
    program, `.stats` counts what each call did."""

    def __init__(self, fn: Any, max_traces: int = 8, check: bool = True) -> None:
        if not callable(fn):
            raise TypeError(f"tg.jit: expected a function, got {type(fn).__name__}")
        if not isinstance(max_traces, int) or max_traces < 1:
            raise ValueError(f"tg.jit: max_traces must be a positive int, got {max_traces!r}")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.max_traces = max_traces
        self.check = bool(check)
        self._cache: dict[tuple, list[_Entry]] = {}
        self._eager_only: dict[tuple, str] = {}
        self._order: list[tuple] = []  # (key, entry), oldest first
        self.last: Program | None = None
        self.stats = {"recorded": 0, "checked": 0, "replayed": 0, "eager": 0}

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else functools.partial(self, obj)  # a jitted method

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if record._active is not None:  # inside another step being recorded: part of it
            return self.fn(*args, **kwargs)
        if mode.anomaly_enabled:  # anomaly mode checks every op: only eager can
            self.stats["eager"] += 1
            return self.fn(*args, **kwargs)
        key = _signature(args, kwargs)
        entries = self._cache.get(key)
        if entries:
            for entry in entries:
                if entry.program.check() is None:
                    if not entry.verified:
                        return self._verify(key, entry, args, kwargs)
                    result = self._replay(entry, args, kwargs)
                    if result is not _BRANCHED:
                        return result
        if key in self._eager_only:
            self.stats["eager"] += 1
            return self.fn(*args, **kwargs)
        return self._record(key, args, kwargs)

    # -- the three kinds of call ------------------------------------------------------------
    def _record(self, key: tuple, args: tuple, kwargs: dict) -> Any:
        result, recording = record_call(self.fn, args, kwargs)
        program = Program(recording)
        entry = _Entry(program)
        entry.verified = not self.check
        self._cache.setdefault(key, []).insert(0, entry)
        self._order.append((key, entry))
        if len(self._order) > self.max_traces:
            old_key, old = self._order.pop(0)
            self._cache[old_key].remove(old)
        self.last = program
        self.stats["recorded"] += 1
        return result

    def _replay(self, entry: _Entry, args: tuple, kwargs: dict) -> Any:
        """The replay's result, or _BRANCHED if a value the step read in Python differs (the
        step takes another branch: another recorded program, or a new one, is tried)."""
        program = entry.program
        random_state = creation.generator().bit_generator.state if program.draws else None
        try:
            result = program.run(args, kwargs)
        except GuardFailed as failed:
            if random_state is not None:  # the draws so far are undone: eager redraws them
                creation.generator().bit_generator.state = random_state
            if failed.position > program.first_mutation:
                raise RuntimeError(
                    "tg.jit: a value the step read in Python changed after the replay had "
                    "already updated the parameters; the step's Python branches must not "
                    "depend on values computed after optimizer.step()"
                ) from None
            return _BRANCHED  # nothing was changed yet
        self.stats["replayed"] += 1
        self.last = program
        return result

    def _verify(self, key: tuple, entry: _Entry, args: tuple, kwargs: dict) -> Any:
        """Replay, keep what it computed, undo it, run eagerly, compare bit for bit."""
        program = entry.program
        arrays = program.state_arrays()
        saved = [a.copy() for a in arrays]
        scalars = [(s, k, s[k]) for s, k in program.scalar_states()]
        params = [p for p, _ in program.final_grads]
        grads = [p.grad for p in params]
        random_state = creation.generator().bit_generator.state  # Dropout draws in both runs
        try:
            replayed = program.run(args, kwargs)
        except GuardFailed:
            replayed = None
        after = [a.copy() for a in arrays]
        after_grads = [None if p.grad is None else p.grad.data.copy() for p in params]
        for a, s in zip(arrays, saved):
            np.copyto(a, s)
        for s, k, v in scalars:
            s[k] = v
        for p, g in zip(params, grads):
            p.grad = g
        creation.generator().bit_generator.state = random_state
        result = self.fn(*args, **kwargs)
        self.stats["checked"] += 1
        if replayed is None:  # the step branched differently: check again next time
            return result
        problem = _differ(replayed, result, "the result")
        if problem is None:
            for a, b in zip(after, arrays):
                if not _same_array(a, b):
                    problem = "the parameters or the optimizer state after the step"
                    break
        if problem is None:
            for p, g in zip(params, after_grads):
                if (g is None) != (p.grad is None) or (g is not None and not _same_array(
                        g, p.grad.data)):  # fmt: skip
                    problem = f"the gradient of a parameter of shape {p.shape}"
                    break
        if problem is None:
            entry.verified = True
            return result
        self._cache[key].remove(entry)
        self._order = [(k, e) for k, e in self._order if e is not entry]
        reason = (
            f"tg.jit: the replay of {getattr(self.fn, '__name__', 'the step')} differed from "
            f"the eager step in {problem}, so the step does something a replay cannot see "
            "(numpy called on tensors' .data directly, random numbers from numpy's own "
            "generator, ...). It runs eagerly from now on."
        )
        self._eager_only[key] = reason
        warnings.warn(reason, JitWarning, stacklevel=3)
        return result

    # -- for learners ---------------------------------------------------------------------
    @property
    def trace(self) -> str:
        """The program recorded or replayed last: one line per numpy kernel."""
        if self.last is None:
            return "(nothing recorded yet: call the step once)"
        return self.last.describe()

    def __repr__(self) -> str:
        n = sum(len(v) for v in self._cache.values())
        name = getattr(self.fn, "__name__", "step")
        counts = ", ".join(f"{k} {v}" for k, v in self.stats.items())
        return f"<tg.jit of {name}: {n} recorded program(s); calls: {counts}>"

    def __str__(self) -> str:
        return repr(self) + "\n" + self.trace


def _signature(args: tuple, kwargs: dict) -> tuple:
    parts = [_part(a, i) for i, a in enumerate(args)]
    if kwargs:
        parts += [(k, _part(kwargs[k], k)) for k in sorted(kwargs)]
    return tuple(parts)


def _part(x: Any, where: Any) -> Any:
    if isinstance(x, Tensor):
        data = x.data
        if x.requires_grad:
            raise JitError(
                f"tg.jit: argument {where!r} requires grad; a jitted step takes data (the "
                "batch) as arguments, and finds the parameters through the model it calls"
            )
        return (data.shape, data.dtype, data.flags.c_contiguous)
    if isinstance(x, np.ndarray):
        raise TypeError(
            f"tg.jit: argument {where!r} is a numpy array; pass a tg.Tensor (tg.Tensor(a))"
        )
    try:
        hash(x)
    except TypeError:
        raise TypeError(
            f"tg.jit: argument {where!r} ({type(x).__name__}) is neither a Tensor nor "
            "hashable; other arguments are part of the signature, so they must be hashable"
        ) from None
    return ("=", type(x), x)


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _differ(a: Any, b: Any, where: str) -> str | None:
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return None if _same_array(a.data, b.data) else where
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            d = _differ(x, y, f"{where}[{i}]")
            if d:
                return d
        return None
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        for k in a:
            d = _differ(a[k], b[k], f"{where}[{k!r}]")
            if d:
                return d
        return None
    if type(a) is type(b) and (a == b or (a != a and b != b)):
        return None
    return where
