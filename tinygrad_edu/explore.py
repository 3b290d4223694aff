"""The graph explorer: one HTML page in which to click through a graph and step through backward.

`tg.explore(loss, model=model)` reads the graph as `draw_graph` and `explain` do and returns an
`Explorer`. `.save("graph.html")` writes one self-contained page (no network: the picture, the
numbers, the script and the styles are all inside it); in Jupyter the same page shows inline.

What the page holds:
  * the picture: `draw_graph`'s DOT laid out by Graphviz's `dot` into SVG (the layout is
    Graphviz's; the page only adds behaviour), so `dot` must be installed to make a page;
  * for every box, its numbers: name, module, op and formula, shape, dtype, value and gradient
    (up to 300 elements in full, larger arrays as shape, min/mean/max and a histogram), and the
    boxes it reads from and feeds;
  * the backward pass as `explain` tells it, one step per op, in the engine's order, with what
    each step sends to each input: the page's step mode shows exactly those lines.

The page's frame is `explorer/page.html`, its behaviour `explorer/explorer.js` and its looks
`explorer/explorer.css`, beside this file; all three are read here and written into the page.
"""

from __future__ import annotations

import html
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu.explain import GraphView, explained_steps, format_array, tensor_key
from tinygrad_edu.function import Function
from tinygrad_edu.io import _write_atomically
from tinygrad_edu.nn.module import Module
from tinygrad_edu.tensor import Tensor

ASSETS = Path(__file__).resolve().parent / "explorer"
FULL_UP_TO = 300  # arrays up to this many elements are shown in full
BINS = 20  # histogram bars for larger arrays
INSTALL_DOT = (
    "Graphviz's `dot` program lays the graph out, and it is not installed: install it "
    "(`apt-get install graphviz`, `brew install graphviz`, or https://graphviz.org/download/). "
    "Without it, tg.explain(loss) gives the same steps as text, and tg.draw_graph(loss).source "
    "the graph as DOT"
)


def explore(
    *roots: Tensor,
    model: Module | None = None,
    color: str = "kind",
    rankdir: str = "TB",
    collapse: bool | str = "auto",
    max_nodes: int = 150,
) -> Explorer:
    """The graph behind `roots` as an explorer page: `.save("graph.html")`, or show it in Jupyter.

    Click a box (or Tab to it and press Enter) to see its numbers; press the right arrow (or
    Next) to run backward one op at a time, in the engine's order, as `tg.explain` prints it.
    `model`, `color` ("kind" or "grad"), `rankdir` ("TB" or "LR"), `collapse` and `max_nodes` are
    those of `draw_graph` (by default a graph of more than `max_nodes` boxes is collapsed to one
    box per module; on the page, a click on a module's name folds its box too).
    Like `draw_graph`, call it before `backward()` or after `backward(retain_graph=True)`.

    >>> tg.explore(loss, model=model).save("step.html")
    """
    from tinygrad_edu.viz import drawn_graph

    drawn = drawn_graph(
        roots, model, collapse, max_nodes, values=True, grads=True, color=color, rankdir=rankdir
    )
    return Explorer(drawn)


class Explorer:
    """A graph ready to explore: `.save(path)` writes the page, `.html()` returns it, and
    Jupyter shows it inline. `.data` is what the page knows (JSON-ready), `.svg` its picture."""

    def __init__(self, drawn: Any) -> None:
        self.dot_source: str = drawn.digraph.source
        self.data: dict[str, Any] = _page_data(drawn)
        self._svg: str | None = None

    @property
    def svg(self) -> str:
        """The picture: Graphviz's layout of the graph as SVG (needs the `dot` program)."""
        if self._svg is None:
            self._svg = _layout_svg(self.dot_source)
        return self._svg

    def html(self) -> str:
        """The whole page as one string: picture, numbers, script and styles inline."""
        data = json.dumps(self.data, separators=(",", ":")).replace("</", "<\\/")
        css = (ASSETS / "explorer.css").read_text(encoding="utf-8")
        script = (ASSETS / "explorer.js").read_text(encoding="utf-8")
        title = html.escape(f"Backward pass of {self.data['seed']}")
        page = (ASSETS / "page.html").read_text(encoding="utf-8")
        return page.format(title=title, css=css, svg=self.svg, data=data, script=script)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to `path` (atomically: a crash leaves any old file whole)."""
        path = Path(path)
        if path.is_dir():
            raise IsADirectoryError(f"Explorer.save: {str(path)!r} is a folder; give a file name")
        _write_atomically(os.fspath(path), self.html().encode("utf-8"))
        return path

    def _repr_html_(self) -> str:
        """Jupyter: the page in a frame of its own (its script and styles stay inside it)."""
        if shutil.which("dot") is None:
            return f"<p><b>tg.explore</b>: {html.escape(INSTALL_DOT)}.</p>"
        page = html.escape(self.html(), quote=True)
        return (
            f'<iframe srcdoc="{page}" style="width:100%;height:720px;border:1px solid #ccc" '
            'title="graph explorer"></iframe>'
        )

    def __repr__(self) -> str:
        steps = len(self.data["steps"]) - 1
        return (
            f"<Explorer of {self.data['seed']}: {len(self.data['items'])} boxes, {steps} backward "
            "steps; .save('graph.html') writes the page>"
        )


def _layout_svg(source: str) -> str:
    """`dot -Tsvg` of `source`, without the XML prolog (the SVG goes inside an HTML page)."""
    import subprocess  # here: importing tinygrad_edu stays quick

    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(f"tg.explore: {INSTALL_DOT}")
    done = subprocess.run([dot, "-Tsvg"], input=source, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"tg.explore: Graphviz could not lay the graph out: {done.stderr}")
    svg = done.stdout
    return svg[svg.index("<svg") :]


# -- what the page knows ------------------------------------------------------------------------


def _array(a: Any) -> dict[str, Any]:
    """An array as the panel shows it: the text, and a histogram when it is summarised."""
    a = np.asarray(a)
    shown: dict[str, Any] = {"text": format_array(a, FULL_UP_TO)}
    if a.size > FULL_UP_TO and a.dtype.kind in "fiu":
        finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a
        if finite.size:
            counts, edges = np.histogram(finite, bins=BINS)
            shown["hist"] = {
                "counts": counts.tolist(),
                "lo": float(edges[0]),
                "hi": float(edges[-1]),
            }
    return shown


def _page_data(drawn: Any) -> dict[str, Any]:
    view: GraphView = drawn.view
    layout = drawn.layout
    paths = view.module_paths()
    box_of_tensor: dict[int, str] = {}  # tensor key -> the box that shows it
    box_of_op: dict[int, str] = {}  # id(op) -> its box (its own, or its collapsed module's)
    items: dict[str, dict[str, Any]] = {}
    for item, (kind, obj, cluster) in layout.items.items():
        module = _module_text(cluster, paths)
        if kind == "tensor":
            box_of_tensor[tensor_key(obj)] = item
            items[item] = _tensor_item(view, obj, drawn.grad_of.get(tensor_key(obj)), module)
        elif kind == "op":
            box_of_op[id(obj)] = item
            items[item] = _op_item(obj, module)
        else:  # a collapsed module: its ops and the parameters only it uses, in one box
            key, ops, params = obj
            for n in ops:
                box_of_op[id(n)] = item
            for p in params:
                box_of_tensor[tensor_key(p)] = item
            items[item] = {
                "kind": "module",
                "name": _module_text(key, paths),
                "module": module,
                "ops": [n.name for n in ops],
                "params": [_tensor_item(view, p, drawn.grad_of.get(id(p)), "") for p in params],
            }
    for a, b in layout.edges:
        if a in items and b in items:
            items[a].setdefault("feeds", []).append(b)
            items[b].setdefault("reads", []).append(a)
    roots = [r for r in view.roots if r.requires_grad]
    intro, steps = explained_steps(view, roots[0]) if roots else ([], [])

    def to(t: Tensor, text: str) -> dict[str, Any]:
        return {"item": box_of_tensor.get(tensor_key(t)), "name": view.name(t), "text": text}

    return {
        "seed": view.seed_text() or view.name(view.roots[0]),
        "roots": [box_of_tensor.get(tensor_key(r)) for r in roots],
        "items": items,
        "clusters": {
            name: {
                "label": label,
                "items": [i for i, (_, _, c) in layout.items.items() if _within(c, scope)],
            }
            for name, (label, scope) in drawn.clusters.items()
        },
        "intro": intro,
        "steps": [
            {
                "number": s.number,
                "op": s.node.name if s.node is not None else None,
                "item": box_of_op.get(id(s.node)) if s.node is not None else None,
                # the tensor this op made: its key is the op's id (explain.tensor_key)
                "output": box_of_tensor.get(id(s.node)) if s.node is not None else None,
                "lines": s.lines,
                "sent": [to(t, text) for t, text in s.sent],
                "done": [to(t, text) for t, text in s.done],
            }
            for s in steps
        ],
    }


def _within(cluster: tuple, scope: tuple) -> bool:
    return len(cluster) >= len(scope) and all(a is b for a, b in zip(cluster, scope))


def _module_text(scope: tuple, paths: dict[int, str]) -> str:
    from tinygrad_edu.viz import _scope_label

    return " / ".join(_scope_label(entry, paths) for entry in scope)


def _tensor_item(view: GraphView, t: Tensor, grad: Any, module: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "kind": "tensor",
        "role": view.kind(t),
        "name": view.name(t),
        "module": module,
        "shape": list(t.shape),
        "dtype": str(t.dtype),
        "requires_grad": bool(t.requires_grad),
        "value": _array(t.data),
    }
    if grad is not None:
        item["grad"] = _array(grad)
    if t.grad_fn is not None:
        item["made_by"] = t.grad_fn.name
    return item


def _op_item(node: Function, module: str) -> dict[str, Any]:
    return {"kind": "op", "name": node.name, "formula": node.formula, "module": module}
