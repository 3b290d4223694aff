"""docs/tutorial.md stays true: every Python block runs, and what it points at exists.

The ```python blocks are run in order in one namespace (a later block may use what an earlier
one defined), from a scratch folder, as a reader following along would. A block preceded by the
line `<!-- no-test -->` is skipped; none should need it. "Points at" covers relative links and
#anchors, every `examples/...` or `tinygrad_edu/...` path, and every class or function named as
"`tinygrad_edu/file.py` (class `Name`)".
"""

from __future__ import annotations

import re
import traceback
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
SKIP_MARK = "<!-- no-test -->"


def python_blocks(text: str) -> list[tuple[int, str, bool]]:
    """(line number of the opening fence, code, skipped?) for every ```python block."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            start = i + 1
            j = start
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            if j == len(lines):
                raise AssertionError(f"docs/tutorial.md line {i + 1}: ```python never closed")
            before = [line.strip() for line in lines[:i] if line.strip()]
            skipped = bool(before) and before[-1] == SKIP_MARK
            blocks.append((i + 1, "\n".join(lines[start:j]) + "\n", skipped))
            i = j
        i += 1
    return blocks


@pytest.fixture(scope="module")
def text() -> str:
    return TUTORIAL.read_text(encoding="utf-8")


def test_the_tutorial_has_code_to_run(text):
    blocks = python_blocks(text)
    assert len(blocks) >= 20, f"only {len(blocks)} python blocks found"
    skipped = [line for line, _, skip in blocks if skip]
    assert len(skipped) <= 2, f"too many blocks marked {SKIP_MARK} (lines {skipped})"


# chapter 6 shows gradcheck(..., raise_exception=False) warning about a wrong backward on purpose
@pytest.mark.filterwarnings("ignore:gradcheck. gradient of input:UserWarning")
def test_every_python_block_runs_in_order(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__tutorial__"}
    for number, (line, code, skipped) in enumerate(python_blocks(text), start=1):
        if skipped:
            continue
        where = f"<docs/tutorial.md block {number}, line {line}>"
        try:
            exec(compile(code, where, "exec"), namespace)
        except Exception as err:
            pytest.fail(
                f"python block {number} (docs/tutorial.md line {line}) raised "
                f"{type(err).__name__}: {err}\n\n{code}\n{traceback.format_exc()}",
                pytrace=False,
            )


def _outside_code(text: str) -> str:
    """The prose: fenced blocks removed (links inside code are not links)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_relative_links_exist(text):
    prose = _outside_code(text)
    links = re.findall(r"\]\(([^)\s]+)\)", prose)
    assert links, "no links found"
    anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", prose, flags=re.M)}
    missing = []
    for target in links:
        if re.match(r"[a-z]+:", target):
            continue  # web addresses
        if target.startswith("#"):
            if target[1:] not in anchors:
                missing.append(target)
            continue
        path = (TUTORIAL.parent / target.split("#")[0]).resolve()
        if not path.exists():
            missing.append(target)
    assert not missing, f"links to files or headings that do not exist: {missing}"


# a path into the repository, e.g. examples/one_neuron.py or tinygrad_edu/ops/elementwise.py
PATH = re.compile(
    r"(?<![\w./-])((?:examples|tinygrad_edu|docs|tests|benchmarks|scripts)/[\w./*-]*[\w*])"
)


def test_mentioned_paths_exist(text):
    paths = set(PATH.findall(text))
    assert any(p.startswith("examples/") for p in paths)
    assert any(p.startswith("tinygrad_edu/") for p in paths)
    missing = [p for p in sorted(paths) if not list(ROOT.glob(p))]
    assert not missing, f"paths mentioned in the tutorial that do not exist: {missing}"


# "read `tinygrad_edu/nn/layers.py` (class `Linear`)", "(functions `gradcheck`, `gradgradcheck`)"
POINTER = re.compile(
    r"`(tinygrad_edu/[\w/]+\.py)`\s+\((?:class|classes|function|functions)\s+([^)]*)\)"
)


def test_named_classes_and_functions_exist(text):
    pointers = POINTER.findall(text)
    assert len(pointers) >= 10, f"only {len(pointers)} pointers of the form `file.py` (class `X`)"
    missing = []
    for path, names in pointers:
        source = (ROOT / path).read_text(encoding="utf-8")
        for name in re.findall(r"`(\w+)`", names):
            if not re.search(rf"^\s*(?:class|def) {name}\b", source, flags=re.M):
                missing.append(f"{path}: {name}")
    assert not missing, f"the tutorial names classes or functions that are not there: {missing}"
