"""Version counters: how backward notices that a value it saved was changed in place.

Every in-place change (`add_`, `t[i] = v`, an optimiser step) bumps its tensor's version and
ticks one process-wide clock (`mode.inplace_changes`). A tensor's counter lives in a small list,
its "version box", shared with its views: [version, clock at the latest change, the clocks of
its last few changes]. A node notes the clock when it is made (function.py); at backward, a
saved tensor whose box shows a later clock was changed since, and the node refuses to run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from tinygrad_edu import mode

VERSION_HISTORY = 32  # the clock ticks of a tensor's last changes kept, to name old versions


def bump_versions(tensors: Iterable[Any]) -> None:
    """Count one in-place change of each tensor's memory: one tick of the process's in-place
    clock for all of them (an optimiser step changes every parameter at once)."""
    mode.inplace_changes = clock = mode.inplace_changes + 1
    for t in tensors:
        box = t._version_box()
        box[0] += 1
        box[1] = clock
        if len(box) == 2:  # the first change: start the (bounded) list of when changes happened
            box.append(deque(maxlen=VERSION_HISTORY))
        box[2].append(clock)


def version_at(box: list, clock: int) -> tuple[int, bool]:
    """The version a version box had at in-place clock `clock`, and whether that is exact (only
    the last VERSION_HISTORY changes are remembered; beyond them it is an upper bound)."""
    ticks = box[2] if len(box) > 2 else ()
    later = sum(1 for tick in ticks if tick > clock)
    exact = later < len(ticks) or len(ticks) < VERSION_HISTORY
    return box[0] - later, exact
