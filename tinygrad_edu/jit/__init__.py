"""tg.jit: capture one training step and replay its numpy work (see jitted.py).

A layer on top of the eager engine, which does not know about it: record.py takes notes of the
numpy kernels a step runs, capture.py runs the step once with the notes on, program.py turns
the notes into a replayable program, jitted.py is the decorator that decides when to record,
check and replay. Those modules are imported on the first use of tg.jit, so that
`import tinygrad_edu` stays quick.
"""

from __future__ import annotations

from typing import Any


class JitError(RuntimeError):
    """tg.jit cannot record or replay this step (the message says why and what to do)."""


class JitWarning(UserWarning):
    """tg.jit fell back to running a step eagerly (the message says why)."""


def jit(fn: Any = None, *, max_traces: int = 8, check: bool = True) -> Any:
    """Record one call of a whole training step and replay its numpy work on later calls.

    `fn` takes Tensors (the batch) and other hashable arguments and does a whole step:
    forward, loss, backward(), optimizer.step(), zero_grad(); it returns Tensors, numbers read
    with .item(), or tuples/lists/dicts of them. The first call with a new signature (tensor
    shapes and dtypes, other arguments' values) runs eagerly and is recorded; the second is
    replayed *and* run eagerly, and the two must agree bit for bit (`check=False` skips this);
    later calls replay: the new inputs are copied into the recorded buffers and only the
    recorded numpy kernels run. What it returns are new Tensors without a graph.

    Replays are guarded: grad mode, the default dtype, train()/eval() of the modules, the
    parameters (their .data and requires_grad), the optimizer's parameter groups and state,
    and every bool or int the step read from a tensor (an `if` on a value) are checked, and a
    change records anew. Learning rates and other hyper-parameters are read at every replay.
    Anomaly mode runs the step eagerly. Hooks, create_graph, in-place changes other than the
    optimizer's, and floats read with .item() but not returned raise a JitError.

    >>> @tg.jit
    ... def step(x, y):
    ...     opt.zero_grad()
    ...     loss = tg.nn.functional.cross_entropy(model(x), y)
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> print(step.trace)       # after a call: the recorded kernels
    """
    from tinygrad_edu.jit.jitted import Jitted

    if fn is None:
        return lambda f: Jitted(f, max_traces=max_traces, check=check)
    return Jitted(fn, max_traces=max_traces, check=check)


__all__ = ["JitError", "JitWarning", "jit"]
