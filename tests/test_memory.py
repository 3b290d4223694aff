"""Training leaves memory flat (SPEC bar: "10,000 training steps leave memory flat").

The loop is train.py's: the digits MLP 64-128-64-10, mini-batches of 32 with a little input
noise, cross-entropy, backward, SGD with Nesterov momentum, and an evaluation under no_grad after
each epoch. After a warm-up we check three things that a leak would break:
  * the process's resident memory (RSS, from /proc/self/statm) does not grow;
  * the number of live Tensor and Function objects stays the same;
  * backward releases the values the graph saved, and the graph itself dies as soon as the loop
    variables that hold it are rebound (plain reference counting, no cycle to wait for).
"""

from __future__ import annotations

import gc
import os
import sys
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.datasets import load_digits, train_test_split
from tinygrad_edu.function import Function
from tinygrad_edu.train import evaluate

WARMUP_STEPS = 200
MEASURED_STEPS = 2_000
MAX_RSS_GROWTH = 5 * 2**20  # bytes
OBJECT_SLACK = 8  # "the same number of live objects, give or take a handful"


def rss_bytes() -> int:
    """Resident set size of this process (Linux: the 2nd field of /proc/self/statm, in pages)."""
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def live_objects() -> tuple[int, int]:
    """How many tinygrad_edu Tensors and graph nodes (Functions) are alive now."""
    gc.collect()
    tensors = functions = 0
    for obj in gc.get_objects():
        cls = type(obj)  # not isinstance: some objects (torch's) warn when asked for __class__
        if issubclass(cls, tg.Tensor):
            tensors += 1
        elif issubclass(cls, Function):
            functions += 1
    return tensors, functions


class DigitsTraining:
    """train.py's training loop, one step at a time."""

    def __init__(self, seed: int = 0, batch_size: int = 32) -> None:
        tg.manual_seed(seed)
        X, y = load_digits()
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=seed)
        mean = X_train.mean(axis=0)
        std = np.maximum(X_train.std(axis=0), np.float32(1.0))
        self.X_test, self.y_test = (X_test - mean) / std, y_test
        self.model = tg.nn.MLP([64, 128, 64, 10])
        self.optimizer = tg.optim.SGD(
            self.model.parameters(), 0.05, momentum=0.9, weight_decay=1e-3, nesterov=True
        )
        self.loader = tg.data.DataLoader(
            (X_train - mean) / std, y_train, batch_size=batch_size, seed=seed
        )
        self.batches = self._forever()
        self.steps = 0
        self.loss_sum = 0.0
        self.correct = 0
        # the last step's graph, held by these "loop variables" until the next step rebinds them
        self.logits: Any = None
        self.loss: Any = None

    def _forever(self) -> Iterator[tuple[tg.Tensor, tg.Tensor]]:
        while True:
            yield from self.loader
            evaluate(self.model, self.X_test, self.y_test)  # as train.py does after each epoch

    def step(self) -> None:
        xb, yb = next(self.batches)
        xb = xb + tg.randn(*xb.shape) * 0.3
        self.logits = self.model(xb)
        self.loss = tg.nn.functional.cross_entropy(self.logits, yb)
        self.optimizer.zero_grad()
        self.loss.backward()
        self.optimizer.step()
        self.loss_sum += self.loss.item()
        self.correct += int((self.logits.argmax(axis=1) == yb).sum().item())
        self.steps += 1

    def run(self, steps: int) -> None:
        for _ in range(steps):
            self.step()


def graph_nodes(root: tg.Tensor) -> list[Function]:
    """Every Function in the graph that produced root."""
    seen: dict[int, Function] = {}
    stack = [root.grad_fn] if root.grad_fn is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(t.grad_fn for t in node.inputs if t.grad_fn is not None)
    return list(seen.values())


def intermediate_activations(root: tg.Tensor) -> list[tg.Tensor]:
    """The non-leaf tensors that the graph of root holds as inputs of its nodes."""
    found: dict[int, tg.Tensor] = {}
    for node in graph_nodes(root):
        for t in node.inputs:
            if t.grad_fn is not None:
                found[id(t)] = t
    return list(found.values())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm (Linux)")
def test_training_steps_leave_memory_flat() -> None:
    run = DigitsTraining()
    run.run(WARMUP_STEPS)
    gc.collect()
    rss_before = rss_bytes()
    objects_before = live_objects()

    run.run(MEASURED_STEPS)
    gc.collect()
    rss_after = rss_bytes()
    objects_after = live_objects()

    growth = rss_after - rss_before
    print(
        f"\nRSS {rss_before / 2**20:.1f} MiB after {WARMUP_STEPS} steps, "
        f"{rss_after / 2**20:.1f} MiB after {WARMUP_STEPS + MEASURED_STEPS} "
        f"(growth {growth / 2**20:+.2f} MiB); live (Tensors, Functions): "
        f"{objects_before} -> {objects_after}"
    )
    assert run.steps == WARMUP_STEPS + MEASURED_STEPS
    assert np.isfinite(run.loss_sum)
    # it did learn: the training accuracy over all steps is well above chance
    assert run.correct / (run.steps * 32) > 0.8
    assert growth < MAX_RSS_GROWTH, f"RSS grew by {growth / 2**20:.2f} MiB over 2,000 steps"
    for kind, before, after in zip(("Tensor", "Function"), objects_before, objects_after):
        assert abs(after - before) <= OBJECT_SLACK, (
            f"live {kind} objects: {before} after {WARMUP_STEPS} steps, {after} after "
            f"{WARMUP_STEPS + MEASURED_STEPS}"
        )


def test_live_objects_are_bounded_by_one_step() -> None:
    """Between steps, only the model, the optimiser's buffers and the last graph are alive."""
    run = DigitsTraining()
    run.run(3)
    tensors, functions = live_objects()
    n_nodes = len(graph_nodes(run.loss))
    # the last step's graph is still held by run.loss; nothing else from earlier steps
    assert functions - n_nodes <= OBJECT_SLACK, (functions, n_nodes)
    run.loss = run.logits = None
    tensors_without_graph, functions_without_graph = live_objects()
    assert functions_without_graph <= OBJECT_SLACK
    assert tensors_without_graph < tensors


def test_backward_releases_saved_buffers() -> None:
    run = DigitsTraining()
    run.run(2)
    loss = run.loss
    assert loss.grad_fn is not None
    assert loss.grad_fn._saved is None
    assert loss.grad_fn.released
    nodes = graph_nodes(loss)
    # at least the 3 Linear layers (one node each, or more if composite), 2 ReLUs and the loss
    assert len(nodes) >= 6, [node.name for node in nodes]
    still_saved = [node.name for node in nodes if node._saved is not None]
    assert not still_saved, f"nodes that kept their saved values after backward: {still_saved}"
    # going through the graph again is refused, as in PyTorch
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_saved_arrays_die_at_backward_not_later() -> None:
    """A value saved only for backward (not also held as a tensor) dies at backward."""
    run = DigitsTraining()
    run.run(1)
    xb, yb = next(run.batches)
    logits = run.model(xb)
    loss = tg.nn.functional.cross_entropy(logits, yb)
    refs = []
    for node in graph_nodes(loss):
        for a in node._saved or ():
            if isinstance(a, np.ndarray):
                refs.append(weakref.ref(a))
    assert refs, "expected the graph to save arrays for backward"
    loss.backward()
    # arrays that are also a tensor's data stay alive with that tensor; the rest must be gone
    held = {id(t.data) for node in graph_nodes(loss) for t in node.inputs}
    held |= {id(logits.data), id(loss.data), id(xb.data), id(yb.data)}
    held |= {id(p.data) for p in run.model.parameters()}
    alive = [r() for r in refs if r() is not None and id(r()) not in held]
    assert not alive, f"{len(alive)} saved arrays outlived backward: {[a.shape for a in alive]}"


def test_graph_dies_when_the_loop_variables_are_rebound() -> None:
    """No reference cycle keeps a step's graph alive: rebinding the variables frees it at once."""
    run = DigitsTraining()
    run.run(2)
    activations = intermediate_activations(run.loss)
    hidden = [t for t in activations if t.shape == (32, 128)]
    assert hidden, f"no (32, 128) activation among {[t.shape for t in activations]}"
    tensor_refs = [weakref.ref(t) for t in activations]
    array_refs = [weakref.ref(t.data) for t in hidden]
    node_refs = [weakref.ref(node) for node in graph_nodes(run.loss)]
    del activations, hidden

    gc.disable()  # freed by reference counting alone, not by a later cycle collection
    try:
        run.step()  # rebinds run.logits and run.loss to the new step's graph
        dead_tensors = sum(r() is None for r in tensor_refs)
        dead_arrays = sum(r() is None for r in array_refs)
        dead_nodes = sum(r() is None for r in node_refs)
    finally:
        gc.enable()
    assert dead_arrays == len(array_refs), "a hidden activation array outlived its step"
    assert dead_tensors == len(tensor_refs), (
        f"{len(tensor_refs) - dead_tensors} of {len(tensor_refs)} intermediate tensors outlived "
        "their step"
    )
    assert dead_nodes == len(node_refs), (
        f"{len(node_refs) - dead_nodes} of {len(node_refs)} graph nodes outlived their step"
    )
