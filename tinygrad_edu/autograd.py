"""The backward engine: one iterative walk over the graph, shared by every consumer.

`backward_steps` visits the nodes from the outputs back to the leaves in topological order
(a node runs only when every node that used its output has sent it a gradient), yielding one
`Step` per node, and then one per leaf. `backward`, `tg.grad`, `tg.explain` and the graph
viewer all consume this same sequence, so what they show is what backward does.

No recursion anywhere: a chain of a million ops is walked with an explicit heap.
"""

from __future__ import annotations

import numbers
import warnings
import weakref
from collections.abc import Iterator, Sequence
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu import anomaly, function, mode
from tinygrad_edu.function import Function
from tinygrad_edu.mode import set_grad_enabled, state
from tinygrad_edu.ops.dual import sum_to_shape

if TYPE_CHECKING:  # for the annotations only: tensors are function.Tensor at run time
    from tinygrad_edu.tensor import Tensor


class Step:
    """One step of the backward walk.

    For an op: `node` is the Function, `grad` the gradient of its output and `input_grads` the
    gradients it sends to `node.inputs` (None where an input needs none); `leaf` is None.
    For a leaf: `node` is None, `leaf` the tensor and `grad` its total gradient.
    Gradients are numpy arrays, or Tensors when the walk records a graph (create_graph).
    (A class with slots rather than a NamedTuple: half the cost to make.)
    """

    __slots__ = ("node", "grad", "input_grads", "leaf")

    def __init__(
        self, node: Function | None, grad: Any, input_grads: tuple, leaf: Tensor | None = None
    ) -> None:
        self.node, self.grad, self.input_grads, self.leaf = node, grad, input_grads, leaf

    def __repr__(self) -> str:
        what = f"leaf {self.leaf.shape}" if self.leaf is not None else self.node.name
        return f"Step({what})"


def backward_steps(
    roots: Sequence[Tensor],
    root_grads: Sequence[Any],
    retain_graph: bool,
    hooks: bool = True,
    nodes: bool = True,
    leaves: dict | None = None,
) -> Iterator[Step]:
    """Walk the graph behind `roots` backwards, seeded with their gradients.

    The caller sets grad mode: on (create_graph) for gradients as Tensors, off for arrays.
    `hooks=False` leaves the tensors' gradient hooks out (for viewers that only look).
    `nodes=False` yields a node's step only if its output called retain_grad() (all that
    `backward` needs of them). `leaves`, a dict, receives each leaf's total gradient (after
    its hooks) instead of a Step per leaf: `backward` has no use for the Steps, and making and
    handing out one per parameter per step was 1.5% of a small network's training step.

    Order: a node may run only once every node that used its output has sent it a gradient.
    Every node made after its inputs were, so running the nodes in reverse order of creation
    (each has a sequence number, `_seq`) guarantees that, with no pass to count dependencies
    first: a heap hands out the latest-made node among those a gradient has reached. A leaf's
    gradient is complete once no node is left to run, so leaves come last.
    """
    pending: dict[Any, Any] = {}  # node or leaf -> gradient summed so far
    heap: list[tuple[int, Function]] = []  # (-_seq, node) of each node a gradient reached
    if warnings.filters is not anomaly.quiet_filters:  # as in Function.apply (anomaly.py)
        anomaly.quiet_numpy()
    for root, g in zip(roots, root_grads):
        _send(pending, heap, root, g)
    while heap:
        node = heappop(heap)[1]
        grad = pending.pop(node)
        if node._saved is None:  # released by an earlier backward
            raise RuntimeError(node._freed_message())
        if hooks and node._hooks:
            grad = _run_hooks(node._hooks, grad)
        grads = node.backward(grad)
        if type(grads) is not tuple:
            grads = (grads,)
        if len(grads) != len(node.inputs):
            raise RuntimeError(
                f"{node.name}.backward returned {len(grads)} gradients for "
                f"{len(node.inputs)} inputs"
            )
        # One gradient per input, in the input's shape and dtype (None where none is needed),
        # each added to what its input's node (or leaf) has collected so far.
        input_grads = []
        for t, g, needed in zip(node.inputs, grads, node.needs_input_grad):
            if g is None or not needed:
                input_grads.append(None)
                continue
            data = t.data
            if type(g) is not np.ndarray or g.shape != data.shape or g.dtype is not data.dtype:
                g = _fit(g, data, node, t)  # the rare case: a scalar, a broadcast input, a cast
            input_grads.append(g)
            _send(pending, heap, t, g)
        if mode.anomaly_enabled:
            anomaly.check_backward(node, input_grads)
        if not retain_graph:
            node.release()  # the saved values are not needed again
        if nodes or node._retained is not None:
            yield Step(node, grad, tuple(input_grads))
    for leaf, g in pending.items():  # only leaves are left, and their gradients are complete
        if hooks and leaf._hooks:
            g = _run_hooks(leaf._hooks, g)
        if leaves is None:
            yield Step(None, g, (), leaf)
        else:
            leaves[leaf] = g


def _send(pending: dict, heap: list, t: Tensor, g: Any) -> None:
    """Add g to the gradient collected for t (at its grad_fn, or at t itself for a leaf)."""
    fn = t.grad_fn
    key = t if fn is None else fn
    total = pending.get(key)
    if total is None:
        pending[key] = g
        if fn is not None:  # the first gradient to reach this node: it will have to run
            heappush(heap, (-fn._seq, fn))
    else:
        pending[key] = _add(total, g)


def _add(total: Any, g: Any) -> Any:
    """Two gradients of one tensor added up."""
    total = total + g
    # numpy adds two 0-d arrays into a scalar; gradients stay arrays (or Tensors)
    if not isinstance(total, (np.ndarray, function.Tensor)):
        total = np.asarray(total)
    return total


def _fit(g: Any, data: np.ndarray, node: Function, t: Tensor) -> Any:
    """A gradient brought to its input's shape and dtype (or a clear error from a backward
    that returned something else; which input it was is looked up only then)."""
    if not isinstance(g, (np.ndarray, function.Tensor)):
        if not isinstance(g, (numbers.Number, np.generic)):
            raise TypeError(
                f"{node.name}.backward returned a {type(g).__name__} for input "
                f"{_position(node, t)}; expected an "
                f"array of the input's shape {data.shape} (a Tensor when recording a graph)"
            )
        g = np.asarray(g)  # numpy returns scalars, not 0-d arrays, from 0-d arithmetic
    if g.shape != data.shape and not _broadcasts_to(data.shape, g.shape):
        raise ValueError(
            f"{node.name}.backward returned a gradient of shape {g.shape} for input "
            f"{_position(node, t)}, "
            f"which has shape {data.shape}: a gradient has its input's shape (or the shape "
            "broadcasting made of it, which the engine sums back)"
        )
    if g.shape != data.shape:
        g = sum_to_shape(g, data.shape)  # undo broadcasting: the one place it is handled
    if g.dtype != data.dtype:
        g = g.astype(data.dtype)
    return g


def _position(node: Function, t: Tensor) -> int:
    """Which of the node's inputs t is (by identity: Tensor's == is elementwise)."""
    return next(i for i, x in enumerate(node.inputs) if x is t)


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    """True if numpy's broadcasting turns `shape` into `target`."""
    if len(shape) > len(target):
        return False
    return all(a == b or a == 1 for a, b in zip(shape, target[len(target) - len(shape) :]))


def _run_hooks(hooks: dict, grad: Any) -> Any:
    for fn in list(hooks.values()):
        result = fn(grad if isinstance(grad, function.Tensor) else function.Tensor._make(grad))
        if result is not None:
            if not isinstance(result, function.Tensor):
                raise TypeError(
                    f"a gradient hook must return a Tensor or None, got {type(result).__name__}"
                )
            if result.shape != grad.shape:
                raise ValueError(
                    f"a gradient hook returned shape {result.shape}, expected {grad.shape}"
                )
            grad = result if isinstance(grad, function.Tensor) else result.data
    return grad


# -- the consumers ------------------------------------------------------------------------------


def _root_grads(roots: Sequence[Tensor], grads: Sequence[Any] | None, who: str) -> list:
    """The gradients to seed the walk with, checked against the roots."""
    out = []
    for i, root in enumerate(roots):
        if not isinstance(root, function.Tensor):
            raise TypeError(f"{who}: outputs must be Tensors, got {type(root).__name__}")
        if not root.requires_grad:
            raise RuntimeError(
                f"{who}: output {i} (shape {root.shape}) does not require grad and has no "
                "grad_fn: nothing that requires grad was used to compute it (set "
                "requires_grad=True on the inputs, and don't compute it under no_grad)"
            )
        g = None if grads is None else grads[i]
        if g is None:
            if root.data.size != 1:
                raise RuntimeError(
                    f"{who}: the gradient can be left out only for a one-element output, but "
                    f"output {i} has shape {root.shape}; reduce it first (e.g. .sum()) or pass "
                    "the upstream gradient (gradient=... / grad_outputs=...)"
                )
            data = root.data
            g = np.ones(data.shape, data.dtype) if data.ndim else np.array(1, data.dtype)
        else:
            if not isinstance(g, function.Tensor):
                g = function.Tensor._make(np.asarray(g, dtype=root.dtype))
            if g.shape != root.shape:
                raise ValueError(
                    f"{who}: the gradient for output {i} has shape {g.shape}, but the output "
                    f"has shape {root.shape}; they must match"
                )
            g = g.astype(root.dtype)
        out.append(g)
    return out


def _seeds(grads: list, create_graph: bool) -> list:
    """Seeds as the walk's currency: Tensors (a given one keeps its graph) or plain arrays."""
    if create_graph:
        return [g if isinstance(g, function.Tensor) else function.Tensor._make(g) for g in grads]
    return [g.data if isinstance(g, function.Tensor) else g for g in grads]


def backward(
    roots: Sequence[Tensor],
    grads: Sequence[Any] | None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate gradients of `roots` into the `.grad` of the leaves (see Tensor.backward)."""
    seeds = _seeds(_root_grads(roots, grads, "backward"), create_graph)
    retain = create_graph if retain_graph is None else retain_graph
    handed_out = set(map(id, seeds))  # arrays .grad must not share
    leaves: dict[Tensor, Any] = {}
    # what `with set_grad_enabled(create_graph):` does, written out (backward runs every step)
    prev, state.grad_enabled = state.grad_enabled, create_graph
    try:
        # the only steps that come are those of outputs that called retain_grad()
        for step in backward_steps(roots, seeds, retain, nodes=False, leaves=leaves):
            t = step.node._retained()
            if t is not None:  # that output still exists
                _accumulate(t, step.grad, handed_out)
        for t, g in leaves.items():
            _accumulate(t, g, handed_out)
    finally:
        state.grad_enabled = prev


def _accumulate(t: Tensor, g: Any, handed_out: set) -> None:
    """t.grad += g, never letting two .grad arrays (or a .grad and a seed) share memory."""
    if isinstance(g, function.Tensor):  # create_graph: a differentiable copy keeps the graph
        t.grad = g.clone() if t.grad is None else t.grad + g
    elif t.grad is None:
        t.grad = _own(g, handed_out)
    else:
        t.grad = function.Tensor._make(np.asanyarray(t.grad.data + g))


def _own(g: np.ndarray, handed_out: set) -> Tensor:
    """g as a Tensor of its own: copied if it is a view, read-only, or already handed out.

    Backward passes the same array on to several inputs (Add gives both the gradient it got),
    so without this two `.grad`s could share memory and an in-place update of one would change
    the other.
    """
    if g.base is not None or id(g) in handed_out or not g.flags.writeable:
        g = g.copy()
    handed_out.add(id(g))
    return function.Tensor._make(g)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """The gradients of `outputs` with respect to `inputs`, returned (not stored in `.grad`).

    Like torch.autograd.grad: `grad_outputs` gives the upstream gradient of each output (may be
    omitted for one-element outputs); an input that no output depends on is an error unless
    `allow_unused=True`, when its gradient is None. With `create_graph=True` the gradients are
    themselves differentiable.

    >>> x = tg.Tensor(3.0, requires_grad=True)
    >>> (dx,) = tg.grad(x ** 2, x)       # 2x = 6
    """
    outputs = [outputs] if isinstance(outputs, function.Tensor) else list(outputs)
    single = isinstance(inputs, function.Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is not None:
        grad_outputs = (
            [grad_outputs] if isinstance(grad_outputs, function.Tensor) else list(grad_outputs)
        )
        if len(grad_outputs) != len(outputs):
            raise ValueError(
                f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs"
            )
    for i, t in enumerate(inputs):
        if not isinstance(t, function.Tensor):
            raise TypeError(f"grad: inputs must be Tensors, got {type(t).__name__} at {i}")
        if not t.requires_grad:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) does not require grad, so it has no "
                "gradient; create it with requires_grad=True"
            )
    seeds = _root_grads(outputs, grad_outputs, "grad")
    retain = create_graph if retain_graph is None else retain_graph
    by_node = {id(t.grad_fn): i for i, t in enumerate(inputs) if t.grad_fn is not None}
    by_leaf = {id(t): i for i, t in enumerate(inputs) if t.grad_fn is None}
    results: list[Any] = [None] * len(inputs)
    with set_grad_enabled(create_graph):
        seeds = _seeds(seeds, create_graph)
        handed_out = {id(g) for g in seeds}
        for step in backward_steps(outputs, seeds, retain):
            i = by_leaf.get(id(step.leaf)) if step.leaf is not None else by_node.get(id(step.node))
            if i is not None and results[i] is None:
                g = step.grad
                results[i] = g if isinstance(g, function.Tensor) else _own(g, handed_out)
    for i, r in enumerate(results):
        if r is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {inputs[i].shape}) was not used to compute the "
                "outputs, so it has no gradient; pass allow_unused=True to get None for it"
            )
    return tuple(results)


# -- hooks and retained gradients -----------------------------------------------------------


class RemovableHandle:
    """Returned by `register_hook`; `.remove()` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self._hooks = hooks
        RemovableHandle._next_id += 1
        self.id = RemovableHandle._next_id

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


def register_hook(t: Tensor, fn: Any) -> RemovableHandle:
    if not callable(fn):
        raise TypeError(f"register_hook: expected a function of the gradient, got {fn!r}")
    if not t.requires_grad:
        raise RuntimeError(
            f"register_hook on a tensor (shape {t.shape}) that does not require grad: it will "
            "never receive a gradient"
        )
    if t.grad_fn is None:
        if t._hooks is None:
            t._hooks = {}
        hooks = t._hooks
    else:
        if t.grad_fn._hooks is None:
            t.grad_fn._hooks = {}
        hooks = t.grad_fn._hooks
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    return handle


def retain_grad(t: Tensor) -> None:
    if not t.requires_grad:
        raise RuntimeError(
            f"retain_grad on a tensor (shape {t.shape}) that does not require grad: it will "
            "never receive a gradient"
        )
    if t.grad_fn is not None:
        t.grad_fn._retained = weakref.ref(t)
