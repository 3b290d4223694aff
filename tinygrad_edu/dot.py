"""DOT text without the graphviz package: the part of `graphviz.Digraph` that draw_graph uses.

DOT is plain text, so writing it needs no package; drawing it needs Graphviz. `draw_graph` uses
`graphviz.Digraph` when the graphviz Python package is installed (it renders, and shows inline in
Jupyter), and this `Digraph` when it is not: the same methods that draw_graph calls (attr, node,
edge, subgraph) and graphviz's quoting rules, so `.source` is the same text either way.
Rendering says what to install.
"""

from __future__ import annotations

import re
from typing import Any

INSTALL_HINT = (
    "install the graphviz Python package (`pip install graphviz`) and Graphviz's `dot` program "
    "(`apt-get install graphviz`, `brew install graphviz`, or https://graphviz.org/download/)"
)

_HTML = re.compile(r"<.*>$", re.DOTALL)  # an HTML-like label, <...>, goes in as it is
_ID = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*|-?(\.[0-9]+|[0-9]+(\.[0-9]*)?))$")  # a bare DOT id
_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}
_QUOTE = re.compile(r'(?P<backslashes>(?:\\{2})*)\\?"')  # a " (or \") inside a quoted string


def quote(text: str) -> str:
    """text as a DOT id: bare if it is a plain id or an HTML label, else in double quotes."""
    if _HTML.match(text) or (_ID.match(text) and text.lower() not in _KEYWORDS):
        return text
    return '"' + _QUOTE.sub(r'\g<backslashes>\\"', text) + '"'


def _pairs(attrs: dict[str, str]) -> list[str]:
    return [f"{quote(k)}={quote(v)}" for k, v in sorted(attrs.items()) if v is not None]


def _bracketed(pairs: list[str]) -> str:
    return f" [{' '.join(pairs)}]" if pairs else ""


class Digraph:
    """A directed graph as DOT text; `.source` is the text. Stands in for graphviz.Digraph."""

    def __init__(self, name: str | None = None, format: str = "svg") -> None:
        self.name, self.format = name, format  # format: what graphviz would render to
        self.body: list[str] = []  # the statements, one line each

    def attr(self, kw: str | None = None, **attrs: str) -> None:
        """Attributes of the graph (kw None: `a=b` lines), or defaults for each "node"/"edge"."""
        if attrs:
            pairs = _pairs(attrs)
            line = " ".join(pairs) if kw is None else f"{kw}{_bracketed(pairs)}"
            self.body.append(f"\t{line}\n")

    def node(self, name: str, label: str | None = None, **attrs: str) -> None:
        pairs = ([f"label={quote(label)}"] if label is not None else []) + _pairs(attrs)
        self.body.append(f"\t{quote(name)}{_bracketed(pairs)}\n")

    def edge(self, tail: str, head: str, **attrs: str) -> None:
        self.body.append(f"\t{quote(tail)} -> {quote(head)}{_bracketed(_pairs(attrs))}\n")

    def subgraph(self, graph: Digraph) -> None:
        """Add graph's statements as a subgraph (a name starting "cluster" draws a box)."""
        self.body += [f"\t{line}" for line in graph._lines("subgraph ")]

    def _lines(self, head: str) -> list[str]:
        name = f"{quote(self.name)} " if self.name else ""
        return [f"{head}{name}{{\n", *self.body, "}\n"]

    @property
    def source(self) -> str:
        return "".join(self._lines("digraph "))

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return (
            f"<tinygrad_edu.dot.Digraph {self.name!r}: DOT text in .source; to draw it, "
            f"{INSTALL_HINT}>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": repr(self)}  # Jupyter: a note instead of the picture

    def render(self, *args: Any, **kwargs: Any) -> str:
        raise ImportError(
            "draw_graph made DOT text only, because the graphviz Python package is not "
            f"installed; to render it, {INSTALL_HINT}. Or write `.source` to a .dot file and "
            "convert it where Graphviz is installed: `dot -Tsvg graph.dot -o graph.svg`",
            name="graphviz",
        )

    pipe = view = render
