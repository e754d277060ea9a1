"""Run programs written for DeZero on zerograd: ``python -m zerograd.compat SCRIPT.py [args]``.

``install()`` puts a finder first on ``sys.meta_path`` that answers ``import dezero`` and
``import dezero.<name>`` with zerograd's own module objects (``zerograd``,
``zerograd.<name>``): an alias, not a copy, so ``dezero.Variable is zerograd.Variable``.

>>> import zerograd.compat
>>> zerograd.compat.install()
>>> import dezero.functions, zerograd.functions
>>> dezero.functions is zerograd.functions
True
>>> zerograd.compat.uninstall()
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

__all__ = ["DezeroAliasFinder", "install", "run_script", "uninstall"]

ALIAS = "dezero"
TARGET = "zerograd"


class _AliasLoader(importlib.abc.Loader):
    """Hands out an already imported zerograd module as the module being imported."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        # The import system stamped the alias's spec on the module; give zerograd's back.
        module.__spec__ = self.spec


class DezeroAliasFinder(importlib.abc.MetaPathFinder):
    """Maps ``dezero`` and ``dezero.*`` to ``zerograd`` and ``zerograd.*``."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        real = TARGET + fullname[len(ALIAS) :]
        if real not in sys.modules and importlib.util.find_spec(real) is None:
            return None  # the import then fails as "No module named 'dezero....'"
        module = importlib.import_module(real)
        is_package = hasattr(module, "__path__")
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(module), is_package=is_package)


_finder = DezeroAliasFinder()
_displaced: dict[str, ModuleType] = {}  # a real DeZero imported before install()


def _dezero_modules() -> list[str]:
    return [n for n in sys.modules if n == ALIAS or n.startswith(ALIAS + ".")]


def install() -> None:
    """Make ``import dezero...`` import zerograd (idempotent). A real DeZero imported
    earlier is set aside (modules that hold it keep it) and comes back with ``uninstall()``."""
    if _finder in sys.meta_path:
        return
    for name in _dezero_modules():
        if not sys.modules[name].__name__.startswith(TARGET):
            _displaced[name] = sys.modules.pop(name)
    sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Undo ``install()``: forget the ``dezero`` aliases, put back a displaced DeZero."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in _dezero_modules():
        if sys.modules[name].__name__.startswith(TARGET):
            del sys.modules[name]
    sys.modules.update(_displaced)
    _displaced.clear()


def run_script(path: str, argv: Sequence[str] = ()) -> None:
    """Run the DeZero program at ``path`` as ``__main__`` with ``argv``, on zerograd."""
    import os
    import runpy

    install()
    sys.argv = [path, *argv]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    runpy.run_path(path, run_name="__main__")
