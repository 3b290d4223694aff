"""docs/tutorial.md stays true: what it points at exists.

Its code blocks are pasted into a prompt and their outputs compared by tests/test_docs.py (with
README.md's). "Points at" covers relative links and #anchors, every `examples/...` or
`tinygrad_edu/...` path, and every class or function named as "`tinygrad_edu/file.py` (class
`Name`)".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from doccheck import blocks

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"


@pytest.fixture(scope="module")
def text() -> str:
    return TUTORIAL.read_text(encoding="utf-8")


def test_the_tutorial_has_code_to_run(text):
    python = [b for b in blocks(text, "docs/tutorial.md") if b.lang == "python"]
    assert len(python) >= 20, f"only {len(python)} python blocks found"
    with_output = [b for b in python if b.output is not None]
    assert len(with_output) >= 20, "most blocks should show their output, for test_docs to check"


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
    # a path may leave out the extension, as `--out docs/images/mlp_graph` does
    missing = [p for p in sorted(paths) if not list(ROOT.glob(p)) + list(ROOT.glob(p + ".*"))]
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
