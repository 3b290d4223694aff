"""Run a Markdown file's Python blocks the way a reader does, and compare what they print.

The rules, for README.md and docs/tutorial.md:

- Every ```python block runs, in order, in one session: each line is fed to
  `code.InteractiveConsole` as if pasted into Python's plain `>>>` prompt, so a block that a
  prompt cannot take (a blank line inside a class or a loop, code right after an indented block)
  fails here as it would there. After each block the reader presses Enter once more.
- A ```text block that follows a python block with only blank lines between them is that block's
  output: everything the prompt prints to stdout (`print`, and the echo of bare expressions).
- A comment at the end of a one-statement line whose statement prints or echoes is that output:
  `y  # Tensor(14., grad_fn=<Sum>)`. Commentary goes on its own line.
- A comment `# SomeError: message` in a statement says that the statement raises that error;
  comment lines right below it continue the message. Any other exception fails the check.
- In an expected output, `...` matches anything (as doctest's ELLIPSIS); trailing spaces and
  blank lines at the end do not count.
- `<!-- no-test -->` on the line before a block skips it (the callers limit how many may).
  A block between `<!-- fmt: off -->` and `<!-- fmt: on -->` is left alone by `ruff format`
  (usually because ruff's blank lines between methods would stop it pasting); `formatted_but_
  pasteable` checks that it differs from ruff's formatting only by those blank lines.
"""

from __future__ import annotations

import ast
import code
import contextlib
import io
import re
import subprocess
import sys
import tokenize
from dataclasses import dataclass, field

SKIP_MARK = "<!-- no-test -->"
FMT_OFF, FMT_ON = "<!-- fmt: off -->", "<!-- fmt: on -->"
ERROR_COMMENT = re.compile(r"^#\s*((?:[A-Z]\w*\.)*[A-Z]\w*(?:Error|Exception|Warning|Interrupt)): ")


@dataclass
class Block:
    """One fenced block: its language, its first code line (1-based) and its text."""

    lang: str
    line: int
    text: str
    skipped: bool = False
    fmt_off: bool = False
    follows_block: bool = False  # only blank lines since the previous fenced block
    output: Block | None = None  # for a python block: the text block that shows its output


def blocks(markdown: str, name: str = "markdown") -> list[Block]:
    """Every fenced block of `markdown`, with each python block's output block attached."""
    found: list[Block] = []
    lines = markdown.splitlines()
    fmt_off = False
    last_end = None  # line index of the previous closing fence
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped == FMT_OFF:
            fmt_off = True
        elif stripped == FMT_ON:
            fmt_off = False
        elif stripped.startswith("```"):
            lang = stripped[3:].strip()
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            if j == len(lines):
                raise AssertionError(f"{name} line {i + 1}: code block never closed")
            before = [line.strip() for line in lines[:i] if line.strip()]
            between = lines[last_end + 1 : i] if last_end is not None else ["x"]
            block = Block(
                lang=lang,
                line=i + 2,
                text="\n".join(lines[i + 1 : j]) + "\n",
                skipped=bool(before) and before[-1] == SKIP_MARK,
                fmt_off=fmt_off,
                follows_block=all(not line.strip() for line in between),
            )
            if block.lang == "text" and block.follows_block and found[-1].lang == "python":
                found[-1].output = block
            found.append(block)
            last_end = i = j
        i += 1
    return found


def matches(expected: str, actual: str) -> bool:
    """Does `actual` match `expected`, where `...` in `expected` stands for anything?"""

    def tidy(s: str) -> str:
        return "\n".join(line.rstrip() for line in s.strip("\n").splitlines())

    parts = [re.escape(part) for part in tidy(expected).split("...")]
    return re.fullmatch(".*?".join(parts), tidy(actual), flags=re.S) is not None


@dataclass
class Statement:
    """A top-level statement of a block: its lines (1-based, within the block) and comments."""

    first: int
    last: int
    simple: bool  # one line, not a compound statement
    trailing: str | None = None  # the comment at the end of its last line
    error: tuple[str, str] | None = None  # ("RuntimeError", "message pattern") it must raise


def statements(source: str) -> list[Statement]:
    """The top-level statements of `source` with the comments that state their outputs."""
    tree = ast.parse(source)
    comments: dict[int, tuple[str, bool]] = {}  # line -> (comment, the line has only it)
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            alone = not tok.line[: tok.start[1]].strip()
            comments[tok.start[0]] = (tok.string, alone)
    result = []
    for node in tree.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        last = node.end_lineno or node.lineno
        simple = not isinstance(node, ast.stmt) or not hasattr(node, "body")
        st = Statement(first, last, simple and first == last)
        if last in comments and not comments[last][1]:
            st.trailing = comments[last][0]
        for line in range(first, last + 1):
            if line in comments and (m := ERROR_COMMENT.match(comments[line][0])):
                text = [comments[line][0][m.end() :]]
                below = line + 1
                while below in comments and comments[below][1]:
                    if ERROR_COMMENT.match(comments[below][0]):
                        break
                    text.append(comments[below][0].lstrip("#").strip())
                    below += 1
                st.error = (m.group(1).split(".")[-1], " ".join(text))
                break
        result.append(st)
    return result


@dataclass
class Unit:
    """What the prompt ran for one complete input: its lines, its stdout and its exception."""

    first: int
    last: int
    stdout: str
    error: BaseException | None


@dataclass
class _Console(code.InteractiveConsole):
    namespace: dict
    units: list[Unit] = field(default_factory=list)
    syntax_errors: list[str] = field(default_factory=list)
    span: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        super().__init__(self.namespace, filename="<stdin>")

    def runcode(self, code_obj) -> None:
        out = io.StringIO()
        error = None
        with contextlib.redirect_stdout(out):
            try:
                exec(code_obj, self.locals)
            except SystemExit:
                raise
            except BaseException as err:
                error = err
        self.units.append(Unit(*self.span, out.getvalue(), error))

    def showsyntaxerror(self, filename=None, **kwargs) -> None:
        err = sys.exc_info()[1]
        self.syntax_errors.append(f"line {self.span[1]}: {type(err).__name__}: {err}")


def run_block(source: str, namespace: dict) -> tuple[list[Unit], list[str]]:
    """Paste `source` into a prompt line by line (then one Enter): what ran, and syntax errors."""
    console = _Console(namespace)
    start = 1
    lines = source.splitlines() + [""]
    for number, line in enumerate(lines, start=1):
        if not console.buffer:
            start = number
        console.span = (start, number)
        console.push(line)
    return console.units, console.syntax_errors


def check_block(source: str, namespace: dict, output: str | None) -> list[str]:
    """Run one python block as pasted; the list of everything that differs from what it says."""
    units, syntax_errors = run_block(source, namespace)
    problems = [f"a prompt cannot take this block: {e}" for e in syntax_errors]
    if problems:
        return problems
    stated = statements(source)
    for unit in units:
        inside = [s for s in stated if unit.first <= s.first <= unit.last]
        st = inside[0] if inside else None
        expected_error = st.error if st else None
        if unit.error is not None:
            got = f"{type(unit.error).__name__}: {unit.error}"
            if expected_error is None:
                problems.append(f"line {unit.first} raised {got}")
            elif type(unit.error).__name__ != expected_error[0] or not matches(
                expected_error[1], str(unit.error)
            ):
                problems.append(
                    f"line {unit.first}: expected {expected_error[0]}: {expected_error[1]}\n"
                    f"  got {got}"
                )
        elif expected_error is not None:
            problems.append(f"line {unit.first}: expected {expected_error[0]}, nothing raised")
        if st and st.simple and st.trailing and unit.stdout and expected_error is None:
            shown = st.trailing.lstrip("#").strip()
            if not matches(shown, unit.stdout):
                problems.append(
                    f"line {st.last}: the comment shows {shown!r}, the prompt prints "
                    f"{unit.stdout.rstrip()!r}"
                )
    if output is not None:
        printed = "".join(unit.stdout for unit in units)
        if not matches(output, printed):
            problems.append(
                "the output block differs from what the block prints:\n--- shown\n"
                f"{output.rstrip()}\n--- printed\n{printed.rstrip()}"
            )
    return problems


def pasteable(source: str) -> str:
    """`source` without the blank lines that end a block in a prompt (next line indented)."""
    lines = source.splitlines()
    kept = []
    for i, line in enumerate(lines):
        if not line.strip():
            rest = [later for later in lines[i + 1 :] if later.strip()]
            if rest and rest[0][:1].isspace():
                continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def formatted_but_pasteable(source: str) -> str | None:
    """None if `source` is ruff's formatting minus `pasteable`'s blank lines, else ruff's text."""
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", "block.py", "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return None if pasteable(ruff) == source else ruff
