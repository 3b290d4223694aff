"""The 1,000,000-op chain: y = y * 1.0000001 from a float64 scalar leaf, then y.backward().

Repeated 100,000 and 1,000,000 times, the two sizes alternating for --chain-rounds rounds;
forward, backward and freeing the chain are timed separately, and peak RSS (the process's
ru_maxrss) is read after the first run of each size. SPEC: it completes without recursion, and
the time per op (forward + backward) at 1M is at most 1.5x that at 100k. A RecursionError, a
crash (faulthandler prints where) or a wrong `x.grad` is a package bug: the script exits 1.
run_all.py runs this in a fresh process that never imports PyTorch (its many live objects would
make each of Python's full gc passes slower, which the chain's millions of objects pay for).

Run:  .venv/bin/python benchmarks/chain.py [--chain-rounds 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import faulthandler
import gc
import statistics
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
from _common import (
    RESULTS,
    LoadWatch,
    busy_warning,
    describe_load,
    machine_info,
    now_utc,
    peak_rss_mib,
    print_note,
    write_json,
)

import tinygrad_edu as tg

CHAIN_FACTOR = 1.0000001
CHAIN_SIZES = (100_000, 1_000_000)
CHAIN_BAR = 1.5  # SPEC: time per op at 1M <= 1.5x that at 100k


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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chain-rounds", type=int, default=3, help="rounds (3, ~12 s each)")
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS / "chain.json",
        help="where to write the results (default benchmarks/results/chain.json)",
    )
    args = parser.parse_args(argv)
    if args.chain_rounds < 1:
        parser.error("--chain-rounds must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    faulthandler.enable()  # a hard crash (e.g. C stack overflow) still prints where it was
    print(f"running the chain ({args.chain_rounds} rounds, about 12 s each) ...", flush=True)
    watch = LoadWatch()
    chain = run_chain(args.chain_rounds)
    load = watch.result()
    print_chain(chain)
    if "error" not in chain:
        chain["bar"] = CHAIN_BAR
        chain["pass"] = chain["ratio_1m_over_100k"]["total"] <= CHAIN_BAR
    print_note(f"Machine: {describe_load(load)}.")
    warning = busy_warning(load)
    if warning:
        print_note(warning)
    write_json(
        args.json,
        {
            "benchmark": "chain",
            "date": now_utc(),
            "machine": machine_info(None),  # PyTorch is not imported here
            "load_average": load,
            "chain": chain,
        },
    )
    return 1 if "error" in chain else 0


if __name__ == "__main__":
    sys.exit(main())
