"""`step.trace`: a recorded program told as a table, one line per numpy kernel, for learners.

Each line says which op (and module) the kernel came from, in which phase (forward, backward,
optimizer), the numpy function it calls, and what it writes and reads: the step's inputs
(`in0`), planned buffers (`b3`, "(reused)" where a buffer is recycled), parameters by name, and
views of them (`0.weight'`). The summary counts kernels, buffers and bytes, and what eager did
instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tinygrad_edu.jit.kernel import Kernel, View, _collect

if TYPE_CHECKING:
    from tinygrad_edu.jit.program import Program


def describe(program: Program) -> str:
    """The program as a table: one line per kernel (its phase, op and module, numpy function,
    what it writes and reads), then what the replay keeps and what eager did instead."""
    kinds: dict[str, int] = {}
    lines = []
    header = f"{'#':>3}  {'phase':<9} {'op (module)':<26} {'kernel':<22} writes <- reads"
    lines.append(header)
    lines.append("-" * min(110, len(header) + 40))
    for i, k in enumerate(program.kernels):
        kinds[k.kind] = kinds.get(k.kind, 0) + 1
        phase, op, scope = k.label if isinstance(k.label, tuple) else ("", str(k.label), ())
        where = program.module_paths.get(id(scope[-1]), "") if scope else ""
        opname = f"{op} ({where})" if where else op
        lines.append(
            f"{i + 1:>3}  {phase:<9} {opname[:26]:<26} {_kernel_name(program, k):<22} "
            + _kernel_io(program, k)
        )
    n_blocks = len(program.blocks)
    reused = len(program.reused)
    opt_params = sum(len(b.params) for _, _, bs in program.opt_steps for b in bs)
    lines.append(
        "(in0, in1: the step's inputs; b0, b1: planned buffers, reused once free; x' : a "
        "view of x, such as W.T or a slice; c, ext: constants and other tensors read)"
    )
    lines.append("")
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    lines.append(f"{len(program.kernels)} kernels ({counts}).")
    lines.append(
        f"Temporaries: {len(program.block_of) + len(program.pinned) + len(program.live_out)} "
        f"buffers of {_kib(program.temp_bytes)} as recorded; replay keeps {n_blocks} shared "
        f"blocks ({_kib(program.planned_bytes)}, {reused} of them reused by a later "
        f"temporary), {len(program.pinned)} gradients written straight into the flat "
        f"gradient buffers, {len(program.live_out)} kept for after the step (outputs)."
    )
    lines.append(
        f"Eager made {program.ops} op calls (a Tensor and a graph node each), walked the graph "
        f"backwards and looped over {opt_params} parameters in the optimizer; the replay "
        "runs only these kernels"
        + (
            f", the optimizer once per flat buffer ({len(program.grad_buffers)})."
            if program.grad_buffers
            else "."
        )  # fmt: skip
    )
    return "\n".join(lines)


def _kernel_name(program: Program, k: Kernel) -> str:
    if k.kind == "ufunc":
        name = k.fn.__self__.__name__
        return name if k.extra == "__call__" else f"{name}.{k.extra}"
    if k.kind == "func":
        return getattr(k.fn, "__name__", "?")
    if k.kind == "optimizer":
        return f"{type(k.extra.optimizer).__name__}.update"
    if k.kind == "random":
        return f"random.{k.fn}"
    if k.kind == "guard":
        return f"check {k.fn.__name__}() == {k.extra}"
    return {"restore": "copy (reset)", "tograd": "copy to grad", "gather": "take [idx]",
            "scatter": "put [idx]=", "reshape": "reshape copy", "fill": "fill"}.get(
                k.kind, k.kind)  # fmt: skip


def _kernel_io(program: Program, k: Kernel) -> str:
    if k.kind == "optimizer":
        buckets = next(bs for kk, _, bs in program.opt_steps if kk is k)
        parts = [f"{b.P.size} {b.P.dtype} values" for b in buckets]
        return f"flat params <- flat grads ({', '.join(parts)})"
    reads: list[View] = []
    _collect(k.args, reads)
    _collect(k.kwargs, reads)
    outs = [_io_name(program, v, True) for v in k.outs]
    if k.kind == "tograd":
        outs = ["flat grad"]
    if k.kind == "restore":
        return f"{outs[0]} <- its recorded value"
    text = ", ".join(outs)
    return (text + " <- " if text else "") + ", ".join(_io_name(program, v) for v in reads)


def _io_name(program: Program, v: View, writing: bool = False) -> str:
    text = v.describe()
    if v.root.kind == "param":
        for start, stop, name in program.param_spans.get(v.root.index, ()):
            if start <= v.offset < stop:
                text = text.replace(v.root.name, name, 1)
                break
    r = v.root.index
    if writing and r in program.reused and _first_write(program, v):
        text += " (reused)"
    return text


def _first_write(program: Program, v: View) -> bool:
    for k in program.kernels:
        for o in k.outs:
            if o.root is v.root:
                return o is v
    return False


def _kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB"
