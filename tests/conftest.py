"""Shared fixtures: the array backend (``xp``) and the torch reference."""

from __future__ import annotations

import os
from types import ModuleType

import numpy as np
import pytest


def _cupy_or_skip() -> ModuleType:
    from zerograd import cuda

    if not cuda.gpu_enable:
        pytest.skip("CuPy with a CUDA GPU is not available")
    import cupy

    return cupy


@pytest.fixture(params=["numpy", pytest.param("cupy", marks=pytest.mark.gpu)])
def xp(request: pytest.FixtureRequest) -> ModuleType:
    """The array module under test: NumPy always, CuPy under ``-m gpu`` when a GPU exists."""
    if request.param == "cupy":
        return _cupy_or_skip()
    return np


def require_torch() -> ModuleType:
    """Import torch for a parity test: skip without it, except in CI, where that fails unless
    ``ZEROGRAD_TEST_NO_TORCH`` gives the reason (``.ci/run`` sets it on a Python for which no
    CPU build of torch==2.13.0 exists)."""
    try:
        import torch
    except ImportError:
        reason = os.environ.get("ZEROGRAD_TEST_NO_TORCH")
        if os.environ.get("CI") == "true" and not reason:
            pytest.fail(
                "torch==2.13.0 is required for parity tests in CI (pip install -e '.[test]')"
            )
        pytest.skip(reason or "torch is not installed (pip install torch==2.13.0)")
    torch.set_num_threads(1)
    return torch


@pytest.fixture
def torch() -> ModuleType:
    """The torch reference (see ``require_torch``)."""
    return require_torch()
