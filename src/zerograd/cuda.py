"""The one module that knows CuPy: array-module lookup, devices and host/device transfers.

CuPy is imported lazily, the first time a GPU is asked for, so ``import zerograd`` never
touches it and CPU-only machines need not have it. Until then every check here is a single
``is None`` test, so CPU code pays nothing for GPU support.

>>> from zerograd import cuda
>>> cuda.get_array_module(np.zeros(2)) is np
True
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "as_cupy",
    "as_numpy",
    "device_of",
    "get_array_module",
    "require_gpu",
]

# Array classes a Variable may hold; cupy.ndarray joins once CuPy has been imported.
array_types: tuple[type[Any], ...] = (np.ndarray,)
#: The CuPy module once something asked for a GPU (``None`` until then): ``cuda.cupy is None``
#: is the one test hot code makes for GPU support.
cupy: ModuleType | None = None
_gpu_checked: bool | None = None


def _load_cupy() -> ModuleType | None:
    global cupy, array_types
    if cupy is None:
        try:
            import cupy as module
        except ImportError:
            return None
        cupy = module
        array_types = (np.ndarray, module.ndarray)
    return cupy


def _gpu_available() -> bool:
    global _gpu_checked
    if _gpu_checked is None:
        cupy = _load_cupy()
        try:
            _gpu_checked = cupy is not None and cupy.cuda.runtime.getDeviceCount() > 0
        except Exception:  # CUDA driver missing or broken: "no GPU", never a crash here
            _gpu_checked = False
    return _gpu_checked


def __getattr__(name: str) -> Any:
    # DeZero's ``cuda.gpu_enable`` flag, computed on first access rather than at import.
    if name == "gpu_enable":
        return _gpu_available()
    raise AttributeError(f"module 'zerograd.cuda' has no attribute {name!r}")


def is_device_array(x: Any) -> bool:
    """True for a CuPy array, even before zerograd has imported CuPy itself (the user may
    have); registers CuPy's array type for the cheap checks that follow."""
    if cupy is None and type(x).__module__.startswith("cupy"):
        _load_cupy()
    return cupy is not None and isinstance(x, cupy.ndarray)


def require_gpu() -> ModuleType:
    """Return CuPy, or raise a RuntimeError that says what is missing and how to get it."""
    cupy = _load_cupy()
    if cupy is None:
        raise RuntimeError(
            "zerograd.cuda: CuPy is not installed; install the build that matches your CUDA "
            "toolkit, e.g. `pip install cupy-cuda12x` (or `pip install 'zerograd[gpu]'`)"
        )
    if not _gpu_available():
        raise RuntimeError(
            "zerograd.cuda: CuPy is installed but no CUDA GPU is visible "
            "(check `nvidia-smi` and CUDA_VISIBLE_DEVICES)"
        )
    return cupy


def _data(x: Any) -> Any:
    from zerograd.autograd.variable import Variable

    return x.data if isinstance(x, Variable) else x


def get_array_module(x: Any) -> ModuleType:
    """``cupy`` for CuPy arrays (and Variables holding them), else ``numpy``."""
    if cupy is None:
        return np
    return cupy.get_array_module(_data(x))


def device_of(x: Any) -> str:
    """A readable device name for an array or Variable: ``'cpu'`` or ``'gpu:N'``."""
    data = _data(x)
    if cupy is not None and isinstance(data, cupy.ndarray):
        return f"gpu:{data.device.id}"
    return "cpu"


def check_same_device(name: str, arrays: list[Any]) -> ModuleType:
    """The array module shared by ``arrays``; a ValueError naming ``name`` and the devices
    when a CPU array meets a GPU array (or two GPUs meet)."""
    devices = [device_of(a) for a in arrays if a is not None]
    if len(set(devices)) > 1:
        listing = ", ".join(f"input {i} on {d}" for i, d in enumerate(devices))
        raise ValueError(
            f"{name}: inputs are on different devices ({listing}); move them with "
            f"Variable.to_gpu()/to_cpu() (or Layer.to_gpu()/to_cpu()) first"
        )
    return get_array_module(arrays[0]) if arrays else np


def as_numpy(x: Any) -> np.ndarray:
    """``x`` (array, scalar or Variable) as a NumPy array on the host."""
    x = _data(x)
    if np.isscalar(x):
        return np.array(x)
    if isinstance(x, np.ndarray):
        return x
    if cupy is not None and isinstance(x, cupy.ndarray):
        return cupy.asnumpy(x)
    return np.asarray(x)


def as_cupy(x: Any) -> Any:
    """``x`` (array, scalar or Variable) as a CuPy array on the current GPU."""
    x = _data(x)
    cupy = require_gpu()
    return cupy.asarray(x)


# -- the CuPy extras that functions need (GPU only) -------------------------------------------
def elementwise_kernel(in_params: str, out_params: str, operation: str, name: str) -> Any:
    """A compiled ``cupy.ElementwiseKernel``."""
    return require_gpu().ElementwiseKernel(in_params, out_params, operation, name)


def scatter_add(a: Any, slices: Any, b: Any) -> None:
    """``a[slices] += b`` with repeated indices accumulating, on a CuPy array (for CuPy
    releases whose ``add`` has no ``at``)."""
    import cupyx

    cupyx.scatter_add(a, slices, b)


def erf(x: Any) -> Any:
    """The error function of a CuPy array."""
    from cupyx.scipy.special import erf as cupy_erf

    return cupy_erf(x)
