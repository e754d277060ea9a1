"""Pictures of a computational graph: DOT text always, images through Graphviz's ``dot``.

``get_dot_graph`` and ``plot_dot_graph`` keep DeZero's signatures (``zerograd.utils``
re-exports them). Functions are boxes labelled with their class and generation (and, with
``show_order=True``, the position at which backward runs them); variables are ellipses labelled
with name, shape and dtype; constants (inputs that need no gradient) are grey.

The walk is iterative, so a graph of any depth draws. User text (variable names) only ever
appears inside quoted, escaped DOT strings, and ``dot`` runs without a shell, from an
argument list, reading the DOT text on stdin.

>>> import numpy as np, zerograd as zg
>>> x = zg.Variable(np.array(2.0), name="x")
>>> y = x ** 2
>>> print(get_dot_graph(y, verbose=False))
digraph g {
v0 [label="", color=orange, style=filled]
f0 [label="Pow\\nc=2\\ngen 0", color=lightblue, style=filled, shape=box]
f0 -> v0
v1 [label="x", color=orange, style=filled]
v1 -> f0
}
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable
from zerograd.viz.order import backward_order

__all__ = [
    "FORMATS",
    "GraphvizError",
    "GraphvizNotFoundError",
    "get_dot_graph",
    "plot_dot_graph",
    "render",
]

#: Image formats ``plot_dot_graph`` asks ``dot`` for; ``.dot``/``.gv`` files get the DOT text.
FORMATS = ("png", "svg", "pdf", "jpg", "jpeg", "gif", "ps")

_VAR_STYLE = "color=orange, style=filled"
_CONST_STYLE = "color=lightgray, style=filled"
_FUNC_STYLE = "color=lightblue, style=filled, shape=box"

_INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; Fedora: sudo dnf install "
    "graphviz; macOS: brew install graphviz; conda: conda install graphviz; Windows: "
    "https://graphviz.org/download/) so that `dot` is on PATH, or save the DOT text instead "
    "(to_file='graph.dot', or get_dot_graph(y))"
)


class GraphvizError(RuntimeError):
    """Graphviz's ``dot`` failed to render a graph."""


class GraphvizNotFoundError(GraphvizError):
    """Graphviz's ``dot`` program is not installed (or not on ``PATH``)."""


# -- DOT text ------------------------------------------------------------------------------------
def _escape(text: Any) -> str:
    """``text`` as the inside of a DOT quoted string, drawn literally by Graphviz.

    Backslashes are doubled (Graphviz reads ``\\N``, ``\\G``, ``\\l``... in labels), quotes
    escaped, line breaks become DOT's ``\\n`` and other control characters are spelled out.
    """
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    if not text.isprintable():
        text = "".join(c if c.isprintable() or c == "\n" else repr(c)[1:-1] for c in text)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _describe(
    name: Any, data: Any, shape: Any, dtype: Any, verbose: bool, constant: bool = False
) -> str:
    """DeZero's variable label: ``name: (2, 3) float32`` (escaped, ready for DOT)."""
    if name is None and constant and data is not None and getattr(data, "size", 0) == 1:
        name = data.item() if hasattr(data, "item") else data  # a scalar constant: its value
    label = "" if name is None else str(name)
    if verbose and shape is not None:
        if label:
            label += ": "
        label += str(tuple(shape)) if dtype is None else f"{tuple(shape)} {_dtype_name(dtype)}"
    return _escape(label)


_dtype_names: dict[Any, str] = {}


def _dtype_name(dtype: Any) -> str:
    name = _dtype_names.get(dtype)
    if name is None:  # str(dtype) is slow enough to matter on 10^5-node graphs
        name = _dtype_names[dtype] = str(dtype)
    return name


def _output_info(f: Function, i: int, consumer: Function, j: int) -> tuple[Any, ...]:
    """(name, data, shape, dtype) of output ``i`` of ``f``, input ``j`` of ``consumer``: from
    the Variable if it is alive, else from what ``consumer`` recorded of it."""
    outputs = f.outputs
    out = outputs[i]() if i < len(outputs) else None
    if out is None:
        out = consumer.inputs[j]
    if out is not None and out.data is not None:
        return out.name, out.data, out.data.shape, out.data.dtype
    return None, None, consumer.input_shapes()[j], consumer.input_dtypes()[j]


class _DotWriter:
    """Builds the DOT text: node ids are assigned in discovery order, never from user text."""

    def __init__(self) -> None:
        self.lines = ["digraph g {"]
        self.ids: dict[Any, str] = {}
        self.class_names: dict[type, str] = {}
        self.n_functions = 0
        self.n_variables = 0

    def variable(self, key: Any, label: str, constant: bool = False) -> str:
        node = self.ids.get(key)
        if node is None:
            node = self.ids[key] = f"v{self.n_variables}"
            self.n_variables += 1
            style = _CONST_STYLE if constant else _VAR_STYLE
            self.lines.append(f'{node} [label="{label}", {style}]')
        return node

    def function(self, f: Function, position: int | None) -> str:
        node = self.ids[f] = f"f{self.n_functions}"
        self.n_functions += 1
        cls = type(f)
        name = self.class_names.get(cls)
        if name is None:
            name = self.class_names[cls] = _escape(cls.__name__)
        head = name if position is None else f"{position}. {name}"
        extra = f.extra_repr()
        if extra:
            head += "\\n" + _escape(extra)
        self.lines.append(f'{node} [label="{head}\\ngen {f.generation}", {_FUNC_STYLE}]')
        return node

    def edge(self, tail: str, head: str) -> None:
        self.lines.append(f"{tail} -> {head}")

    def text(self) -> str:
        return "\n".join([*self.lines, "}"])


def _build(output: Variable, verbose: bool, show_order: bool) -> _DotWriter:
    if not isinstance(output, Variable):
        raise TypeError(f"get_dot_graph: expected a Variable, got {type(output).__name__}")
    dot = _DotWriter()
    creator = output.creator
    data = output.data
    label = _describe(
        output.name,
        data,
        None if data is None else data.shape,
        None if data is None else data.dtype,
        verbose,
    )
    if creator is None:  # a leaf: just the variable (DeZero crashes here)
        dot.variable(output, label)
        return dot
    dot.variable((creator, output.output_index), label)

    # Functions in the order backward runs them: each producer comes after its consumers.
    for step in backward_order(output):
        f = step.function
        fnode = dot.function(f, step.position if show_order else None)
        for i, ref in enumerate(getattr(f, "outputs", ())):
            key = (f, i)
            vnode = dot.ids.get(key)
            if vnode is None:
                out = ref()
                if out is None:
                    continue  # freed and not used by any drawn function
                vnode = dot.variable(key, _describe(out.name, out.data, *_shape(out), verbose))
            dot.edge(fnode, vnode)
        for j, edge in enumerate(f.edges()):
            dot.edge(_input_node(dot, f, j, edge, verbose), fnode)
    return dot


def _shape(var: Variable) -> tuple[Any, Any]:
    data = var.data
    return (None, None) if data is None else (data.shape, data.dtype)


def _input_node(dot: _DotWriter, f: Function, j: int, edge: Any, verbose: bool) -> str:
    """The node of input ``j`` of ``f`` (created on first sight)."""
    if edge is None:  # a constant: draw it if it is still around
        var = f.inputs[j]
        key = var if var is not None else ("constant", f, j)
        if key in dot.ids:
            return dot.ids[key]
        if var is not None:
            label = _describe(var.name, var.data, *_shape(var), verbose, constant=True)
        else:
            shape, dtype = f.input_shapes()[j], f.input_dtypes()[j]
            label = _describe(None, None, shape, dtype, verbose)
        return dot.variable(key, label, constant=True)
    if isinstance(edge, Variable):  # a leaf
        if edge in dot.ids:
            return dot.ids[edge]
        return dot.variable(edge, _describe(edge.name, edge.data, *_shape(edge), verbose))
    producer, index = edge
    if edge in dot.ids:
        return dot.ids[edge]
    name, data, shape, dtype = _output_info(producer, index, f, j)
    return dot.variable(edge, _describe(name, data, shape, dtype, verbose))


def get_dot_graph(output: Variable, verbose: bool = True, show_order: bool = False) -> str:
    """The Graphviz DOT text of the graph behind ``output`` (no Graphviz needed).

    ``verbose`` adds shape and dtype to variable labels; ``show_order`` numbers each function
    in the order ``output.backward()`` runs it. Intermediate values that were already freed
    show what the graph still knows of them (their shape, when recorded).
    """
    return _build(output, verbose, show_order).text()


# -- rendering -------------------------------------------------------------------------------------
def _dot_binary() -> str:
    path = shutil.which("dot")
    if path is None:
        raise GraphvizNotFoundError(
            "drawing a graph needs Graphviz's `dot` program, which was not found on PATH: "
            + _INSTALL_HINT
        )
    return path


def render(dot_text: str, fmt: str = "svg") -> bytes:
    """Run Graphviz's ``dot -T<fmt>`` on ``dot_text`` and return the image bytes.

    ``dot`` is called with an argument list (never a shell) and reads the text on stdin; a
    non-zero exit raises ``GraphvizError`` with its message.
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"render: unsupported format {fmt!r}; choose one of {FORMATS}")
    command = [_dot_binary(), f"-T{fmt}"]
    try:
        result = subprocess.run(
            command, input=dot_text.encode("utf-8"), capture_output=True, check=False
        )
    except OSError as error:  # vanished or not executable since which() found it
        raise GraphvizNotFoundError(
            f"could not run {command[0]}: {error}; {_INSTALL_HINT}"
        ) from error
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise GraphvizError(f"`dot -T{fmt}` failed with exit status {result.returncode}: {message}")
    return result.stdout


def plot_dot_graph(
    output: Variable,
    verbose: bool = True,
    to_file: str | os.PathLike[str] = "graph.png",
    show_order: bool = False,
) -> Any:
    """Draw the graph behind ``output`` into ``to_file``; the extension picks the format.

    ``.png``, ``.svg``, ``.pdf`` (and ``.jpg``, ``.gif``, ``.ps``) are rendered by Graphviz's
    ``dot``; ``.dot``/``.gv`` save the DOT text and need no Graphviz. Without ``dot`` an image
    format raises ``GraphvizNotFoundError`` saying how to install it. In IPython the image is
    returned for inline display (as DeZero does); elsewhere the result is ``None``.
    """
    path = Path(to_file)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS and fmt not in ("dot", "gv"):
        raise ValueError(
            f"plot_dot_graph: cannot tell the format of {str(to_file)!r}; use one of the "
            f"extensions {', '.join('.' + f for f in (*FORMATS, 'dot', 'gv'))}"
        )
    text = get_dot_graph(output, verbose, show_order=show_order)
    if fmt in ("dot", "gv"):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(render(text, fmt))
    return _ipython_image(path, fmt)


def _ipython_image(path: Path, fmt: str) -> Any:
    """An IPython display object for ``path`` when running inside IPython, else None."""
    ipython = sys.modules.get("IPython")  # never import IPython ourselves
    if ipython is None or ipython.get_ipython() is None:
        return None
    from IPython import display

    if fmt == "svg":
        return display.SVG(filename=str(path))
    if fmt in ("png", "jpg", "jpeg", "gif"):
        return display.Image(filename=str(path))
    return None
