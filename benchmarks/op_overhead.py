"""Per-op overhead: one small op through tinygrad_edu, against the bare numpy call.

The op is `a + b` on two (4, 4) float32 arrays, so almost all of the time is the engine's own
Python work (wrapping, checking, recording the graph, walking it backwards), not arithmetic.
Rows, each timed as a loop of many calls:

    numpy a + b                       the bare numpy call (the baseline, ratio 1)
    tinygrad_edu forward, no grad     a + b on tensors that do not require grad
    tinygrad_edu forward, recording   a + b where a requires grad (one Add node recorded)
    tinygrad_edu forward + backward   a.grad = None; (a + b).backward(gradient=g)
    tinygrad_edu backward (derived)   (forward + backward) - (forward, recording), per round
    torch ...                         the same rows for PyTorch CPU eager (torch.add), if installed

Method: every round measures every row once, in the same order (engines interleaved), each
measurement a timeit loop sized to take about 50 ms; per row we report the median over rounds
of the time per call, and the median over rounds of that round's ratio row / numpy.

With --chain, a second table: y = y * 1.0000001, repeated 100k and 1M times from a float64
scalar leaf, forward and backward timed separately (SPEC: time per op at 1M <= 1.5x at 100k,
with no recursion), plus peak RSS.

Run:  .venv/bin/python benchmarks/op_overhead.py [--rounds 9] [--chain] [--json PATH]
"""

from __future__ import annotations

import argparse
import faulthandler
import gc
import statistics
import sys
import time
import timeit
import traceback
from pathlib import Path
from typing import Any

import numpy as np
from _common import MIN_ROUNDS_SPEC, import_torch, machine_info, now_utc, peak_rss_mib, write_json

import tinygrad_edu as tg

SHAPE = (4, 4)
TARGET_S = 0.05  # aim for about 50 ms per measurement
CHAIN_FACTOR = 1.0000001
CHAIN_SIZES = (100_000, 1_000_000)
CHAIN_BAR = 1.5  # SPEC: time per op at 1M <= 1.5x that at 100k

# -- the op rows ------------------------------------------------------------------------------


class Case:
    """One timed statement: `stmt` runs in `namespace`, `number` times per measurement."""

    def __init__(self, name: str, engine: str, stmt: str, namespace: dict) -> None:
        self.name = name
        self.engine = engine
        # gc stays on during the loop (timeit turns it off by default): graph objects are
        # gc-tracked and real programs pay for collecting them.
        self.timer = timeit.Timer(stmt, setup="gc.enable()", globals={"gc": gc, **namespace})
        self.number = 0
        self.per_call: list[float] = []  # seconds per call, one entry per round

    def calibrate(self) -> None:
        """Pick `number` so that one measurement takes about TARGET_S."""
        self.timer.timeit(10)  # warm-up: first calls pay one-off costs (torch's autograd engine)
        n = 10
        while True:
            t = self.timer.timeit(n)
            if t >= TARGET_S / 2:
                break
            n = round(n * min(100.0, TARGET_S / max(t, 1e-9)))  # grow at most 100x a step
        self.number = n

    def measure(self) -> None:
        self.per_call.append(self.timer.timeit(self.number) / self.number)


def numpy_cases() -> list[Case]:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(SHAPE).astype(np.float32)
    b = rng.standard_normal(SHAPE).astype(np.float32)
    return [Case("numpy a + b", "numpy", "a + b", {"a": a, "b": b})]


def tinygrad_cases() -> list[Case]:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(SHAPE).astype(np.float32)
    b = rng.standard_normal(SHAPE).astype(np.float32)
    ns = {
        "ta": tg.Tensor(a),
        "tb": tg.Tensor(b),
        "ra": tg.Tensor(a, requires_grad=True),
        "g": tg.ones(*SHAPE, dtype=np.float32),
    }
    return [
        Case("tinygrad_edu forward, no grad", "tinygrad_edu", "ta + tb", ns),
        Case("tinygrad_edu forward, recording", "tinygrad_edu", "ra + tb", ns),
        Case(
            "tinygrad_edu forward + backward",
            "tinygrad_edu",
            "ra.grad = None\n(ra + tb).backward(gradient=g)",
            ns,
        ),
    ]


def torch_cases(torch: Any) -> list[Case]:
    rng = np.random.default_rng(0)
    a = torch.from_numpy(rng.standard_normal(SHAPE).astype(np.float32))
    b = torch.from_numpy(rng.standard_normal(SHAPE).astype(np.float32))
    ns = {
        "torch": torch,
        "ta": a.clone(),
        "tb": b.clone(),
        "ra": a.clone().requires_grad_(True),
        "g": torch.ones(SHAPE, dtype=torch.float32),
    }
    return [
        Case("torch forward, no grad", "torch", "torch.add(ta, tb)", ns),
        Case("torch forward, recording", "torch", "torch.add(ra, tb)", ns),
        Case(
            "torch forward + backward",
            "torch",
            "ra.grad = None\ntorch.add(ra, tb).backward(gradient=g)",
            ns,
        ),
    ]


def summarise(name: str, per_call: list[float], baseline: list[float], number: int | None) -> dict:
    """One table row: median time per call and the median over rounds of the ratio to numpy."""
    ratios = [t / base for t, base in zip(per_call, baseline)]
    return {
        "case": name,
        "median_us": statistics.median(per_call) * 1e6,
        "ratio_vs_numpy": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "calls_per_measurement": number,
        "per_round_us": [t * 1e6 for t in per_call],
        "per_round_ratio": ratios,
    }


def run_ops(rounds: int, torch: Any) -> list[dict]:
    cases = numpy_cases() + tinygrad_cases() + (torch_cases(torch) if torch else [])
    for case in cases:
        case.calibrate()
    for _ in range(rounds):
        for case in cases:  # every row once per round, always in this order
            case.measure()

    engines = ["numpy", "tinygrad_edu"] + (["torch"] if torch else [])
    series = {c.name: c.per_call for c in cases}  # seconds per call, one entry per round
    for engine in engines[1:]:
        # backward alone = (forward + backward) - (forward, recording), round by round
        both = series[f"{engine} forward + backward"]
        fwd = series[f"{engine} forward, recording"]
        series[f"{engine} backward (derived)"] = [x - y for x, y in zip(both, fwd)]

    numbers = {c.name: c.number for c in cases}
    baseline = series["numpy a + b"]
    rows = []
    for engine in engines:  # grouped by engine, in the order measured
        for name in [n for n in series if n.split(" ")[0] == engine]:
            row = summarise(name, series[name], baseline, numbers.get(name))
            if engine == "tinygrad_edu" and torch:  # tinygrad_edu / torch, round by round
                twin = series["torch" + name.removeprefix("tinygrad_edu")]
                row["ratio_vs_torch"] = statistics.median(t / u for t, u in zip(series[name], twin))
            rows.append(row)
    return rows


def print_ops(rows: list[dict], rounds: int, torch: Any) -> None:
    print(f"Per-op overhead: a + b on {SHAPE} float32")
    header = f"{'case':<36} {'median us/call':>14} {'x numpy':>9} {'(min-max)':>15}"
    if torch:
        header += f" {'x torch':>8}"
    print(header)
    print("-" * len(header))
    for row in rows:
        spread = f"({row['ratio_min']:.1f}-{row['ratio_max']:.1f})"
        line = (
            f"{row['case']:<36} {row['median_us']:>14.3f} "
            f"{row['ratio_vs_numpy']:>9.2f} {spread:>15}"
        )
        if "ratio_vs_torch" in row:
            line += f" {row['ratio_vs_torch']:>8.2f}"
        print(line)
    if not torch:
        print("PyTorch not installed: skipped")
    print(
        f"Measured: {rounds} rounds, every row once per round in table order, each a timeit "
        f"loop of ~{TARGET_S * 1e3:.0f} ms with gc on; medians over rounds (ratios: median of "
        "per-round ratios)."
    )


# -- the chain --------------------------------------------------------------------------------


def chain_once(n: int) -> dict:
    """Build y = x * c * c * ... (n Muls), then backward; time each half and the teardown."""
    gc.collect()
    x = tg.Tensor(np.float64(1.0), requires_grad=True)
    y = x
    t0 = time.perf_counter()
    for _ in range(n):
        y = y * CHAIN_FACTOR
    t1 = time.perf_counter()
    y.backward()
    t2 = time.perf_counter()
    del y  # drops the whole chain: a million nested objects freed one after another
    t3 = time.perf_counter()
    expected = CHAIN_FACTOR**n
    got = x.grad.item()
    if abs(got - expected) > 1e-9 * expected:
        raise AssertionError(f"chain of {n}: x.grad = {got!r}, expected {expected!r}")
    return {"forward_s": t1 - t0, "backward_s": t2 - t1, "free_s": t3 - t2}


def run_chain(rounds: int) -> dict:
    """Alternate the two sizes for `rounds` rounds; report medians, or the error if it broke."""
    runs: dict[int, list[dict]] = {n: [] for n in CHAIN_SIZES}
    rss: dict[int, float] = {}
    result: dict[str, Any] = {
        "recursion_limit": sys.getrecursionlimit(),
        "rounds": rounds,
        "torch_imported": "torch" in sys.modules,
        "peak_rss_mib_before": peak_rss_mib(),
    }
    try:
        for _ in range(rounds):
            for n in CHAIN_SIZES:
                runs[n].append(chain_once(n))
                rss.setdefault(n, peak_rss_mib())  # after the first run of each size
    except Exception as err:  # RecursionError, MemoryError, a wrong gradient ...
        result["error"] = f"{type(err).__name__}: {err}"
        result["traceback"] = traceback.format_exc()
        return result

    sizes = {}
    for n in CHAIN_SIZES:
        us = {k: statistics.median(r[k] for r in runs[n]) / n * 1e6 for k in runs[n][0]}
        sizes[str(n)] = {
            "forward_us_per_op": us["forward_s"],
            "backward_us_per_op": us["backward_s"],
            "total_us_per_op": us["forward_s"] + us["backward_s"],
            "free_us_per_op": us["free_s"],
            "peak_rss_mib_after_first_run": rss[n],
            "runs": runs[n],
        }
    small, big = (sizes[str(n)] for n in CHAIN_SIZES)
    result["sizes"] = sizes
    result["ratio_1m_over_100k"] = {
        k: big[f"{k}_us_per_op"] / small[f"{k}_us_per_op"] for k in ("forward", "backward", "total")
    }
    return result


def print_chain(chain: dict) -> None:
    print()
    print(f"Chain: y = y * {CHAIN_FACTOR} from a float64 scalar leaf, then y.backward()")
    if "error" in chain:
        print(f"PACKAGE BUG: the chain failed: {chain['error']}")
        print(chain["traceback"])
        return
    header = (
        f"{'ops':>9} {'forward us/op':>14} {'backward us/op':>15} {'total us/op':>12} "
        f"{'free us/op':>11} {'peak RSS MiB':>13}"
    )
    print(header)
    print("-" * len(header))
    for n, s in chain["sizes"].items():
        print(
            f"{int(n):>9,} {s['forward_us_per_op']:>14.3f} {s['backward_us_per_op']:>15.3f} "
            f"{s['total_us_per_op']:>12.3f} {s['free_us_per_op']:>11.3f} "
            f"{s['peak_rss_mib_after_first_run']:>13.0f}"
        )
    ratio = chain["ratio_1m_over_100k"]
    verdicts = ", ".join(
        f"{k} {r:.2f} {'ok' if r <= CHAIN_BAR else 'OVER'}" for k, r in ratio.items()
    )
    print(f"time per op, 1M / 100k (SPEC: <= {CHAIN_BAR}): {verdicts}")
    print(
        f"Measured: {chain['rounds']} rounds alternating 100k and 1M, medians, before PyTorch "
        f"is imported; gc on, default recursion limit ({chain['recursion_limit']}); 'free' is "
        "dropping the last reference to the chain; peak RSS is the process's ru_maxrss after "
        f"the first run of each size ({chain['peak_rss_mib_before']:.0f} MiB before the chain)."
    )


# -- machine and output -----------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="rounds of the op table (9)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--chain", action="store_true", help="also run the 1M-op chain (slow)")
    parser.add_argument(
        "--chain-rounds", type=int, default=3, help="rounds of the chain, with --chain (3)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.chain_rounds < 1:
        parser.error("--rounds and --chain-rounds must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    faulthandler.enable()  # a hard crash (e.g. C stack overflow) still prints where it was
    if args.rounds < MIN_ROUNDS_SPEC:
        print(f"note: SPEC's bars use at least {MIN_ROUNDS_SPEC} rounds; this run uses fewer")
    chain = None
    if args.chain:
        # First, before PyTorch is imported: its many live objects make each of Python's full
        # gc passes slower, which the chain (millions of new objects) would pay for.
        print(f"running the chain ({args.chain_rounds} rounds, about 12 s each) ...", flush=True)
        chain = run_chain(args.chain_rounds)
    torch = import_torch()

    rows = run_ops(args.rounds, torch)
    print_ops(rows, args.rounds, torch)
    if chain:
        print_chain(chain)

    if args.json:
        result = {
            "benchmark": "op_overhead",
            "date": now_utc(),
            "machine": machine_info(torch),
            "method": {
                "op": f"a + b, {SHAPE} float32",
                "rounds": args.rounds,
                "target_s_per_measurement": TARGET_S,
                "gc": "enabled during timing",
                "order": "every row once per round, in table order",
                "statistic": "median over rounds; ratios are medians of per-round ratios",
            },
            "rows": rows,
            "chain": chain,
        }
        write_json(args.json, result)
    return 1 if chain and "error" in chain else 0


if __name__ == "__main__":
    sys.exit(main())
