"""What a recording is made of: `Kernel`s (one numpy call each) over `View`s of `Root`s.

An operand is named by the memory it lives in: its *root* (the array that owns the memory, at
the end of the `.base` chain) and where in the root it sits (byte offset, shape, strides,
dtype). So a view (`W.T`, `x[:, 0]`) costs nothing to record and needs no kernel to replay.
record.py writes these down while a step runs; plan.py, program.py and trace.py read them.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Root:
    """One block of memory the step touches."""

    __slots__ = ("array", "kind", "index", "tensor", "data", "snapshot", "written", "name")

    def __init__(self, array: np.ndarray, kind: str, index: int) -> None:
        self.array = array  # the owning array, as recorded (kept alive while recording)
        self.kind = kind
        self.index = index
        self.tensor: Any = None  # the tensor it came from (params, externals), for names
        self.data: Any = None  # that tensor's .data when the step read it
        self.snapshot: np.ndarray | None = None  # a const's value when first seen
        self.written = False
        self.name = ""

    @property
    def nbytes(self) -> int:
        return self.array.nbytes


class View:
    """Where an operand lives: `root`, byte `offset`, `shape`, `strides`, `dtype`."""

    __slots__ = ("root", "offset", "shape", "strides", "dtype", "array")

    def __init__(self, root: Root, array: np.ndarray) -> None:
        self.root = root
        self.offset = _address(array) - _address(root.array)
        self.shape, self.strides, self.dtype = array.shape, array.strides, array.dtype
        self.array = array.view(np.ndarray)  # the recorded array itself (a plain view)

    @property
    def whole(self) -> bool:
        """True when this view is its root, laid out as the root is."""
        r = self.root.array
        return (
            self.offset == 0
            and self.shape == r.shape
            and self.strides == r.strides
            and (self.dtype == r.dtype)
        )

    def describe(self) -> str:
        shape = "x".join(map(str, self.shape)) or "()"
        mark = "" if self.whole else "'"  # a view of the buffer, not all of it
        return f"{self.root.name}{mark}[{shape}]"


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def _owner(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


class Kernel:
    """One recorded numpy call: `kind`, the callable, operands, keywords, what it writes."""

    __slots__ = ("kind", "fn", "args", "kwargs", "outs", "label", "extra")

    def __init__(
        self, kind: str, fn: Any, args: Any, kwargs: dict, outs: tuple, label: str, extra: Any
    ) -> None:
        self.kind, self.fn, self.args, self.kwargs = kind, fn, args, kwargs
        self.outs, self.label, self.extra = outs, label, extra

    def views(self) -> list[View]:
        """Every operand view, read or written."""
        found: list[View] = []
        _collect(self.args, found)
        _collect(self.kwargs, found)
        _collect(self.outs, found)
        return found


def _collect(x: Any, found: list) -> None:
    if isinstance(x, View):
        found.append(x)
    elif isinstance(x, (tuple, list)):
        for y in x:
            _collect(y, found)
    elif isinstance(x, dict):
        for y in x.values():
            _collect(y, found)
