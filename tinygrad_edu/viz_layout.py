"""Deciding what the graph picture shows: which boxes, inside which module clusters, with which
edges; one box per module when collapsed; and, for graphs far too big, only the part nearest the
output. `viz.draw_graph` turns the result into DOT.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from tinygrad_edu.explain import GraphView, tensor_key
from tinygrad_edu.nn.module import Module
from tinygrad_edu.tensor import Tensor


class Layout:
    """Items to draw (id -> (kind, object, cluster)) and edges (id, id) between them."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[str, Any, tuple]] = {}
        self.edges: list[tuple[str, str]] = []
        self.boxes = 0  # collapsed modules
        self.dropped = 0  # items left out by truncation
        self.cut: list[str] = []  # kept items whose inputs were left out
        self.root_items: list[str] = []  # the outputs, where truncation starts


def _collapse_key(scope: tuple) -> tuple | None:
    """The top-level module an op belongs to: a child of the outermost module (for an MLP, each
    Linear or activation), or the outermost module itself when it has no sub-modules."""
    if not scope:
        return None
    top = scope[0]
    if isinstance(top, Module) and next(top.children(), None) is not None:
        return scope[:2] if len(scope) >= 2 else None
    return scope[:1]


def _layout(view: GraphView, collapse: bool) -> Layout:
    """Every tensor and op, each in the cluster of the module that made it; collapsed, one box
    per top-level module instead of its ops, its parameters and the tensors it keeps inside."""
    lay = Layout()
    group = {id(n): _collapse_key(n.scope) if collapse else None for n in view.nodes}
    tid: dict[int, str] = {}  # tensor key -> item id, for the tensors drawn on their own
    boxes: dict[tuple, str] = {}  # collapsed module -> item id
    box_params: dict[str, list[Tensor]] = {}
    where: dict[int, tuple] = {}  # tensor key -> cluster, for tensors placed by their consumers
    for n in view.nodes:  # number the boxes in forward order
        if group[id(n)] is not None:
            boxes.setdefault(group[id(n)], f"M{len(boxes)}")
    for t in view.tensors:
        k = tensor_key(t)
        users = view.consumers.get(k, [])
        if t.grad_fn is not None:
            g = group[id(t.grad_fn)]
            if g is not None and k not in view.root_keys and all(group[id(u)] == g for u in users):
                continue  # made and used inside one collapsed module: hidden in its box
            cluster = g[:-1] if g is not None else t.grad_fn.scope
        elif view.kind(t) == "parameter":
            gs = {group[id(u)] for u in users}
            if collapse and len(gs) == 1 and None not in gs and k not in view.root_keys:
                box_params.setdefault(boxes[gs.pop()], []).append(t)
                continue
            cluster = None  # inside the module that uses it: decided once ops are placed
        else:
            cluster = ()  # inputs and constants come from outside every module
        tid[k] = f"T{len(tid)}"
        lay.items[tid[k]] = ("tensor", t, cluster)
        if k in view.root_keys:
            lay.root_items.append(tid[k])
        if cluster is None:
            where[k] = tid[k]
    op_cluster: dict[int, tuple] = {}
    seen_edges: set[tuple[str, str]] = set()
    for i, n in enumerate(view.nodes):
        g = group[id(n)]
        if g is None:
            me, op_cluster[id(n)] = f"F{i}", n.scope
            lay.items[me] = ("op", n, n.scope)
        else:
            me = boxes[g]
            op_cluster[id(n)] = g[:-1]
            if me not in lay.items:
                lay.items[me] = ("module", [g, [], box_params.get(me, [])], g[:-1])
            lay.items[me][1][1].append(n)
        for x in n.inputs:
            src = tid.get(tensor_key(x))
            if src is not None and (src, me) not in seen_edges:
                lay.edges.append((src, me))
                if g is not None:
                    seen_edges.add((src, me))  # a box takes each tensor once
        out = tid.get(id(n))
        if out is not None:
            lay.edges.append((me, out))
    for k, item in where.items():  # parameters sit in the deepest module all their users share
        users = [op_cluster[id(u)] for u in view.consumers.get(k, [])]
        kind, t, _ = lay.items[item]
        lay.items[item] = (kind, t, _common_prefix(users))
    lay.boxes = len(boxes)
    return lay


def _truncate(lay: Layout, root_items: list[str], limit: int) -> Layout:
    """Keep the `limit` items nearest the roots (breadth first, against the edges)."""
    preds: dict[str, list[str]] = {}
    for a, b in lay.edges:
        preds.setdefault(b, []).append(a)
    kept: dict[str, None] = {}
    queue = deque(root_items)
    while queue and len(kept) < limit:
        item = queue.popleft()
        if item not in kept:
            kept[item] = None
            queue.extend(p for p in preds.get(item, []) if p not in kept)
    out = Layout()
    out.items = {i: lay.items[i] for i in kept}
    out.edges = [(a, b) for a, b in lay.edges if a in kept and b in kept]
    out.dropped = len(lay.items) - len(kept)
    out.cut = [i for i in kept if any(p not in kept for p in preds.get(i, []))]
    return out


def _common_prefix(paths: list[tuple]) -> tuple:
    if not paths:
        return ()
    first = paths[0]
    n = len(first)
    for p in paths[1:]:
        n = min(n, len(p))
        for i in range(n):
            if p[i] is not first[i] and p[i] != first[i]:
                n = i
                break
    return first[:n]


def plan_layout(view: GraphView, collapse: bool | str, max_nodes: int) -> tuple[Layout, list[str]]:
    """What to draw, and the notes that say what was left out."""
    full = len(view.tensors) + len(view.nodes)
    over = collapse == "auto" and full > max_nodes
    lay = _layout(view, collapse is True or over)
    notes = []
    if over and lay.boxes:
        notes.append(
            f"collapsed to one box per module: the full graph has {full:,} boxes, more than "
            f"max_nodes={max_nodes}"
        )
    if over and len(lay.items) > max_nodes:
        total = len(lay.items)
        lay = _truncate(lay, lay.root_items, max_nodes)
        notes.append(
            f"truncated: {total:,} boxes are more than max_nodes={max_nodes}; showing the "
            f"{len(lay.items):,} nearest the output, {lay.dropped:,} left out"
        )
    return lay, notes
