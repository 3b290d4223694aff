"""Numbers and arrays as text (and a Tensor as HTML), for explain, the drawings and Jupyter.

Plain numpy, below everything else: Tensor's own `_repr_html_` uses it, and so do the views
built on top of the engine.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

HTML_FULL_UP_TO = 100  # a tensor of up to this many elements shows every number in Jupyter


def _num(x: Any) -> str:
    return f"{x:.4g}"


def format_array(a: Any, full_up_to: int, shape: bool = True) -> str:
    """Up to `full_up_to` elements in full (4 significant digits), else shape and min/mean/max
    (the shape left out with shape=False).

    >>> format_array(np.array([1.0, 2.5]), 6)
    '[1, 2.5]'
    >>> format_array(np.arange(20.0).reshape(4, 5), 6)
    '4x5: min 0  mean 9.5  max 19'
    """
    a = np.asarray(a)
    if a.dtype == bool:
        a = a.astype(np.int64)
    elif a.dtype.kind == "f":
        a = a + 0.0  # -0.0 reads as 0
    if a.size <= full_up_to:
        if a.ndim == 0:
            return _num(a.item())
        fmt = {"float_kind": _num, "int_kind": str}
        return np.array2string(a, separator=", ", formatter=fmt, max_line_width=72)
    finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a
    text = "x".join(str(n) for n in a.shape) + ": " if shape else ""
    if finite.size == 0:
        text += "no finite values"
    else:
        lo, mean, hi = finite.min(), finite.mean(), finite.max()
        text += f"min {_num(lo)}  mean {_num(mean)}  max {_num(hi)}"
    if finite.size != a.size:
        nan = int(np.isnan(a).sum())
        text += f"  ({nan} NaN, {a.size - finite.size - nan} Inf)"
    return text


def tensor_html(t: Any) -> str:
    """A Tensor for Jupyter: name, shape, dtype and grad_fn, then its value and its `.grad`
    (up to HTML_FULL_UP_TO numbers in full, else shape and min/mean/max)."""
    head = [f"<b>{html.escape(t.name)}</b>"] if t.name is not None else []
    head += ["Tensor", "scalar" if t.ndim == 0 else f"shape {tuple(t.shape)}", str(t.dtype)]
    if t.grad_fn is not None:
        head.append(f"grad_fn={html.escape(t.grad_fn.name)}")
    elif t.requires_grad:
        head.append("requires_grad")
    rows = [("value", t.data)] + ([("grad", t.grad.data)] if t.grad is not None else [])
    body = "".join(
        f'<tr><td style="text-align:left;vertical-align:top">{label}</td><td '
        f'style="text-align:left"><pre style="margin:0">'
        f"{html.escape(format_array(a, HTML_FULL_UP_TO))}</pre></td></tr>"
        for label, a in rows
    )
    return f"<div>{' &nbsp; '.join(head)}<table>{body}</table></div>"
