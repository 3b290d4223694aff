"""Helpers shared by the benchmark scripts: the machine's configuration, memory readings, JSON.

The scripts are run as files (`python benchmarks/x.py`), so this module is imported as
`_common` from the benchmarks folder. Nothing here sets or unsets thread variables
(OPENBLAS_*, OMP_*, MKL_*): the machine is measured as it is, and only read.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import resource
import statistics
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import tinygrad_edu as tg

MIN_ROUNDS_SPEC = 7  # SPEC: median over at least 7 rounds
REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"  # git-ignored
THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def import_torch() -> Any:
    """PyTorch if it is installed, else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch


# -- memory -----------------------------------------------------------------------------------


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def rss_mib() -> float:
    """Current resident set size of this process, from /proc/self/statm (Linux)."""
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


# -- statistics -------------------------------------------------------------------------------


NOISY_QUARTILES = 1.25  # upper / lower quartile of the per-round ratios above this: noisy
BUSY_SHARE = 0.10  # other processes using more than this share of the CPU: a busy machine


def ratio_stats(num: Sequence[float], den: Sequence[float]) -> dict:
    """Round-by-round ratios num[i] / den[i]: their median, min, max, quartiles and the list;
    `noisy` when the middle half of the rounds spreads by more than NOISY_QUARTILES."""
    ratios = [a / b for a, b in zip(num, den)]
    q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return {
        "median": statistics.median(ratios),
        "min": min(ratios),
        "max": max(ratios),
        "quartiles": [q1, q3],
        "noisy": q3 / q1 > NOISY_QUARTILES,
        "per_round": ratios,
    }


def busy_warning(load: dict) -> str | None:
    """A warning to print when other processes used much of the CPU, else None."""
    share = load.get("others_cpu_share")
    if share is None or share <= BUSY_SHARE:
        return None
    return (
        f"WARNING: other processes used {share:.0%} of the CPU during this run; its timings "
        "and ratios are unreliable. Rerun on a quiet machine."
    )


# -- the machine ------------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what platform knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages (other work on the machine skews timings)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def cpu_snapshot() -> tuple[float, float, float] | None:
    """(wall s, CPU s the whole machine was busy, CPU s this process and its finished children
    used), from /proc/stat and os.times(); None where /proc/stat is missing."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal ...: all but idle and iowait are busy
    busy = sum(fields[:3]) + sum(fields[5:8])
    own = os.times()  # this process and the children it has waited for
    own_s = own.user + own.system + own.children_user + own.children_system
    return time.perf_counter(), busy / os.sysconf("SC_CLK_TCK"), own_s


def others_cpu_share(start: Any, end: Any) -> float | None:
    """Share of the machine's CPU capacity (all cores) that other processes (and the
    hypervisor's steal) used between two cpu_snapshot()s: 0 is a quiet machine."""
    if start is None or end is None or end[0] <= start[0]:
        return None
    wall = end[0] - start[0]
    others = (end[1] - start[1]) - (end[2] - start[2])
    return round(max(0.0, others) / (wall * (os.cpu_count() or 1)), 3)


class LoadWatch:
    """Other work on the machine while a benchmark runs: load averages at start and end, and
    the share of all cores' CPU time that other processes used in between."""

    def __init__(self) -> None:
        self.start = load_average()
        self._cpu = cpu_snapshot()

    def result(self) -> dict:
        return {
            "load_average_start": self.start,
            "load_average_end": load_average(),
            "others_cpu_share": others_cpu_share(self._cpu, cpu_snapshot()),
        }


def describe_load(load: dict) -> str:
    """'load average (1/5/15 min) 0.5/0.8/0.9 at start, ... at end; other processes used 3%
    of the CPU time meanwhile'."""

    def fmt(avg: list[float] | None) -> str:
        return "/".join(f"{x:.2f}" for x in avg) if avg else "?"

    text = (
        f"load average (1/5/15 min) {fmt(load['load_average_start'])} at start, "
        f"{fmt(load['load_average_end'])} at end"
    )
    if load.get("others_cpu_share") is not None:
        text += f"; other processes used {load['others_cpu_share']:.0%} of the CPU meanwhile"
    return text


def blas_info() -> Any:
    """The BLAS/OpenMP thread pools loaded in this process, as threadpoolctl reports them."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    return threadpool_info()


def blas_summary(info: Any) -> str:
    """One line, e.g. 'openblas 0.3.31 (pthreads, 2 threads); openmp libgomp (2 threads)'."""
    if not isinstance(info, list):
        return str(info)
    parts = []
    for pool in info:
        name = pool.get("internal_api", "?")
        detail = [pool["threading_layer"]] if pool.get("threading_layer") else []
        detail.append(f"{pool.get('num_threads')} threads")
        version = pool.get("version") or pool.get("prefix", "")
        parts.append(f"{name} {version} ({', '.join(detail)})")
    return "; ".join(parts) or "none loaded"


def machine_info(torch: Any) -> dict:
    """Python, numpy, tinygrad_edu and PyTorch versions, CPUs, BLAS pools, thread variables."""
    info = {
        "python": sys.version,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "numpy": np.__version__,
        "tinygrad_edu": tg.__version__,
        "torch": torch.__version__ if torch else None,
        "torch_num_threads": torch.get_num_threads() if torch else None,
        # after torch is imported, so its OpenMP pool is listed too (its MKL is linked in
        # statically and invisible to threadpoolctl: see torch_parallel_info)
        "threadpool_info": blas_info(),
        "thread_env": {k: os.environ.get(k) for k in THREAD_ENV},  # read, never set
        "load_average": load_average(),
    }
    if torch:
        info["torch_parallel_info"] = torch.__config__.parallel_info()
    return info


def machine_line(machine: dict) -> str:
    """The machine in one sentence, for the 'how measured' notes."""
    usable = machine["usable_cpus"]
    cores = f"{machine['cpu_count']} CPUs" + (
        f" ({usable} usable)" if usable and usable != machine["cpu_count"] else ""
    )
    torch = (
        f", PyTorch {machine['torch']} ({machine['torch_num_threads']} threads)"
        if machine["torch"]
        else ", PyTorch not installed"
    )
    return (
        f"{machine['cpu_model']}, {cores}, {machine['platform']}; Python "
        f"{machine['python'].split()[0]}, numpy {machine['numpy']}, tinygrad_edu "
        f"{machine['tinygrad_edu']}{torch}; BLAS: {blas_summary(machine['threadpool_info'])}"
    )


def print_note(text: str) -> None:
    """Print a paragraph of explanation, wrapped to 100 columns."""
    print(textwrap.fill(text, width=100))


def now_utc() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def write_json(path: Path, result: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
