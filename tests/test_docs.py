"""README.md and docs/tutorial.md are true: every block pastes, runs and prints what it shows.

The rules are in `doccheck.py`. The first tests below show that the checker itself catches each
kind of mistake; then it runs over both files.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from doccheck import Block, blocks, check_block, formatted_but_pasteable, matches, statements
from needs import IN_CI, dot_or_skip

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["README.md", "docs/tutorial.md"]
SPEED_ROW = re.compile(r"([SML]): (tinygrad_edu|tg\.jit replay) / (numpy|PyTorch), per step")


# -- the checker catches what it should ---------------------------------------------------------


def test_a_class_with_blank_lines_does_not_paste():
    source = "class A:\n    x = 1\n\n    def f(self):\n        return 1\n"
    problems = check_block(source, {}, None)
    assert problems and "a prompt cannot take this block" in problems[0]
    assert "IndentationError" in problems[0]


def test_code_right_after_a_loop_does_not_paste():
    problems = check_block("for i in range(2):\n    i += 1\nprint(i)\n", {}, None)
    assert problems and "SyntaxError" in problems[0]


def test_the_same_code_pastes_without_the_blank_line_and_with_one_after_the_loop():
    assert check_block("class A:\n    x = 1\n    def f(self):\n        return 1\n", {}, None) == []
    assert check_block("for i in range(2):\n    i += 1\n\nprint(i)\n", {}, "2") == []


def test_an_inline_output_is_compared_with_the_echo():
    assert check_block("x = 3\nx + 1  # 4\n", {}, None) == []
    problems = check_block("x = 3\nx + 1  # 5\n", {}, None)
    assert problems == ["line 2: the comment shows '5', the prompt prints '4'"]
    # print's output too, and `...` stands for anything
    assert check_block("print('a long line')  # a ... line\n", {}, None) == []
    assert check_block("print('a long line')  # a short line\n", {}, None) != []


def test_a_bare_expression_inside_a_loop_echoes_as_at_a_prompt():
    # a prompt prints the value of every expression statement, in a loop too
    assert check_block("for i in range(2):\n    i\n", {}, "0\n1") == []


def test_an_output_block_is_compared_with_everything_printed():
    assert check_block("print(1)\nprint(2)\n", {}, "1\n2\n") == []
    problems = check_block("print(1)\nprint(2)\n", {}, "1\n3\n")
    assert len(problems) == 1 and "--- shown\n1\n3\n--- printed\n1\n2" in problems[0]


def test_an_error_must_be_the_one_stated():
    source = "{}['k']  # KeyError: 'k'\nprint('on')\n"
    assert check_block(source, {}, "on") == []
    assert "expected ValueError" in check_block("{}['k']  # ValueError: 'k'\n", {}, None)[0]
    assert "raised KeyError" in check_block("{}['k']\n", {}, None)[0]
    assert "nothing raised" in check_block("1 + 1  # ZeroDivisionError: x\n", {}, None)[0]


def test_an_error_message_may_go_on_below_and_inside_a_block():
    source = (
        "with open('/no/such/file') as f:\n"
        "    pass  # FileNotFoundError: [Errno 2] No such file\n"
        "    # or directory: ...\n"
    )
    assert check_block(source, {}, None) == []
    (st,) = statements(source)
    assert st.error == ("FileNotFoundError", "[Errno 2] No such file or directory: ...")


def test_matches():
    assert matches("a ... b", "a xyz\n z b")
    assert matches("x  \n\n", "x")
    assert not matches("a ... b", "a xyz c")
    assert not matches("(1.0)", "(1.5)")


def test_an_output_block_is_the_text_block_right_after():
    md = "```python\nprint(1)\n```\n\n```text\n1\n```\n\nprose\n\n```text\nnot output\n```\n"
    found = blocks(md)
    assert [b.lang for b in found] == ["python", "text", "text"]
    assert found[0].output is found[1] and found[1].text == "1\n"


def test_a_block_left_to_the_prompt_must_otherwise_be_ruffs_formatting():
    good = "class A:\n    x = 1\n    def f(self):\n        return 1\n\n\nA()\n"
    assert formatted_but_pasteable(good) is None
    assert formatted_but_pasteable("class A:\n    x=1\n") is not None


# -- the documents ------------------------------------------------------------------------------


def _blocks(doc: str) -> list[Block]:
    return blocks((ROOT / doc).read_text(encoding="utf-8"), doc)


@pytest.mark.parametrize("doc", DOCS)
def test_the_document_has_code_and_nearly_nothing_is_skipped(doc):
    python = [b for b in _blocks(doc) if b.lang == "python"]
    assert len(python) >= 5
    assert sum(b.skipped for b in python) <= 1, "too many blocks marked <!-- no-test -->"


@pytest.mark.parametrize("doc", DOCS)
def test_blocks_kept_from_ruff_format_differ_from_it_only_by_blank_lines(doc):
    for block in _blocks(doc):
        if block.lang == "python" and block.fmt_off:
            ruff = formatted_but_pasteable(block.text)
            assert ruff is None, f"{doc} line {block.line}: ruff would write\n{ruff}"


# gradcheck(..., raise_exception=False) in the tutorial warns about a wrong backward on purpose
@pytest.mark.filterwarnings("ignore:gradcheck. gradient of input:UserWarning")
@pytest.mark.parametrize("doc", DOCS)
def test_every_block_pastes_runs_and_prints_what_it_shows(doc, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__main__"}
    problems = []
    for block in _blocks(doc):
        if block.lang != "python" or block.skipped:
            continue
        output = block.output.text if block.output else None
        for problem in check_block(block.text, namespace, output):
            problems.append(f"{doc}, the python block at line {block.line}: {problem}")
    assert not problems, "\n\n".join(problems)


# -- the one block that is a record, not a run --------------------------------------------------


def test_the_readme_speed_table_uses_the_benchmarks_bars_and_its_verdicts_follow():
    """README's bar table is a benchmark run's output (timings cannot be re-run in a test): its
    SPEC column must be the bars benchmarks/ measures against today, and each verdict must follow
    from the number beside it."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _mlp import CONFIGS
    from chain import CHAIN_BAR
    from import_time import BAR_S
    from memory import FLAT_MIB

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Speed") :]
    (table,) = [b.text for b in blocks(section) if b.lang == "text"][:1]
    rows = [line for line in table.splitlines()[2:] if line.strip()]
    assert len(rows) >= 10
    what = {"numpy": "bar_numpy", "PyTorch": "bar_torch", "numpy (jit)": "bar_jit"}
    for row in rows:
        name, measured, spec, result = re.split(r"\s{2,}", row.strip())
        value = float(re.match(r"[+-]?[\d.]+", measured).group())
        if m := re.match(
            r"([SML]): (tinygrad_edu|tg\.jit replay) / (numpy|PyTorch), per step", name
        ):
            key = what[m.group(3) + (" (jit)" if m.group(2) == "tg.jit replay" else "")]
            bar = getattr(CONFIGS[m.group(1)], key)
            assert spec == f"<= {bar:.2f}", row
        elif name.startswith("1M-op chain"):
            bar = CHAIN_BAR
            assert spec == f"<= {bar}", row
        elif "RSS growth" in name:
            bar = FLAT_MIB
            assert spec == f"flat (<= {bar} MiB)", row
        elif name.startswith("import tinygrad_edu"):
            bar = BAR_S
            assert spec == f"< {bar} s", row
        elif "peak memory" in name:
            bar = 1.0
            assert spec == "<= 1.00", row
        else:
            raise AssertionError(f"a row no benchmark prints: {row}")
        assert result.rstrip("?") == ("PASS" if value <= bar else "FAIL"), row


# -- pictures: each says what made it, and that command makes it ---------------------------------

IMAGES = ROOT / "docs" / "images"
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(([^)]*images/([\w.-]+\.png))\)")


def _provenance() -> dict[str, str]:
    """docs/images/README.md's table: picture file name -> the command that made it."""
    rows = re.findall(
        r"^\| `([\w.-]+\.png)` \| `([^`]+)` \|", (IMAGES / "README.md").read_text(), re.M
    )
    return dict(rows)


def test_every_picture_says_what_made_it_and_the_docs_say_the_same():
    made_by = _provenance()
    assert set(made_by) == {p.name for p in IMAGES.glob("*.png")}, "a picture without a row"
    for doc in DOCS:
        text = (ROOT / doc).read_text(encoding="utf-8")
        for match in IMAGE_LINK.finditer(text):
            name = match.group(2)
            assert name in made_by, f"{doc} shows {name}, which docs/images/README.md lacks"
            before = text[max(0, match.start() - 400) : match.start()]
            said = re.findall(r"`((?:tinygrad-edu|\.venv/bin/python scripts/)[^`]+)`", before)
            assert said and said[-1] == made_by[name], (
                f"{doc}: the text before {name} says it is {said[-1:] or 'nothing'}, "
                f"docs/images/README.md says {made_by[name]!r}"
            )


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def test_each_pictures_command_makes_that_picture(tmp_path):
    dot_or_skip()
    from tinygrad_edu.cli import main

    for name, command in _provenance().items():
        words = shlex.split(command)
        out = words.index("--out") + 1
        words[out] = str(tmp_path / Path(words[out]).name)
        if words[0] == "tinygrad-edu":
            assert main(words[1:]) == 0, command
        else:  # .venv/bin/python scripts/explorer_screenshot.py: a browser takes the picture
            assert words[0] == ".venv/bin/python" and words[1].startswith("scripts/")
            if shutil.which("chromium") is None or importlib.util.find_spec("playwright") is None:
                if IN_CI:
                    pytest.fail(f"CI=true but {command} needs Chromium and playwright")
                continue  # the other pictures are still checked
            done = subprocess.run([sys.executable, *words[1:]], cwd=ROOT, capture_output=True)
            assert done.returncode == 0, done.stderr.decode()
        made, kept = _png_size(Path(words[out] + ".png")), _png_size(IMAGES / name)
        # the same drawing; Graphviz builds may differ by a few pixels in font metrics
        assert all(abs(a - b) <= 0.03 * b for a, b in zip(made, kept)), (
            f"{command} draws a {made[0]}x{made[1]} picture, docs/images/{name} is "
            f"{kept[0]}x{kept[1]}: redraw it with that command"
        )
        if words[0] == "tinygrad-edu" and _dot_version() == _recorded_dot_version():
            # the Graphviz the pictures were drawn with: the very same bytes
            same = Path(words[out] + ".png").read_bytes() == (IMAGES / name).read_bytes()
            assert same, f"{command} no longer draws docs/images/{name}: redraw it"


def _dot_version() -> str:
    done = subprocess.run(["dot", "-V"], capture_output=True, text=True)
    return re.search(r"version (\S+)", done.stderr + done.stdout).group(1)


def _recorded_dot_version() -> str:
    text = (IMAGES / "README.md").read_text(encoding="utf-8")
    return re.search(r"drawn with Graphviz (\S+?)[.,;]?\s", text).group(1)
