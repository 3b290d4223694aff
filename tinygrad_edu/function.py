"""`Function`: one primitive op, with its forward and backward side by side.

`Op.apply(*tensors)` runs `forward` on the tensors' numpy arrays and wraps the result in a new
Tensor. When any input requires grad (and grad mode is on) the Function instance becomes a node
of the graph: it keeps its `inputs`, the values `forward` saved, and the `scope` it ran in.

`backward(grad)` turns the gradient of the output into gradients of the inputs. It is written
once and runs in two worlds:
  * plain `backward()`: `grad` and the saved values are numpy arrays, and the formulas are
    ordinary numpy arithmetic - no graph, no wrapping, as fast as hand-written numpy;
  * `backward(create_graph=True)`: `grad` and the saved values are Tensors, so the same formulas
    record a graph of their own and gradients can be differentiated again.
Formulas therefore use operators and methods that numpy arrays and Tensors share
(`+ - * / @ .sum .reshape .swapaxes ...`), and the helpers of `ops/dual.py` for the rest.
"""

from __future__ import annotations

import warnings
from itertools import count
from typing import Any

import numpy as np

from tinygrad_edu import anomaly, mode
from tinygrad_edu.mode import state
from tinygrad_edu.versions import version_at

# -- the one registration point ----------------------------------------------------------------
# Tensor is built on top of this file (its methods call the ops), so this file, ops/ and
# autograd.py cannot import it. tensor.py hands its class over instead, once, and the lower
# layers make and recognise tensors through `function.Tensor`.
Tensor: Any = None


def register_tensor_class(cls: type) -> None:
    """Make `cls` the class of the tensors ops return (tensor.py calls this with Tensor)."""
    global Tensor
    Tensor = cls


_next_seq = count(1).__next__  # numbers the nodes in the order they are made


class Function:
    """Base class of every primitive. The class docstring's first line is the node's formula."""

    # What a node holds once recorded; the class attributes are defaults for unrecorded calls.
    inputs: tuple = ()  # the input Tensors, in order
    needs_input_grad: tuple = ()  # which inputs need a gradient
    scope: tuple = ()  # modules running when the node was made, outermost first
    _saved: tuple | None = ()  # arrays saved by forward; None once released
    _out_id: int = 0  # id() of forward's raw result, to recognise it among the saved arrays
    _hooks: list | None = None  # hooks registered on the output tensor (non-leaves)
    _retained: Any = None  # weak reference to the output tensor, if it called retain_grad()
    _clock: int = 0  # the in-place clock (mode.inplace_changes) when the node was made
    _out_vbox: list | None = None  # the output's version counter, when the output was saved
    _created_at: str | None = None  # where user code made this node (recorded in anomaly mode)
    _seq: int = 0  # when the node was made (1, 2, ...): backward runs the latest-made first
    returns_view = False  # True for ops whose output may share memory with their first input

    # -- the two halves every primitive defines --------------------------------------------
    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define forward")  # abstract

    def backward(self, grad: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define backward")  # abstract

    # -- public view of the node --------------------------------------------------------------
    @property
    def name(self) -> str:
        """The op's name, e.g. "Mul"."""
        return type(self).__name__

    @property
    def formula(self) -> str:
        """One line of maths: the output and the derivative of each input."""
        doc = type(self).__doc__ or ""
        return doc.strip().splitlines()[0] if doc.strip() else self.name

    def __repr__(self) -> str:
        return f"<{self.name}>"

    # -- running an op ------------------------------------------------------------------------
    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """Run the op on Tensors; record a node when gradients will be needed."""
        node = cls(**params) if params else cls()
        if warnings.filters is not anomaly.quiet_filters:  # numpy's warnings stay quiet in here
            anomaly.quiet_numpy()
        try:
            raw = node.forward(*[t.data for t in inputs])
        except (ValueError, IndexError) as err:  # bad shapes, axes or indices
            raise type(err)(node.describe_error(inputs, err)) from None
        # numpy returns scalars, not 0-d arrays, from some operations on 0-d arrays (an
        # ndarray subclass passes through as it is)
        out = raw if isinstance(raw, np.ndarray) else np.asarray(raw)
        if mode.anomaly_enabled:
            node._created_at = anomaly.user_location()
            anomaly.check_forward(node, inputs, out)
        result = None
        if state.grad_enabled:
            needs = tuple([t.requires_grad for t in inputs])
            if True in needs:
                node.inputs = inputs
                node.needs_input_grad = needs
                node.scope = state.scope
                node._seq = _next_seq()
                node._clock = mode.inplace_changes
                result = Tensor._make(out, node)
                for a in node._saved:
                    if a is raw:  # forward saved its own output: watch it for in-place changes
                        node._watch_output(result, raw)
                        break
        if result is None:
            result = Tensor._make(out)
        if node.returns_view and out.base is not None:
            result._vbox = inputs[0]._version_box()  # a view shares its base's version counter
        return result

    def describe_error(self, inputs: tuple, err: Exception) -> str:
        """The message for bad input: the op, what it was given, and numpy's complaint."""
        given = ", ".join(f"{t.shape} {t.dtype}" for t in inputs)
        return f"{self.name}: cannot apply to inputs of shape/dtype {given}: {err}"

    # -- saving values for backward -----------------------------------------------------------
    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays that backward needs (inputs, the output, or constants such as masks)."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        """The saved values: arrays in a plain backward, Tensors when recording a graph.

        As Tensors, a saved input is that input itself and the saved output is a Tensor whose
        grad_fn is this very node, so a formula that uses them differentiates correctly again;
        anything else saved (a mask, a count) is a constant. Raises if a saved tensor was changed
        in place since forward: backward would otherwise compute with the wrong values.
        """
        saved = self._saved
        if saved is None:
            raise RuntimeError(self._freed_message())
        if self._clock != mode.inplace_changes:  # something, somewhere, changed in place
            self._check_versions(saved)
        if not state.grad_enabled:
            return saved
        return tuple(self._as_tensor(a) for a in saved)

    def _watch_output(self, out: Any, raw: Any) -> None:
        """Forward saved its own output (`raw`): give `out` a version counter to watch."""
        out._vbox = self._out_vbox = [0, self._clock]
        self._out_id = id(raw)

    def _check_versions(self, saved: tuple) -> None:
        """Raise if a saved input or output was changed in place after this node was made.

        Every in-place change records the process's clock in its tensor's version box (see
        versions.bump_versions), so "changed after this node was made" is a box whose clock is
        later than the node's. Only runs when the clock has moved since then at all.
        """
        for i, t in enumerate(self.inputs):
            box = t._vbox
            if box is not None and box[1] > self._clock and any(a is t.data for a in saved):
                self._raise_modified(f"input {i}", t.shape, box)
        box = self._out_vbox
        if box is not None and box[1] > self._clock:
            shape = np.shape(next(a for a in saved if id(a) == self._out_id))
            self._raise_modified("its output", shape, box)

    def _raise_modified(self, what: str, shape: tuple, box: list) -> None:
        saved, exact = version_at(box, self._clock)
        raise RuntimeError(
            f"a tensor needed for backward was changed in place: {self.name} saved {what} "
            f"(shape {shape}) at version {saved}{'' if exact else ' or earlier'}; it is now at "
            f"version {box[0]}. Backward would use the new values and give a wrong gradient. "
            "Change it only after backward, or work on a copy (x.clone()) instead of in place."
        )

    def _as_tensor(self, a: Any) -> Any:
        for t in self.inputs:
            if a is t.data:
                return t
        if id(a) == self._out_id:
            return Tensor._make(np.asarray(a), self)
        return Tensor._make(np.asarray(a))

    def release(self) -> None:
        """Drop the saved values (after backward, unless retain_graph)."""
        self._saved = None

    @property
    def released(self) -> bool:
        return self._saved is None

    def _freed_message(self) -> str:
        return (
            f"Trying to backward through the graph a second time: the values saved by "
            f"{self.name} (formula: {self.formula}) were freed after the first backward. "
            "Call backward(retain_graph=True) the first time if you need to go through the "
            "graph again, or recompute the forward pass."
        )
