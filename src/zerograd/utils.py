"""DeZero's ``dezero.utils`` import path: graph drawing, gradient checks and array helpers.

Names are re-exported from where they live; heavy or optional parts load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from zerograd.autograd.function import sum_to_array as sum_to
from zerograd.functions.reduction import reshape_sum_backward
from zerograd.testing import array_allclose, array_equal, gradient_check, numerical_grad

_LAZY = {
    "get_dot_graph": "zerograd.viz.dot",
    "plot_dot_graph": "zerograd.viz.dot",
    "get_conv_outsize": "zerograd.functions._im2col",
    "get_deconv_outsize": "zerograd.functions._im2col",
    "pair": "zerograd.functions._im2col",
    "get_file": "zerograd.datasets._download",
    "cache_dir": "zerograd.datasets._download",
}

__all__ = [
    "array_allclose",
    "array_equal",
    "gradient_check",
    "logsumexp",
    "numerical_grad",
    "reshape_sum_backward",
    "sum_to",
    *sorted(_LAZY),
]


def logsumexp(x: Any, axis: int = 1) -> Any:
    """``log(sum(exp(x), axis))`` on arrays, computed stably (DeZero's helper)."""
    from zerograd import cuda
    from zerograd.functions._util import logsumexp_array, normalize_axis

    axes = normalize_axis("logsumexp", axis, x.ndim)
    return logsumexp_array(cuda.get_array_module(x), x, axes)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'zerograd.utils' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)


del np
