"""Helpers shared by the function families (private)."""

from __future__ import annotations

from typing import Any


def shape_error(name: str, *arrays: Any, expected: str) -> ValueError:
    """A ValueError naming the function, the shapes it got and what it expected."""
    shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
    return ValueError(f"{name}: got shapes {shapes}; expected {expected}")


def broadcast_error(name: str, x0: Any, x1: Any) -> ValueError:
    return shape_error(name, x0, x1, expected="shapes that broadcast together")


def normalize_axis(name: str, axis: Any, ndim: int) -> tuple[int, ...] | None:
    """Check ``axis`` (None, int or tuple) against ``ndim`` and return it as a sorted tuple."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    result = []
    for a in axes:
        if not isinstance(a, int) or not -ndim <= a < max(ndim, 1):
            raise ValueError(
                f"{name}: axis {axis!r} is out of range for an array of {ndim} dimension(s)"
            )
        result.append(a % ndim if ndim else 0)
    if len(set(result)) != len(result):
        raise ValueError(f"{name}: axis {axis!r} repeats an axis")
    return tuple(sorted(result))
