"""In-place changes of a Tensor: `add_ sub_ mul_ div_ zero_ fill_ copy_`, `t[i] = v`, `+=`.

Each writes into `.data` itself and bumps the tensor's version counter (versions.py), which
backward checks, so a value saved for backward and changed afterwards raises instead of giving a
wrong gradient. A leaf that requires grad may be changed only under `tg.no_grad()` (the
gradient-descent step), and a tensor inside a graph not at all. `InPlace` is mixed into `Tensor`
(tensor.py).
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu import function
from tinygrad_edu.mode import state
from tinygrad_edu.tensor_ops import _index
from tinygrad_edu.versions import bump_versions

if TYPE_CHECKING:  # for the annotations only
    from tinygrad_edu.tensor import Tensor


class InPlace:
    """The in-place methods of Tensor, and its version counter."""

    __slots__ = ()

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has had (shared with its views)."""
        return 0 if self._vbox is None else self._vbox[0]

    def _version_box(self) -> list:
        """[version, clock, ticks]: the in-place changes this memory has had, the process's
        in-place clock (`mode.inplace_changes`) at the latest of them, and (from the first
        change) the clock at each of the last few. Views share their base's box; backward reads
        it to catch a saved tensor changed after it was saved, and to name the saved version."""
        if self._vbox is None:
            self._vbox = [0, 0]
        return self._vbox

    def _inplace(self, op: str, write: Any, value: Any = None) -> Tensor:
        if self.requires_grad and state.grad_enabled:
            if self.grad_fn is None:
                raise RuntimeError(
                    f"{op}: this leaf tensor (shape {self.shape}) requires grad, so changing it "
                    "in place would hide the change from autograd; do updates such as "
                    "`w -= lr * w.grad` inside `with tg.no_grad():`"
                )
            raise RuntimeError(
                f"{op}: this tensor (shape {self.shape}, made by {self.grad_fn.name}) is part of "
                "a graph that requires grad, and in-place changes to it are not supported; "
                "write it out of place instead (e.g. `h = h + b` rather than `h += b`)"
            )
        if type(value) is not np.ndarray and value is not None:  # arrays: nothing to convert
            if isinstance(value, function.Tensor):
                value = value.data
            elif isinstance(value, (numbers.Number, np.generic)) and self.dtype.kind == "f":
                value = np.asarray(value, dtype=self.dtype)  # float32 stays float32
            else:
                value = np.asarray(value)
        try:
            write(self.data, value)
        except ValueError as err:
            given = "" if value is None else f" with a value of shape {np.shape(value)}"
            raise ValueError(
                f"{op}: cannot change a tensor of shape {self.shape} in place{given}: {err}"
            ) from None
        except TypeError as err:
            raise TypeError(
                f"{op}: cannot write {np.asarray(value).dtype} values into a {self.dtype} "
                f"tensor in place: {err}"
            ) from None
        bump_versions((self,))
        return self

    def add_(self, other: Any) -> Tensor:
        """self += other, in place (broadcasting other to self's shape)."""
        return self._inplace("add_", _iadd, other)

    def sub_(self, other: Any) -> Tensor:
        """self -= other, in place."""
        return self._inplace("sub_", _isub, other)

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place."""
        return self._inplace("mul_", _imul, other)

    def div_(self, other: Any) -> Tensor:
        """self /= other, in place (a float tensor only: the result must fit its dtype)."""
        return self._inplace("div_", _idiv, other)

    def zero_(self) -> Tensor:
        """Set every element to 0, in place."""
        return self._inplace("zero_", _fill, 0)

    def fill_(self, value: float) -> Tensor:
        """Set every element to value, in place."""
        return self._inplace("fill_", _fill, value)

    def copy_(self, src: Any) -> Tensor:
        """Copy src's values (broadcast to self's shape, cast to self's dtype) into self."""
        return self._inplace("copy_", _fill, src)

    def __setitem__(self, index: Any, value: Any) -> None:
        """t[index] = value, in place (numpy's indexing rules)."""
        index = _index(index)
        self._inplace("setitem", lambda d, v: d.__setitem__(index, v), value)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_


def _iadd(d: np.ndarray, v: Any) -> None:
    np.add(d, v, out=d, casting="same_kind")


def _isub(d: np.ndarray, v: Any) -> None:
    np.subtract(d, v, out=d, casting="same_kind")


def _imul(d: np.ndarray, v: Any) -> None:
    np.multiply(d, v, out=d, casting="same_kind")


def _idiv(d: np.ndarray, v: Any) -> None:
    np.divide(d, v, out=d, casting="same_kind")


def _fill(d: np.ndarray, v: Any) -> None:
    d[...] = v
