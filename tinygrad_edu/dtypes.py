"""The default float dtype: what Python floats become (float32 unless changed)."""

from __future__ import annotations

from typing import Any

import numpy as np

_default_float = np.dtype(np.float32)


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype that Python floats become (float32 unless changed; float64 for checks)."""
    global _default_float
    d = np.dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"the default dtype must be a floating-point dtype, got {d}")
    _default_float = d


def get_default_dtype() -> np.dtype:
    """The dtype that Python floats become."""
    return _default_float
