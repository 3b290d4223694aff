"""See the graph: `draw_graph` turns the nodes behind a tensor into a Graphviz picture.

A box per tensor (name, shape, dtype, value, gradient), a rounded grey box per op (name and
formula), edges in data-flow order (tensor -> op -> tensor), and a cluster per module. The graph
is read by `GraphView` (explain.py), the same reading `explain` uses, so both show the same names
and the gradients the engine's own backward walk computes.

Three steps: read the graph (GraphView), decide what to draw (viz_layout.py: every tensor and op,
or one box per top-level module, truncated for graphs far too big), then write the DOT
(`_Drawing`).
"""

from __future__ import annotations

import html
import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu.explain import GraphView, format_array, tensor_key
from tinygrad_edu.function import Function
from tinygrad_edu.nn.module import Module
from tinygrad_edu.tensor import Tensor
from tinygrad_edu.viz_layout import Layout, plan_layout

if TYPE_CHECKING:
    import graphviz

COLORS = ("kind", "grad")
RANKDIRS = ("LR", "TB")


# -- drawing ----------------------------------------------------------------------------------

_FILL = {
    "output": "#ffd966",
    "parameter": "#c9ecc4",
    "input": "#cfe2f3",
    "constant": "#eef3f8",
    "intermediate": "#ffffff",
}
_BORDER = {"output": "#b38f00", "parameter": "#4e9a4a", "input": "#5b8db8"}
_BLUES = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c"]
_GRAD_TEXT = "#9c4a00"
_SMALL = '<FONT POINT-SIZE="9" COLOR="{}">{}</FONT>'


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _table(rows: list[str]) -> str:
    body = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{body}</TABLE>>'


def _lines(prefix: str, text: str, color: str) -> list[str]:
    lines = text.splitlines()
    pad = " " * len(prefix)
    return [
        _SMALL.format(color, _esc((prefix if i == 0 else pad) + s)) for i, s in enumerate(lines)
    ]


def _shape_text(t: Tensor) -> str:
    shape = "scalar" if t.ndim == 0 else str(tuple(t.shape))
    return f"{shape}  {t.dtype}"


def _tensor_label(name: str, t: Tensor, values: bool, grad: Any, text: str, grad_text: str) -> str:
    """Name in bold; shape and dtype; the value and the gradient (up to 6 numbers in full)."""
    rows = [f"<B>{_esc(name)}</B>", _SMALL.format(text, _esc(_shape_text(t)))]
    if values:
        rows += _lines("", format_array(t.data, 6, shape=False), text)
    if grad is not None:
        rows += _lines("grad ", format_array(grad, 6, shape=False), grad_text)
    return _table(rows)


def _formula_lines(formula: str) -> list[str]:
    """'z = x * y;   dz/dx = y,   dz/dy = x' -> one line for z, one per derivative."""
    head, _, rest = formula.partition(";")
    parts = [head.strip()] + [p.strip() for p in re.split(r",?\s{3,}", rest) if p.strip()]
    out: list[str] = []
    for p in parts:
        out += textwrap.wrap(p, 44, subsequent_indent="  ") or [""]
    return out


def _op_label(node: Function) -> str:
    rows = [f"<B>{_esc(node.name)}</B>"]
    rows += [_SMALL.format("#444444", _esc(s)) for s in _formula_lines(node.formula)]
    return _table(rows)


def _grad_style(g: Any, lo: float, hi: float) -> dict[str, Any]:
    """Fill by the size of the gradient (max |g|, log scale); zero grey dashed; NaN/Inf red."""
    if g is None:
        return {"fillcolor": "#ffffff", "color": "#bbbbbb", "style": "filled,dotted", "dark": False}
    g = np.asarray(g)
    if g.size and not np.isfinite(g).all():
        red = {"fillcolor": "#fdd0d0", "color": "#d62728", "style": "filled,bold"}
        return {**red, "penwidth": "3", "dark": False}
    size = float(np.abs(g).max()) if g.size else 0.0
    if size == 0.0:
        return {"fillcolor": "#e6e6e6", "color": "#888888", "style": "filled,dashed", "dark": False}
    level = 0.5 if hi <= lo else (np.log10(size) - lo) / (hi - lo)
    i = int(round(level * (len(_BLUES) - 1)))
    return {"fillcolor": _BLUES[i], "color": "#555555", "style": "filled", "dark": i >= 5}


def _module_label(title: str, ops: list[Function], params: list, grads: bool) -> str:
    names = " → ".join(_unique_names(n.name for n in ops))
    count = f"{len(ops)} op{'s' if len(ops) > 1 else ''}: {names}"
    rows = [f"<B>{_esc(title)}</B>", _SMALL.format("#444444", _esc(count))]
    for name, p, g in params:
        rows.append(_SMALL.format("#1e5c1a", _esc(f"{name}  {_shape_text(p)}")))
        if grads and g is not None:
            rows += _lines("grad ", format_array(g, 6, shape=False), _GRAD_TEXT)
    return _table(rows)


def _unique_names(names: Any) -> list[str]:
    out: list[str] = []
    for n in names:
        if not out or out[-1] != n:
            out.append(n)
    return out


def _scope_label(entry: Any, paths: dict[int, str]) -> str:
    if isinstance(entry, Module):
        path = paths.get(id(entry), "")
        return f"{path} ({type(entry).__name__})" if path else type(entry).__name__
    return str(entry)


def draw_graph(
    *roots: Tensor,
    model: Module | None = None,
    values: bool = True,
    grads: bool = True,
    color: str = "kind",
    rankdir: str = "LR",
    collapse: bool | str = False,
    max_nodes: int = 150,
) -> graphviz.Digraph:
    """The computation graph behind `roots` as a `graphviz.Digraph`.

    One box per tensor (name, shape, dtype, and with `values`/`grads` a summary of its value
    and of its gradient: up to 6 numbers in full, else shape and min/mean/max) and one rounded
    box per op (name and formula); edges follow the data, tensor -> op -> tensor. Gradients are
    those of the root (of sum(root) if it has several elements) from the engine's own backward
    walk; a leaf shows its `.grad` when it has one. No `.grad` changes.

    Names: parameters by module path (`0.weight`, from `model` or the outermost module that
    ran), else the tensor's `name=`, else t0, t1, ... in creation order.
    color: "kind" (outputs gold, parameters green, inputs blue, intermediates white) or "grad"
    (shaded by max |grad| on a log scale; zero gradients grey and dashed, NaN/Inf red and bold).
    Ops that ran inside a module sit in a cluster labelled by its path. collapse=True draws each
    top-level module (each child of the outermost module: for an MLP, each layer) as one box;
    "auto" does so only when the graph has more than `max_nodes` boxes, and if it is still too
    big, draws the `max_nodes` boxes nearest the output and says how many were left out.

    Shows inline in Jupyter (without Graphviz's `dot` program, a note on how to install it);
    `.render("graph", format="png")` writes graph.png (needs Graphviz's
    `dot` program); `.source` is the DOT text (needs nothing). Without the graphviz Python
    package it returns a `tinygrad_edu.dot.Digraph` instead: the same `.source`, but rendering
    says what to install (`pip install graphviz`).

    >>> g = tg.draw_graph(loss, model=model)
    >>> g.render("mlp", format="png", cleanup=True)      # writes mlp.png
    """
    options = dict(values=values, grads=grads, color=color, rankdir=rankdir)
    return drawn_graph(roots, model, collapse, max_nodes, **options).digraph


@dataclass
class DrawnGraph:
    """What draw_graph made, for the explorer: the Digraph, the graph read (`view`), what was
    drawn (`layout`: item id -> tensor, op or module box) and the gradients shown."""

    digraph: Any
    view: GraphView
    layout: Layout
    grad_of: dict[int, Any]
    clusters: dict[str, tuple[str, tuple]]  # DOT cluster name -> (its label, its scope)


def drawn_graph(
    roots: tuple, model: Module | None, collapse: bool | str, max_nodes: int, **options: Any
) -> DrawnGraph:
    """draw_graph's work, keeping what it read and laid out (the explorer needs both)."""
    values, grads = options["values"], options["grads"]
    color, rankdir = options["color"], options["rankdir"]
    try:  # graphviz.Digraph; in Jupyter without `dot`, it says how to install it
        from tinygrad_edu.notebook import Digraph
    except ImportError:  # DOT is text: the same source without the package, which renders it
        from tinygrad_edu.dot import Digraph

    if not roots:
        raise TypeError("draw_graph: give at least one Tensor to draw, e.g. draw_graph(loss)")
    _check_option("color", color, COLORS)
    _check_option("rankdir", rankdir, RANKDIRS)
    if not (isinstance(collapse, bool) or (isinstance(collapse, str) and collapse == "auto")):
        raise ValueError(
            f"draw_graph: collapse must be one of False, True, 'auto'; got {collapse!r}"
        )
    if not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be an int >= 1, got {max_nodes!r}")
    view = GraphView(roots, model, who="draw_graph")
    need_grads = grads or color == "grad"
    if need_grads:
        view.check_not_freed(", or pass grads=False (and color='kind') to draw the values only")

    lay, notes = plan_layout(view, collapse, max_nodes)
    grad_of = _gradients(view, lay) if need_grads else {}
    if grads and view.seed_text():
        notes.append(f"grad: the gradient of {view.seed_text()} with respect to each tensor")
    drawing = _Drawing(Digraph, view, rankdir, values, grads, color, grad_of)
    for item, (kind, obj, cluster) in lay.items.items():
        drawing.add(item, kind, obj, cluster)
    if lay.dropped:
        note = f"… {lay.dropped:,} more boxes not drawn\n(max_nodes={max_nodes})"
        drawing.dot.node("left_out", label=note, shape="note", style="filled", fillcolor="#fff2cc")
        for item in lay.cut[:8]:
            drawing.dot.edge("left_out", item, style="dashed", color="#b0a060")
    for a, b in lay.edges:
        drawing.dot.edge(a, b)
    if color == "grad":
        notes.append(drawing.legend())
    clusters = {
        sub.name: (_scope_label(c[-1], drawing.paths), c) for c, sub in drawing.clusters.items()
    }
    return DrawnGraph(drawing.finish(notes), view, lay, grad_of, clusters)


def _check_option(name: str, value: Any, valid: tuple) -> None:
    if not isinstance(value, str) or value not in valid:
        raise ValueError(
            f"draw_graph: {name} must be one of {', '.join(repr(v) for v in valid)}; got {value!r}"
        )


def _gradients(view: GraphView, lay: Layout) -> dict[int, Any]:
    """Tensor key -> gradient, for the tensors drawn: `.grad` for a leaf that has one, the
    engine's walk for the rest (stopped as soon as every drawn tensor has its gradient)."""
    shown = [obj for kind, obj, _ in lay.items.values() if kind == "tensor"]
    shown += [p for kind, obj, _ in lay.items.values() if kind == "module" for p in obj[2]]
    grad_of: dict[int, Any] = {}
    for t in shown:
        if t.grad_fn is None and t.grad is not None:
            grad_of[id(t)] = t.grad.data
    wanted = {tensor_key(t) for t in shown if t.requires_grad} - set(grad_of)
    if wanted:
        for step in view.steps(wanted):
            key = id(step.leaf) if step.leaf is not None else id(step.node)
            grad_of.setdefault(key, step.grad)
    return grad_of


class _Drawing:
    """The Digraph being written: nodes go into nested clusters, one per module.

    Digraph: graphviz.Digraph, or tinygrad_edu.dot.Digraph (the same DOT) without graphviz."""

    def __init__(
        self, Digraph: type, view: GraphView, rankdir: str, values: bool, grads: bool,
        color: str, grad_of: dict[int, Any],
    ) -> None:  # fmt: skip
        self.Digraph, self.view, self.values, self.grads = Digraph, view, values, grads
        self.color, self.grad_of = color, grad_of
        self.paths = view.module_paths()
        self.clusters: dict[tuple, Any] = {}
        self.dot = Digraph("tinygrad_edu", format="svg")
        self.dot.attr(rankdir=rankdir, fontname="Helvetica", nodesep="0.25", ranksep="0.35")
        self.dot.attr("node", fontname="Helvetica", fontsize="11", margin="0.08,0.04")
        self.dot.attr("edge", color="#666666", arrowsize="0.7", penwidth="1.1")
        sizes = [
            np.log10(np.abs(g).max())
            for g in grad_of.values()
            if g.size and np.isfinite(g).all() and np.abs(g).max() > 0
        ]
        self.lo, self.hi = (min(sizes), max(sizes)) if sizes else (0.0, 0.0)

    def target(self, cluster: tuple) -> Any:
        """The (sub)graph a node of this scope goes into, made on first use."""
        for depth in range(1, len(cluster) + 1):
            c = cluster[:depth]
            if c not in self.clusters:
                sub = self.Digraph(name=f"cluster_{len(self.clusters)}")
                sub.attr(label=_scope_label(c[-1], self.paths), labeljust="l", fontsize="11")
                sub.attr(style="rounded,filled", fillcolor="#f4f6fa" if depth % 2 else "#e9edf4")
                sub.attr(color="#9aa5b8", fontname="Helvetica", fontcolor="#2b3a55")
                self.clusters[c] = sub
        return self.clusters[cluster] if cluster else self.dot

    def add(self, item: str, kind: str, obj: Any, cluster: tuple) -> None:
        if kind == "tensor":
            g = self.grad_of.get(tensor_key(obj))
            if self.color == "grad":
                style = _grad_style(g, self.lo, self.hi)
                text = "#ffffff" if style["dark"] else "#333333"
                style["fontcolor"] = "#ffffff" if style.pop("dark") else "#000000"
            else:
                k = self.view.kind(obj)
                style = {"fillcolor": _FILL[k], "color": _BORDER.get(k, "#777777")}
                style["style"] = "filled,dashed" if k == "constant" else "filled"
                text = "#333333"
            grad = g if self.grads else None
            grad_text = _GRAD_TEXT if self.color == "kind" else text  # shaded boxes: one colour
            label = _tensor_label(self.view.name(obj), obj, self.values, grad, text, grad_text)
            self.target(cluster).node(item, label=label, shape="box", **style)
        elif kind == "op":
            self.target(cluster).node(
                item, label=_op_label(obj), shape="box", style="rounded,filled",
                fillcolor="#e4e4e4", color="#8c8c8c",
            )  # fmt: skip
        else:  # a collapsed module: its ops and parameters in one box
            key, ops, params = obj
            named = [(self.view.name(p), p, self.grad_of.get(id(p))) for p in params]
            label = _module_label(_scope_label(key[-1], self.paths), ops, named, self.grads)
            self.target(cluster).node(
                item, label=label, shape="box", style="rounded,filled,bold",
                fillcolor="#e6dcf5", color="#6a4c9c",
            )  # fmt: skip

    def legend(self) -> str:
        return (
            f"colour: max |grad| on a log scale, from {10**self.lo:.2g} (light) to "
            f"{10**self.hi:.2g} (dark); grey dashed: zero gradient; red: NaN or Inf"
        )

    def finish(self, notes: list[str]) -> Any:
        for c in sorted(self.clusters, key=len, reverse=True):  # innermost first
            parent = self.clusters[c[:-1]] if len(c) > 1 else self.dot
            parent.subgraph(self.clusters[c])
        if notes:  # "\\l" ends a left-aligned line in DOT
            label = "\\l".join(notes) + "\\l"
            self.dot.attr(label=label, labelloc="b", labeljust="l", fontsize="10")
        return self.dot


def training_step_graph(**options: Any) -> graphviz.Digraph:
    """The graph of one training step of a small MLP, as `tinygrad-edu graph` draws it.

    The step is `training_step()`'s; `options` go to `draw_graph` (values, grads, color,
    rankdir, collapse, max_nodes).

    >>> training_step_graph(collapse=True).render("step", format="svg", cleanup=True)
    """
    loss, model = training_step()
    return draw_graph(loss, model=model, **options)


def training_step() -> tuple[Tensor, Module]:
    """One training step of a small MLP, backward done with the graph kept: (loss, model).

    MLP([4, 5, 3]) with fixed weights, on a batch of two hand-written digits (a 0 and a 2,
    averaged from 8x8 down to 2x2 pixels, so 4 inputs), cross-entropy against their classes,
    after loss.backward(retain_graph=True), so that the parameters hold their `.grad` and the
    graph can still be drawn or explored.
    """
    from tinygrad_edu.datasets import load_digits
    from tinygrad_edu.nn import MLP
    from tinygrad_edu.nn.functional import cross_entropy

    images, labels = load_digits()
    picks = [int(np.argmax(labels == 0)), int(np.argmax(labels == 2))]
    pooled = images[picks].reshape(2, 2, 4, 2, 4).mean(axis=(2, 4)) / 16  # 2x2 means, in [0, 1]
    x = Tensor(pooled.reshape(2, 4), name="x")
    model = MLP([4, 5, 3])
    rng = np.random.default_rng(0)  # the same weights every time, without touching tg's seed
    params = dict(model.named_parameters())
    model.load_state_dict({k: rng.uniform(-0.6, 0.6, p.shape) for k, p in params.items()})
    logits = model(x)
    logits.name = "logits"
    loss = cross_entropy(logits, Tensor(np.array([0, 2])))
    loss.name = "loss"
    loss.backward(retain_graph=True)
    return loss, model
