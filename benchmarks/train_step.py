"""Training-step speed: tinygrad_edu, eager and under tg.jit, against hand-written numpy and
PyTorch (SPEC's speed bars).

One step = forward, cross-entropy (mean), backward, SGD with momentum 0.9, float32, the loss
read with .item(); configs S (batch 64, 64-128-64-10), M (256, 64-256-256-10) and L (512,
784-1024-1024-10). The engines are in _mlp.py; all start from the same weights and batch, and
their losses over the first 3 steps must agree (rtol 1e-5) before anything is timed. The jit
engine is the eager engine's user code with the step under tg.jit: its first call records and
its second is checked against eager, both during the warm-up, so every timed call is a replay
(checked after timing: the script stops if one was not).

Method: each engine is warmed up, then its loop length k is chosen so one timed loop of k steps
takes about 50 ms (at least 3 steps). Every round runs every engine's loop once, in the order
numpy, tinygrad_edu, jit, PyTorch and in the reverse order every other round (an engine's time
depends a little on what ran just before it), with one untimed step before each loop and,
where the library changes (numpy's BLAS <-> PyTorch's), a pause first, so that the idle
BLAS/OpenMP threads of the one just used, which spin for a while after their last job, have
gone to sleep. We report
per engine the median over rounds of the time per step, and the median (min-max) over rounds
of that round's ratios tinygrad_edu / numpy, tinygrad_edu jit / numpy and tinygrad_edu /
PyTorch, against SPEC's bars (jit / eager and jit / PyTorch for context).

Run:  .venv/bin/python benchmarks/train_step.py [--configs S M L] [--rounds 9] [--quick]
      [--no-torch] [--json PATH]
(benchmarks/run_all.py runs this and the extras in one command.)
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _common import (
    MIN_ROUNDS_SPEC,
    RESULTS,
    LoadWatch,
    busy_warning,
    describe_load,
    import_torch,
    machine_info,
    machine_line,
    now_utc,
    print_note,
    ratio_stats,
    write_json,
)
from _mlp import CONFIGS, LR, MOMENTUM, Config, EnginesDisagree, check_agreement, make_engines

TARGET_S = 0.05  # one timed loop takes about this long ...
MIN_STEPS = 3  # ... and has at least this many steps (L: a few steps of ~25 ms or more)
WARMUP_S = 0.2  # warm-up per engine: at least this long and WARMUP_STEPS steps
WARMUP_STEPS = 5
PAUSE_S = 0.25  # when the library changes: idle OpenBLAS threads spin ~0.1 s before sleeping
AGREE_STEPS, AGREE_RTOL = 3, 1e-5
JIT = "tinygrad_edu jit"  # the engine whose step is under tg.jit


class Timed:
    """One engine of one config: warm-up, loop length, and seconds per step for each round."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.name = engine.name
        self.k = 0
        self.per_step: list[float] = []
        self.last_loss = math.nan

    def warm_up_and_calibrate(self) -> None:
        step, clock = self.engine.step, time.perf_counter
        t0 = clock()
        singles = []
        while len(singles) < WARMUP_STEPS or clock() - t0 < WARMUP_S:
            t = clock()
            step()  # torch's first backward is slow; every engine's first steps allocate
            singles.append(clock() - t)
        # sized from the fastest step after the first few: a hiccup of the machine during the
        # warm-up must not make every loop short
        self.k = max(MIN_STEPS, math.ceil(TARGET_S / min(singles[2:])))

    def measure(self, pause: bool) -> None:
        step = self.engine.step
        if pause:
            time.sleep(PAUSE_S)
        step()  # untimed: wakes this engine's thread pool and brings its arrays into cache
        t0 = time.perf_counter()
        for _ in range(self.k):
            loss = step()  # every engine reads its loss as a Python float each step
        self.per_step.append((time.perf_counter() - t0) / self.k)
        self.last_loss = loss


def run_config(config: Config, rounds: int, torch: Any) -> dict:
    engines = make_engines(config, torch)
    losses = check_agreement(engines, AGREE_STEPS, AGREE_RTOL)  # raises EnginesDisagree
    timed = [Timed(e) for e in engines]
    for t in timed:
        t.warm_up_and_calibrate()  # the jit engine replays from its third call on
    jit = next(t for t in timed if t.name == JIT)
    counts = dict(jit.engine._step.stats)  # before timing
    library = None
    for r in range(rounds):
        for t in timed if r % 2 == 0 else timed[::-1]:  # forwards, then backwards
            # pause where the library changes (numpy's BLAS <-> torch's): the threads of the
            # one just used spin for a while and would slow the other down
            t.measure(pause=t.engine.library != library)
            library = t.engine.library

    by_name = {t.name: t for t in timed}
    tg, numpy = by_name["tinygrad_edu"], by_name["numpy"]
    stats = jit.engine._step.stats
    calls = rounds * (jit.k + 1)  # each loop's untimed step and its k timed ones
    grown = {k: stats[k] - counts[k] for k in stats}
    if grown != {"recorded": 0, "checked": 0, "replayed": calls, "eager": 0}:
        raise EnginesDisagree(
            f"tg.jit did not replay every timed step: over the {calls} measured calls its "
            f"counts grew by {grown} (before timing: {counts}); its times would not be those "
            "of replays"
        )
    result: dict[str, Any] = {
        "config": config.name,
        "batch": config.batch,
        "sizes": list(config.sizes),
        "first_losses": losses,
        "engines": {
            t.name: {
                "median_us": statistics.median(t.per_step) * 1e6,
                "steps_per_loop": t.k,
                "per_round_us": [s * 1e6 for s in t.per_step],
                "loss_after_timing": t.last_loss,
            }
            for t in timed
        },
        "tg_over_numpy": ratio_stats(tg.per_step, numpy.per_step),
        "bar_numpy": config.bar_numpy,
    }
    result["pass_numpy"] = result["tg_over_numpy"]["median"] <= config.bar_numpy
    result["jit_over_numpy"] = ratio_stats(jit.per_step, numpy.per_step)
    result["jit_over_tg"] = ratio_stats(jit.per_step, tg.per_step)
    result["bar_jit"] = config.bar_jit
    result["pass_jit"] = result["jit_over_numpy"]["median"] <= config.bar_jit
    result["jit_stats"] = dict(stats)
    result["jit_stats_before_timing"] = counts
    result["jit_replayed_while_timing"] = grown["replayed"]
    result["jit_kernels"] = len(jit.engine._step.last)
    if "torch" in by_name:
        pt = by_name["torch"]
        result["tg_over_torch"] = ratio_stats(tg.per_step, pt.per_step)
        result["torch_over_numpy"] = ratio_stats(pt.per_step, numpy.per_step)
        result["jit_over_torch"] = ratio_stats(jit.per_step, pt.per_step)
        result["bar_torch"] = config.bar_torch
        if config.bar_torch is not None:
            result["pass_torch"] = result["tg_over_torch"]["median"] <= config.bar_torch
    return result


# -- printing ---------------------------------------------------------------------------------


def fmt_ratio(stats: dict | None, bar: float | None, ok: bool | None) -> str:
    """'1.234 (1.10-1.40) <=1.30 PASS', '?' after the verdict when the rounds spread widely."""
    if stats is None:
        return f"{'-':>5}{'':<25}"
    spread = f"({stats['min']:.2f}-{stats['max']:.2f})"
    verdict = ""
    if bar is not None:
        verdict = f"<={bar:.2f} {'PASS' if ok else 'FAIL'}{'?' if stats['noisy'] else ''}"
    return f"{stats['median']:>5.3f} {spread:<12} {verdict:<11}"


def print_table(results: list[dict]) -> None:
    print()
    print("Training step (forward, cross-entropy, backward, SGD momentum 0.9; float32)")
    header = (
        f"{'cfg':<3} {'sizes (batch)':<22} {'numpy':>6} {'eager':>6} {'jit':>6} {'torch':>6}  "
        f"{'eager/numpy (min-max)':<22}{'SPEC bar':<8}  {'jit/numpy (min-max)':<22}"
        f"{'SPEC bar':<8}  {'eager/torch (min-max)':<22}{'SPEC bar':<8}"
    )
    print(f"{'':<26}{'median us/step':^28}".rstrip())
    print(header.rstrip())
    print("-" * len(header))
    for r in results:
        e = r["engines"]
        torch_us = f"{e['torch']['median_us']:>6.0f}" if "torch" in e else f"{'-':>6}"
        label = "-".join(map(str, r["sizes"])) + f" ({r['batch']})"
        line = (
            f"{r['config']:<3} {label:<22} {e['numpy']['median_us']:>6.0f} "
            f"{e['tinygrad_edu']['median_us']:>6.0f} {e[JIT]['median_us']:>6.0f} "
            f"{torch_us}  {fmt_ratio(r['tg_over_numpy'], r['bar_numpy'], r['pass_numpy'])}  "
            f"{fmt_ratio(r['jit_over_numpy'], r['bar_jit'], r['pass_jit'])}  "
            f"{fmt_ratio(r.get('tg_over_torch'), r.get('bar_torch'), r.get('pass_torch'))}"
        )
        print(line.rstrip())
    context = ", ".join(
        f"{r['config']} {r['jit_over_tg']['median']:.2f}"
        + (f" (jit/torch {r['jit_over_torch']['median']:.2f})" if "jit_over_torch" in r else "")
        for r in results
    )
    print(f"(jit/eager: {context}; eager = tinygrad_edu as users write it, jit = the same step")
    print(" under tg.jit, every timed call a replay)")
    if any("torch_over_numpy" in r for r in results):
        context = ", ".join(
            f"{r['config']} {r['torch_over_numpy']['median']:.2f}"
            for r in results
            if "torch_over_numpy" in r
        )
        print(f"(for context, torch/numpy: {context})")


def print_method(machine: dict, rounds: int, load: dict) -> None:
    print_note(
        f"How measured: {machine_line(machine)}. Each engine builds the same MLP from the same "
        f"numpy weights and batch; the losses of the first {AGREE_STEPS} steps agree to rtol "
        f"{AGREE_RTOL:g} before timing. The jit engine (the same user code, its step under "
        "tg.jit) records and is checked against eager in those steps, and every call after "
        "them is a replay (checked after timing). After a warm-up, each engine's loop is sized to "
        f"~{TARGET_S * 1e3:.0f} ms (at least {MIN_STEPS} steps); each of {rounds} rounds runs "
        "every engine's loop once, in order and in reverse order every other round, after one "
        "untimed step and, where the "
        f"library changes (numpy <-> PyTorch), a {PAUSE_S:g} s pause so that the other "
        "library's spinning BLAS/OpenMP threads are asleep; gc on, "
        "loss read with .item() every step, thread settings untouched. Times are medians over "
        "rounds; ratios are medians (min-max) of the per-round ratios; '?' marks a verdict "
        "whose middle half of rounds spreads by more than 25%. Machine: "
        f"{describe_load(load)}."
    )
    warning = busy_warning(load)
    if warning:
        print_note(warning)


# -- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), help="default: S M L")
    parser.add_argument("--rounds", type=int, help="rounds (default 9; 5 with --quick)")
    parser.add_argument("--quick", action="store_true", help="S and M only, 5 rounds")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS / "train_step.json",
        help="where to write the results (default benchmarks/results/train_step.json)",
    )
    args = parser.parse_args(argv)
    args.configs = args.configs or (["S", "M"] if args.quick else list(CONFIGS))
    args.rounds = args.rounds or (5 if args.quick else 9)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    watch = LoadWatch()
    torch = None if args.no_torch else import_torch()
    if args.rounds < MIN_ROUNDS_SPEC:
        print(f"note: SPEC's bars use at least {MIN_ROUNDS_SPEC} rounds; this run uses fewer")
    if not torch:
        print("PyTorch " + ("left out (--no-torch)" if args.no_torch else "not installed"))
    results = []
    for name in args.configs:
        config = CONFIGS[name]
        print(f"timing {name} ({config.label}, batch {config.batch}) ...", flush=True)
        try:
            results.append(run_config(config, args.rounds, torch))
        except EnginesDisagree as err:
            print(f"ABORTED at {name}: {err}", file=sys.stderr)
            return 2
    load = watch.result()
    machine = machine_info(torch)
    print_table(results)
    print_method(machine, args.rounds, load)
    write_json(
        args.json,
        {
            "benchmark": "train_step",
            "date": now_utc(),
            "machine": machine,
            "load_average": load,
            "method": {
                "rounds": args.rounds,
                "target_s_per_loop": TARGET_S,
                "min_steps_per_loop": MIN_STEPS,
                "pause_s_where_library_changes": PAUSE_S,
                "untimed_steps_before_loop": 1,
                "order": "every engine once per round: numpy, tinygrad_edu, jit, torch, and "
                "reversed every other round",
                "statistic": "median over rounds; ratios are medians of per-round ratios",
                "lr": LR,
                "momentum": MOMENTUM,
                "agreement": {"steps": AGREE_STEPS, "rtol": AGREE_RTOL},
            },
            "configs": results,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
