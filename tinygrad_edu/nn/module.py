"""Module and Parameter: the building blocks of a network.

A Module holds Parameters (tensors to learn) and other Modules, registered simply by assigning
them as attributes in `__init__`; `forward` says what the module computes. Calling a module runs
`forward` inside `tg.scope(module)`, so every node of the graph knows which layer made it.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from tinygrad_edu.mode import no_grad, state
from tinygrad_edu.tensor import Tensor

# How many times a parameter or sub-module of any Module was assigned or removed: whatever
# remembers a model's structure (tg.jit's recorded steps) can tell cheaply that it may be stale.
structure_changes = 0


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict` returns: the parameter names it did not find, and the keys it had
    no parameter for (both empty unless strict=False). PyTorch's name and repr."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (
            f"IncompatibleKeys(missing_keys={self.missing_keys!r}, "
            f"unexpected_keys={self.unexpected_keys!r})"
        )


class Parameter(Tensor):
    """A Tensor that a Module learns: it requires grad, and assigning it to a Module attribute
    registers it (so it appears in `parameters()` and `state_dict()`).

    >>> w = tg.nn.Parameter(tg.zeros(3, 4))
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and networks. Subclasses call `super().__init__()` first, assign
    parameters and sub-modules as attributes, and define `forward`.

    >>> class Neuron(tg.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = tg.nn.Parameter(tg.randn(3))
    ...         self.b = tg.nn.Parameter(tg.zeros(()))
    ...     def forward(self, x):
    ...         return (x @ self.w + self.b).sigmoid()
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() ran: call super().__init__() "
                f"first in {type(self).__name__}.__init__"
            )
        # a name keeps its place when reassigned (dicts keep insertion order), as in PyTorch
        global structure_changes
        if (
            isinstance(value, (Parameter, Module))
            or name in self._parameters
            or (name in self._modules)
        ):
            structure_changes += 1
        if isinstance(value, Parameter):
            self._modules.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._modules[name] = value
        else:
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        global structure_changes
        structure_changes += 1
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    # -- running ---------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")  # abstract

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # what `with tg.scope(self):` does, written out: a module call is on every step's hot
        # path, and this saves the context manager's object and calls (~0.5 us per call);
        # passing an empty **kwargs on costs another 0.15 us, so it is passed only when given
        prev = state.scope
        state.scope = prev + (self,)
        try:
            return self.forward(*args, **kwargs) if kwargs else self.forward(*args)
        finally:
            state.scope = prev

    # -- what it holds ---------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for each direct sub-module, in assignment order."""
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted path, module) for this module ("") and everything below it, each once."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:  # depth-first, in assignment order, without recursion
            path, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield path, module
            stack.extend(
                (f"{path}.{name}" if path else name, child)
                for name, child in reversed(module._modules.items())
            )

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted path, parameter), e.g. ("0.weight", ...), each parameter once."""
        seen: set[int] = set()
        for path, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{path}.{name}" if path else name), p

    def parameters(self) -> Iterator[Parameter]:
        for _, p in self.named_parameters():
            yield p

    # -- modes and gradients ---------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops); returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode (Dropout passes everything through); returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget the gradients of all parameters (`.grad = None`)."""
        for p in self.parameters():
            p.grad = None

    # -- saving and loading ----------------------------------------------------------------
    def state_dict(self) -> OrderedDict:
        """Parameter values by dotted path, as detached tensors sharing the parameters' data."""
        return OrderedDict((name, p.detach()) for name, p in self.named_parameters())

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters of the same names (numpy arrays, Tensors, or anything
        numpy can read, such as a PyTorch state dict). Returns the (missing_keys,
        unexpected_keys) named tuple.

        With strict=True, missing or unexpected keys are an error; a shape mismatch always is.
        Every problem is listed in one message, and nothing is changed unless all keys fit.
        """
        if isinstance(state_dict, (str, os.PathLike)):
            raise TypeError(
                f"load_state_dict expects a dict of tensors, got a path ({state_dict!r}); read "
                "the file first: model.load_state_dict(tg.load(path))"
            )
        if not hasattr(state_dict, "items"):
            raise TypeError(
                f"load_state_dict expects a dict {{name: tensor}}, got {type(state_dict).__name__}"
            )
        bad = [k for k in state_dict if not isinstance(k, str)]
        if bad:
            raise TypeError(
                "load_state_dict: keys are parameter names such as 'weight' or '0.bias', got "
                f"{bad[0]!r} ({type(bad[0]).__name__})"
            )
        params = dict(self.named_parameters())
        values = {
            k: np.asarray(v.data if isinstance(v, Tensor) else v) for k, v in state_dict.items()
        }
        missing = [k for k in params if k not in values]
        unexpected = [k for k in values if k not in params]
        wrong = [
            f"{k}: expected shape {params[k].shape}, got {values[k].shape}"
            for k in params
            if k in values and values[k].shape != params[k].shape
        ]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {', '.join(missing)}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {', '.join(unexpected)}")
        if wrong:
            problems.append(f"shape mismatches: {'; '.join(wrong)}")
        if problems:
            raise ValueError(
                f"load_state_dict into {type(self).__name__} failed: " + " | ".join(problems)
            )
        with no_grad():
            for k, p in params.items():
                if k in values:
                    p.copy_(values[k])
        return IncompatibleKeys(missing, unexpected)

    # -- printing --------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """Text inside the parentheses of this module's repr (layers override it)."""
        return ""

    def __repr__(self) -> str:
        children = [
            f"  ({name}): " + repr(child).replace("\n", "\n  ")
            for name, child in self._modules.items()
        ]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}(" + self.extra_repr(), *children, ")"]
        return "\n".join(lines)
