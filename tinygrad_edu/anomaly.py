"""Anomaly mode: stop at the first op whose result (forward) or gradient (backward) holds NaN/Inf.

Without it a NaN spreads silently through every later op and the loss just reads `nan`. With it,
the op that produced the first bad number raises, naming itself and the line of user code that
created it.

>>> with tg.detect_anomaly():
...     loss = model(x).log().mean()     # raises at Log if an input was <= 0
...     loss.backward()

numpy's own floating-point warnings ("RuntimeWarning: divide by zero encountered in log") are
not shown for the package's code (see quiet_numpy): numpy names the line of numpy code that hit
the problem, which inside the engine is a line of this package (ops/elementwise.py), neither the
op nor the user's code, and it printed before the engine's own report. What an op returns is
numpy's, as in PyTorch (log(0) = -inf, 0/0 = nan); anomaly mode says which op made it and where,
and `tinygrad-edu train` stops when its loss is not finite.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import warnings
from typing import Any

import numpy as np

from tinygrad_edu import mode

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

_MESSAGE, _MODULE = ".* encountered in ", r"tinygrad_edu(\.|$)"  # numpy's text; our modules
# the entry warnings.filterwarnings makes of the filter: (action, message, category, module, line)
_ENTRY = ("ignore", re.compile(_MESSAGE, re.I), RuntimeWarning, re.compile(_MODULE), 0)
quiet_filters: list | None = None  # the `warnings.filters` list known to hold that entry


def quiet_numpy() -> None:
    """Make sure the current `warnings.filters` ignores numpy's warnings from this package.

    One filter: numpy's floating-point warnings ("<what> encountered in <ufunc>") whose line is
    in a module of the package. It is added after the filters already there, so the user's own
    (`python -W error`, `warnings.simplefilter("always")`, pytest.warns) still decide; numpy
    called from the user's code warns as before, and `np.errstate(all="raise")` still raises in
    the op. A filter costs the ops nothing, as numpy reads the filters only when it has
    something to say. `warnings.catch_warnings()` (pytest runs every test inside one) swaps
    `warnings.filters` for a copy and back, which could lose the filter: so Function.apply and
    the backward walk check that the list is still `quiet_filters` (one `is`) and call this
    when it is not.
    """
    global quiet_filters
    if _ENTRY not in warnings.filters:
        warnings.filterwarnings("ignore", _MESSAGE, RuntimeWarning, _MODULE, append=True)
    quiet_filters = warnings.filters


def set_detect_anomaly(enabled: bool) -> None:
    """Switch anomaly mode on or off for the whole process."""
    mode.anomaly_enabled = bool(enabled)


def is_anomaly_enabled() -> bool:
    return mode.anomaly_enabled


class detect_anomaly:
    """Anomaly mode inside a `with` block (or a decorated function): checks every op's output
    and every gradient for NaN and Inf, and raises at the first op that makes one."""

    def __enter__(self) -> None:
        self._prev = mode.anomaly_enabled
        mode.anomaly_enabled = True

    def __exit__(self, *exc: object) -> None:
        mode.anomaly_enabled = self._prev

    def __call__(self, fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly():
                return fn(*args, **kwargs)

        return wrapper


def user_location() -> str:
    """ "file:line in function" of the innermost frame outside this package."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "an unknown place"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


def _bad(a: Any) -> str | None:
    """ "NaN" or "Inf" if a float array holds one, else None."""
    if not isinstance(a, np.ndarray):
        a = a.data  # a Tensor (gradients are Tensors under create_graph)
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f" or np.isfinite(a).all():
        return None
    return "NaN" if np.isnan(a).any() else "Inf"


def check_forward(node: Any, inputs: tuple, out: np.ndarray) -> None:
    bad = _bad(out)
    if bad is None:
        return
    already = [i for i, t in enumerate(inputs) if _bad(t.data)]
    cause = (
        f"its input {already[0]} already held {_bad(inputs[already[0]].data)}"
        if already
        else "its inputs were all finite"
    )
    raise RuntimeError(
        f"anomaly detected: {node.name} produced {bad} in its output (forward) at "
        f"{node._created_at}; {cause}. Formula: {node.formula}"
    )


def check_backward(node: Any, input_grads: tuple) -> None:
    for i, g in enumerate(input_grads):
        bad = None if g is None else _bad(g)
        if bad is not None:
            where = node._created_at or "a place not recorded (made before anomaly mode was on)"
            raise RuntimeError(
                f"anomaly detected: the backward of {node.name} produced {bad} in the gradient "
                f"of its input {i} (shape {g.shape}); the node was created at {where}. "
                f"Formula: {node.formula}"
            )
