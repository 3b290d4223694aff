"""All of SPEC's measured bars in one command: speed, chain, memory and import time.

Runs, each in a fresh Python process so that none disturbs another (a process that built a
million-node chain or imported PyTorch is not the one that times a training step or reads
RSS):

    train_step.py    the training step, numpy vs tinygrad_edu (eager and tg.jit) vs PyTorch
                     (configs S, M, L)
    memory.py        peak memory of one step (numpy, eager, jit), what one S step allocates;
                     RSS over 10,000 steps
    import_time.py   `import tinygrad_edu` in fresh interpreters
    chain.py         the 1,000,000-op chain

Each prints its own table as it finishes; then a summary of every bar, and one JSON file with
all the numbers and the machine's configuration (default benchmarks/results/latest.json).
Takes about 1.5 minutes on 2 cores (--quick: S and M only, 5 rounds, one chain round: ~1 min).

Run:  .venv/bin/python benchmarks/run_all.py [--configs S M L] [--rounds 9] [--quick]
      [--no-torch] [--no-extras] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    BUSY_SHARE,
    RESULTS,
    LoadWatch,
    describe_load,
    machine_line,
    now_utc,
    print_note,
    write_json,
)
from _mlp import CONFIGS

HERE = Path(__file__).resolve().parent


def part_commands(args: argparse.Namespace) -> dict[str, list[str]]:
    """Script and arguments of each part, in the order they run."""
    rounds = ["--rounds", str(args.rounds)]
    parts = {
        "train_step": [
            "train_step.py",
            "--configs",
            *args.configs,
            *rounds,
            *(["--no-torch"] if args.no_torch else []),
        ]
    }
    if not args.no_extras:
        parts["memory"] = ["memory.py", "--configs", *args.configs]
        parts["import_time"] = ["import_time.py", *rounds]
        parts["chain"] = ["chain.py", "--chain-rounds", "1" if args.quick else "3"]
    return parts


def run_part(name: str, command: list[str], json_path: Path) -> dict:
    """Run one part in a fresh interpreter (its output goes straight to ours); its JSON."""
    print(f"\n=== {name}: {' '.join(command)}", flush=True)
    t0 = time.perf_counter()
    script, *options = command
    proc = subprocess.run([sys.executable, str(HERE / script), *options, "--json", str(json_path)])
    seconds = time.perf_counter() - t0
    result: dict[str, Any] = {"command": command, "returncode": proc.returncode, "seconds": seconds}
    if json_path.exists():
        result["result"] = json.loads(json_path.read_text())
    return result


# -- the summary of SPEC's bars ---------------------------------------------------------------


def kib(n: float) -> str:
    return f"{n / 1024:,.0f}"


def bar_rows(parts: dict) -> list[tuple[str, str, str, str]]:
    """(what, measured, bar, verdict) for every bar a part measured."""

    def verdict(ok: bool | None, noisy: bool = False) -> str:
        return "-" if ok is None else ("PASS" if ok else "FAIL") + ("?" if noisy else "")

    rows = []
    speed = parts["train_step"].get("result")
    # (ratio key, bar key, verdict key, what is compared) of the speed bars, in table order
    speed_bars = [
        ("tg_over_numpy", "bar_numpy", "pass_numpy", "tinygrad_edu / numpy"),
        ("jit_over_numpy", "bar_jit", "pass_jit", "tg.jit replay / numpy"),
        ("tg_over_torch", "bar_torch", "pass_torch", "tinygrad_edu / PyTorch"),
    ]
    for c in speed["configs"] if speed else []:
        for ratio, bar, ok, what in speed_bars:
            if c.get(bar) is None or ratio not in c:
                continue
            r = c[ratio]
            rows.append(
                (
                    f"{c['config']}: {what}, per step",
                    f"{r['median']:.3f} ({r['min']:.2f}-{r['max']:.2f})",
                    f"<= {c[bar]:.2f}",
                    verdict(c[ok], r["noisy"]),
                )
            )
    chain = parts.get("chain", {}).get("result", {}).get("chain")
    if chain and "error" in chain:
        rows.append(("1M-op chain", chain["error"][:40], "completes", "FAIL"))
    elif chain:
        rows.append(
            (
                "1M-op chain: time per op, 1M / 100k",
                f"{chain['ratio_1m_over_100k']['total']:.2f}",
                f"<= {chain['bar']}",
                verdict(chain["pass"]),
            )
        )
    memory = parts.get("memory", {}).get("result")
    if memory:
        alloc = memory.get("allocations")
        if alloc:  # memory.py's own measurement of what one S step allocates
            jit, numpy = alloc["engines"]["tinygrad_edu jit"], alloc["engines"]["numpy"]
            rows.append(
                (
                    f"{alloc['config']}: jit replay peak memory / numpy's",
                    f"{jit['peak_over_numpy']:.2f} ({kib(jit['peak_bytes'])}/"
                    f"{kib(numpy['peak_bytes'])} KiB)",
                    "<= 1.00",
                    verdict(alloc["jit_within_numpy"]),
                )
            )
        for peak in memory["step_peaks"] if not alloc else []:
            if peak["config"] == "S" and "jit_over_numpy" in peak:
                rows.append(
                    (
                        "S: jit replay peak memory / numpy's",
                        f"{peak['jit_over_numpy']:.2f}",
                        "<= 1.00",
                        verdict(peak["jit_within_numpy"]),
                    )
                )
        for run in memory["long_run"]:
            if run["engine"] in ("tinygrad_edu", "tinygrad_edu jit"):
                what = "eager" if run["engine"] == "tinygrad_edu" else "jit"
                rows.append(
                    (
                        f"{run['steps']:,} S steps ({what}): RSS growth",
                        f"{run['growth_mib']:+.2f} MiB",
                        f"flat (<= {memory['flat_threshold_mib']} MiB)",
                        verdict(run["flat"]),
                    )
                )
    imports = parts.get("import_time", {}).get("result")
    if imports:
        rows.append(
            (
                "import tinygrad_edu (raw)",
                f"{imports['raw_s']:.3f} s",
                f"< {imports['bar_s']} s",
                verdict(imports["pass"]),
            )
        )
    return rows


def print_summary(rows: list, parts: dict, load: dict) -> None:
    print("\n=== SPEC bars")
    header = f"{'bar':<40} {'measured':<20} {'SPEC':<20} {'result'}"
    print(header)
    print("-" * len(header))
    for what, measured, bar, ok in rows:
        print(f"{what:<40} {measured:<20} {bar:<20} {ok}")
    for name, part in parts.items():
        if part["returncode"] != 0:
            print(f"{name} did not complete (exit status {part['returncode']}); see above")
    print_note(
        "Speed ratios are medians (min-max) over rounds of per-round ratios, engines "
        "interleaved in one process; '?': the middle half of the rounds spreads by more than "
        f"25%. Whole run: {describe_load(load)}."
    )
    busy = {
        name: share
        for name, part in parts.items()
        if (share := part.get("result", {}).get("load_average", {}).get("others_cpu_share"))
        and share > BUSY_SHARE
    }
    if busy:
        listed = ", ".join(f"{name} {share:.0%}" for name, share in busy.items())
        print_note(
            f"WARNING: other processes used much of the CPU during some parts ({listed}); "
            "their timings are unreliable (the memory figures do not depend on them). Rerun "
            "those parts on a quiet machine."
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), help="default: S M L")
    parser.add_argument("--rounds", type=int, help="rounds (default 9; 5 with --quick)")
    parser.add_argument(
        "--quick", action="store_true", help="S and M only, 5 rounds, one chain round"
    )
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--no-extras", action="store_true", help="only the training-step table")
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS / "latest.json",
        help="where to write all results (default benchmarks/results/latest.json)",
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
    parts = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, command in part_commands(args).items():
            parts[name] = run_part(name, command, Path(tmp) / f"{name}.json")
    load = watch.result()
    rows = bar_rows(parts)
    print_summary(rows, parts, load)
    speed = parts["train_step"].get("result")
    machine = speed["machine"] if speed else None
    if machine:
        print_note(f"Machine: {machine_line(machine)}.")
    write_json(
        args.json,
        {
            "benchmark": "run_all",
            "date": now_utc(),
            "command": [Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else argv)],
            "machine": machine,
            "load_average": load,
            "bars": [dict(zip(("bar", "measured", "spec", "result"), row)) for row in rows],
            "parts": parts,
        },
    )
    return max(abs(p["returncode"]) for p in parts.values())


if __name__ == "__main__":
    sys.exit(main())
