"""The one module that knows CuPy: array-module lookup and host/device transfers.

CuPy is imported lazily, the first time a GPU is asked for, so ``import zerograd`` never
touches it and CPU-only machines need not have it.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

# Array classes a Variable may hold; cupy.ndarray joins once CuPy has been imported.
array_types: tuple[type, ...] = (np.ndarray,)
_cupy: ModuleType | None = None


def _load_cupy() -> ModuleType | None:
    global _cupy, array_types
    if _cupy is None:
        try:
            import cupy
        except ImportError:
            return None
        _cupy = cupy
        array_types = (np.ndarray, cupy.ndarray)
    return _cupy


def _gpu_available() -> bool:
    cupy = _load_cupy()
    if cupy is None:
        return False
    try:
        return bool(cupy.cuda.runtime.getDeviceCount() > 0)
    except Exception:  # CUDA driver missing or broken: report "no GPU", never crash here
        return False


def __getattr__(name: str) -> Any:
    # ``cuda.gpu_enable`` is evaluated on first access, as DeZero's module-level flag is read.
    if name == "gpu_enable":
        return _gpu_available()
    raise AttributeError(f"module 'zerograd.cuda' has no attribute {name!r}")


def _require_cupy() -> ModuleType:
    cupy = _load_cupy()
    if cupy is None:
        raise RuntimeError(
            "zerograd.cuda: CuPy is not installed; install the build for your CUDA version, "
            "e.g. `pip install cupy-cuda12x`, or `pip install zerograd[gpu]`"
        )
    if not _gpu_available():
        raise RuntimeError("zerograd.cuda: CuPy is installed but no CUDA GPU is visible")
    return cupy


def get_array_module(x: Any) -> ModuleType:
    """Return ``cupy`` for CuPy arrays (and Variables holding them), else ``numpy``."""
    if _cupy is None:
        return np
    data = getattr(x, "data", x) if not isinstance(x, array_types) else x
    return _cupy.get_array_module(data)


def as_numpy(x: Any) -> np.ndarray:
    """Return ``x`` (array, scalar or Variable) as a NumPy array on the host."""
    from zerograd.autograd.variable import Variable

    if isinstance(x, Variable):
        x = x.data
    if np.isscalar(x):
        return np.array(x)
    if isinstance(x, np.ndarray):
        return x
    if _cupy is not None and isinstance(x, _cupy.ndarray):
        return _cupy.asnumpy(x)
    return np.asarray(x)


def as_cupy(x: Any) -> Any:
    """Return ``x`` (array or Variable) as a CuPy array on the current GPU."""
    from zerograd.autograd.variable import Variable

    if isinstance(x, Variable):
        x = x.data
    cupy = _require_cupy()
    return cupy.asarray(x)
