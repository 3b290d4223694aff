"""`tg.explain`: the backward pass as text, checked number by number against the chain rule
worked by hand; and examples/weights_and_biases.py, whose numbers are checked the same way.

SPEC ("Rendering the graph"): one step per op in the engine's order, each with the op's formula,
the gradient arriving from above and the gradient sent to each input (4 significant digits;
arrays of up to 16 elements in full, larger as shape and min/mean/max); it runs the engine's
own walk and changes no `.grad`.
"""

from __future__ import annotations

import re
import runpy
import shutil
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.autograd import backward_steps
from tinygrad_edu.mode import set_grad_enabled

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "weights_and_biases.py"


def small_graph():
    """L = (sum(a * b) + c) ** 2 with a = [1, 2], b = [3, -1], c = 0.5, in float64."""
    a = tg.Tensor([1.0, 2.0], requires_grad=True, name="a", dtype=np.float64)
    b = tg.Tensor([3.0, -1.0], requires_grad=True, name="b", dtype=np.float64)
    c = tg.Tensor(0.5, requires_grad=True, name="c", dtype=np.float64)
    u = a * b
    s = u.sum()
    v = s + c
    L = v**2
    for t, name in [(u, "u"), (s, "s"), (v, "v"), (L, "L")]:
        t.name = name
    return a, b, c, L


def steps_of(text: str) -> list[str]:
    """Each step's block of lines, by its header `step k: Op ...`."""
    return re.split(r"\n(?=step \d+:)", text)[1:]


def test_explain_matches_the_chain_rule_by_hand():
    a, b, c, L = small_graph()
    text = tg.explain(L)
    # Forward: u = a*b = [3, -2], s = 1, v = s + c = 1.5, L = v^2 = 2.25.
    # Backward, from the top, each gradient = gradient from above x local derivative:
    #   dL/dv = 2 v            = 3
    #   dL/ds = dL/dv * 1      = 3,        dL/dc = dL/dv * 1 = 3
    #   dL/du = dL/ds * [1, 1] = [3, 3]    (a sum copies its gradient to every element)
    #   dL/da = dL/du * b      = [9, -3],  dL/db = dL/du * a = [3, 6]
    pow_, add, sum_, mul = steps_of(text)
    assert pow_.startswith("step 1: Pow   L = Pow(v, 2)")  # a constant is named by its value
    assert "formula:     z = x ** y;" in pow_
    assert "from above:  d(L)/d(L) = 1" in pow_
    assert "to v:  d(L)/d(v) += 3" in pow_
    assert "to 2: nothing (a constant)" in pow_  # the exponent 2

    assert add.startswith("step 2: Add   v = Add(s, c)")
    assert "from above:  d(L)/d(v) = 3" in add
    assert "to s:  d(L)/d(s) += 3" in add
    assert "to c:  d(L)/d(c) += 3" in add
    assert "leaf c is done: d(L)/d(c) = 3" in add

    assert sum_.startswith("step 3: Sum   s = Sum(u)")
    assert "to u:  d(L)/d(u) += [3, 3]" in sum_

    assert mul.startswith("step 4: Mul   u = Mul(a, b)")
    assert "from above:  d(L)/d(u) = [3, 3]" in mul
    assert "to a:  d(L)/d(a) += [9, -3]" in mul
    assert "to b:  d(L)/d(b) += [3, 6]" in mul
    assert "leaf a is done: d(L)/d(a) = [9, -3]" in mul
    assert "leaf b is done: d(L)/d(b) = [3, 6]" in mul


def test_explain_follows_the_engine_order():
    a, b, c, L = small_graph()
    with set_grad_enabled(False):
        order = [
            s.node.name
            for s in backward_steps([L], [np.ones((), dtype=np.float64)], retain_graph=True)
            if s.node is not None
        ]
    shown = [re.match(r"step \d+: (\w+)", block).group(1) for block in steps_of(tg.explain(L))]
    assert shown == order == ["Pow", "Add", "Sum", "Mul"]


def test_explain_changes_no_grad_and_keeps_the_graph():
    a, b, c, L = small_graph()
    tg.explain(L)
    assert a.grad is None and b.grad is None and c.grad is None
    L.backward()  # the graph is still whole: explain retained it
    np.testing.assert_array_equal(a.grad.numpy(), [9.0, -3.0])
    before = a.grad.numpy().copy()
    a2, b2, c2, L2 = small_graph()
    L2.backward(retain_graph=True)
    tg.explain(L2)
    np.testing.assert_array_equal(a2.grad.numpy(), before)


def test_node_used_twice_adds_up():
    a = tg.Tensor([1.0], requires_grad=True, name="a")
    b = a + a  # db/da = 2
    b.name = "b"
    c = (b + b).sum()  # dc/db = 2, so dc/da = 4
    text = tg.explain(c)
    assert text.count("to b:  d(t1)/d(b) += [1]") == 2
    assert "leaf a is done: d(t1)/d(a) = [4]" in text


def test_array_sizes_and_digits():
    x16 = tg.Tensor(np.arange(16.0) / 3, requires_grad=True, name="x16")
    x17 = tg.Tensor(np.arange(17.0), requires_grad=True, name="x17")
    text = tg.explain((x16 * 2.0).sum() + (x17 * 1.0).sum())
    # 16 elements in full (on one line: they fit in 72 characters), 17 as a summary
    assert (
        "leaf x16 is done: d(t4)/d(x16) = [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]" in text
    )
    assert "17: min 1  mean 1  max 1" in text
    y = tg.Tensor([1 / 3, 2 / 3], requires_grad=True, name="y")
    assert "[0.3333, 0.6667]" in tg.explain((y * y).sum())  # 2y, 4 significant digits


def test_non_scalar_root_explains_its_sum():
    x = tg.Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x * 3.0
    y.name = "y"
    text = tg.explain(y)
    assert "Backward pass of sum(y)" in text
    assert "d(sum(y))/d(x) += [3, 3]" in text


def test_parameter_names_as_in_draw_graph():
    tg.manual_seed(0)
    model = tg.nn.MLP([3, 2, 1])
    out = model(tg.randn(1, 3)).sum()
    text = tg.explain(out)
    assert "0.weight" in text and "2.bias" in text


def test_freed_graph_and_bad_input():
    a, b, c, L = small_graph()
    L.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        tg.explain(L)
    with pytest.raises(TypeError, match="Tensor"):
        tg.explain([1.0, 2.0])
    assert "does not require grad" in tg.explain(tg.Tensor([1.0]))


# -- examples/weights_and_biases.py -----------------------------------------------------------


def test_weights_and_biases_example(tmp_path, capsys):
    result = runpy.run_path(str(EXAMPLE))["main"](out=tmp_path / "wb.png")
    # the same network by hand, in numpy, in the article's layout (W: inputs x outputs)
    W1 = np.array([[0.1, 0.3, 0.5, 0.2], [0.4, 0.9, 0.2, 0.6], [0.7, 0.2, 0.3, 0.8]])
    b1 = np.array([0.13, 0.14, 0.15, 0.16])
    W2 = np.array([[0.5, 0.1], [0.2, 0.6], [0.4, 0.3], [0.1, 0.7]])
    b2 = np.array([0.1, 0.2])
    x, y = np.array([0.5, 1.0, 0.25]), np.array([1.0, 0.0])
    z1 = W1.T @ x + b1  # Z = W^T x + b: [0.755, 1.24, 0.675, 1.06]
    np.testing.assert_allclose(z1, [0.755, 1.24, 0.675, 1.06], rtol=1e-12)
    a1 = 1 / (1 + np.exp(-z1))
    z2 = W2.T @ a1 + b2
    a2 = 1 / (1 + np.exp(-z2))
    cost = 0.5 * np.sum((a2 - y) ** 2)
    # chain rule: dC/dz2 = (a2 - y) a2 (1 - a2); dC/dz1 = (W2 dC/dz2) a1 (1 - a1)
    d2 = (a2 - y) * a2 * (1 - a2)
    d1 = (W2 @ d2) * a1 * (1 - a1)
    for key, want in [("z1", z1), ("a1", a1), ("z2", z2), ("a2", a2)]:
        np.testing.assert_allclose(result[key], want, rtol=1e-12)
    assert result["cost"] == pytest.approx(cost, rel=1e-12)
    assert result["cost"] == pytest.approx(0.368064, abs=1e-6)
    np.testing.assert_allclose(result["dC/db2"], d2, rtol=1e-12)
    np.testing.assert_allclose(result["dC/dW2"], np.outer(a1, d2), rtol=1e-12)
    np.testing.assert_allclose(result["dC/db1"], d1, rtol=1e-12)
    np.testing.assert_allclose(result["dC/dW1"], np.outer(x, d1), rtol=1e-12)
    assert result["hand_error"] < 1e-15
    out = capsys.readouterr().out
    assert "step 1: Mul" in out and "0.weight" in out  # explain's output, with module names
    if shutil.which("dot") is not None:
        assert (tmp_path / "wb.png").read_bytes().startswith(b"\x89PNG")


def test_walk_runs_newest_node_first_and_leaves_last():
    # the engine's order: nodes newest first (by the sequence number each gets when made), then
    # the leaves, each with its complete gradient
    a, b, c, L = small_graph()
    with set_grad_enabled(False):
        steps = list(backward_steps([L], [np.ones((), dtype=np.float64)], retain_graph=True))
    nodes = [s.node for s in steps if s.leaf is None]
    leaves = [s for s in steps if s.leaf is not None]
    assert [s.leaf is None for s in steps] == [True] * len(nodes) + [False] * len(leaves)
    seqs = [n._seq for n in nodes]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs)
    assert {id(s.leaf) for s in leaves} == {id(a), id(b), id(c)}
    by_leaf = {id(s.leaf): s.grad for s in leaves}
    np.testing.assert_array_equal(by_leaf[id(a)], [9.0, -3.0])  # as in the hand-worked test
    assert repr(steps[0]) == "Step(Pow)" and repr(leaves[0]).startswith("Step(leaf ")


def test_walk_can_hand_the_leaves_over_in_a_dict():
    # what backward() uses: the same totals as the leaves' Steps, with hooks applied, and no
    # Steps for leaves (nor, with nodes=False, for nodes whose output did not retain_grad)
    a, b, c, L = small_graph()
    seed = [np.ones((), dtype=np.float64)]
    with set_grad_enabled(False):
        steps = list(backward_steps([L], seed, retain_graph=True))
        expected = {id(s.leaf): s.grad for s in steps if s.leaf is not None}
        b.register_hook(lambda g: g * 10)
        leaves: dict = {}
        yielded = list(backward_steps([L], seed, retain_graph=True, nodes=False, leaves=leaves))
    assert yielded == []
    assert {id(t) for t in leaves} == {id(a), id(b), id(c)}
    for t, g in leaves.items():
        scale = 10 if t is b else 1
        np.testing.assert_array_equal(g, scale * expected[id(t)])
