"""Packing a model's arrays into one flat buffer per dtype (and device) for one collective
each, and the per-rank agreement checks that keep those buffers the same on every rank."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.autograd import Parameter, Variable

# dtypes MPI and NCCL cannot add on every platform: summed in a wider float.
_REDUCE_DTYPE = {np.dtype(np.float16): np.dtype(np.float32)}


def named_params(target: Any, where: str) -> list[tuple[str, Parameter]]:
    """``(name, parameter)`` of a Layer (dotted names) or of an iterable of Parameters."""
    if hasattr(target, "named_params"):
        return list(target.named_params())
    if hasattr(target, "params"):
        return [(str(i), p) for i, p in enumerate(target.params())]
    try:
        items = list(target)
    except TypeError:
        raise TypeError(
            f"{where}: expected a Layer or a list of Parameters, got {type(target).__name__}"
        ) from None
    for i, p in enumerate(items):
        if not isinstance(p, Variable):
            raise TypeError(f"{where}: item {i} is a {type(p).__name__}, not a Parameter")
    return [(str(i), p) for i, p in enumerate(items)]


def named_buffers(target: Any) -> list[tuple[str, Variable]]:
    """``(name, buffer)`` of a Layer (BatchNorm's running statistics...); none for a list."""
    return list(target.named_buffers()) if hasattr(target, "named_buffers") else []


def signature(entries: list[tuple[str, Variable]]) -> list[Any]:
    """What must agree across ranks for the buffers to line up: names, shapes and dtypes."""
    return [
        [name, None, None] if v.data is None else [name, list(v.data.shape), v.data.dtype.str]
        for name, v in entries
    ]


def first_difference(signatures: list[list[Any]]) -> str | None:
    """A sentence naming the first rank and entry whose signature differs from rank 0's."""
    ref = signatures[0]
    for rank, sig in enumerate(signatures[1:], start=1):
        if sig == ref:
            continue
        for mine, theirs in zip(ref, sig):
            if mine != theirs:
                return f"rank 0 has {_entry(mine)} where rank {rank} has {_entry(theirs)}"
        return f"rank 0 has {len(ref)} arrays where rank {rank} has {len(sig)}"
    return None


def _entry(e: list[Any]) -> str:
    name, shape, dtype = e
    if shape is None:
        return f"{name!r} (not created yet)"
    return f"{name!r} of shape {tuple(shape)} and dtype {np.dtype(dtype)}"


class Group:
    """The arrays of one device and dtype, laid out back to back in one 1-D buffer."""

    def __init__(self, xp: Any, dtype: np.dtype, entries: list[tuple[str, Variable]]) -> None:
        self.xp = xp
        self.dtype = dtype
        self.reduce_dtype = _REDUCE_DTYPE.get(dtype, dtype)
        self.entries = entries
        self.sizes = [int(v.data.size) for _, v in entries]
        self.total = sum(self.sizes)

    def spans(self) -> Iterator[tuple[str, Variable, int, int]]:
        offset = 0
        for (name, v), n in zip(self.entries, self.sizes):
            yield name, v, offset, offset + n
            offset += n

    def empty(self, extra: int = 0, dtype: Any = None) -> Any:
        return self.xp.empty(self.total + extra, dtype=dtype or self.reduce_dtype)

    def pack(self, arrays: list[Any], extra: int = 0) -> Any:
        """One buffer with ``arrays`` (None: zeros) back to back, ``extra`` slots after them."""
        buf = self.empty(extra)
        for (_, _, lo, hi), a in zip(self.spans(), arrays):
            if a is None:
                buf[lo:hi] = 0
            else:
                buf[lo:hi] = a.reshape(-1)
        return buf

    def view(self, buf: Any, lo: int, hi: int, shape: tuple[int, ...]) -> Any:
        """``buf[lo:hi]`` as an array of ``shape`` and this group's dtype (a view if it can)."""
        return buf[lo:hi].reshape(shape).astype(self.dtype, copy=False)


def groups(entries: Sequence[tuple[str, Variable]]) -> list[Group]:
    """The entries with data, grouped by (device, dtype), in order of first appearance."""
    found: dict[tuple[str, str], tuple[Any, np.dtype, list[tuple[str, Variable]]]] = {}
    for name, v in entries:
        if v.data is None:
            continue
        xp = cuda.get_array_module(v.data)
        key = (xp.__name__, v.data.dtype.str)
        if key not in found:
            found[key] = (xp, np.dtype(v.data.dtype), [])
        found[key][2].append((name, v))
    return [Group(xp, dtype, items) for xp, dtype, items in found.values()]
