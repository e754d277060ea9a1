"""``graph(y)``: a picture of the graph that Jupyter shows inline (as SVG)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from zerograd.autograd.variable import Variable
from zerograd.viz.dot import FORMATS, GraphvizNotFoundError, _build, render


class Graph:
    """A snapshot of the graph behind a Variable: its DOT text, and pictures of it.

    It holds only text, never the graph itself, so keeping it keeps no arrays alive. Jupyter
    calls ``_repr_svg_`` to display it; without Graphviz it shows as text saying why.
    """

    def __init__(self, source: str, n_functions: int, n_variables: int) -> None:
        #: The DOT text (what ``get_dot_graph`` returns).
        self.source = source
        self.n_functions = n_functions
        self.n_variables = n_variables
        self._svg: str | None = None

    def svg(self) -> str:
        """The picture as SVG text (runs Graphviz's ``dot`` once, then cached)."""
        if self._svg is None:
            self._svg = render(self.source, "svg").decode("utf-8")
        return self._svg

    def _repr_svg_(self) -> str | None:
        try:
            return self.svg()
        except GraphvizNotFoundError:
            return None  # Jupyter then shows __repr__, which says what is missing

    def save(self, to_file: str | os.PathLike[str]) -> Path:
        """Write the picture to ``to_file``; the extension picks the format (``.dot`` for text)."""
        path = Path(to_file)
        fmt = path.suffix.lower().lstrip(".")
        if fmt in ("dot", "gv"):
            path.write_text(self.source, encoding="utf-8")
        elif fmt == "svg":
            path.write_text(self.svg(), encoding="utf-8")
        elif fmt in FORMATS:
            path.write_bytes(render(self.source, fmt))
        else:
            raise ValueError(f"Graph.save: unsupported extension {path.suffix!r} of {str(path)!r}")
        return path

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        size = f"{self.n_functions} functions, {self.n_variables} variables"
        if shutil.which("dot") is None:
            return f"<zerograd graph: {size}; install Graphviz's `dot` to see it drawn>"
        return f"<zerograd graph: {size}>"


def graph(output: Variable, verbose: bool = True, show_order: bool = True) -> Graph:
    """The graph behind ``output`` as a ``Graph``, drawn inline by Jupyter.

    Functions are numbered in the order ``output.backward()`` runs them (``show_order``).

    >>> import numpy as np, zerograd as zg
    >>> x = zg.Variable(np.array(2.0), name="x")
    >>> g = zg.viz.graph(x ** 2 + x)
    >>> g.n_functions, g.n_variables  # Pow and Add; x, x ** 2 and the output
    (2, 3)
    """
    built = _build(output, verbose, show_order)
    return Graph(built.text(), built.n_functions, built.n_variables)
