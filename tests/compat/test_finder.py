"""The ``dezero`` alias: every DeZero import path answers with zerograd's own module."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import zerograd
import zerograd.compat
from tests._env import child_env

SUBMODULES = [
    "core",
    "core_simple",
    "cuda",
    "dataloaders",
    "datasets",
    "functions",
    "functions_conv",
    "layers",
    "models",
    "optimizers",
    "transforms",
    "utils",
]


@pytest.fixture
def alias() -> Iterator[None]:
    zerograd.compat.install()
    try:
        yield
    finally:
        zerograd.compat.uninstall()


@pytest.mark.usefixtures("alias")
@pytest.mark.parametrize("name", SUBMODULES)
def test_every_submodule_is_an_alias(name: str) -> None:
    alias = importlib.import_module(f"dezero.{name}")
    real = importlib.import_module(f"zerograd.{name}")
    assert alias is real
    assert real.__name__ == f"zerograd.{name}" and real.__spec__.name == f"zerograd.{name}"
    import dezero

    assert dezero is zerograd and getattr(dezero, name) is real


@pytest.mark.usefixtures("alias")
def test_top_level_names() -> None:
    from dezero import DataLoader, Dataset, Layer, Model, SeqDataLoader, Variable, test_mode

    assert Variable is zerograd.Variable and Layer is zerograd.Layer and Model is zerograd.Model
    assert (Dataset, DataLoader, SeqDataLoader) == (
        zerograd.Dataset,
        zerograd.DataLoader,
        zerograd.SeqDataLoader,
    )
    assert test_mode is zerograd.test_mode
    import dezero

    assert dezero.is_simple_core is False


@pytest.mark.usefixtures("alias")
def test_unknown_submodule_fails_with_the_dezero_name() -> None:
    with pytest.raises(ModuleNotFoundError, match="dezero.no_such_module"):
        importlib.import_module("dezero.no_such_module")


def test_uninstall_forgets_the_alias() -> None:
    zerograd.compat.install()
    zerograd.compat.install()  # idempotent
    importlib.import_module("dezero.functions")
    zerograd.compat.uninstall()
    # No alias is left (a real DeZero that another test imported may be back in place).
    for name in ("dezero", "dezero.functions"):
        assert not sys.modules.get(name, sys).__name__.startswith("zerograd")
    assert zerograd.compat._finder not in sys.meta_path
    assert zerograd.functions.__name__ == "zerograd.functions"


def run_compat(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zerograd.compat", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
        env=child_env({"PATH": "/usr/bin:/bin"}),
    )


def test_script_arguments_file_and_local_dezero_folder(tmp_path: Path) -> None:
    # The book's scripts put their parent folder (holding a dezero/ copy) on sys.path;
    # the alias must win over it.
    (tmp_path / "dezero").mkdir()
    (tmp_path / "dezero" / "__init__.py").write_text("raise ImportError('the local copy')\n")
    steps = tmp_path / "steps"
    steps.mkdir()
    (steps / "helper.py").write_text("VALUE = 42\n")
    (steps / "step99.py").write_text(
        "if '__file__' in globals():\n"
        "    import os, sys\n"
        "    sys.path.append(os.path.join(os.path.dirname(__file__), '..'))\n"
        "import sys\n"
        "import numpy as np\n"
        "import dezero\n"
        "from helper import VALUE\n"
        "from dezero import Variable\n"
        "print(__name__, sys.argv[1:], VALUE, dezero.__name__, Variable(np.array(1.0)) * 2)\n"
    )
    proc = run_compat(str(steps / "step99.py"), "--flag", "x", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "__main__ ['--flag', 'x'] 42 zerograd variable(2.0)\n"


def test_failing_script_and_usage(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import dezero\nraise SystemExit(3)\n")
    assert run_compat("bad.py", cwd=tmp_path).returncode == 3
    (tmp_path / "boom.py").write_text("import dezero.functions as F\nF.no_such_function()\n")
    proc = run_compat("boom.py", cwd=tmp_path)
    assert proc.returncode == 1 and "no_such_function" in proc.stderr
    usage = run_compat(cwd=tmp_path)
    assert usage.returncode == 2 and "usage: python -m zerograd.compat" in usage.stderr
    assert run_compat("--help", cwd=tmp_path).returncode == 0


def test_a_real_dezero_imported_before_is_set_aside_and_restored() -> None:
    import types

    fake = types.ModuleType("dezero")
    saved = {n: sys.modules.pop(n) for n in list(sys.modules) if n.split(".")[0] == "dezero"}
    sys.modules["dezero"] = fake
    try:
        zerograd.compat.install()
        import dezero

        assert dezero is zerograd
        zerograd.compat.uninstall()
        assert sys.modules["dezero"] is fake
    finally:
        zerograd.compat.uninstall()
        for n in [n for n in sys.modules if n.split(".")[0] == "dezero"]:
            del sys.modules[n]
        sys.modules.update(saved)
