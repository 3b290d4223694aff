"""`tg.draw_graph` and `tinygrad-edu graph`: the DOT it writes, its names, clusters, collapsing,
gradient colours and errors, real rendering, and the command line without Graphviz.

SPEC ("Rendering the graph"): one node per tensor and one per op, edges in data-flow order,
parameters named by module path, `t0, t1, ...` in creation order, a cluster per module,
collapse=True|"auto", color="grad", `.source` without the Graphviz binary, a clear error for a
freed graph. Most checks read `.source`, which needs no `dot` program; the rendering tests skip
without `dot` (and fail under CI=true, where Graphviz must be installed).
"""

from __future__ import annotations

import os
import re
import shutil
import time

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import cli

IN_CI = os.environ.get("CI", "").strip().lower() == "true"
NODE = re.compile(r"^\s*(\w+) \[")
EDGE = re.compile(r"^\s*(\w+) -> (\w+)")
BOLD = re.compile(r"<B>(.*?)</B>")


def nodes(source: str) -> dict[str, str]:
    """Node id -> the DOT attributes of its line."""
    out = {}
    for line in source.splitlines():
        m = NODE.match(line)
        if m and m.group(1) not in ("node", "edge", "graph"):
            out[m.group(1)] = line
    return out


def edges(source: str) -> list[tuple[str, str]]:
    return [m.groups() for m in map(EDGE.match, source.splitlines()) if m]


def title(line: str) -> str:
    """The bold first line of a node's label: a tensor's name, an op's or a module's."""
    return BOLD.search(line).group(1)


def by_title(source: str) -> dict[str, str]:
    return {title(line): node for node, line in nodes(source).items() if BOLD.search(line)}


def clusters(source: str) -> dict[str, tuple[str | None, list[str]]]:
    """Cluster label -> (label of the enclosing cluster, node ids directly inside)."""
    out: dict[str, tuple[str | None, list[str]]] = {}
    stack: list[str] = []
    for line in source.splitlines():
        s = line.strip()
        if s.startswith("subgraph cluster"):
            stack.append("?")
        elif s == "}" and stack:
            stack.pop()
        elif stack and stack[-1] == "?" and "label=" in s and not NODE.match(line):
            label = re.search(r'label=("([^"]*)"|\S+)', s)
            name = label.group(2) if label.group(2) is not None else label.group(1)
            stack[-1] = name
            out[name] = (stack[-2] if len(stack) > 1 else None, [])
        elif stack and NODE.match(line):
            out[stack[-1]][1].append(NODE.match(line).group(1))
    return out


def abc() -> tuple[tg.Tensor, tg.Tensor, tg.Tensor, tg.Tensor]:
    a = tg.Tensor([1.0, 2.0], requires_grad=True)
    b = tg.Tensor([3.0, 4.0], requires_grad=True)
    c = tg.Tensor(0.5, requires_grad=True)
    return a, b, c, (a * b + c).sum()


def mlp_step(seed: int = 0) -> tuple[tg.nn.Module, tg.Tensor]:
    tg.manual_seed(seed)
    model = tg.nn.MLP([4, 5, 3])
    x = tg.randn(2, 4)
    loss = tg.nn.functional.cross_entropy(model(x), tg.Tensor(np.array([0, 2])))
    return model, loss


# -- structure --------------------------------------------------------------------------------


def test_small_graph_has_one_node_per_tensor_and_op_and_data_flow_edges():
    a, b, c, out = abc()
    src = tg.draw_graph(out).source
    ids = nodes(src)
    # tensors: a, b, a*b, c, a*b+c, the sum -> 6; ops: Mul, Add, Sum -> 3
    assert sorted(i[0] for i in ids) == ["F"] * 3 + ["T"] * 6
    names = by_title(src)
    assert set(names) == {"t0", "t1", "t2", "t3", "t4", "t5", "Mul", "Add", "Sum"}
    # t0 = a, t1 = b, t2 = a*b, t3 = c, t4 = a*b+c, t5 = the sum: creation order
    flow = set(edges(src))
    expected = [
        ("t0", "Mul"), ("t1", "Mul"), ("Mul", "t2"), ("t2", "Add"), ("t3", "Add"),
        ("Add", "t4"), ("t4", "Sum"), ("Sum", "t5"),
    ]  # fmt: skip
    assert flow == {(names[x], names[y]) for x, y in expected}
    assert len(edges(src)) == 8


def test_labels_show_name_shape_dtype_value_and_gradient():
    a = tg.Tensor([1.0, 2.0], requires_grad=True, name="a")
    b = tg.Tensor([3.0, 4.0], requires_grad=True, name="b")
    out = (a * b).sum()
    lines = nodes(tg.draw_graph(out).source)
    label = {title(line): line for line in lines.values()}
    assert "(2,)  float32" in label["a"]
    assert "[1, 2]" in label["a"]
    assert "grad [3, 4]" in label["a"]  # d(a.b)/da = b, from the engine's walk
    assert "grad [1, 2]" in label["b"]
    assert "scalar  float32" in label["t1"] and ">11<" in label["t1"] and "grad 1" in label["t1"]
    assert "z = x * y" in label["Mul"] and "dz/dx = y" in label["Mul"]
    assert a.grad is None and b.grad is None  # drawing changes no .grad


def test_large_arrays_are_summarised_and_four_significant_digits():
    x = tg.Tensor(np.arange(12.0).reshape(3, 4) / 3, requires_grad=True, name="x")
    y = tg.Tensor([1 / 3, 2 / 3], requires_grad=True, name="y")
    src = tg.draw_graph(x.sum() + y.sum()).source
    label = {title(line): line for line in nodes(src).values()}
    assert "min 0  mean 1.833  max 3.667" in label["x"]
    assert "[0.3333, 0.6667]" in label["y"]


def test_intermediate_gradients_come_from_the_engine_walk():
    x = tg.Tensor([1.0, -2.0, 3.0], requires_grad=True, name="x")
    h = x * x
    h.name = "h"
    out = (h * 3.0).sum()
    label = {title(line): line for line in nodes(tg.draw_graph(out).source).values()}
    assert "grad [3, 3, 3]" in label["h"]  # d(3 h)/dh
    assert "grad [6, -12, 18]" in label["x"]  # 6 x


def test_leaf_shows_its_grad_when_present_and_nothing_changes():
    a, b, c, out = abc()
    out.backward(retain_graph=True)
    before = [t.grad.numpy().copy() for t in (a, b, c)]
    src = tg.draw_graph(out).source
    for t, g in zip((a, b, c), before):
        np.testing.assert_array_equal(t.grad.numpy(), g)
    assert "grad [3, 4]" in src and "grad 2" in src


def test_values_and_grads_switch_off():
    a, b, c, out = abc()
    src = tg.draw_graph(out, values=False, grads=False).source
    assert ">grad " not in src and "[1, 2]" not in src and "gradient of" not in src
    assert "(2,)  float32" in src


def test_non_scalar_root_is_the_gradient_of_its_sum():
    x = tg.Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x * 2.0
    y.name = "y"
    src = tg.draw_graph(y).source
    assert "gradient of sum(y)" in src
    assert "grad [2, 2]" in src


def test_user_names_and_escaping():
    a = tg.Tensor([1.0], requires_grad=True, name="<a&b>")
    src = tg.draw_graph((a * 2.0).sum()).source
    assert "&lt;a&amp;b&gt;" in src and "<a&b>" not in src
    # formulas with < > & are escaped too (HTML-like labels)
    assert "<B><" not in src


def test_node_used_twice_has_two_edges():
    a = tg.Tensor([1.0], requires_grad=True, name="a")
    b = a + a
    src = tg.draw_graph(b.sum()).source
    names = by_title(src)
    assert edges(src).count((names["a"], names["Add"])) == 2
    assert "grad [2]" in nodes(src)[names["a"]]


def test_tensor_without_graph_is_one_node():
    src = tg.draw_graph(tg.Tensor([1.0, 2.0])).source
    assert len(nodes(src)) == 1 and edges(src) == []
    leaf = tg.Tensor([1.0, 2.0], requires_grad=True, name="w")
    src = tg.draw_graph(leaf).source
    assert len(nodes(src)) == 1 and "grad [1, 1]" in src


def test_several_roots_share_the_graph():
    x = tg.Tensor([1.0, 2.0], requires_grad=True, name="x")
    y, z = (x * 2.0).sum(), (x * 3.0).sum()
    src = tg.draw_graph(y, z).source
    titles = [title(line) for line in nodes(src).values()]
    assert titles.count("x") == 1 and titles.count("Sum") == 2
    assert "grad [5, 5]" in nodes(src)[by_title(src)["x"]]  # d(y + z)/dx


# -- modules: names and clusters ------------------------------------------------------------


def test_parameter_names_from_the_model_and_from_the_scope():
    model, loss = mlp_step()
    for src in (tg.draw_graph(loss, model=model).source, tg.draw_graph(loss).source):
        names = set(by_title(src))
        assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= names
        assert "t0" in names  # the input batch


def test_nested_module_paths():
    class Net(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = tg.nn.MLP([3, 2, 1])

        def forward(self, x):
            return self.net(x)

    model = Net()
    out = model(tg.randn(1, 3)).sum()
    src = tg.draw_graph(out).source
    assert {"net.0.weight", "net.2.bias"} <= set(by_title(src))
    found = clusters(src)
    assert found["Net"][0] is None
    assert found["net (MLP)"][0] == "Net"
    assert found["net.0 (Linear)"][0] == "net (MLP)"


def test_ops_of_a_module_sit_in_its_cluster():
    model, loss = mlp_step()
    src = tg.draw_graph(loss, model=model).source
    found = clusters(src)
    assert set(found) == {"MLP", "0 (Linear)", "1 (ReLU)", "2 (Linear)"}
    assert found["0 (Linear)"][0] == "MLP"
    ids = by_title(src)
    inside = found["0 (Linear)"][1]
    assert ids["0.weight"] in inside and ids["0.bias"] in inside
    assert ids["t0"] not in inside  # the input comes from outside
    assert ids["Relu"] in found["1 (ReLU)"][1]


def test_string_scopes_are_clusters_too():
    w = tg.Tensor([[1.0, 2.0]], requires_grad=True, name="W")
    with tg.scope("layer1"):
        h = (w @ tg.Tensor([[1.0], [1.0]])).relu()
    src = tg.draw_graph(h.sum()).source
    assert "MatMul" in by_title(src)
    assert by_title(src)["MatMul"] in clusters(src)["layer1"][1]


def test_collapse_draws_each_top_level_module_as_one_box():
    model, loss = mlp_step()
    src = tg.draw_graph(loss, model=model, collapse=True).source
    ids = nodes(src)
    boxes = [i for i in ids if i.startswith("M")]
    assert len(boxes) == 3
    titles = {title(ids[i]) for i in boxes}
    assert titles == {"0 (Linear)", "1 (ReLU)", "2 (Linear)"}
    # parameters are listed inside their box, not drawn on their own
    assert "0.weight" not in by_title(src) and "0.weight" in src
    # remaining ops: only those outside every module (the loss)
    assert all("Linear" not in title(ids[i]) for i in ids if i.startswith("F"))
    # the input flows into the first box, which flows on through the layer outputs
    names = by_title(src)
    assert (names["t0"], names["0 (Linear)"]) in edges(src)
    assert (names["0 (Linear)"], names["t1"]) in edges(src)


def test_auto_collapses_only_over_max_nodes_and_says_so():
    model, loss = mlp_step()
    small = tg.draw_graph(loss, model=model, collapse="auto", max_nodes=150).source
    assert not any(i.startswith("M") for i in nodes(small))
    assert "collapsed" not in small
    big = tg.draw_graph(loss, model=model, collapse="auto", max_nodes=12).source
    assert sum(i.startswith("M") for i in nodes(big)) == 3
    assert "collapsed to one box per module" in big and "max_nodes=12" in big


def test_auto_truncates_a_huge_chain_quickly():
    x = tg.Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x
    for _ in range(100_000):
        y = y * 1.0
    start = time.perf_counter()
    src = tg.draw_graph(y.sum(), collapse="auto", max_nodes=150).source
    seconds = time.perf_counter() - start
    assert len(nodes(src)) == 151  # 150 boxes and the note saying what was left out
    assert "truncated" in src and "left out" in src and "more boxes not drawn" in src
    assert "x" not in by_title(src)  # the leaf is 300,000 boxes away
    # a guard against hangs (no recursion, no quadratic walk), not a benchmark
    assert seconds < 60


# -- gradient colours -------------------------------------------------------------------------


def test_color_grad_marks_zero_nan_and_inf():
    z = tg.Tensor([1.0, 2.0], requires_grad=True, name="zero")
    n = tg.Tensor([-1.0], requires_grad=True, name="nan")
    i = tg.Tensor([0.0], requires_grad=True, name="inf")
    s = tg.Tensor([1.0, 100.0], requires_grad=True, name="big")
    with np.errstate(all="ignore"):
        out = (z * 0.0).sum() + n.sqrt().sum() * 0.0 + i.log().sum() + (s * s).sum()
        src = tg.draw_graph(out, color="grad").source
    by_name = {title(line): line for line in nodes(src).values()}
    assert "filled,dashed" in by_name["zero"] and "#e6e6e6" in by_name["zero"]
    assert "#d62728" in by_name["inf"] and "bold" in by_name["inf"]
    assert "#d62728" in by_name["nan"]
    assert "#d62728" not in by_name["big"] and "#d62728" not in by_name["zero"]
    assert "log scale" in src


def test_color_grad_shades_by_size():
    small = tg.Tensor([1.0], requires_grad=True, name="small")
    large = tg.Tensor([1.0], requires_grad=True, name="large")
    out = (small * 0.001).sum() + (large * 1000.0).sum()
    src = tg.draw_graph(out, color="grad").source
    fill = {
        title(line): re.search(r'fillcolor="(#\w+)"', line).group(1) for line in nodes(src).values()
    }
    assert fill["small"] != fill["large"]
    assert fill["small"] == "#f7fbff"  # lightest: the smallest gradient
    assert fill["large"] == "#08519c"  # darkest: the largest


# -- errors ---------------------------------------------------------------------------------


def test_freed_graph_raises_unless_grads_are_off():
    a, b, c, out = abc()
    out.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        tg.draw_graph(out)
    with pytest.raises(RuntimeError, match="freed"):
        tg.draw_graph(out, grads=False, color="grad")
    src = tg.draw_graph(out, grads=False)  # values only: nothing needed from backward
    assert len(nodes(src.source)) == 9


def test_retained_graph_can_be_drawn_after_backward():
    a, b, c, out = abc()
    out.backward(retain_graph=True)
    assert "grad [3, 4]" in tg.draw_graph(out).source


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"color": "blue"}, ValueError, "'kind', 'grad'"),
        ({"rankdir": "XY"}, ValueError, "'LR', 'TB'"),
        ({"collapse": "yes"}, ValueError, "False, True, 'auto'"),
        ({"collapse": 1}, ValueError, "collapse"),
        ({"max_nodes": 0}, ValueError, "max_nodes"),
        ({"max_nodes": -5}, ValueError, "max_nodes"),
        ({"model": "MLP"}, TypeError, "Module"),
    ],
)
def test_bad_options(kwargs, error, match):
    a, b, c, out = abc()
    with pytest.raises(error, match=match):
        tg.draw_graph(out, **kwargs)


def test_bad_roots():
    with pytest.raises(TypeError, match="Tensor"):
        tg.draw_graph(np.ones(3))
    with pytest.raises(TypeError, match="at least one"):
        tg.draw_graph()


# -- rendering ------------------------------------------------------------------------------


def dot_or_skip() -> None:
    if shutil.which("dot") is None:
        if IN_CI:
            pytest.fail("CI=true but Graphviz's `dot` is not installed", pytrace=False)
        pytest.skip("Graphviz's `dot` is not installed (apt-get install graphviz)")


def test_digraph_for_jupyter_and_source_without_binary():
    a, b, c, out = abc()
    g = tg.draw_graph(out)
    assert hasattr(g, "_repr_mimebundle_")
    assert g.source.startswith("digraph")


def test_renders_svg_and_png(tmp_path):
    dot_or_skip()
    model, loss = mlp_step()
    for fmt, magic in (("svg", b"<?xml"), ("png", b"\x89PNG")):
        for collapse in (False, True):
            g = tg.draw_graph(loss, model=model, collapse=collapse, color="grad")
            path = g.render(outfile=tmp_path / f"g{collapse}.{fmt}", cleanup=True)
            assert open(path, "rb").read(5).startswith(magic[:4])
    svg = (tmp_path / "gFalse.svg").read_text()
    assert "0.weight" in svg and "0 (Linear)" in svg


# -- the command line -------------------------------------------------------------------------


def test_cli_graph_writes_the_picture(tmp_path, capsys):
    dot_or_skip()
    out = tmp_path / "sub" / "step"
    assert cli.main(["graph", "--out", str(out), "--format", "png", "--color", "grad"]) == 0
    assert (tmp_path / "sub" / "step.png").read_bytes().startswith(b"\x89PNG")
    assert "step.png" in capsys.readouterr().out


def test_cli_graph_dot_format_writes_only_the_source(tmp_path, capsys):
    out = tmp_path / "g"
    assert cli.main(["graph", "--out", str(out), "--format", "dot", "--collapse"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot"]
    text = (tmp_path / "g.dot").read_text()
    assert text.startswith("digraph") and "0 (Linear)" in text and "loss" in text


def test_cli_graph_without_graphviz_writes_dot_and_warns(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    out = tmp_path / "g"
    assert cli.main(["graph", "--out", str(out), "--no-values"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot"]
    err = capsys.readouterr().err
    assert "apt-get install graphviz" in err and "brew install graphviz" in err
    assert "https://graphviz.org/download/" in err


def test_cli_graph_when_dot_cannot_be_run(tmp_path, capsys, monkeypatch):
    # which() says yes, but the program cannot be started: graphviz.ExecutableNotFound
    monkeypatch.setattr(shutil, "which", lambda *a, **k: "/usr/bin/dot")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    assert cli.main(["graph", "--out", str(tmp_path / "g"), "--format", "pdf"]) == 0
    assert (tmp_path / "g.dot").exists() and not (tmp_path / "g.pdf").exists()
    assert "Install Graphviz" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [["--format", "jpg"], ["--color", "red"], ["--collapse", "yes"], ["--bogus"]]
)
def test_cli_graph_bad_flags_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["graph", *argv])
    assert exc.value.code == 2
