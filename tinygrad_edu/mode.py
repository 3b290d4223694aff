"""Grad mode and module scope: the two pieces of thread-local state the engine reads.

`no_grad()` switches off graph recording (every op then returns a plain result and remembers
nothing), `enable_grad()` switches it back on, and `scope(label)` names the module that is
running, so that each node of the graph knows which layer made it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    """Per-thread switches; the class attributes are each new thread's defaults."""

    grad_enabled: bool = True
    scope: tuple = ()


state = _State()

# Anomaly mode is one switch for the whole process (see anomaly.py).
anomaly_enabled = False

# How many in-place changes the process has made to any tensor: the clock that version checks
# read. A node notes it when it is made; if it has not moved by the time the node's backward
# runs, nothing anywhere was changed in place, and backward needs to check nothing.
inplace_changes = 0


def is_grad_enabled() -> bool:
    """True when operations record the graph (the default)."""
    return state.grad_enabled


class _GradMode:
    """Context manager *and* decorator that sets grad mode for one block or one function."""

    enabled: bool

    def __enter__(self) -> None:
        self._prev = state.grad_enabled
        state.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        state.grad_enabled = self._prev

    def __call__(self, fn: F) -> F:
        enabled = self.enabled

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = state.grad_enabled
            state.grad_enabled = enabled
            try:
                return fn(*args, **kwargs)
            finally:
                state.grad_enabled = prev

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Record nothing inside this block: results have no grad_fn and keep no saved values.

    Also a decorator, with or without parentheses (`@tg.no_grad()` or `@tg.no_grad`).

    >>> with tg.no_grad():
    ...     w -= 0.1 * w.grad          # an update step must not become part of the graph
    """

    enabled = False

    def __new__(cls, fn: Any = None) -> Any:
        self = super().__new__(cls)
        return self if fn is None else self(fn)


class enable_grad(_GradMode):
    """Record the graph again inside this block, even within an outer `no_grad()`.

    Also a decorator, with or without parentheses.
    """

    enabled = True

    def __new__(cls, fn: Any = None) -> Any:
        self = super().__new__(cls)
        return self if fn is None else self(fn)


class set_grad_enabled(_GradMode):
    """Record the graph or not, as `mode` says (used by the engine for `create_graph`)."""

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)


class scope:
    """Tag every node made inside the block with `label` (a Module or a string).

    Nodes keep the labels of all enclosing scopes, outermost first, in `grad_fn.scope`;
    `Module.__call__` enters this for each module, and the graph drawer groups nodes by it.

    >>> with tg.scope("layer1"):
    ...     h = (W @ x).relu()
    >>> h.grad_fn.scope
    ('layer1',)
    """

    def __init__(self, label: Any) -> None:
        self.label = label

    def __enter__(self) -> None:
        self._prev = state.scope
        state.scope = self._prev + (self.label,)

    def __exit__(self, *exc: object) -> None:
        state.scope = self._prev
