"""Reading the graph, and `explain`: the backward pass told step by step.

`GraphView(roots)` is how both `explain` and the drawing (`draw_graph`, viz.py) read a graph:
  * it walks from the roots back to the leaves once, with a stack and a visited set (no
    recursion), and lists every tensor and op in forward (creation) order;
  * it names the tensors: parameters by module path (`0.weight`), else the user's `name=`, else
    t0, t1, ... in creation order;
  * `steps()` runs the engine's own backward walk (`backward_steps`, graph retained, grad mode
    off) and returns its steps: the gradients exactly as backward computes them, without
    touching any `.grad`.

`explain(root)` prints those steps: for each op, its formula, the gradient arriving from above
and the gradient it sends to each input - the chain rule, one multiplication at a time.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_edu.autograd import Step, backward_steps
from tinygrad_edu.formatting import _num, format_array
from tinygrad_edu.function import Function
from tinygrad_edu.mode import set_grad_enabled
from tinygrad_edu.nn.module import Module, Parameter
from tinygrad_edu.tensor import Tensor

# -- reading the graph ------------------------------------------------------------------------


def tensor_key(t: Tensor) -> int:
    """One key per tensor of the graph: a non-leaf is known by the node that made it."""
    return id(t.grad_fn) if t.grad_fn is not None else id(t)


class GraphView:
    """The tensors and ops behind `roots`, in forward order, with their names.

    `tensors` holds each tensor once (every input before the op that reads it), `nodes` each
    op once, `consumers[key]` the ops that read a tensor, `names[key]` its name.
    """

    def __init__(self, roots: Sequence[Tensor], model: Module | None = None, who: str = "") -> None:
        self.who = who
        self.roots: list[Tensor] = []
        self.root_keys: set[int] = set()
        for t in roots:
            if not isinstance(t, Tensor):
                raise TypeError(f"{who}: expected Tensors, got {type(t).__name__}")
            if tensor_key(t) not in self.root_keys:
                self.root_keys.add(tensor_key(t))
                self.roots.append(t)
        if model is not None and not isinstance(model, Module):
            raise TypeError(f"{who}: model must be a tg.nn.Module, got {type(model).__name__}")
        self.model = model
        self.tensors: list[Tensor] = []
        self.nodes: list[Function] = []
        self.consumers: dict[int, list[Function]] = {}
        self._walk()
        self.top_modules = _unique(n.scope[0] for n in self.nodes if n.scope)
        self.params = self._parameter_names()
        self.names = self._names()

    def _walk(self) -> None:
        """Post-order depth-first walk from the roots: every input is listed before its user."""
        seen: set[int] = set()
        for root in self.roots:
            stack: list[tuple[Tensor, bool]] = [(root, False)]
            while stack:
                t, inputs_done = stack.pop()
                if inputs_done:
                    self.tensors.append(t)
                    if t.grad_fn is not None:
                        self.nodes.append(t.grad_fn)
                    continue
                if tensor_key(t) in seen:
                    continue
                seen.add(tensor_key(t))
                stack.append((t, True))
                fn = t.grad_fn
                if fn is not None:
                    for x in reversed(fn.inputs):
                        k = id(x.grad_fn) if x.grad_fn is not None else id(x)
                        self.consumers.setdefault(k, []).append(fn)
                        if k not in seen:
                            stack.append((x, False))

    def _sources(self) -> list:
        """Where names come from: `model`, else the outermost modules that ran."""
        return [self.model] if self.model is not None else self.top_modules

    def _parameter_names(self) -> dict[int, str]:
        names: dict[int, str] = {}
        taken: set[str] = set()
        for m in self._sources():
            if not isinstance(m, Module):
                continue  # a string scope (tg.scope("layer1")) holds no parameters
            for name, p in m.named_parameters():
                if name in taken:  # two separate models: tell them apart by class
                    name = f"{type(m).__name__}.{name}"
                taken.add(name)
                names.setdefault(id(p), name)
        return names

    def _names(self) -> dict[int, str]:
        names: dict[int, str] = {}
        counter = 0
        for t in self.tensors:
            name = self.params.get(id(t)) if t.grad_fn is None else None
            if name is None and t.name is not None:
                name = str(t.name)
            if name is None and t.grad_fn is None and not t.requires_grad and t.size == 1:
                name = _num(t.data.item())  # a constant such as the 2 of x ** 2: its value
            if name is None:
                name, counter = f"t{counter}", counter + 1
            names[tensor_key(t)] = name
        return names

    def name(self, t: Tensor) -> str:
        return self.names[tensor_key(t)]

    def module_paths(self) -> dict[int, str]:
        """id(module) -> its dotted path below `model` (or below the outermost module)."""
        paths: dict[int, str] = {}
        for top in self._sources():
            if isinstance(top, Module):
                for path, m in top.named_modules():
                    paths.setdefault(id(m), path)
        return paths

    def kind(self, t: Tensor) -> str:
        """output, parameter, input (a leaf that requires grad), constant or intermediate."""
        if tensor_key(t) in self.root_keys:
            return "output"
        if t.grad_fn is not None:
            return "intermediate"
        if id(t) in self.params or isinstance(t, Parameter):
            return "parameter"
        return "input" if t.requires_grad else "constant"

    def check_not_freed(self, advice: str = "") -> None:
        """Raise if an earlier backward freed the graph: its gradients can no longer be found."""
        for node in self.nodes:
            if node.released:
                raise RuntimeError(
                    f"{self.who}: this graph was freed by an earlier backward() (the values "
                    f"{node.name} saved for backward are gone), so its gradients cannot be "
                    f"computed. Call {self.who} before backward, or call "
                    f"backward(retain_graph=True) first{advice}."
                )

    def steps(self, wanted: set[int] | None = None) -> list[Step]:
        """The engine's backward walk from the roots, seeded with ones; `.grad` stays untouched.

        With `wanted` (tensor keys), stop as soon as each of them has its gradient.
        """
        self.check_not_freed()
        roots = [r for r in self.roots if r.requires_grad]
        seeds = [np.ones(r.shape, dtype=r.dtype) for r in roots]
        wanted = None if wanted is None else set(wanted)
        out: list[Step] = []
        with set_grad_enabled(False):
            for step in backward_steps(roots, seeds, retain_graph=True, hooks=False):
                out.append(step)
                if wanted is not None:
                    wanted.discard(id(step.leaf) if step.leaf is not None else id(step.node))
                    if not wanted:
                        break
        return out

    def seed_text(self) -> str:
        """What the gradients are gradients of: `loss`, or `sum(y)` for a non-scalar y."""
        parts = [
            self.name(r) if r.size == 1 else f"sum({self.name(r)})"
            for r in self.roots
            if r.requires_grad
        ]
        return " + ".join(parts)


def _unique(items: Any) -> list:
    out, seen = [], set()
    for x in items:
        if id(x) not in seen:
            seen.add(id(x))
            out.append(x)
    return out


# -- explain ----------------------------------------------------------------------------------


def _block(label: str, text: str) -> list[str]:
    """`label text`, with the continuation lines of a printed matrix indented under it."""
    first, *rest = text.splitlines()
    return [label + first] + [" " * len(label) + line for line in rest]


@dataclass
class ExplainedStep:
    """One op's step of `explain`, as text: `lines` is what explain prints for it.

    `sent` pairs each input that received a gradient with the text of what it received, `done`
    each leaf whose gradient became complete here with the text of its total (both also in
    `lines`). The step numbered 0 (node None) holds only leaves done before any op: a root
    that is itself a leaf.
    """

    number: int
    node: Function | None
    lines: list[str] = field(default_factory=list)
    sent: list[tuple[Tensor, str]] = field(default_factory=list)
    done: list[tuple[Tensor, str]] = field(default_factory=list)


def explained_steps(view: GraphView, root: Tensor) -> tuple[list[str], list[ExplainedStep]]:
    """The introduction and the steps of `explain(root)`: what explain prints, in pieces that a
    page can show one at a time (the graph explorer's step mode uses exactly these)."""
    view.check_not_freed()
    r = view.name(root)
    of = view.seed_text()

    def d(name: str) -> str:
        return f"d({of})/d({name})"

    seed = "1" if root.size == 1 else "ones (the gradient of a sum)"
    intro = (
        f"Backward pass of {of} (shape {root.shape}, {root.dtype}), seeded with {d(r)} = "
        f"{seed}. Each op multiplies the gradient arriving from above by its local derivative "
        "(the chain rule) and sends the result to its inputs; a tensor used more than once adds "
        "up what it receives."
    )
    steps = view.steps()
    # The engine hands out the leaves last; each is shown under the step that sent it its
    # last piece of gradient, where its gradient became complete.
    last_sender: dict[int, int] = {}  # id(leaf) -> index of that step
    for i, step in enumerate(steps):
        if step.leaf is None:
            for t, g in zip(step.node.inputs, step.input_grads):
                if g is not None and t.grad_fn is None:
                    last_sender[id(t)] = i
    finished: dict[int, list[Step]] = {}
    for step in steps:
        if step.leaf is not None:
            finished.setdefault(last_sender.get(id(step.leaf), -1), []).append(step)

    def leaves_done(i: int, into: ExplainedStep) -> None:
        for leaf_step in finished.get(i, []):
            name = view.name(leaf_step.leaf)
            text = _block(f"  leaf {name} is done: {d(name)} = ", format_array(leaf_step.grad, 16))
            into.lines += text
            into.done.append((leaf_step.leaf, "\n".join(text)))

    out_steps = [ExplainedStep(0, None)]
    leaves_done(-1, out_steps[0])  # a root that is itself a leaf
    for i, step in enumerate(steps):
        if step.leaf is not None:
            continue
        node = step.node
        here = ExplainedStep(len(out_steps), node)
        out = view.name(_output_of(view, node))
        ins = ", ".join(view.name(t) for t in node.inputs)
        here.lines.append(f"step {here.number}: {node.name}   {out} = {node.name}({ins})")
        here.lines.append(f"  formula:     {node.formula}")
        here.lines += _block(f"  from above:  {d(out)} = ", format_array(step.grad, 16))
        for t, g in zip(node.inputs, step.input_grads):
            name = view.name(t)
            if g is None:
                why = "a constant" if view.kind(t) == "constant" else f"{name} needs no gradient"
                here.lines.append(f"  to {name}: nothing ({why})")
            else:
                text = _block(f"  to {name}:  {d(name)} += ", format_array(g, 16))
                here.lines += text
                here.sent.append((t, "\n".join(text)))
        leaves_done(i, here)
        out_steps.append(here)
    return textwrap.wrap(intro, 100), out_steps


def explain(root: Tensor, model: Module | None = None) -> Explanation:
    """The backward pass of `root` as text: one step per op, in the order the engine runs them.

    Each step shows the op's formula, the gradient arriving from above (the gradient of the
    root with respect to the op's output) and the gradient sent to each input (that gradient
    times the op's local derivative). Numbers have 4 significant digits; arrays of up to 16
    elements are shown in full, larger ones as shape and min/mean/max. A non-scalar root is
    explained as sum(root). Tensors are named as in `draw_graph` (parameters by their path in
    `model`, or in the outermost module that ran). It runs the engine's own walk and changes
    no `.grad`. The result is a `str` (an `Explanation`) that Jupyter shows as the text itself.

    >>> x = tg.Tensor([1.0, 2.0], requires_grad=True, name="x")
    >>> print(tg.explain((x * x).sum()))
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"explain: expected a Tensor, got {type(root).__name__}")
    view = GraphView([root], model, who="explain")
    if not root.requires_grad:
        return Explanation(
            f"{view.name(root)} (shape {root.shape}) does not require grad: no graph leads to "
            "it, so there is no backward pass to explain (create the inputs with "
            "requires_grad=True)"
        )
    intro, steps = explained_steps(view, root)
    lines = intro + steps[0].lines
    for step in steps[1:]:
        lines += [""] + step.lines
    return Explanation("\n".join(lines))


class Explanation(str):
    """explain's text: a str (print it, compare it, save it) that Jupyter shows as the text
    itself, not as its repr with "\\n" escapes."""

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython's plain-text view
        p.text(str(self))

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self)}</pre>"


def _output_of(view: GraphView, node: Function) -> Tensor:
    for t in view.roots:
        if t.grad_fn is node:
            return t
    user = view.consumers[id(node)][0]
    return next(t for t in user.inputs if t.grad_fn is node)
