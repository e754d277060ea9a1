"""The environment of a child Python process that must import the zerograd under test."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import zerograd

#: The folder that holds the zerograd package under test: a checkout's ``src`` (editable
#: install or ``PYTHONPATH=src``) or the site-packages a wheel was installed into.
ZEROGRAD_PATH = str(Path(zerograd.__file__).resolve().parents[1])


def child_env(env: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """``env`` (default: this process's environment) plus ``extra``, with ``ZEROGRAD_PATH``
    first on ``PYTHONPATH``, so that a child imports the same zerograd as the tests, even with
    ``PATH=""``, from another working directory, or from a checkout where it is not installed."""
    child = dict(os.environ if env is None else env, **extra)
    child["PYTHONPATH"] = os.pathsep.join(filter(None, [ZEROGRAD_PATH, child.get("PYTHONPATH")]))
    return child
