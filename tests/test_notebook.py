"""Jupyter views: each object the tutorial shows displays readably, never as a traceback.

Issue: in Jupyter, `tg.draw_graph(loss)` without Graphviz's `dot` program raised a traceback
(graphviz runs `dot` to make the SVG); `tg.explain(loss)` showed its repr, one long line with
"\\n" escapes; a Tensor showed only its repr. Now the graph says how to install Graphviz, the
explanation is a `str` subclass shown as its text (and as a <pre> block in HTML), a Tensor has a
small HTML view (values, grad, grad_fn), and a Module shows its repr as before.

The unit tests call the display methods directly (what IPython calls); one test runs a notebook
of the tutorial's key cells in a real kernel (nbclient, headless) and reads the rich outputs.
It is skipped when nbclient/ipykernel are missing or the kernel cannot start, unless CI=true.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from needs import IN_CI, dot_or_skip, unavailable

import tinygrad_edu as tg
from tinygrad_edu.explain import Explanation

REPO = Path(tg.__file__).resolve().parent.parent
INSTALL = "apt-get install graphviz"


def _loss():
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True, name="x", dtype=np.float64)
    loss = (x * x).sum()
    loss.name = "loss"
    loss.backward(retain_graph=True)
    return x, loss


# -- draw_graph: the picture, or how to get it -----------------------------------------------


def test_draw_graph_without_dot_shows_how_to_install(monkeypatch):
    graphviz = pytest.importorskip("graphviz")
    _, loss = _loss()
    g = tg.draw_graph(loss)
    assert isinstance(g, graphviz.Digraph)
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    bundle = g._repr_mimebundle_()
    plain = bundle["text/plain"]
    assert INSTALL in plain and "https://graphviz.org/download/" in plain and ".source" in plain
    html = bundle["text/html"]
    assert html.startswith("<p>") and "<code>apt-get install graphviz</code>" in html
    assert '<a href="https://graphviz.org/download/">' in html
    assert g.source.startswith("digraph")  # the DOT text is still there


def test_draw_graph_when_dot_cannot_be_started(monkeypatch, tmp_path):
    pytest.importorskip("graphviz")
    _, loss = _loss()
    g = tg.draw_graph(loss)
    # which() says yes, but the program is not on PATH: graphviz raises ExecutableNotFound
    monkeypatch.setattr(shutil, "which", lambda *a, **k: "/usr/bin/dot")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    assert INSTALL in g._repr_mimebundle_()["text/plain"]


def test_draw_graph_with_dot_is_svg():
    dot_or_skip()
    pytest.importorskip("graphviz")
    _, loss = _loss()
    bundle = tg.draw_graph(loss)._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"] and "<svg" in bundle["image/svg+xml"]


def test_draw_graph_pickles_and_copies():
    graphviz = pytest.importorskip("graphviz")
    _, loss = _loss()
    g = tg.draw_graph(loss)
    for h in (pickle.loads(pickle.dumps(g)), g.copy()):
        assert type(h) is type(g) and isinstance(h, graphviz.Digraph)
        assert h.source == g.source


# -- explain: a str shown as its text -------------------------------------------------------


def test_explain_is_a_str_shown_as_text():
    _, loss = _loss()
    text = tg.explain(loss)
    assert isinstance(text, str) and isinstance(text, Explanation)
    plain = str(text)
    assert type(plain) is str and text == plain and hash(text) == hash(plain)
    assert f"{text}" == plain and format(text, "") == plain and text + "" == plain
    assert pickle.loads(pickle.dumps(text)) == plain
    assert text.splitlines()[0].startswith("Backward pass of loss")

    class Printer:  # what IPython's pretty printer hands to _repr_pretty_
        def __init__(self):
            self.out = ""

        def text(self, s):
            self.out += s

    p = Printer()
    text._repr_pretty_(p, False)
    assert p.out == plain  # real newlines, no quotes, no "\n" escapes
    html = text._repr_html_()
    assert html.startswith("<pre") and html.endswith("</pre>") and "step 1: Sum" in html
    assert "d(loss)/d(x)" in html


def test_explain_html_is_escaped():
    a = tg.Tensor([1.0], requires_grad=True, name="<a & b>")
    html = tg.explain((a * 2).sum())._repr_html_()
    assert "&lt;a &amp; b&gt;" in html and "<a & b>" not in html


def test_explain_without_grad_is_an_explanation_too():
    text = tg.explain(tg.Tensor([1.0]))
    assert isinstance(text, Explanation) and "does not require grad" in text


# -- Tensor: values, grad, grad_fn ----------------------------------------------------------


def test_tensor_html_shows_values_grad_and_grad_fn():
    x, loss = _loss()
    html = x._repr_html_()
    assert "<b>x</b>" in html and "(3,)" in html and "float64" in html
    assert "[1, 2, 3]" in html and "[2, 4, 6]" in html  # the value and its gradient
    y = x * 2
    html = y._repr_html_()
    assert "Mul" in html and "grad" not in html.replace("grad_fn", "")
    assert "scalar" in loss._repr_html_() and "14" in loss._repr_html_()


def test_tensor_html_summarises_large_arrays_and_escapes():
    t = tg.Tensor(np.arange(1000.0), name="<big>")
    html = t._repr_html_()
    assert "min 0" in html and "max 999" in html and "mean 499.5" in html
    assert "&lt;big&gt;" in html and "<big>" not in html
    assert len(html) < 1000


def test_module_displays_its_repr():
    model = tg.nn.MLP([2, 3, 1])
    assert not hasattr(model, "_repr_html_")  # Jupyter shows repr(model), as print does
    assert "Linear" in repr(model)


# -- a notebook, run headless --------------------------------------------------------------

CELLS = [
    "import os, sys\nimport numpy as np\nimport tinygrad_edu as tg\n"
    "print(sys.prefix)\nprint(tg.__file__)",
    'x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True, name="x", dtype=np.float64)\n'
    'loss = (x * x).sum()\nloss.name = "loss"\nloss.backward(retain_graph=True)\nx',
    "tg.explain(loss)",
    "tg.draw_graph(loss)",
    "tg.nn.MLP([2, 3, 1])",
    # the same graph where `dot` cannot be found (PATH holds no programs)
    "os.environ['PATH'] = os.path.join(os.getcwd(), 'no-programs')\ntg.draw_graph(loss)",
]


def _notebook_tools_or_skip():
    try:
        import ipykernel.kernelspec
        import nbclient
        import nbformat
    except ImportError as err:
        unavailable(f"{err.name} is not installed (pip install -e '.[dev]')")
    return ipykernel.kernelspec, nbclient, nbformat


def test_notebook_of_the_tutorial_cells(tmp_path, monkeypatch):
    kernelspec, nbclient, nbformat = _notebook_tools_or_skip()
    # a kernel of this interpreter (not whatever "python3" Jupyter would find), kept in tmp_path
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter" / "share" / "jupyter"))
    kernelspec.install(kernel_name="tinygrad-edu-test", prefix=str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    client = nbclient.NotebookClient(
        nb,
        kernel_name="tinygrad-edu-test",
        timeout=60,
        allow_errors=True,  # errors become outputs, checked below
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.perf_counter()
    try:
        client.execute()
    except Exception as err:
        if client.code_cells_executed:  # the kernel ran: a real failure
            raise
        unavailable(f"the Jupyter kernel could not start: {type(err).__name__}: {err}")
    print(f"notebook: {len(CELLS)} cells in {time.perf_counter() - start:.1f} s")

    outputs = [cell.outputs for cell in nb.cells]
    for cell, out in zip(CELLS, outputs):
        assert [o for o in out if o.output_type == "error"] == [], cell
        assert [o for o in out if o.get("name") == "stderr"] == [], cell  # no printed traceback

    def shown(i):  # the cell's displayed value (its Out[...]) as mimetype -> data
        (result,) = [o for o in outputs[i] if o.output_type == "execute_result"]
        return result.data

    prefix, tg_file = outputs[0][0].text.split()  # the kernel runs this venv and this checkout
    assert Path(prefix).resolve() == Path(sys.prefix).resolve()
    assert Path(tg_file).resolve() == Path(tg.__file__).resolve()

    tensor = shown(1)
    assert tensor["text/plain"].startswith("Tensor([1., 2., 3.]")
    assert "[1, 2, 3]" in tensor["text/html"] and "[2, 4, 6]" in tensor["text/html"]

    explained = shown(2)
    plain = explained["text/plain"]
    assert plain.startswith("Backward pass of loss") and "\n\nstep 2:" in plain
    assert "\\n" not in plain and plain[0] not in "'\""
    assert explained["text/html"].startswith("<pre")

    graph = shown(3)
    if shutil.which("dot") is not None:
        assert "<svg" in graph["image/svg+xml"]
    elif IN_CI:
        pytest.fail("CI=true but Graphviz's `dot` is not installed", pytrace=False)

    assert "Linear" in shown(4)["text/plain"] and "text/html" not in shown(4)

    no_dot = shown(5)
    assert "image/svg+xml" not in no_dot
    assert INSTALL in no_dot["text/plain"] and INSTALL in no_dot["text/html"]
