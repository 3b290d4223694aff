"""tinygrad_edu: an autograd engine to learn neural networks from.

>>> import tinygrad_edu as tg
>>> x = tg.Tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
Tensor([2., 4.])
"""

import numpy as _np

from tinygrad_edu.anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from tinygrad_edu.autograd import grad
from tinygrad_edu.creation import (
    arange,
    eye,
    full,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    zeros,
    zeros_like,
)
from tinygrad_edu.explain import explain
from tinygrad_edu.explore import Explorer, explore
from tinygrad_edu.gradcheck import GradcheckError, gradcheck, gradgradcheck
from tinygrad_edu.io import load, save
from tinygrad_edu.mode import enable_grad, is_grad_enabled, no_grad, scope, set_grad_enabled
from tinygrad_edu.tensor import Tensor, cat, get_default_dtype, set_default_dtype, stack
from tinygrad_edu.viz import draw_graph

# dtype names, so that user code can say tg.float32 (they are numpy's types)
float32 = _np.float32
float64 = _np.float64
int64 = _np.int64
bool_ = _np.bool_

from tinygrad_edu import data, datasets, nn, optim  # noqa: E402  (subpackages: tg.nn, tg.optim ...)
from tinygrad_edu.jit import JitError, JitWarning, jit  # noqa: E402  (on top of nn and optim)
from tinygrad_edu.malloc import keep_freed_memory as _keep_freed_memory  # noqa: E402

_keep_freed_memory()  # see malloc.py: a step at the M benchmark 25% faster

__version__ = "0.1.0"

__all__ = [
    "Explorer",
    "GradcheckError",
    "JitError",
    "JitWarning",
    "Tensor",
    "arange",
    "bool_",
    "cat",
    "data",
    "datasets",
    "detect_anomaly",
    "draw_graph",
    "enable_grad",
    "explain",
    "explore",
    "eye",
    "float32",
    "float64",
    "full",
    "get_default_dtype",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "int64",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "jit",
    "load",
    "manual_seed",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "optim",
    "rand",
    "randn",
    "save",
    "scope",
    "set_default_dtype",
    "set_detect_anomaly",
    "set_grad_enabled",
    "stack",
    "zeros",
    "zeros_like",
]
