"""Sphinx configuration of zerograd's documentation site (``bash docs/build.sh`` builds it).

Offline by construction: no intersphinx, no CDN (math is rendered to MathML at build time by
``_ext/zgdocs.py``, which browsers display natively), Graphviz's ``dot`` runs locally. The
build runs every code example: the tutorials execute under sphinx-gallery, the pages'
examples under the doctest builder, ``zg-graph`` blocks while they are read, and the
docstrings' examples (the API reference) under ``pytest --doctest-modules`` (docs/build.sh).
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent / "src"))  # document this tree's zerograd, not an installed one

import zerograd

project = "zerograd"
author = "the zerograd authors"
copyright = "the zerograd authors"
release = version = zerograd.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.napoleon",
    "sphinx_gallery.gen_gallery",
    "zgdocs",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
# sphinx-gallery's timing pages load jQuery and DataTables from CDNs: kept as .rst (they hold
# each tutorial's execution time) but not built into the offline site.
exclude_patterns = [
    "_build",
    "tutorials/README.txt",
    "**.ipynb",
    "**.zip",
    "sg_execution_times.rst",
    "dezero60/sg_execution_times.rst",
]
templates_path = ["_templates"]
myst_enable_extensions = ["colon_fence"]  # no dollarmath: a "$" in the README stays a "$"
myst_heading_anchors = 3
myst_update_mathjax = False  # formulas are MathML (html_math_renderer below)

# Offline: render formulas as MathML (no MathJax from a CDN); see _ext/zgdocs.py.
html_math_renderer = "mathml"

html_theme = "furo"
html_title = f"zerograd {release}"
html_static_path = ["_static"]
html_css_files = ["zerograd.css"]
html_show_sourcelink = False
html_copy_source = False

# The API reference: one page per module, listed in api.rst (the one place to add a module).
autosummary_generate = ["api.rst"]
API_MODULES = re.findall(r"^   (zerograd[\w.]*)$", (HERE / "api.rst").read_text(), re.M)


def _homes(modules: list[str]) -> dict[str, str]:
    """Where each public name is documented in full: the listed module that defines it.

    A name re-exported by several modules (``zerograd.Variable``, ``zerograd.core.Variable``)
    gets one description, on the page of the longest listed module its ``__module__`` is in;
    the other pages list it in their summary and link there.
    """
    public = {m: set(getattr(importlib.import_module(m), "__all__", ())) for m in modules}
    homes = {}
    for module in modules:
        for name in public[module]:
            obj = getattr(sys.modules[module], name)
            defined_in = getattr(obj, "__module__", None) or module
            owners = [
                m
                for m in modules
                if name in public[m]
                and getattr(sys.modules[m], name) is obj
                and (defined_in == m or defined_in.startswith(m + "."))
            ]
            homes[f"{module}.{name}"] = max(owners, key=len, default=module)
    return homes


autosummary_context = {"homes": _homes(API_MODULES)}
autosummary_ignore_module_all = False  # a module's __all__ is its public API
autodoc_default_options: dict[str, bool] = {}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# The pages' {doctest}/{testcode} examples run under `sphinx-build -b doctest`; the docstrings'
# ``>>>`` examples (the API reference) run under `pytest --doctest-modules src/zerograd`
# (docs/build.sh runs both), where they see their module's names as they do in CI.
doctest_global_setup = """
import importlib.util
import os
import shutil
import tempfile

import numpy as np
import zerograd as zg
import zerograd.functions as F

np.random.seed(0)
_start, _work = os.getcwd(), tempfile.mkdtemp(prefix="zerograd-docs-")
os.chdir(_work)  # files the examples write (checkpoints, pictures) land in a scratch folder
HAVE = {name: importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime")}
HAVE["zerograd.onnx"] = importlib.util.find_spec("zerograd.onnx") is not None
HAVE["zerograd.distributed"] = importlib.util.find_spec("zerograd.distributed") is not None
"""
doctest_global_cleanup = """
os.chdir(_start)
shutil.rmtree(_work, ignore_errors=True)
"""
doctest_test_doctest_blocks = ""

# The "DeZero in 60 steps" track: each script runs at build time; its output and pictures
# (matplotlib figures and the graphs zerograd draws with plot_dot_graph) go into the page.
sphinx_gallery_conf = {
    "examples_dirs": ["tutorials"],
    "gallery_dirs": ["dezero60"],
    "filename_pattern": r"/step",
    "ignore_pattern": r"__init__\.py",
    "image_scrapers": ("matplotlib", "zgdocs.graph_scraper"),
    "reset_modules": ("matplotlib",),
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "show_signature": False,
    "line_numbers": False,
    "min_reported_time": 0,
    "matplotlib_animations": False,
    "copyfile_regex": "",
    "capture_repr": (),  # show what the tutorials print, not the reprs of plotting calls
}
