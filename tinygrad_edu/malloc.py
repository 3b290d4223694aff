"""Keep freed memory for the next training step (Linux with glibc only).

An eager engine allocates fresh arrays for every activation and gradient of a step and frees them
at the end of it. With glibc's defaults, arrays above 128 KiB get pages of their own from the
operating system, and freed memory at the top of the heap is handed back, so every step faults
its memory in again, page by page. Two settings keep that memory for reuse instead: allocations
up to 32 MiB come from the heap, and up to 1 GiB of freed heap is kept.

Measured on the M benchmark (batch 256, 64-256-256-10; benchmarks/train_step.py, no PyTorch in
the process, two runs each): a tinygrad_edu step took 1663-1672 us with glibc's defaults and
1250-1267 us with these settings, 1.48x and 1.10x hand-written numpy (which reuses its buffers in
place and was not affected); S and L did not change.

This is a process-wide setting of the C allocator; it changes no result. Set the environment
variable TINYGRAD_EDU_KEEP_MEMORY=0 before importing tinygrad_edu to leave glibc's defaults.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters: free heap kept before giving it back,
M_MMAP_THRESHOLD = -3  # and the size from which an allocation gets pages of its own
TRIM_BYTES = 1 << 30
MMAP_BYTES = 32 << 20  # glibc's upper limit for this setting on 64-bit machines


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed heap memory for reuse; False where that is not possible."""
    if os.environ.get("TINYGRAD_EDU_KEEP_MEMORY", "1") == "0":
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # absent outside glibc (e.g. musl)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(M_TRIM_THRESHOLD, TRIM_BYTES)) and bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_BYTES)
    )
