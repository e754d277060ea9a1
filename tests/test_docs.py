"""The documentation site builds offline, warnings as errors, with every example run."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("sphinx", "myst_parser", "furo", "sphinx_gallery", "latex2mathml")


@pytest.mark.slow
@pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in TOOLS),
    reason="the docs extra is not installed (pip install -e '.[docs]')",
)
@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_docs_build() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    bin_dir = str(Path(sys.executable).parent)  # build.sh's `python` is this interpreter
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    done = subprocess.run(
        ["bash", str(ROOT / "docs" / "build.sh"), "--clean"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    html = ROOT / "docs" / "_build" / "html"
    pages = {p.relative_to(html).as_posix() for p in html.rglob("*.html")}
    for page in ("index.html", "engine.html", "api.html", "migration.html", "benchmarks.html"):
        assert page in pages
    tutorials = sorted((ROOT / "docs" / "tutorials").glob("step*.py"))
    assert {f"dezero60/{t.stem}.html" for t in tutorials} <= pages
    # The seed's graph on the home page was drawn by zerograd (an SVG from plot_dot_graph).
    assert "_images/graph-" in (html / "index.html").read_text(encoding="utf-8")


def test_every_book_step_has_a_tutorial() -> None:
    """Cheap twin of the check above, run by default: file names cover steps 1-60 in order."""
    covered: list[int] = []
    for t in sorted((ROOT / "docs" / "tutorials").glob("step*.py")):
        parts = t.stem[4:].split("_")
        first = int(parts[0])
        last = int(parts[1]) if parts[1].isdigit() else first
        covered += range(first, last + 1)
    assert covered == list(range(1, 61))
