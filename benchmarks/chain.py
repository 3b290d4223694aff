"""The 1,000,000-op chain alone: op_overhead.py's --chain, with its verdict and JSON.

y = y * 1.0000001 repeated 100,000 and 1,000,000 times from a float64 scalar leaf, then
y.backward(); SPEC: it completes without recursion, and the time per op at 1M is at most 1.5x
that at 100k. The measuring code is op_overhead.py's (`run_chain`, `print_chain`); this script
runs only that part (run_all.py calls it in a fresh process, before PyTorch is ever imported).

Run:  .venv/bin/python benchmarks/chain.py [--chain-rounds 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import faulthandler
import sys
from pathlib import Path

from _common import (
    RESULTS,
    LoadWatch,
    busy_warning,
    describe_load,
    machine_info,
    now_utc,
    print_note,
    write_json,
)
from op_overhead import CHAIN_BAR, print_chain, run_chain


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
