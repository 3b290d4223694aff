"""Recording one step: every numpy kernel the eager engine runs, on which memory.

While `tg.jit` records, the arrays of the step are `Traced` arrays: an ndarray subclass whose
`__array_ufunc__` and `__array_function__` run each numpy call as usual *and* write it down
(the function, its operands, where the result went). Operators, ufuncs and the reductions
behind `.sum()`/`.max()` reach numpy's override protocol on their own; the few methods that
copy without a ufunc (`copy`, `astype`, fancy `[]` and `[]=`, a `reshape` that copies) are
overridden here. Nothing in the engine knows it is being recorded: it just computes with
arrays that happen to take notes.

An operand is named by the memory it lives in: a `View` of a `Root` (kernel.py).

Roots come in kinds: `input` (the step's arguments, copied in at every replay), `param` (a
leaf tensor that requires grad: updated by the optimizer), `external` (other tensors the step
reads, read as they are at each replay), `temp` (made by a kernel of the step), `const` (an
array made in the step outside any recorded call, e.g. `np.arange(n)`: its value is kept) and
`scratch` (such an array that the step then writes: its recorded value is restored before
each replay uses it, as for the zeros that ReLU's maximum writes into).

Reading a value in Python (`bool(t)`, `int(t)`, `.item()`) is how data steers Python: a bool or
an int read becomes a *guard*, checked at replay; a float read is only allowed if the step
returns it (it is then an output). The optimizer's `step()` is recorded as one event, replayed
by `program.OptimizerKernel` over flat buffers.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from tinygrad_edu.jit.kernel import Kernel, Root, View, _owner

_active: Recorder | None = None  # the recorder in charge, while a step is being recorded


# -- the recorder ------------------------------------------------------------------------------


class Recorder:
    """Collects the roots and kernels of one step while it runs eagerly."""

    def __init__(self) -> None:
        self.roots: dict[int, Root] = {}  # id(owning array) -> Root
        self.kernels: list[Kernel] = []
        self.label = "forward"
        self.paused = 0
        self.thread = threading.get_ident()  # other threads run plainly meanwhile
        self.escapes: dict[int, tuple] = {}  # id(value read) -> (value, View, its guard, how)
        self.python_reads: list[str] = []  # values Python read that a replay cannot give it
        self.prev_grads: set[int] = set()  # ids of roots holding a .grad from before the step
        self.refusal: str | None = None
        self.ops = 0  # Function.apply calls (nodes or not)
        self.optimizer_events: list[Any] = []
        self.scoped_modules: dict[int, Any] = {}  # outermost modules that ran ops
        self.swapped: list[tuple] = []  # (tensor, its own data) whose data became Traced
        self.captured: list[tuple] = []  # (tensor, its data, Root) of params and externals

    # roots and views
    def root_of(self, a: np.ndarray, kind: str = "const") -> Root:
        owner = _owner(a)
        root = self.roots.get(id(owner))
        if root is None:
            root = Root(owner, kind, len(self.roots))
            if kind == "const":
                root.snapshot = owner.view(np.ndarray).copy()
            self.roots[id(owner)] = root
        return root

    def view(self, a: np.ndarray) -> View:
        return View(self.root_of(a), a)

    def operand(self, x: Any) -> Any:
        """An argument as the kernel will see it: arrays become Views, containers recurse."""
        if isinstance(x, np.ndarray):
            return self.view(x)
        if isinstance(x, tuple):
            return tuple(self.operand(y) for y in x)
        if isinstance(x, list):
            return [self.operand(y) for y in x]
        return x

    def new_temp(self, result: Any) -> np.ndarray:
        """A fresh kernel result as a Traced array that owns its memory (as numpy's own result
        would: `.base` is None, so the engine takes the same decisions as without recording)."""
        r = np.asarray(result)
        if r.flags.c_contiguous or r.flags.f_contiguous:
            order = "C" if r.flags.c_contiguous else "F"
            t = np.ndarray.__new__(Traced, r.shape, r.dtype, order=order)
            np.copyto(t.view(np.ndarray), r)
        else:
            t = r.view(Traced)
        self.root_of(t, "temp")
        return t

    def record(self, kind: str, fn: Any, args: Any, kwargs: dict, outs: tuple, extra=None):
        k = Kernel(kind, fn, args, kwargs, outs, self.label, extra)
        for v in outs:
            v.root.written = True
            if v.root.kind == "const":
                v.root.kind = "scratch"
        self.kernels.append(k)

    # values read in Python
    def read(self, a: np.ndarray, value: Any, how: str) -> Any:
        """Python reads a value: a bool or an int becomes a guard; a float must be returned."""
        view = self.view(a)
        if how == "bool" or isinstance(value, (bool, np.bool_)):
            self.record("guard", bool, (view,), {}, (), extra=bool(value))
        elif isinstance(value, (int, np.integer)):
            self.record("guard", int, (view,), {}, (), extra=int(value))
            self.escapes[id(value)] = (value, view, self.kernels[-1], how)
        else:
            self.escapes[id(value)] = (value, view, None, how)
        return value


def active() -> Recorder | None:
    """The recorder taking notes now, in this thread (None when not recording or paused)."""
    rec = _active
    if rec is None or rec.paused or rec.thread != threading.get_ident():
        return None
    return rec


def _plain(x: Any) -> Any:
    if isinstance(x, Traced):
        return x.view(np.ndarray)
    if isinstance(x, tuple):
        return tuple(_plain(y) for y in x)
    if isinstance(x, list):
        return [_plain(y) for y in x]
    return x


class Traced(np.ndarray):
    """An ndarray that writes down what numpy does with it while a step is recorded."""

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        rec = active()
        fn = getattr(ufunc, method)
        out = kwargs.pop("out", None)
        plain_kw = {k: _plain(v) for k, v in kwargs.items()}
        if out is not None:
            plain_kw["out"] = _plain(out)
        if rec is None:
            result = fn(*_plain(inputs), **plain_kw)
            return result if out is None else (out[0] if len(out) == 1 else out)
        args = rec.operand(inputs)  # before running: a const is seen as it was
        kw = {k: rec.operand(v) for k, v in kwargs.items()}
        outs = rec.operand(out) if out is not None else None
        result = fn(*_plain(inputs), **plain_kw)
        if method == "at":
            rec.record("ufunc", fn, args, kw, (args[0],), extra=method)
            return None
        if out is not None:
            rec.record("ufunc", fn, args, kw, outs, extra=method)
            return out[0] if len(out) == 1 else out
        results = result if isinstance(result, tuple) else (result,)
        made = tuple(rec.new_temp(r) for r in results)
        rec.record("ufunc", fn, args, kw, tuple(rec.view(m) for m in made), extra=method)
        return made if isinstance(result, tuple) else made[0]

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        rec = active()
        if rec is None:
            return func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})
        if func in _METADATA:
            return func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})
        if func is np.copyto:
            dst, src = args[0], args[1]
            ops = rec.operand((src,))
            rec.record("func", np.copyto, ops, {k: v for k, v in kwargs.items()}, (rec.view(dst),))
            np.copyto(_plain(dst), _plain(src), **{k: _plain(v) for k, v in kwargs.items()})
            return None
        opargs = rec.operand(tuple(args))
        opkw = {k: rec.operand(v) for k, v in kwargs.items()}
        result = func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})
        if "out" in kwargs and kwargs["out"] is not None:
            rec.record("func", func, opargs, opkw, (rec.view(kwargs["out"]),), extra="out")
            return kwargs["out"]
        if isinstance(result, np.ndarray) and _owner(result) is not result:
            rec.root_of(result)  # a view (broadcast_to, reshape ...): no kernel to replay
            return result.view(Traced)
        if isinstance(result, (np.ndarray, np.generic)):
            made = rec.new_temp(result)
            rec.record("func", func, opargs, opkw, (rec.view(made),))
            return made
        if isinstance(result, (bool, int, float, str)):
            rec.python_reads.append(f"np.{func.__name__}")
        elif result is not None:
            rec.refusal = rec.refusal or (
                f"np.{func.__name__} returned a {type(result).__name__}, which tg.jit cannot replay"
            )
        return result

    # -- copies that numpy makes without a ufunc ------------------------------------------
    def copy(self, order: str = "C") -> Any:
        rec = active()
        if rec is None:
            return self.view(np.ndarray).copy(order)
        made = rec.new_temp(self.view(np.ndarray).copy(order))
        rec.record("func", np.copyto, (rec.view(self),), {}, (rec.view(made),))
        return made

    def astype(self, dtype: Any, order: str = "K", casting: str = "unsafe", subok: bool = True,
               copy: bool = True) -> Any:  # fmt: skip
        rec = active()
        plain = self.view(np.ndarray)
        if rec is None:
            return plain.astype(dtype, order=order, casting=casting, copy=copy)
        if not copy and np.dtype(dtype) == self.dtype:
            return self
        made = rec.new_temp(plain.astype(dtype, order=order, casting=casting))
        rec.record("func", np.copyto, (rec.view(self),), {"casting": "unsafe"}, (rec.view(made),))
        return made

    def reshape(self, *shape: Any, **kwargs: Any) -> Any:
        result = np.ndarray.reshape(self.view(np.ndarray), *shape, **kwargs)
        rec = active()
        if rec is None or _owner(result) is _owner(self):
            return result.view(Traced) if rec is not None else result
        made = rec.new_temp(result)  # numpy had to copy
        rec.record("reshape", None, (rec.view(self),), {}, (rec.view(made),), extra=result.shape)
        return made

    def flatten(self, order: str = "C") -> Any:
        return self.copy(order).reshape(-1)

    def ravel(self, order: str = "C") -> Any:
        return self.reshape(-1, order=order)

    def __getitem__(self, index: Any) -> Any:
        rec = active()
        plain_index = _plain(index)
        result = np.ndarray.__getitem__(self.view(np.ndarray), plain_index)
        if rec is None:
            return result
        if not isinstance(result, np.ndarray):  # an element: as a 0-d view instead
            parts = plain_index if isinstance(plain_index, tuple) else (plain_index,)
            result = np.ndarray.__getitem__(self.view(np.ndarray), parts + (Ellipsis,))
        if _owner(result) is _owner(self):
            return result.view(Traced)
        made = rec.new_temp(result)  # fancy indexing gathers a copy
        idx = rec.operand(index if isinstance(index, tuple) else (index,))
        rec.record("gather", None, (rec.view(self), idx), {}, (rec.view(made),))
        return made

    def __setitem__(self, index: Any, value: Any) -> None:
        rec = active()
        if rec is not None:
            idx = rec.operand(index if isinstance(index, tuple) else (index,))
            val = rec.operand(value)
            rec.record("scatter", None, (idx, val), {}, (rec.view(self),))
        np.ndarray.__setitem__(self.view(np.ndarray), _plain(index), _plain(value))

    def fill(self, value: Any) -> None:
        rec = active()
        if rec is not None:
            rec.record("fill", None, (value,), {}, (rec.view(self),))
        self.view(np.ndarray).fill(value)

    def argmax(self, axis: Any = None, out: Any = None, **kw: Any) -> Any:
        return np.argmax(self, axis=axis, **kw)

    def argmin(self, axis: Any = None, out: Any = None, **kw: Any) -> Any:
        return np.argmin(self, axis=axis, **kw)

    # -- values read in Python --------------------------------------------------------------
    def item(self, *args: Any) -> Any:
        value = self.view(np.ndarray).item(*args)
        rec = active()
        return value if rec is None or args else rec.read(self, value, ".item()")

    def tolist(self) -> Any:
        rec = active()
        if rec is not None:
            rec.python_reads.append(".tolist()")
        return self.view(np.ndarray).tolist()

    def __bool__(self) -> bool:
        value = bool(self.view(np.ndarray))
        rec = active()
        return value if rec is None else rec.read(self, value, "bool")

    def __int__(self) -> int:
        value = int(self.view(np.ndarray))
        rec = active()
        return value if rec is None else rec.read(self, value, "int()")

    __index__ = __int__

    def __float__(self) -> float:
        value = float(self.view(np.ndarray))
        rec = active()
        return value if rec is None else rec.read(self, value, "float()")

    def __repr__(self) -> str:
        rec = active()
        if rec is not None:
            rec.python_reads.append("printing an array")
        return repr(self.view(np.ndarray))

    __str__ = __repr__


# numpy functions that read only shapes and dtypes: they pass straight through
_METADATA = {
    np.shape,
    np.ndim,
    np.size,
    np.result_type,
    np.may_share_memory,
    np.shares_memory,
    np.iscomplexobj,
    np.isrealobj,
}


class RecordingGenerator:
    """Stands in for tg's global random generator while a step records: each draw is also a
    kernel, so that a replay draws fresh numbers from the generator (Dropout's new mask)."""

    def __init__(self, gen: np.random.Generator) -> None:
        self._gen = gen

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._gen, name)
        if not callable(attr) or name.startswith("_") or name in ("spawn", "bit_generator"):
            return attr

        def draw(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            rec = active()
            if rec is None or not isinstance(result, np.ndarray):
                if rec is not None:
                    rec.python_reads.append(f"a random number drawn in Python ({name})")
                return result
            made = rec.new_temp(result)
            rec.record("random", name, args, kwargs, (rec.view(made),))
            return made

        return draw
