"""Memory: the peak of one training step (numpy, tinygrad_edu eager and under tg.jit), and RSS
over 10,000 steps.

SPEC: a replayed tg.jit step allocates nothing beyond what numpy itself allocates, so at S its
peak must not exceed the hand-written numpy step's ('jit <= numpy'); and memory stays flat over
10,000 steps, eager and jitted alike.

Peak of one step: for each config, the numpy, tinygrad_edu and jit engines (_mlp.py) are built
from the same weights and warmed up; then, each engine on its own, tracemalloc is started, one step
runs, and the peak of memory allocated during the step (numpy's array buffers and Python
objects alike) is read, minus what was traced when the step began; tracing starts one step
earlier, so the previous step's leftovers (tinygrad_edu's .grad arrays) are traced and their
release counts. `net` is the change over the step (0 in a steady state). Median of 3 steps.

What one S step allocates (SPEC's jit bar): numpy, tinygrad_edu and jit at S, median of 5
steps each: the same peak above the step's start, then, in a trace started with the step itself
(so every block it holds was allocated by the step), the peak of that trace ('allocated': the
step's own allocations at their high-water mark, the release of older blocks not offset) and the
number of blocks still held when the step returns ('blocks kept': the objects a step makes that
outlive it: new .grad arrays, version counters, ...), less what the same probe counts around an
empty function. The jit engine is warmed up (recorded, checked, replaying) before any of this,
and every traced jit step must be a replay (its `stats`), else the script stops.

Memory after 10,000 steps (SPEC: memory stays flat): the S config trains for 10,000 steps
after 100 warm-up steps, with tg.jit, with tinygrad_edu and then, for reference, numpy; RSS is
read from /proc/self/statm before, every 1,000 steps and after. Growth beyond FLAT_MIB over the
10,000 steps is reported as not flat.

Run:  .venv/bin/python benchmarks/memory.py [--configs S M L] [--steps 10000] [--json PATH]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from _common import (
    RESULTS,
    LoadWatch,
    describe_load,
    machine_info,
    now_utc,
    print_note,
    rss_mib,
    write_json,
)
from _mlp import CONFIGS, Config, EnginesDisagree, check_agreement, make_engines

WARMUP_STEPS = 100  # before any memory reading
PEAK_REPEATS = 3
ALLOC_REPEATS = 5
JIT = "tinygrad_edu jit"
LONG_STEPS = 10_000
SAMPLE_EVERY = 1_000
FLAT_MIB = 1.0  # growth over the long run at most this much counts as flat


# -- peak of one step -------------------------------------------------------------------------


def traced_step(engine: Any) -> tuple[int, int]:
    """(peak, net) bytes of one step: the highest traced memory during the step and the change
    from its start to its end, both relative to what was traced when the step began.

    Tracing starts one step earlier, so that what that step left behind (tinygrad_edu's .grad
    arrays, freed and replaced by the next step) is traced and its release counted.
    """
    tracemalloc.start()
    try:
        engine.step()
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        engine.step()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base, current - base


def replays(engine: Any) -> dict | None:
    """A copy of a jit engine's call counts (recorded, checked, replayed, eager), else None."""
    jitted = getattr(engine, "_step", None)
    return None if jitted is None else dict(jitted.stats)


def check_replayed(engine: Any, before: dict | None, calls: int, what: str) -> None:
    """Raise EnginesDisagree unless each of the `calls` steps since `before` was a replay."""
    if before is None:
        return
    after = replays(engine)
    grown = {k: after[k] - before.get(k, 0) for k in after}
    if grown != {"recorded": 0, "checked": 0, "replayed": calls, "eager": 0}:
        raise EnginesDisagree(
            f"tg.jit did not replay every step of {what}: over {calls} steps its counts grew by "
            f"{grown} (before: {before}); the figures would not be those of replays"
        )


def step_peaks(config: Config) -> dict:
    engines = make_engines(config)  # numpy, tinygrad_edu, tinygrad_edu jit
    check_agreement(engines)  # for the jit engine: recorded, checked, replayed once
    for e in engines:
        for _ in range(10):
            e.step()
    weights = sum(w.nbytes for w in engines[0].W + engines[0].b)
    out: dict[str, Any] = {
        "config": config.name,
        "batch": config.batch,
        "sizes": list(config.sizes),
        "parameter_bytes": weights,
    }
    for e in engines:
        before = replays(e)
        runs = [traced_step(e) for _ in range(PEAK_REPEATS)]
        check_replayed(e, before, 2 * PEAK_REPEATS, f"the traced {config.name} steps")
        out[e.name] = {
            "peak_bytes": statistics.median(r[0] for r in runs),
            "net_bytes": statistics.median(r[1] for r in runs),
            "runs": runs,
        }
    out["tg_over_numpy"] = out["tinygrad_edu"]["peak_bytes"] / out["numpy"]["peak_bytes"]
    jit = out["tinygrad_edu jit"]["peak_bytes"]
    out["jit_over_numpy"] = jit / out["numpy"]["peak_bytes"]
    out["jit_within_numpy"] = jit <= out["numpy"]["peak_bytes"]  # SPEC's bar (read at S)
    return out


# -- what one step allocates ------------------------------------------------------------------


def own_allocations(step: Any) -> tuple[int, int]:
    """(peak bytes, blocks held at the end) of a trace that starts with `step()`: everything it
    traces was allocated by the step, so the peak is the step's own allocations at their
    high-water mark and the blocks are those it made and still holds when it returns."""
    gc.collect()
    tracemalloc.start()
    try:
        step()
        peak = tracemalloc.get_traced_memory()[1]
        blocks = len(tracemalloc.take_snapshot().traces)
    finally:
        tracemalloc.stop()
    return peak, blocks


def step_allocations(config: Config) -> dict:
    """Peak above the start, own allocations and blocks kept of one step, per engine."""
    engines = make_engines(config)
    check_agreement(engines)  # for the jit engine: recorded, checked, replayed once
    for e in engines:
        for _ in range(10):
            e.step()
    # what the probe itself counts (the snapshot's bookkeeping), around a function doing nothing
    probe = [own_allocations(lambda: None) for _ in range(ALLOC_REPEATS)]
    probe_peak = statistics.median(r[0] for r in probe)
    probe_blocks = statistics.median(r[1] for r in probe)
    out: dict[str, Any] = {
        "config": config.name,
        "batch": config.batch,
        "sizes": list(config.sizes),
        "repeats": ALLOC_REPEATS,
        "probe": {"peak_bytes": probe_peak, "blocks": probe_blocks},
        "engines": {},
    }
    for e in engines:
        before = replays(e)
        peaks = [traced_step(e)[0] for _ in range(ALLOC_REPEATS)]
        own = [own_allocations(e.step) for _ in range(ALLOC_REPEATS)]
        check_replayed(e, before, 3 * ALLOC_REPEATS, f"the {config.name} allocation trace")
        out["engines"][e.name] = {
            "peak_bytes": statistics.median(peaks),
            "allocated_bytes": statistics.median(r[0] for r in own) - probe_peak,
            "blocks_kept": statistics.median(r[1] for r in own) - probe_blocks,
            "runs": {"peak_bytes": peaks, "own": own},
        }
    numpy, jit = out["engines"]["numpy"], out["engines"][JIT]
    for r in out["engines"].values():
        r["peak_over_numpy"] = r["peak_bytes"] / numpy["peak_bytes"]
    out["jit_within_numpy"] = jit["peak_bytes"] <= numpy["peak_bytes"]  # SPEC's bar
    return out


# -- RSS over many steps ----------------------------------------------------------------------


def long_run(engine: Any, steps: int) -> dict:
    for _ in range(WARMUP_STEPS):  # the jit engine: records, checks, then replays
        engine.step()
    gc.collect()
    counts = replays(engine)
    before = rss_mib()
    samples = []
    t0 = time.perf_counter()
    for i in range(1, steps + 1):
        engine.step()
        if i % SAMPLE_EVERY == 0 or i == steps:
            samples.append([i, round(rss_mib(), 3)])
    seconds = time.perf_counter() - t0
    check_replayed(engine, counts, steps, f"the {steps:,}-step run")
    after = rss_mib()  # without a gc.collect(): what the program would see
    gc.collect()
    after_gc = rss_mib()
    return {
        "engine": engine.name,
        "steps": steps,
        "warmup_steps": WARMUP_STEPS,
        "rss_before_mib": before,
        "rss_after_mib": after,
        "growth_mib": after - before,
        "rss_after_gc_mib": after_gc,
        "samples": samples,  # [step, RSS MiB]
        "seconds": seconds,
        "flat": after - before <= FLAT_MIB,
    }


# -- printing ---------------------------------------------------------------------------------


def kib(n: float) -> str:
    return f"{n / 1024:,.0f}"


def print_peaks(rows: list[dict]) -> None:
    print()
    print("Peak memory of one training step (tracemalloc; KiB above the step's start)")
    header = (
        f"{'cfg':<3} {'sizes (batch)':<24} {'params':>8} {'numpy peak':>11} "
        f"{'eager peak':>11} {'jit peak':>9} {'eager/numpy':>12} {'jit/numpy':>10} "
        f"{'numpy net':>10} {'eager net':>10} {'jit net':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        label = "-".join(map(str, r["sizes"])) + f" ({r['batch']})"
        n, t, j = r["numpy"], r["tinygrad_edu"], r["tinygrad_edu jit"]
        print(
            f"{r['config']:<3} {label:<24} {kib(r['parameter_bytes']):>8} "
            f"{kib(n['peak_bytes']):>11} {kib(t['peak_bytes']):>11} {kib(j['peak_bytes']):>9} "
            f"{r['tg_over_numpy']:>12.2f} {r['jit_over_numpy']:>10.2f} "
            f"{kib(n['net_bytes']):>10} {kib(t['net_bytes']):>10} {kib(j['net_bytes']):>8}"
        )


def print_allocations(a: dict) -> None:
    print()
    print(
        f"What one {a['config']} step allocates (tracemalloc, median of {a['repeats']} steps; "
        "SPEC: a replay allocates no more than numpy's step)"
    )
    header = (
        f"{'engine':<16} {'peak KiB':>9} {'x numpy':>8} {'allocated KiB':>14} "
        f"{'blocks kept':>12}  {'jit peak <= numpy peak'}"
    )
    print(header)
    print("-" * len(header))
    for name, r in a["engines"].items():
        verdict = ("PASS" if a["jit_within_numpy"] else "FAIL") if name == JIT else ""
        print(
            f"{name:<16} {r['peak_bytes'] / 1024:>9.1f} {r['peak_over_numpy']:>8.2f} "
            f"{r['allocated_bytes'] / 1024:>14.1f} {r['blocks_kept']:>12.0f}  {verdict}".rstrip()
        )


def print_long(runs: list[dict], config: Config) -> None:
    print()
    print(
        f"Memory after {runs[0]['steps']:,} training steps ({config.name}: "
        f"{config.label}, batch {config.batch}; RSS from /proc/self/statm)"
    )
    header = (
        f"{'engine':<16} {'before MiB':>11} {'after MiB':>10} {'growth MiB':>11} "
        f"{'after gc MiB':>13} {'steps/s':>8}  {'flat (<= ' + str(FLAT_MIB) + ' MiB)'}"
    )
    print(header)
    print("-" * len(header))
    for r in runs:
        print(
            f"{r['engine']:<16} {r['rss_before_mib']:>11.1f} {r['rss_after_mib']:>10.1f} "
            f"{r['growth_mib']:>+11.2f} {r['rss_after_gc_mib']:>13.1f} "
            f"{r['steps'] / r['seconds']:>8.0f}  {'yes' if r['flat'] else 'NO'}"
        )


def print_method(load: dict) -> None:
    print_note(
        "How measured: peak = tracemalloc's peak during one step after 10 warm-up steps, each "
        f"engine alone, median of {PEAK_REPEATS}, above what was traced when the step began "
        "(tracing starts one step earlier, so the release of that step's leftovers counts); it "
        "counts numpy buffers and Python objects; 'params' is the weights' size; 'net' is the "
        "change over the step. Allocations (S): 'peak' as above, median of "
        f"{ALLOC_REPEATS}; 'allocated' and 'blocks kept' from a trace started with the step (its "
        "own allocations at their high-water mark, and the blocks it made and still holds when "
        "it returns), less what the probe counts around an empty function. Long run: "
        f"{WARMUP_STEPS} warm-up steps, then RSS before and after the steps (gc left on; 'after "
        f"gc' after one gc.collect()). Machine: {describe_load(load)}."
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), help="default: S M L")
    parser.add_argument("--steps", type=int, default=LONG_STEPS, help="long-run steps (10000)")
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS / "memory.json",
        help="where to write the results (default benchmarks/results/memory.json)",
    )
    args = parser.parse_args(argv)
    args.configs = args.configs or list(CONFIGS)
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    watch = LoadWatch()
    config = CONFIGS["S"]
    try:
        # the long runs first, in a process that has not yet held the big L arrays
        print(f"training {config.name} for {args.steps:,} steps, three times ...", flush=True)
        long = [long_run(e, args.steps) for e in reversed(make_engines(config))]
        print("tracing one step of " + ", ".join(args.configs) + " ...", flush=True)
        peaks = [step_peaks(CONFIGS[name]) for name in args.configs]
        print(f"tracing what one {config.name} step allocates ...", flush=True)
        allocations = step_allocations(config)
    except EnginesDisagree as err:
        print(f"ABORTED: {err}", file=sys.stderr)
        return 2
    load = watch.result()
    print_peaks(peaks)
    print_allocations(allocations)
    print_long(long, config)
    print_method(load)
    write_json(
        args.json,
        {
            "benchmark": "memory",
            "date": now_utc(),
            "machine": machine_info(None),  # PyTorch is not imported here
            "load_average": load,
            "step_peaks": peaks,
            "allocations": allocations,
            "long_run": long,
            "flat_threshold_mib": FLAT_MIB,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
