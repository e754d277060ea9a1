"""Reducing Python objects leaf by leaf (``allreduce_obj``): numbers and arrays inside
lists, tuples and dicts of the same structure on every rank. Iterative: nesting depth is not
bounded by Python's stack."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

REDUCE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "sum": lambda a, b: a + b,
    "mean": lambda a, b: a + b,  # divided by size at the end
    "max": lambda a, b: np.maximum(a, b) if isinstance(a, np.ndarray) else max(a, b),
    "min": lambda a, b: np.minimum(a, b) if isinstance(a, np.ndarray) else min(a, b),
}


def zip_apply(a: Any, b: Any, fn: Callable[[Any, Any], Any], where: str) -> Any:
    """``fn`` applied leaf by leaf to two objects of the same structure (``b=None``: one)."""
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, Any]] = [(a, b, root, 0)]
    while stack:
        x, y, parent, key = stack.pop()
        if isinstance(x, (list, tuple)):
            if y is not None and (type(y) is not type(x) or len(y) != len(x)):
                raise ValueError(f"{where} sent {_kind(y)} where rank 0 sent {_kind(x)}")
            items: list[Any] = [None] * len(x) if isinstance(x, list) else _Later([None] * len(x))
            parent[key] = items
            ys = [None] * len(x) if y is None else y
            stack.extend((xi, yi, items, i) for i, (xi, yi) in enumerate(zip(x, ys)))
        elif isinstance(x, dict):
            if y is not None and (not isinstance(y, dict) or y.keys() != x.keys()):
                raise ValueError(f"{where} sent {_kind(y)} where rank 0 sent {_kind(x)}")
            out = dict.fromkeys(x)  # keys in rank 0's order; values filled in below
            parent[key] = out
            stack.extend((v, None if y is None else y[k], out, k) for k, v in x.items())
        elif isinstance(x, (bool, int, float, np.ndarray, np.generic)):
            if y is not None and not isinstance(y, (bool, int, float, np.ndarray, np.generic)):
                raise ValueError(f"{where} sent {_kind(y)} where rank 0 sent a number")
            if isinstance(x, np.ndarray) and y is not None and np.shape(y) != x.shape:
                raise ValueError(f"{where} sent shape {np.shape(y)} where rank 0 sent {x.shape}")
            parent[key] = fn(x, y)
        else:
            raise TypeError(f"allreduce_obj: cannot reduce {_kind(x)}; send numbers or arrays")
    return _Later.finish(root[0])


def _kind(x: Any) -> str:
    if isinstance(x, (list, tuple, dict)):
        return f"a {type(x).__name__} of {len(x)}"
    return f"a {type(x).__name__}"


class _Later(list):  # type: ignore[type-arg]
    """A tuple whose items are filled in after it is placed (turned into one by finish)."""

    @staticmethod
    def finish(obj: Any) -> Any:
        order: list[Any] = []
        stack = [obj]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                order.append(item)
                stack.extend(item)
            elif isinstance(item, dict):
                order.append(item)
                stack.extend(item.values())
        done: dict[int, Any] = {}
        for item in reversed(order):  # children before parents
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for k, v in list(pairs):
                item[k] = done.get(id(v), v)
            if isinstance(item, _Later):
                done[id(item)] = tuple(item)
        return done.get(id(obj), obj)
