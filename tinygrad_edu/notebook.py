"""How tinygrad_edu's objects show in Jupyter: a Tensor as a small HTML block, and a graph as a
picture, or, without Graphviz's `dot` program, as a note on how to install it (a Tensor's
HTML is built in formatting.py, below Tensor).

IPython asks an object for its rich views (`_repr_html_`, `_repr_mimebundle_`, ...) and falls
back to `repr`. Nothing here is imported with `tinygrad_edu`: Tensor imports it when Jupyter
first asks, and draw_graph when it draws (that is when graphviz is imported too).
`tg.explain`'s text shows itself (`Explanation`, in explain.py).
"""

from __future__ import annotations

import functools
import html
import re
import shutil
from typing import Any

from tinygrad_edu.formatting import tensor_html  # noqa: F401  (Tensor's HTML; it lives below)

DOWNLOAD = "https://graphviz.org/download/"
NO_DOT = (
    "Graphviz's `dot` program is not installed, so this graph cannot be drawn here; install it "
    f"(`apt-get install graphviz`, `brew install graphviz`, or {DOWNLOAD}) and run the cell "
    "again, or read the DOT text in `.source`"
)


def no_dot_bundle() -> dict[str, str]:
    """What a graph shows in Jupyter when `dot` cannot be run: how to get it."""
    text = re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(NO_DOT, quote=False))
    text = text.replace(DOWNLOAD, f'<a href="{DOWNLOAD}">{DOWNLOAD}</a>')
    return {"text/plain": NO_DOT, "text/html": f"<p>{text}</p>"}


def __getattr__(name: str) -> Any:
    # `from tinygrad_edu.notebook import Digraph` imports graphviz then (an ImportError without
    # it), not with tinygrad_edu
    if name == "Digraph":
        import graphviz

        return _digraph_class(graphviz)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _digraph_class(graphviz: Any) -> type:
    class Digraph(graphviz.Digraph):
        """graphviz.Digraph whose Jupyter view, where `dot` cannot be run, says how to install
        it instead of raising; `.source`, `.render` and the rest are graphviz's own."""

        __qualname__ = "Digraph"  # found as tinygrad_edu.notebook.Digraph, so it pickles

        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kw: Any) -> dict:
            if shutil.which("dot") is None:
                return no_dot_bundle()
            try:
                return super()._repr_mimebundle_(include, exclude, **kw)
            except graphviz.ExecutableNotFound:  # on PATH, but it cannot be started
                return no_dot_bundle()

    return Digraph
