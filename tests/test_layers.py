"""The package's layers import one way, the way a learner reads them (docs/architecture.md).

From the bottom: the modes and version counters, then `function.py` (the node and `apply`), the
primitives in `ops/`, the walk in `autograd.py`, Tensor's two mixins, `tensor.py`, and everything
built on Tensor above. A module may import its own layer or lower ones, never a higher one (at
the top of the file or inside a function: `if TYPE_CHECKING:` imports, for annotations only, do
not run and do not count). Where a lower layer must make a Tensor it uses `function.Tensor`, the
class tensor.py registers. And no module imports, at its top, one that imports it back.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tinygrad_edu"

# module -> layer, lowest first; every module not listed is built on Tensor (the top layer)
LAYERS = {
    "mode": 0,
    "dtypes": 0,
    "formatting": 0,
    "malloc": 0,
    "dot": 0,
    "anomaly": 1,
    "versions": 1,
    "function": 2,
    "ops": 3,
    "ops.dual": 3,
    "ops.elementwise": 3,
    "ops.reduce": 3,
    "ops.movement": 3,
    "ops.matmul": 3,
    "ops.nn": 3,
    "autograd": 4,
    "tensor_ops": 5,
    "tensor_inplace": 5,
    "tensor": 6,
}
TOP = 7


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _target(name: str) -> str | None:
    """`tinygrad_edu.x.y` (or `.x.y.Name`) -> the module "x.y" it names, if it is one of ours."""
    if not name.startswith("tinygrad_edu"):
        return None
    parts = name.split(".")[1:]
    while parts and ".".join(parts) not in MODULES:
        parts.pop()
    return ".".join(parts)


def imports(module: str) -> list[tuple[str, bool, int]]:
    """(imported module, at the top of the file?, line) for each import of our own modules."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    skip = set()  # nodes under `if TYPE_CHECKING:`
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            target = _target(name)
            if target is not None and target != module:
                found.append((target, node in tree.body, node.lineno))
    return found


def layer(module: str) -> int:
    return LAYERS.get(module, TOP)


def test_the_layers_name_real_modules():
    assert set(LAYERS) <= set(MODULES)
    assert {m for m in MODULES if m.startswith("ops.")} <= set(LAYERS)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m) < TOP))
def test_no_lower_module_imports_a_higher_one(module):
    upward = [
        f"line {line}: imports {target} (layer {layer(target)})"
        for target, _, line in imports(module)
        if target and layer(target) > layer(module)
    ]
    assert not upward, f"{module} (layer {layer(module)}) " + "; ".join(upward)


def test_no_import_circle():
    graph = {m: {t for t, top, _ in imports(m) if top and t} for m in MODULES}
    graph = {m: {t for t in ts if t in graph} for m, ts in graph.items()}
    # a package's __init__ importing its own submodules is how packages work, not a circle
    # (tinygrad_edu's own __init__, named "", gathers the public API from everywhere)
    graph[""] = set()
    for m in graph:
        graph[m] = {t for t in graph[m] if not t.startswith(m + ".")}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycle = path[path.index(t) :] + [t]
                pytest.fail("import circle: " + " -> ".join(cycle), pytrace=False)
            if t not in state:
                visit(t, path + [t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The test can fail: a module of layer 2 importing tensor.py is reported."""
    fake = tmp_path / "function.py"
    fake.write_text("from tinygrad_edu.tensor import Tensor\n")
    monkeypatch.setitem(MODULES, "function", fake)
    assert imports("function") == [("tensor", True, 1)]
    with pytest.raises(AssertionError, match="imports tensor"):
        test_no_lower_module_imports_a_higher_one("function")


def test_the_checker_sees_a_circle(tmp_path, monkeypatch):
    (tmp_path / "function.py").write_text("from tinygrad_edu import autograd\n")
    (tmp_path / "autograd.py").write_text("from tinygrad_edu.function import Function\n")
    monkeypatch.setitem(MODULES, "function", tmp_path / "function.py")
    monkeypatch.setitem(MODULES, "autograd", tmp_path / "autograd.py")
    with pytest.raises(pytest.fail.Exception, match="autograd -> function -> autograd"):
        test_no_import_circle()


def test_the_reading_map_lists_every_module_and_the_layers_of_this_test():
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"`tinygrad_edu/([\w/]+)\.py`", text))
    wanted = {p.relative_to(PACKAGE).with_suffix("").as_posix() for p in PACKAGE.rglob("*.py")}
    wanted = {m for m in wanted if not m.endswith(("__init__", "__main__"))}
    assert wanted - listed == set(), f"not in docs/architecture.md: {sorted(wanted - listed)}"
    assert listed - wanted == set(), f"no such file: {sorted(listed - wanted)}"
    picture = text.split("```text")[1].split("```")[0]
    for module, n in LAYERS.items():
        row = next(line for line in picture.splitlines() if line.startswith(f" layer {n} "))
        name = module.split(".")[-1] if not module.startswith("ops") else "ops/"
        assert name in row, f"{module} is in layer {n} here, not in the picture's row: {row}"


MAX_LINES = 400  # STYLE.md: a file past ~400 lines probably holds two ideas


def long_files(package: Path = PACKAGE) -> list[str]:
    """The package's files over MAX_LINES lines, with their length."""
    found = []
    for path in sorted(package.rglob("*.py")):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            found.append(f"{path.relative_to(package).as_posix()} ({n} lines)")
    return found


def test_every_file_holds_one_idea_in_under_400_lines():
    assert long_files() == [], "split by idea: " + ", ".join(long_files())


def test_the_length_check_sees_a_long_file(tmp_path):
    (tmp_path / "short.py").write_text("x = 1\n" * MAX_LINES)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    assert long_files(tmp_path) == [f"sub/long.py ({MAX_LINES + 1} lines)"]
