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


def step_peaks(config: Config) -> dict:
    engines = make_engines(config)  # numpy, tinygrad_edu, tinygrad_edu jit
    check_agreement(engines)
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
        runs = [traced_step(e) for _ in range(PEAK_REPEATS)]
        out[e.name] = {
            "peak_bytes": statistics.median(r[0] for r in runs),
            "net_bytes": statistics.median(r[1] for r in runs),
            "runs": runs,
        }
    out["tg_over_numpy"] = out["tinygrad_edu"]["peak_bytes"] / out["numpy"]["peak_bytes"]
    jit = out["tinygrad_edu jit"]["peak_bytes"]
    out["jit_over_numpy"] = jit / out["numpy"]["peak_bytes"]
    out["jit_within_numpy"] = jit <= out["numpy"]["peak_bytes"]  # SPEC's bar (read at S)
    if engines[2]._step.stats["replayed"] < PEAK_REPEATS:
        raise EnginesDisagree(f"tg.jit did not replay the traced steps: {engines[2]._step.stats}")
    return out


# -- RSS over many steps ----------------------------------------------------------------------


def long_run(engine: Any, steps: int) -> dict:
    for _ in range(WARMUP_STEPS):
        engine.step()
    gc.collect()
    before = rss_mib()
    samples = []
    t0 = time.perf_counter()
    for i in range(1, steps + 1):
        engine.step()
        if i % SAMPLE_EVERY == 0 or i == steps:
            samples.append([i, round(rss_mib(), 3)])
    seconds = time.perf_counter() - t0
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
        "change over the step. Long run: "
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
    except EnginesDisagree as err:
        print(f"ABORTED: {err}", file=sys.stderr)
        return 2
    load = watch.result()
    print_peaks(peaks)
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
            "long_run": long,
            "flat_threshold_mib": FLAT_MIB,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
