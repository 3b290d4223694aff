"""tg.jit: capture one training step and replay its numpy work (see jit.py).

A layer on top of the eager engine, which does not know about it: record.py takes notes of the
numpy kernels a step runs, capture.py runs the step once with the notes on, program.py turns
the notes into a replayable program, jit.py is the decorator that decides when to record,
check and replay.
"""

from tinygrad_edu.jit.jit import Jitted, JitWarning, jit
from tinygrad_edu.jit.record import JitError

__all__ = ["JitError", "JitWarning", "Jitted", "jit"]
