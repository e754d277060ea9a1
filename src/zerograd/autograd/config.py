"""Context-local configuration: ``Config``, ``using_config``, ``no_grad``, ``test_mode``.

DeZero keeps ``Config.enable_backprop`` and ``Config.train`` as class attributes of a process
global. zerograd keeps the same spelling but stores the values in ``contextvars``, so that
``no_grad()`` in one thread (or asyncio task) never switches recording off in another.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

_enable_backprop: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "zerograd_enable_backprop", default=True
)
_train: contextvars.ContextVar[bool] = contextvars.ContextVar("zerograd_train", default=True)
_VARS = {"enable_backprop": _enable_backprop, "train": _train}

# Read on the hot path (Function.__call__) without an attribute lookup on Config.
backprop_enabled = _enable_backprop.get

#: What a recorded call does beyond the usual, as bits of one context variable, so that the
#: call reads a single value for all of them (0: nothing more).
ANOMALY = 1  # check values and remember the forward stack (``detect_anomaly``)
KEEP_INPUTS = 2  # keep every input Variable (``keep_inputs``)
_recording: contextvars.ContextVar[int] = contextvars.ContextVar("zerograd_recording", default=0)
recording_flags = _recording.get


@contextlib.contextmanager
def set_flag(flag: int, enabled: bool = True) -> Iterator[None]:
    """Turn one of the recording flags on (or off) inside the block, context-locally."""
    flags = _recording.get()
    token = _recording.set(flags | flag if enabled else flags & ~flag)
    try:
        yield
    finally:
        _recording.reset(token)


class _ConfigMeta(type):
    """Makes ``Config.enable_backprop`` and ``Config.train`` read and write context variables."""

    def __getattr__(cls, name: str) -> Any:
        var = _VARS.get(name)
        if var is None:
            raise AttributeError(f"Config has no setting {name!r}; known: {sorted(_VARS)}")
        return var.get()

    def __setattr__(cls, name: str, value: Any) -> None:
        var = _VARS.get(name)
        if var is None:
            raise AttributeError(f"Config has no setting {name!r}; known: {sorted(_VARS)}")
        var.set(value)


class Config(metaclass=_ConfigMeta):
    """Global switches, as in DeZero: ``Config.enable_backprop`` and ``Config.train``.

    The values are context-local: each thread starts with the defaults (both ``True``).
    """


@contextlib.contextmanager
def using_config(name: str, value: Any) -> Iterator[None]:
    """Temporarily set ``Config.<name>`` to ``value`` in the current context."""
    var = _VARS.get(name)
    if var is None:
        raise AttributeError(f"using_config: unknown setting {name!r}; known: {sorted(_VARS)}")
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Run the block without recording the graph (``enable_backprop = False``)."""
    return using_config("enable_backprop", False)


def test_mode() -> contextlib.AbstractContextManager[None]:
    """Run the block in inference mode (``train = False``): dropout off, batch norm frozen."""
    return using_config("train", False)


test_mode.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
