"""Bytes for the object collectives (``bcast_obj``, ``gather_obj``, ``allreduce_obj``) without
pickle: a JSON header listing the object's nodes in pre-order, then every array's raw bytes.

Supported: None, bool, int, float, str, and lists, tuples and dicts of them, NumPy arrays and
scalars of numeric or bool dtype (CuPy arrays travel through the host and arrive as NumPy).
Anything else raises a TypeError at the sender, naming the type. The header is a flat list,
and both walks use explicit stacks, so nesting depth is not bounded by Python's stack.

>>> import numpy as np
>>> obj = {"epoch": 3, "loss": (0.5, np.arange(3.0))}
>>> back = decode(encode(obj))
>>> back["epoch"], back["loss"][0], back["loss"][1].tolist()
(3, 0.5, [0.0, 1.0, 2.0])
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

from zerograd import cuda

__all__ = ["decode", "encode"]

_HEADER = struct.Struct("<Q")  # the JSON header's length in bytes
_CONTAINERS = {"l": list, "t": tuple, "d": dict}


def encode(obj: Any, where: str = "encode") -> bytes:
    """``obj`` as bytes; ``where`` names the caller in errors."""
    nodes: list[list[Any]] = []
    arrays: list[np.ndarray] = []
    stack = [obj]
    while stack:
        item = stack.pop()
        if item is None or isinstance(item, (bool, int, float, str)):
            nodes.append(["v", item])
        elif isinstance(item, (list, tuple)):
            nodes.append(["l" if isinstance(item, list) else "t", len(item)])
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            nodes.append(["d", len(item)])
            for k, v in reversed(item.items()):
                stack.extend((v, k))
        elif isinstance(item, (np.ndarray, np.generic)) or cuda.is_device_array(item):
            array = np.asarray(cuda.as_numpy(item))  # tobytes() below writes C order
            if array.dtype.kind not in "biufc":
                raise TypeError(f"{where}: cannot send an array of dtype {array.dtype}")
            nodes.append(["a", array.dtype.str, list(array.shape), isinstance(item, np.generic)])
            arrays.append(array)
        else:
            raise TypeError(
                f"{where}: cannot send an object of type {type(item).__name__}; send None, "
                f"bool, int, float, str, lists/tuples/dicts of them, or NumPy arrays"
            )
    header = json.dumps(nodes, separators=(",", ":")).encode()
    return b"".join([_HEADER.pack(len(header)), header, *(a.tobytes() for a in arrays)])


def decode(blob: bytes | bytearray | memoryview) -> Any:
    """The object ``encode`` turned into ``blob``; ValueError if the bytes are damaged."""
    view = memoryview(blob).cast("B")
    if len(view) < _HEADER.size:
        raise ValueError(f"decode: {len(view)} bytes is too short for a header")
    (length,) = _HEADER.unpack(view[: _HEADER.size])
    offset = _HEADER.size + length
    if offset > len(view):
        raise ValueError(f"decode: a header of {length} bytes runs past the {len(view)} received")
    try:
        nodes = json.loads(bytes(view[_HEADER.size : offset]))
    except ValueError as error:
        raise ValueError(f"decode: damaged header ({error})") from None
    # Open containers: [kind, items still expected, items so far].
    open_: list[list[Any]] = [["l", 1, []]]
    for node in nodes:
        kind = node[0]
        if kind in _CONTAINERS:
            open_.append([kind, int(node[1]) * (2 if kind == "d" else 1), []])
            value = None
        elif kind == "v":
            value = node[1]
        elif kind == "a":
            dtype, shape = np.dtype(node[1]), tuple(int(n) for n in node[2])
            if dtype.kind not in "biufc":
                raise ValueError(f"decode: unexpected array dtype {dtype}")
            end = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if end > len(view):
                raise ValueError("decode: the arrays run past the bytes received")
            array = np.frombuffer(view[offset:end], dtype=dtype).reshape(shape).copy()
            offset = end
            value = array[()] if node[3] else array
        else:
            raise ValueError(f"decode: unexpected node {node!r}")
        if kind not in _CONTAINERS:
            open_[-1][2].append(value)
        while len(open_) > 1 and len(open_[-1][2]) == open_[-1][1]:  # close full containers
            done_kind, _, items = open_.pop()
            if done_kind == "d":
                open_[-1][2].append(dict(zip(items[0::2], items[1::2])))
            else:
                open_[-1][2].append(_CONTAINERS[done_kind](items))
    top = open_[0][2]
    if len(open_) != 1 or len(top) != 1:
        raise ValueError("decode: the header ends inside a container")
    if offset != len(view):
        raise ValueError(f"decode: {len(view) - offset} bytes left over after the arrays")
    return top[0]
