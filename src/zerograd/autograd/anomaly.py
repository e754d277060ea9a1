"""Anomaly mode: find the forward call behind a failing or non-finite backward.

Off by default and free when off: ``Function.__call__`` reads one context variable and the
backward loop one attribute per function. When on, each recorded function remembers where it
was called (a list of (file, line, name) tuples, formatted only if an error needs it) and
every forward output and backward gradient is checked for NaN and Inf.

>>> import numpy as np, zerograd as zg, zerograd.functions as F
>>> try:
...     with zg.detect_anomaly(), np.errstate(divide="ignore"):
...         y = F.log(zg.Variable(np.array(0.0)))
... except zg.AnomalyError as error:
...     print(str(error).splitlines()[0])
Log.forward produced -inf in output 0 (shape (), dtype float64)
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import traceback
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from zerograd import cuda
from zerograd.autograd.config import ANOMALY, recording_flags, set_flag
from zerograd.autograd.variable import Variable

if TYPE_CHECKING:
    from zerograd.autograd.function import Function


def enabled() -> bool:
    """Whether anomaly mode is on in this context."""
    return bool(recording_flags() & ANOMALY)


# Frames from zerograd's own files are trimmed off the top of a recorded stack, so that its
# last line is the user's call.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class AnomalyError(FloatingPointError):
    """A NaN or Inf appeared in a forward output or a backward gradient.

    ``function`` is the offending ``Function``, ``index`` the output (forward) or input
    (backward) whose value is not finite, ``phase`` is ``"forward"`` or ``"backward"``.
    """

    def __init__(self, message: str, function: Function, index: int, phase: str) -> None:
        super().__init__(message)
        self.function = function
        self.index = index
        self.phase = phase


@contextlib.contextmanager
def detect_anomaly(enabled: bool = True) -> Iterator[None]:
    """Record where each function is called and check every value for NaN and Inf.

    Inside the block, an exception raised in a backward is re-raised with the traceback of
    the forward call that created the function, and a non-finite forward output or backward
    gradient raises ``AnomalyError`` naming the function, the index and where it was created.
    Run the forward pass inside the block: that is when the call sites are recorded (for
    functions that enter the graph; nothing is checked under ``no_grad``). The setting is
    context-local, like ``no_grad``.
    """
    with set_flag(ANOMALY, enabled):
        yield


class ForwardStack:
    """Where a function was called in the forward pass, formatted like a traceback on demand."""

    __slots__ = ("frames",)

    def __init__(self, frames: list[tuple[str, int, str]]) -> None:
        self.frames = frames  # outermost first

    def __str__(self) -> str:
        summary = traceback.StackSummary.from_list(
            [traceback.FrameSummary(name, line, func) for name, line, func in self.frames]
        )
        return "".join(summary.format())

    def __repr__(self) -> str:
        return f"<ForwardStack of {len(self.frames)} frames>"


def _capture(skip: int) -> ForwardStack:
    """The caller's stack minus ``skip`` frames, with zerograd's innermost frames trimmed."""
    frame: Any = sys._getframe(skip + 1)
    frames = []
    while frame is not None:
        code = frame.f_code
        frames.append((code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    start = 0
    while start < len(frames) and frames[start][0].startswith(_PACKAGE_DIR):
        start += 1
    if start < len(frames):  # keep everything when zerograd itself made the call
        del frames[:start]
    frames.reverse()
    return ForwardStack(frames)


def _where(f: Function) -> str:
    stack = f._forward_stack
    if stack is None:
        return ""
    return f"\n{type(f).__name__} was created at (most recent call last):\n{stack}"


def _as_array(x: Any) -> Any:
    """The array behind ``x`` (an array's own ``.data`` is a raw buffer, not this)."""
    if isinstance(x, Variable):
        return x.data
    if x is None or hasattr(x, "dtype"):
        return x
    return np.asarray(x)


def _bad_values(x: Any) -> str | None:
    """``None`` if ``x`` (array, scalar or Variable) is finite, else which bad values it holds."""
    data = _as_array(x)
    if data is None or data.dtype.kind not in "fc":
        return None
    if data.dtype.kind == "f" and data.size == 1 and isinstance(data, (np.ndarray, np.generic)):
        value = float(data.reshape(()))  # one number (a chain of scalars): skip the ufuncs
        if math.isfinite(value):
            return None
        return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    xp = cuda.get_array_module(data)
    if bool(xp.isfinite(data).all()):
        return None
    kinds = []
    if bool(xp.isnan(data).any()):
        kinds.append("NaN")
    if data.dtype.kind == "f":
        if bool((data == xp.inf).any()):
            kinds.append("inf")
        if bool((data == -xp.inf).any()):
            kinds.append("-inf")
    elif "NaN" not in kinds:
        kinds.append("Inf")
    return " and ".join(kinds)


def _describe(x: Any) -> str:
    data = _as_array(x)
    return f"shape {tuple(data.shape)}, dtype {data.dtype}"


def check_forward(f: Function, ys: Any) -> None:
    """Remember where ``f`` was called; fail on a non-finite output."""
    f._forward_stack = _capture(1)  # zerograd's own frames are trimmed off
    f._short_backward = False  # backward checks this function's gradients
    for i, y in enumerate(ys):
        bad = _bad_values(y)
        if bad is not None:
            raise AnomalyError(
                f"{type(f).__name__}.forward produced {bad} in output {i} "
                f"({_describe(y)}){_where(f)}",
                f,
                i,
                "forward",
            )


def check_backward(f: Function, gxs: Any) -> None:
    """Fail on a non-finite gradient returned by ``f.backward``."""
    for i, gx in enumerate(gxs):
        bad = None if gx is None else _bad_values(gx)
        if bad is not None:
            raise AnomalyError(
                f"{type(f).__name__}.backward returned {bad} in the gradient of input {i} "
                f"({_describe(gx)}){_where(f)}",
                f,
                i,
                "backward",
            )


def annotate(f: Function, error: BaseException) -> None:
    """Attach the forward traceback of ``f`` to an exception raised in its backward."""
    note = f"The failing backward belongs to {type(f).__name__}.{_where(f)}"
    if hasattr(error, "add_note"):
        error.add_note(note)
    else:  # Python 3.10 has no notes: keep the list (as 3.11 would) and, since its tracebacks
        # do not show notes, append the note to a one-string message
        error.__notes__ = [*getattr(error, "__notes__", ()), note]  # type: ignore[attr-defined]
        if len(error.args) == 1 and isinstance(error.args[0], str):
            error.args = (f"{error.args[0]}\n{note}",)
        else:
            error.args = (*error.args, note)
