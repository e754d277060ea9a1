"""Sphinx extension for zerograd's site: offline math, graphs drawn by zerograd, and a guard
that every Python example on a page runs at build time.

- ``html_math_renderer = "mathml"``: formulas become MathML at build time (``latex2mathml``),
  which browsers render natively: no MathJax, no CDN, no LaTeX installation.
- ``zg-graph`` directive: runs its Python content at build time, shows it with what it
  printed, and draws one of its Variables with ``zerograd.utils.plot_dot_graph`` (SVG).
- ``graph_scraper``: sphinx-gallery picks up the images a tutorial writes with
  ``plot_dot_graph(..., to_file="name.svg")`` and shows them under the code that drew them.
- A Python code block that neither runs (doctest/testcode, ``zg-graph``, gallery) nor says
  why it cannot (class ``norun``) is a warning, so with ``-W`` the build fails.
- Graphviz's ``dot`` is required: without it the build stops at once, saying what to install.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

GENERATED = "_generated"  # under the source directory; ignored by git
PYTHON_LANGUAGES = {"python", "py", "python3", "pycon", "ipython", "default"}
IMAGE_SUFFIXES = (".svg", ".png")


# -- math as MathML ------------------------------------------------------------------------


def _mathml(latex: str, display: str) -> str:
    from latex2mathml.converter import convert

    return convert(latex.strip(), display=display)


def _visit_math_inline(self: Any, node: nodes.Element) -> None:
    self.body.append(f'<span class="math">{_mathml(node.astext(), "inline")}</span>')
    raise nodes.SkipNode


def _visit_math_block(self: Any, node: nodes.Element) -> None:
    self.body.append(self.starttag(node, "div", CLASS="math"))
    for part in node.astext().split("\n\n"):  # one display per paragraph, as MathJax does
        if part.strip():
            self.body.append(_mathml(part, "block"))
    self.body.append("</div>\n")
    raise nodes.SkipNode


# -- graphs drawn by zerograd ---------------------------------------------------------------


class GraphDirective(SphinxDirective):
    """Run the content (Python), show it and its output, and draw one Variable of it.

    Options: ``:draw:`` the name of the Variable to draw (default ``y``), ``:show-order:``
    number functions in backward's visit order, ``:brief:`` leave out shapes and dtypes,
    ``:alt:`` the picture's alternative text.
    """

    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {
        "draw": directives.unchanged,
        "show-order": directives.flag,
        "brief": directives.flag,
        "alt": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        import numpy as np

        import zerograd as zg
        import zerograd.functions as F
        from zerograd.utils import plot_dot_graph

        code = "\n".join(self.content)
        name = self.options.get("draw", "y")
        namespace: dict[str, Any] = {"np": np, "zg": zg, "F": F}
        printed = io.StringIO()
        source = f"<zg-graph in {self.env.docname}, line {self.lineno}>"
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(code, source, "exec"), namespace)  # the page's own example
        except Exception as exc:
            raise self.error(f"zg-graph: the example failed: {type(exc).__name__}: {exc}") from exc
        if not isinstance(namespace.get(name), zg.Variable):
            raise self.error(f"zg-graph: the example defines no Variable named {name!r} to draw")
        show_order = "show-order" in self.options
        digest = hashlib.sha1(f"{code}|{name}|{sorted(self.options)}".encode()).hexdigest()[:12]
        out_dir = Path(self.env.srcdir) / GENERATED
        out_dir.mkdir(exist_ok=True)
        svg = out_dir / f"graph-{digest}.svg"
        plot_dot_graph(
            namespace[name],
            verbose="brief" not in self.options,
            to_file=str(svg),
            show_order=show_order,
        )
        block = nodes.literal_block(code, code, language="python", classes=["zg-ran"])
        result: list[nodes.Node] = [block]
        if printed.getvalue():
            text = printed.getvalue().rstrip("\n")
            result.append(nodes.literal_block(text, text, language="none", classes=["zg-output"]))
        alt = self.options.get("alt", f"the graph of {name}, drawn by plot_dot_graph")
        result.append(nodes.image(uri=f"/{GENERATED}/{svg.name}", alt=alt, classes=["zg-graph"]))
        return result


def graph_scraper(block: Any, block_vars: dict[str, Any], gallery_conf: dict[str, Any]) -> str:
    """sphinx-gallery scraper: move images a tutorial wrote next to itself into the gallery.

    Tutorials live alone in their source folder, so an SVG or PNG found there after a code
    block ran was written by that block (``plot_dot_graph(y, to_file="graph.svg")``).
    """
    from sphinx_gallery.scrapers import figure_rst

    folder = Path(block_vars["src_file"]).parent
    written = sorted(p for p in folder.iterdir() if p.suffix in IMAGE_SUFFIXES)
    paths = []
    for image in written:
        target = Path(next(block_vars["image_path_iterator"])).with_suffix(image.suffix)
        shutil.move(str(image), str(target))
        paths.append(str(target))
    return figure_rst(paths, gallery_conf["src_dir"])


# -- every Python example runs ---------------------------------------------------------------


def _check_examples_run(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    if any(docname.startswith(d + "/") for d in app.config.sphinx_gallery_conf["gallery_dirs"]):
        return  # sphinx-gallery ran these
    for block in doctree.findall(nodes.literal_block):
        language = block.get("language", "default")
        if language not in PYTHON_LANGUAGES or block.get("testnodetype"):
            continue
        if {"zg-ran", "zg-output", "norun"} & set(block["classes"]):
            continue
        if language == "default" and not block.astext().lstrip().startswith((">>>", "import")):
            continue  # autodoc's plain literal blocks (signatures, tables of text)
        logger.warning(
            "Python example not run at build time: write it as a {testcode}/{doctest} block "
            "(or zg-graph), or, if it cannot run here (GPU, mpiexec), give it :class: norun "
            "and a caption saying why",
            location=block,
        )


def _require_dot(app: Sphinx) -> None:
    if shutil.which("dot") is None:
        raise ExtensionError(
            "zerograd's docs draw graphs with Graphviz at build time, and `dot` is not on "
            "PATH: install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew "
            "install graphviz)"
        )


def setup(app: Sphinx) -> dict[str, Any]:
    _require_dot(app)
    app.add_html_math_renderer("mathml", (_visit_math_inline, None), (_visit_math_block, None))
    app.add_directive("zg-graph", GraphDirective)
    app.connect("doctree-read", _check_examples_run)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
