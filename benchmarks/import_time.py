"""`import tinygrad_edu` time (SPEC: under 0.3 s).

Each round starts three fresh interpreters, in this order, and times each from launch to exit:
`python -c pass` (start-up alone), `python -c "import numpy"` and `python -c "import
tinygrad_edu"`. One untimed round first warms the disk cache. Reported: the median of each,
the raw `import tinygrad_edu` figure (what SPEC's bar is about: what a user waits for), and the
median tinygrad_edu - numpy difference (the package's own import cost, numpy excluded).

Run:  .venv/bin/python benchmarks/import_time.py [--rounds 9] [--json PATH]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    MIN_ROUNDS_SPEC,
    REPO,
    RESULTS,
    LoadWatch,
    busy_warning,
    describe_load,
    machine_info,
    now_utc,
    print_note,
    write_json,
)

BAR_S = 0.3
PROGRAMS = {
    "python -c pass": "pass",
    "import numpy": "import numpy",
    "import tinygrad_edu": "import tinygrad_edu",
}


def launch(code: str) -> float:
    """Seconds from starting `python -c code` to its exit."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
    return time.perf_counter() - t0


def measure(rounds: int) -> dict:
    for code in PROGRAMS.values():
        launch(code)  # warm the disk cache and any byte-code caches
    times: dict[str, list[float]] = {name: [] for name in PROGRAMS}
    for _ in range(rounds):
        for name, code in PROGRAMS.items():
            times[name].append(launch(code))
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    raw = medians["import tinygrad_edu"]
    return {
        "rounds": rounds,
        "median_s": medians,
        "per_round_s": times,
        "raw_s": raw,
        "minus_numpy_s": raw - medians["import numpy"],
        "minus_python_s": raw - medians["python -c pass"],
        "bar_s": BAR_S,
        "pass": raw < BAR_S,
    }


def print_result(r: dict, load: dict) -> None:
    print()
    print("Import time (fresh interpreters, launch to exit)")
    header = f"{'program':<32} {'median s':>9} {'min s':>7} {'max s':>7}"
    print(header)
    print("-" * len(header))
    for name, ts in r["per_round_s"].items():
        command = f'python -c "{PROGRAMS[name]}"'
        print(f"{command:<32} {r['median_s'][name]:>9.3f} {min(ts):>7.3f} {max(ts):>7.3f}")
    verdict = "PASS" if r["pass"] else "FAIL"
    print(
        f"import tinygrad_edu: {r['raw_s']:.3f} s raw (SPEC: < {BAR_S} s: {verdict}); "
        f"{r['minus_numpy_s']:.3f} s more than importing numpy, "
        f"{r['minus_python_s']:.3f} s more than bare start-up"
    )
    print_note(
        f"How measured: {r['rounds']} rounds, each launching the three programs in table order "
        f"with {Path(sys.executable).name} from the repository root, after one untimed warm-up "
        f"round; medians. Machine: {describe_load(load)}."
    )
    warning = busy_warning(load)
    if warning:
        print_note(warning)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="rounds (9)")
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS / "import_time.json",
        help="where to write the results (default benchmarks/results/import_time.json)",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.rounds < MIN_ROUNDS_SPEC:
        print(f"note: SPEC's bars use at least {MIN_ROUNDS_SPEC} rounds; this run uses fewer")
    print(f"timing imports ({args.rounds} rounds) ...", flush=True)
    watch = LoadWatch()
    result = measure(args.rounds)
    load = watch.result()
    print_result(result, load)
    write_json(
        args.json,
        {
            "benchmark": "import_time",
            "date": now_utc(),
            "machine": machine_info(None),  # PyTorch is not imported here
            "load_average": load,
            **result,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
