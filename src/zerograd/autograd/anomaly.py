"""Anomaly mode: find the forward call behind a failing or non-finite backward.

Off by default and free when off: the engine reads one context variable per call.
"""

from __future__ import annotations

import contextlib
import contextvars
import traceback
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from zerograd.autograd.function import Function

_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("zerograd_anomaly", default=False)
enabled = _enabled.get


class AnomalyError(FloatingPointError):
    """A NaN or Inf appeared in a forward output or a backward gradient."""


@contextlib.contextmanager
def detect_anomaly(enabled: bool = True) -> Iterator[None]:
    """Record where each function is called and check every value for NaN and Inf.

    Inside the block, an exception raised in a backward is re-raised with the traceback of
    the forward call that created the function, and a non-finite forward output or backward
    gradient raises ``AnomalyError`` naming the function, the index and where it was created.
    """
    token = _enabled.set(enabled)
    try:
        yield
    finally:
        _enabled.reset(token)


def _where(f: Function) -> str:
    stack = f._forward_stack
    return f"\n{type(f).__name__} was created at (most recent call last):\n{stack}" if stack else ""


def _user_stack() -> str:
    frames = [
        fr for fr in traceback.extract_stack()[:-3] if "/zerograd/autograd/" not in fr.filename
    ]
    return "".join(traceback.format_list(frames))


def _finite(x: Any) -> bool:
    data = getattr(x, "data", x)
    if data is None or getattr(data, "dtype", np.dtype(object)).kind not in "fc":
        return True
    return bool(data.dtype.type(0) == 0 and np.isfinite(data).all())


def check_forward(f: Function, ys: list[Any]) -> None:
    """Remember where ``f`` was called; fail on a non-finite output."""
    f._forward_stack = _user_stack()
    for i, y in enumerate(ys):
        if not _finite(y):
            raise AnomalyError(
                f"{type(f).__name__}.forward produced NaN or Inf in output {i} "
                f"(shape {y.shape}, dtype {y.dtype}){_where(f)}"
            )


def check_backward(f: Function, gxs: Any) -> None:
    """Fail on a non-finite gradient returned by ``f.backward``."""
    for i, gx in enumerate(gxs):
        if gx is not None and not _finite(gx):
            raise AnomalyError(
                f"{type(f).__name__}.backward returned NaN or Inf in the gradient of input {i} "
                f"(shape {gx.shape}, dtype {gx.dtype}){_where(f)}"
            )


def annotate(f: Function, error: BaseException) -> None:
    """Attach the forward traceback of ``f`` to an exception raised in its backward."""
    note = f"The failing backward belongs to {type(f).__name__}.{_where(f)}"
    if hasattr(error, "add_note"):
        error.add_note(note)
    else:  # Python 3.10
        error.args = (*error.args, note)
