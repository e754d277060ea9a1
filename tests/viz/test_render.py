"""Pictures through Graphviz: formats, the missing-``dot`` error, no shell, Jupyter."""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
from zerograd import Variable
from zerograd.utils import get_dot_graph, plot_dot_graph
from zerograd.viz import Graph, GraphvizError, GraphvizNotFoundError, graph, render

HOSTILE = '"; rm -rf ~; "'


def require_dot() -> None:
    """Skip without Graphviz, except in CI, which installs it (.ci/run) and must test it."""
    if shutil.which("dot") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Graphviz's dot is required in CI (apt-get install graphviz)")
        pytest.skip("Graphviz's dot is not installed")


def seed_graph() -> Variable:
    x = Variable(np.array(2.0), name="x")
    a = x**2
    return a**2 + a**2


def fake_dot(directory: Path, script: str) -> Path:
    """An executable ``dot`` in ``directory`` running the Python ``script``."""
    path = directory / "dot"
    path.write_text(f"#!{sys.executable}\n{script}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_png_and_svg_rendered(tmp_path: Path) -> None:
    require_dot()
    y = seed_graph()
    assert plot_dot_graph(y, to_file=tmp_path / "g.png") is None  # not in IPython
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plot_dot_graph(y, verbose=False, to_file=str(tmp_path / "g.svg"), show_order=True)
    svg = (tmp_path / "g.svg").read_text()
    assert "<svg" in svg
    for text in ("1. Add", "gen 2", "4. Pow", "gen 0", ">x<"):
        assert text in svg
    plot_dot_graph(y, to_file=tmp_path / "g.pdf")
    assert (tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"


def test_dot_extension_needs_no_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    y = seed_graph()
    plot_dot_graph(y, to_file=tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == get_dot_graph(y)


def test_missing_dot_raises_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(GraphvizNotFoundError) as info:
        plot_dot_graph(seed_graph(), to_file=tmp_path / "g.png")
    message = str(info.value)
    assert "`dot`" in message and "Graphviz" in message
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert not (tmp_path / "g.png").exists()
    assert isinstance(info.value, RuntimeError)


def test_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.png.*\.svg"):
        plot_dot_graph(seed_graph(), to_file=tmp_path / "graph.bmpx")
    with pytest.raises(ValueError, match="format"):
        plot_dot_graph(seed_graph(), to_file=tmp_path / "graph")


def test_dot_runs_without_a_shell_from_an_argument_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fake dot records its argv and stdin: the file name and the DOT text never reach
    a command line, so no shell can see them."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "argv.txt"
    fake_dot(
        bin_dir,
        "import sys\n"
        f"open({str(log)!r}, 'w').write(repr(sys.argv[1:]) + '\\n' + sys.stdin.read())\n"
        "sys.stdout.write('FAKE IMAGE')\n",
    )
    monkeypatch.setenv("PATH", str(bin_dir))
    x = Variable(np.array(1.0), name=HOSTILE)
    y = F.exp(x)
    target = tmp_path / "out; touch pwned.png"
    plot_dot_graph(y, to_file=target)
    argv, stdin = log.read_text().split("\n", 1)
    assert argv == "['-Tpng']"
    assert stdin == get_dot_graph(y)
    assert target.read_text() == "FAKE IMAGE"
    assert not (tmp_path / "pwned.png").exists()


def test_dot_failure_is_reported_with_its_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dot(tmp_path, "import sys\nsys.stderr.write('syntax error in line 1')\nsys.exit(3)\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizError, match=r"exit status 3: syntax error in line 1"):
        plot_dot_graph(seed_graph(), to_file=tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()


def test_hostile_name_is_drawn_literally(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_dot()
    home = tmp_path / "home"
    home.mkdir()
    canary = home / "canary"
    canary.write_text("still here")
    monkeypatch.setenv("HOME", str(home))  # were a shell involved, ~ would be this
    x = Variable(np.array(1.0), name=HOSTILE)
    y = F.exp(x)
    y.name = "back\\slash \\N"
    plot_dot_graph(y, verbose=False, to_file=tmp_path / "g.svg")
    svg = (tmp_path / "g.svg").read_text()
    assert "&quot;; rm &#45;rf ~; &quot;" in svg
    assert ">back\\slash \\N<" in svg  # \N would otherwise become the node's id
    assert canary.read_text() == "still here"


def test_render_returns_bytes_and_checks_format() -> None:
    with pytest.raises(ValueError, match="unsupported format"):
        render("digraph g {}", "exe")
    require_dot()
    assert render("digraph g {a -> b}", "svg").lstrip().startswith(b"<?xml")


def test_graph_displays_inline_in_jupyter(tmp_path: Path) -> None:
    require_dot()
    g = graph(seed_graph())
    assert isinstance(g, Graph)
    assert str(g) == g.source == get_dot_graph(seed_graph(), show_order=True)
    svg = g._repr_svg_()
    assert svg is not None and "<svg" in svg and "1. Add" in svg
    assert g._repr_svg_() is svg  # rendered once
    assert repr(g) == "<zerograd graph: 4 functions, 5 variables>"
    assert g.save(tmp_path / "g.svg").read_text() == svg
    assert g.save(tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert g.save(tmp_path / "g.dot").read_text() == g.source
    with pytest.raises(ValueError):
        g.save(tmp_path / "g.docx")


def test_graph_without_graphviz_falls_back_to_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    g = zg.viz.graph(seed_graph(), show_order=False)
    assert g._repr_svg_() is None  # Jupyter then shows the repr
    assert "install Graphviz" in repr(g)
    assert "1. Add" not in g.source and "Add\\ngen 2" in g.source
    with pytest.raises(GraphvizNotFoundError):
        g.svg()


def test_ipython_gets_an_image_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside IPython plot_dot_graph returns a display object, as DeZero's does."""
    require_dot()
    ipython = pytest.importorskip("IPython")
    monkeypatch.setattr(ipython, "get_ipython", lambda: object())
    from IPython import display

    image = plot_dot_graph(seed_graph(), to_file=tmp_path / "g.png")
    assert isinstance(image, display.Image)
    svg = plot_dot_graph(seed_graph(), to_file=tmp_path / "g.svg")
    assert isinstance(svg, display.SVG)
    assert plot_dot_graph(seed_graph(), to_file=tmp_path / "g.dot") is None


def test_model_plot(tmp_path: Path) -> None:
    from zerograd.models import MLP

    np.random.seed(0)
    model = MLP((3, 2))
    x = np.ones((4, 5), dtype=np.float32)
    model.plot(x, to_file=str(tmp_path / "model.dot"))
    text = (tmp_path / "model.dot").read_text()
    assert "(4, 5) float32" in text and "(4, 2) float32" in text
    require_dot()
    model.plot(x, to_file=str(tmp_path / "model.svg"))
    assert "<svg" in (tmp_path / "model.svg").read_text()
