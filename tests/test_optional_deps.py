"""tinygrad_edu with numpy alone: the core works, and each optional part says what to install.

Issue: with only numpy (`pip install --no-deps -e .`), `import tinygrad_edu` failed on
safetensors, and `draw_graph`, `graph --format dot` and `train` failed with a bare
ModuleNotFoundError. Now Tensor, autograd, gradcheck, nn, optim and jit need numpy only;
`tg.save` / `tg.load` say `pip install safetensors`; `draw_graph` writes its DOT text without
the graphviz package (rendering it says `pip install graphviz`); `train` without tqdm prints a
plain line per epoch.

Most checks run this interpreter in a subprocess with the optional packages blocked
(`sys.modules[name] = None` makes `import name` fail as if it were not installed); one test
builds a real venv with numpy only and runs the same scripts there (skipped when pip cannot
reach the package index, unless CI=true).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import cli
from tinygrad_edu.viz import training_step_graph

IN_CI = os.environ.get("CI", "").strip().lower() == "true"
REPO = Path(tg.__file__).resolve().parent.parent
OPTIONAL = ("safetensors", "graphviz", "tqdm", "matplotlib")

# What a user does with numpy alone; it prints "ok" at the end.
CORE_SCRIPT = textwrap.dedent(
    """
    import importlib.util, sys
    import numpy as np
    import tinygrad_edu as tg

    for name in {optional!r}:  # none was imported on the way
        assert sys.modules.get(name) is None, name + " was imported by import tinygrad_edu"

    # a tiny MLP trained a few steps: forward, cross-entropy, backward, Adam
    tg.manual_seed(0)
    X = tg.randn(16, 4)
    y = tg.Tensor(np.arange(16) % 3)
    model = tg.nn.MLP([4, 8, 3])
    opt = tg.optim.Adam(model.parameters(), 0.05)
    losses = []
    for _ in range(5):
        loss = tg.nn.functional.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0], losses

    # the same step under tg.jit, and SGD
    sgd = tg.optim.SGD(model.parameters(), 0.1, momentum=0.9)
    def step(xb, yb):
        loss = tg.nn.functional.cross_entropy(model(xb), yb)
        sgd.zero_grad()
        loss.backward()
        sgd.step()
        return loss.item()
    jitted = tg.jit(step)
    for _ in range(4):
        jitted(X, y)
    assert jitted.stats["replayed"] >= 1, jitted.stats

    # first and second derivatives against finite differences
    x = tg.Tensor(np.array([0.3, -0.7, 1.1]), requires_grad=True)
    assert tg.gradcheck(lambda t: (t * t).tanh().sum(), (x,))
    assert tg.gradgradcheck(lambda t: (t * t.sigmoid()).sum(), (x,))

    # save / load: a clear message naming what to install
    for call in (lambda: tg.save({{"w": X}}, "w.safetensors"), lambda: tg.load("w.safetensors")):
        try:
            call()
        except ImportError as err:
            assert "pip install safetensors" in str(err), str(err)
        else:
            raise AssertionError("tg.save / tg.load worked without safetensors")

    # draw_graph: the DOT text needs no package; rendering says what to install
    out = (model(X) * 2.0).sum()
    g = tg.draw_graph(out, model=model)
    assert g.source.startswith("digraph tinygrad_edu {{"), g.source[:80]
    assert "0.weight" in g.source and str(g) == g.source
    try:
        g.render("never", format="png")
    except ImportError as err:
        assert "pip install graphviz" in str(err), str(err)
    else:
        raise AssertionError("render worked without graphviz")
    print("ok")
    """
).format(optional=OPTIONAL)


def _block(names: tuple[str, ...]) -> str:
    """Python lines that make `import NAME` fail for each name, as if it were not installed."""
    return f"import sys\nfor _name in {names!r}:\n    sys.modules[_name] = None\n"


def _cli_script(args: list[str]) -> str:
    """`python -m tinygrad_edu ARGS` as a script (so that _block can run first)."""
    return (
        "import runpy, sys\n"
        f"sys.argv = ['tinygrad_edu', *{args!r}]\n"
        "runpy.run_module('tinygrad_edu', run_name='__main__', alter_sys=True)\n"
    )


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(PYTHONPATH=str(REPO), PYTHONNOUSERSITE="1", MPLBACKEND="Agg")
    return env


def _run(python: str, code: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_env(),
        timeout=timeout,
    )


def _run_blocked(code: str, cwd: Path, names: tuple[str, ...] = OPTIONAL):
    return _run(sys.executable, _block(names) + code, cwd)


# -- the checks, shared by the blocked runs and the real numpy-only venv ------------------------
def check_core(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().endswith("ok"), proc.stdout


def check_graph_dot(proc: subprocess.CompletedProcess, out: Path) -> None:
    """`graph --format dot` writes the DOT text, and needs no package for it."""
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    text = out.with_suffix(".dot").read_text()
    assert text.startswith("digraph tinygrad_edu {") and "0 (Linear)" in text and "loss" in text
    assert f"wrote {out}.dot" in proc.stdout


def check_graph_svg(proc: subprocess.CompletedProcess, out: Path) -> None:
    """`graph` (svg) without the graphviz package: the DOT file instead, and what to install."""
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "pip install graphviz" in proc.stderr, proc.stderr
    assert out.with_suffix(".dot").read_text().startswith("digraph")
    assert not out.with_suffix(".svg").exists()


def check_train_without_safetensors(proc: subprocess.CompletedProcess, out: Path) -> None:
    """`train` without safetensors stops before training (it could not save the weights)."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "pip install safetensors" in proc.stderr, proc.stderr
    assert "test accuracy" not in proc.stdout.lower()  # it did not train first
    assert not (out / "weights.safetensors").exists()


# -- blocked in a subprocess of this interpreter (fast) -----------------------------------------
def test_core_works_without_the_optional_packages(tmp_path: Path) -> None:
    check_core(_run_blocked(CORE_SCRIPT, tmp_path))


def test_graph_dot_format_needs_no_package(tmp_path: Path) -> None:
    out = tmp_path / "step"
    proc = _run_blocked(_cli_script(["graph", "--format", "dot", "--out", str(out)]), tmp_path)
    check_graph_dot(proc, out)


def test_graph_svg_without_graphviz_says_what_to_install(tmp_path: Path) -> None:
    out = tmp_path / "step"
    proc = _run_blocked(_cli_script(["graph", "--out", str(out)]), tmp_path)
    check_graph_svg(proc, out)


def test_train_without_safetensors_says_what_to_install(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _run_blocked(_cli_script(["train", "--epochs", "1", "--out", str(out)]), tmp_path)
    check_train_without_safetensors(proc, out)


def test_train_without_tqdm_prints_a_line_per_epoch(tmp_path: Path) -> None:
    """tqdm is missing (safetensors is there): train works, one plain line per epoch."""
    out = tmp_path / "run"
    args = ["train", "--epochs", "2", "--hidden", "16", "--out", str(out)]
    proc = _run_blocked(_cli_script(args), tmp_path, names=("tqdm", "matplotlib"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "test accuracy" in proc.stdout.lower()
    assert (out / "weights.safetensors").is_file()
    epoch_lines = [line for line in proc.stderr.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in epoch_lines] == ["1/2", "2/2"], proc.stderr


class _FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_train_on_a_terminal_without_tqdm_prints_a_line_per_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = _FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # (no plot: quicker)
    argv = ["train", "--epochs", "2", "--hidden", "16", "--out", str(tmp_path / "run")]
    assert cli.main(argv) == 0
    lines = terminal.getvalue().splitlines()
    assert [line.split()[:2] for line in lines] == [["epoch", "1/2"], ["epoch", "2/2"]], lines


def test_save_and_load_without_safetensors_name_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.safetensors"
    tg.save({"w": tg.ones(2)}, path)  # a real file, for load to fail on
    for name in [n for n in sys.modules if n == "safetensors" or n.startswith("safetensors.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match="pip install safetensors"):
        tg.save({"w": tg.ones(2)}, tmp_path / "other.safetensors")
    with pytest.raises(ImportError, match="pip install safetensors"):
        tg.load(path)
    assert not (tmp_path / "other.safetensors").exists()


def _graphs() -> list:
    """(name, function that draws a graph): the shapes of DOT that draw_graph writes."""

    def named() -> tg.Tensor:
        a = tg.Tensor([1.0, -2.0], requires_grad=True, name='a "quoted" name')
        with tg.scope('block "one" \\ two'):
            b = (a * a).sum()
        with tg.scope("node"):  # a DOT keyword as a cluster label
            return b * 2.0

    return [
        ("step", lambda: training_step_graph()),
        ("step-collapsed", lambda: training_step_graph(collapse=True, color="grad")),
        ("step-truncated", lambda: training_step_graph(collapse="auto", max_nodes=3)),
        ("odd-names", lambda: tg.draw_graph(named(), rankdir="TB")),
    ]


@pytest.mark.parametrize("name, draw", _graphs(), ids=[name for name, _ in _graphs()])
def test_dot_text_without_graphviz_is_the_same_as_with_it(
    name: str, draw, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("graphviz", reason="compares with the graphviz package's DOT text")
    tg.manual_seed(0)
    with_package = draw()
    monkeypatch.setitem(sys.modules, "graphviz", None)
    tg.manual_seed(0)
    without = draw()
    assert type(without).__module__ == "tinygrad_edu.dot"
    assert without.source == with_package.source
    assert "text/plain" in without._repr_mimebundle_()  # Jupyter shows a note, not an error


# -- a real venv with numpy only ----------------------------------------------------------------
def _numpy_only_venv(root: Path) -> str:
    """A fresh venv with only numpy (this numpy's version) installed; its python."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet"]
    pip += ["--disable-pip-version-check", f"numpy=={np.__version__}"]
    proc = subprocess.run(pip, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        reason = f"could not pip install numpy into a fresh venv (no network?):\n{proc.stderr}"
        if IN_CI:
            pytest.fail(f"CI=true: {reason}", pytrace=False)
        pytest.skip(reason)
    return python


def test_a_real_numpy_only_venv(tmp_path: Path) -> None:
    start = time.perf_counter()
    python = _numpy_only_venv(tmp_path)
    installed = _run(python, "import importlib.util as u; print([u.find_spec(n) for n in "
                     f"{OPTIONAL!r}])", tmp_path)  # fmt: skip
    assert installed.stdout.strip() == str([None] * len(OPTIONAL)), installed.stdout
    check_core(_run(python, CORE_SCRIPT, tmp_path))
    out = tmp_path / "dot" / "step"
    check_graph_dot(_run(python, _cli_script(["graph", "--format", "dot", "--out", str(out)]),
                         tmp_path), out)  # fmt: skip
    out = tmp_path / "svg" / "step"
    check_graph_svg(_run(python, _cli_script(["graph", "--out", str(out)]), tmp_path), out)
    out = tmp_path / "run"
    train = _cli_script(["train", "--epochs", "1", "--out", str(out)])
    check_train_without_safetensors(_run(python, train, tmp_path), out)
    print(f"numpy-only venv: built and checked in {time.perf_counter() - start:.1f} s")
