"""tg.explore: the explorer page's contents, without a browser (tests/test_explorer_browser.py
drives the page itself). What the page knows must be what the engine computed: its steps are
tg.explain's, its gradients the engine's backward's."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser

import numpy as np
import pytest
from needs import dot_or_skip

import tinygrad_edu as tg
from tinygrad_edu import cli
from tinygrad_edu.explain import format_array


def mlp_step(sizes=(4, 5, 3), batch=2, seed=0):
    tg.manual_seed(seed)
    model = tg.nn.MLP(list(sizes))
    x = tg.rand(batch, sizes[0], name="x")
    y = tg.Tensor(np.arange(batch) % sizes[-1])
    loss = tg.nn.functional.cross_entropy(model(x), y)
    loss.name = "loss"
    return model, loss


def explain_blocks(text: str) -> list[str]:
    """tg.explain's text cut into its steps ("step N: ..." blocks)."""
    return [b for b in text.split("\n\n") if b.startswith("step ")]


def test_the_steps_are_explains_steps_in_its_order():
    model, loss = mlp_step()
    data = tg.explore(loss, model=model).data
    text = tg.explain(loss, model=model)
    assert ["\n".join(s["lines"]) for s in data["steps"][1:]] == explain_blocks(text)
    assert data["intro"] == text.split("\n\n")[0].splitlines()
    ops = [s["op"] for s in data["steps"][1:]]
    assert ops == ["CrossEntropy", "Linear", "Relu", "Linear"]
    for s in data["steps"][1:]:  # each step's op and output are boxes of the picture
        assert data["items"][s["item"]]["name"] == s["op"]
        assert data["items"][s["output"]]["kind"] == "tensor"


def test_every_parameter_box_holds_the_engines_value_and_gradient():
    model, loss = mlp_step()
    data = tg.explore(loss, model=model).data
    loss.backward()
    by_name = {it["name"]: it for it in data["items"].values() if it["kind"] == "tensor"}
    for name, p in model.named_parameters():
        item = by_name[name]
        assert item["role"] == "parameter" and item["shape"] == list(p.shape)
        assert item["value"]["text"] == format_array(p.data, 300)
        assert item["grad"]["text"] == format_array(p.grad.data, 300)
    assert by_name["loss"]["role"] == "output"
    assert data["roots"] == [k for k, it in data["items"].items() if it.get("name") == "loss"]


def test_a_tensor_used_twice_receives_twice():
    a = tg.Tensor(1.0, requires_grad=True, name="a")
    b = a + a
    c = b + b
    b.name, c.name = "b", "c"
    data = tg.explore(c).data
    box = {it["name"]: k for k, it in data["items"].items() if it["kind"] == "tensor"}
    to_a = [
        (s["number"], t["text"]) for s in data["steps"] for t in s["sent"] if t["item"] == box["a"]
    ]
    assert [n for n, _ in to_a] == [2, 2]  # two arrivals, both from step 2
    done = [t for s in data["steps"] for t in s["done"] if t["item"] == box["a"]]
    assert len(done) == 1 and done[0]["text"].endswith("= 4")


def test_big_arrays_are_summarised_with_a_histogram():
    model, loss = mlp_step(sizes=(64, 128, 10), batch=8)
    data = tg.explore(loss, model=model).data
    w = next(it for it in data["items"].values() if it.get("name") == "0.weight")
    assert w["value"]["text"].startswith("128x64: min ")
    hist = w["value"]["hist"]
    assert len(hist["counts"]) == 20 and sum(hist["counts"]) == 128 * 64
    counts, _ = np.histogram(model[0].weight.data, bins=20)
    assert hist["counts"] == counts.tolist()
    small = next(it for it in data["items"].values() if it.get("name") == "2.bias")
    assert "hist" not in small["value"] and small["value"]["text"].startswith("[")


def test_clusters_list_the_boxes_inside_them():
    model, loss = mlp_step()
    data = tg.explore(loss, model=model).data
    labels = {c["label"]: set(c["items"]) for c in data["clusters"].values()}
    assert set(labels) == {"MLP", "0 (Linear)", "1 (ReLU)", "2 (Linear)"}
    names = {k: it["name"] for k, it in data["items"].items()}
    assert {names[i] for i in labels["0 (Linear)"]} == {"0.weight", "0.bias", "Linear", "t0"}
    assert labels["0 (Linear)"] < labels["MLP"]


def test_a_big_graph_is_collapsed_and_its_steps_point_at_the_module_boxes():
    model, loss = mlp_step(sizes=(4, 5, 5, 5, 3))
    data = tg.explore(loss, model=model, max_nodes=10).data
    kinds = {it["kind"] for it in data["items"].values()}
    assert "module" in kinds
    for s in data["steps"][1:]:
        if s["item"] is not None:
            assert data["items"][s["item"]]["kind"] in ("op", "module")


class _Refs(HTMLParser):
    """Every src/href attribute and every tag of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.refs += [v for k, v in attrs if k in ("src", "href", "xlink:href") and v]


def test_the_page_is_one_file_that_loads_nothing(tmp_path):
    dot_or_skip()
    model, loss = mlp_step()
    path = tg.explore(loss, model=model).save(tmp_path / "step.html")
    page = path.read_text(encoding="utf-8")
    refs = _Refs()
    refs.feed(page)
    assert refs.refs == [], f"the page refers to {refs.refs}"
    assert "link" not in refs.tags and refs.tags.count("script") == 2  # the data and the code
    assert "default-src 'none'" in page  # and the browser is told to fetch nothing
    assert page.count("<svg") >= 1 and "tg-data" in page
    # the data script cannot end early: "</" inside it is escaped
    data_part = page.split('<script id="tg-data" type="application/json">')[1].split("</script>")[0]
    assert "</" not in data_part


def test_save_is_atomic_and_refuses_a_folder(tmp_path):
    dot_or_skip()
    model, loss = mlp_step()
    ex = tg.explore(loss, model=model)
    target = tmp_path / "page.html"
    target.write_text("old")
    ex.save(target)
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]  # no temporary file left
    with pytest.raises(IsADirectoryError, match="is a folder"):
        ex.save(tmp_path)


def test_without_dot_saving_says_how_to_install_graphviz(tmp_path, monkeypatch):
    model, loss = mlp_step()
    ex = tg.explore(loss, model=model)  # reading the graph needs no Graphviz
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match=r"apt-get install graphviz.*tg\.explain"):
        ex.save(tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()
    assert "apt-get install graphviz" in ex._repr_html_()
    code = cli.main(["graph", "--format", "html", "--out", str(tmp_path / "g")])
    assert code == 1 and not (tmp_path / "g.html").exists()


def test_jupyter_shows_the_page_in_a_frame_of_its_own():
    dot_or_skip()
    model, loss = mlp_step()
    shown = tg.explore(loss, model=model)._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "&lt;!DOCTYPE html&gt;" in shown
    assert "<script" not in shown  # all of it escaped inside srcdoc


def test_the_command_writes_the_page(tmp_path, capsys):
    dot_or_skip()
    assert cli.main(["graph", "--format", "html", "--out", str(tmp_path / "step")]) == 0
    assert "wrote" in capsys.readouterr().out
    page = (tmp_path / "step.html").read_text(encoding="utf-8")
    assert "0.weight" in page and "CrossEntropy" in page


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="expected Tensors"):
        tg.explore(np.ones(3))
    model, loss = mlp_step()
    loss.backward()  # frees the graph
    with pytest.raises(RuntimeError, match="freed"):
        tg.explore(loss, model=model)
    with pytest.raises(ValueError, match="rankdir"):
        tg.explore(mlp_step()[1], rankdir="BT")


def test_the_digits_training_step_page_is_light(tmp_path):
    """The full training step of the digits MLP (64-128-64-10, a batch of 32): the page's size,
    which the README quotes."""
    dot_or_skip()
    model, loss = mlp_step(sizes=(64, 128, 64, 10), batch=32)
    size = len(tg.explore(loss, model=model).html().encode("utf-8"))
    assert size < 100_000, f"{size:,} bytes"
