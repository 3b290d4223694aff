"""Memory for a replayed step: where each recorded array lives, planned once.

The step's inputs get buffers of their own; parameters stay where the flat buckets put them;
gradients are written straight into the flat gradient buffers where they can be; what outlives
the step (outputs, `.grad`s) keeps a buffer of its own; and temporaries share blocks of memory:
walking the kernels in order, each temporary takes a free block of its size, and gives it back
after its last reader has run (a greedy plan; "(reused)" in the trace).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu.jit.kernel import Kernel, View

if TYPE_CHECKING:
    from tinygrad_edu.jit.program import Program


def plan_memory(program: Program, rec: Any) -> None:
    """Decide where each root of the recording lives during a replay, and insert the kernels
    that restore scratch values and copy gradients into the flat gradient buffers."""
    kernels: list[Kernel] = []
    program.storage: dict[int, Any] = {}  # root index -> raw uint8 array (planned or own)
    pinned: dict[int, np.ndarray] = {}  # root index -> gradient view it lives in
    program.grad_buffers = []
    # gradients: each a view of its bucket's flat gradient buffer
    grad_targets: dict[int, list] = {}
    for k, event, buckets in program.opt_steps:
        copies = []
        for b in buckets:
            G = np.empty_like(b.P)
            b_grads = {}
            for p, off, n in zip(b.params, b.offsets, b.sizes):
                b_grads[id(p)] = G[off : off + n].reshape(p.shape)
            for _, items in event.groups:
                for p, v in items:
                    gv = b_grads.get(id(p))
                    if gv is None or v is None:
                        continue
                    root = v.root
                    if (
                        root.kind == "temp"
                        and v.whole
                        and root.array.flags.c_contiguous
                        and root.index not in pinned
                    ):
                        pinned[root.index] = gv
                    else:
                        copies.append((gv, v))
            program.grad_buffers.append((b, G))
        grad_targets[id(k)] = copies
    # what outlives the step
    live_out = set()
    for _, v in program.recording.final_grads:
        if v is not None:
            live_out.add(v.root.index)
    _collect_views(program.recording.outputs, live_out)
    # the final kernel list
    first_use: dict[int, int] = {}
    for k in rec.kernels:
        views = k.views()
        if k.kind == "optimizer":
            for gv, v in grad_targets[id(k)]:
                kernels.append(Kernel("tograd", np.copyto, (v,), {}, (), k.label, gv))
        for v in views:
            root = v.root
            if root.kind == "scratch" and root.index not in first_use:
                first_use[root.index] = len(kernels)
                whole = View(root, root.array)
                kernels.append(Kernel("restore", np.copyto, (root.snapshot,), {}, (whole,),
                                      k.label, None))  # fmt: skip
        kernels.append(k)
    program.kernels = kernels
    # lifetimes of the plannable roots
    start: dict[int, int] = {}
    end: dict[int, int] = {}
    roots = {r.index: r for r in rec.roots.values()}
    for i, k in enumerate(kernels):
        views = k.views()
        if k.kind == "optimizer":
            views += [v for _, items in k.extra.groups for _, v in items if v is not None]
        for v in views:
            r = v.root.index
            start.setdefault(r, i)
            end[r] = i
    program.block_of: dict[int, int] = {}  # root index -> block number
    program.blocks: list[np.ndarray] = []
    program.reused: set[int] = set()  # root indices that got a block used before
    free: dict[int, list[int]] = {}
    releases: dict[int, list[int]] = {}
    order = sorted(start, key=lambda r: start[r])
    program.planned_bytes = program.temp_bytes = 0
    for r in order:
        root = roots[r]
        if root.kind in ("param", "external") and id(root.array) in program._relocate:
            program.storage[r] = "relocate"  # (some of) its tensors moved into flat buffers
            continue
        if root.kind in ("input", "external", "const", "param"):
            program.storage[r] = None  # lives where it is
            continue
        if r in pinned:
            program.storage[r] = pinned[r].view(np.uint8).reshape(-1)
            continue
        program.temp_bytes += root.nbytes
        if r in live_out:  # outlives the step: a buffer of its own
            program.storage[r] = np.empty(root.nbytes, np.uint8)
    # greedy: walk the kernels, giving each plannable root a free block of its size
    plannable = {r for r in start if r not in program.storage}
    for r in plannable:
        releases.setdefault(end[r], []).append(r)
    starts: dict[int, list[int]] = {}
    for r in plannable:
        starts.setdefault(start[r], []).append(r)
    for i in range(len(kernels)):
        for r in starts.get(i, ()):
            nbytes = roots[r].nbytes
            pool = free.get(nbytes)
            if pool:
                b = pool.pop()
                program.reused.add(r)
            else:
                b = len(program.blocks)
                program.blocks.append(np.empty(nbytes, np.uint8))
                program.planned_bytes += nbytes
            program.block_of[r] = b
            program.storage[r] = program.blocks[b]
        for r in releases.get(i, ()):
            free.setdefault(roots[r].nbytes, []).append(program.block_of[r])
    for r, b in program.block_of.items():
        roots[r].name = f"b{b}"
    for n, r in enumerate(sorted(live_out - set(pinned))):
        roots[r].name = f"out{n}"
    for r in pinned:
        p = next(
            (p for _, ev, _ in program.opt_steps for _, items in ev.groups for p, v in items
             if v is not None and v.root.index == r),
            None,
        )  # fmt: skip
        roots[r].name = f"grad[{program._param_name(p)}]"
    program.pinned = pinned
    program.live_out = live_out - set(pinned)


def _collect_views(spec: Any, out: set) -> None:
    if not isinstance(spec, tuple):
        return
    kind, body = spec
    if kind in ("tensor", "item"):
        out.add(body.root.index)
    elif kind is dict:
        for s in body.values():
            _collect_views(s, out)
    elif kind in (tuple, list):
        for s in body:
            _collect_views(s, out)
