"""The reading side's common parts: ``CheckpointError``, the limits, bounded JSON, and
``Archive``/``Entry``: a file's array headers, parsed before any data is read.

Reading never trusts a size, a count or a nesting depth found in a file: every header is
parsed and bounded before any member's data is read, so a file that claims 2^40 elements, a
deflate bomb or JSON nested 10^5 deep is refused without allocating or recursing.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

META_KEY = "__zerograd__"
MAX_JSON_BYTES = 16 << 20  # a checkpoint's JSON header (a CLI run's loader index included)
MAX_JSON_DEPTH = 64
MAX_JSON_CONTAINERS = 1 << 18  # objects + arrays (3 per safetensors tensor): bounds memory
MAX_MEMBERS = 1 << 17  # arrays in one file (a model's parameters times optimizer slots)
MAX_NDIM = 32  # NumPy 1.x's limit
_SAFE_KINDS = "biufc"  # bool, integers, floats, complex: no objects, strings or records


class CheckpointError(ValueError):
    """A weight or checkpoint file that cannot be used: unreadable, truncated, of the wrong
    format, hostile (huge claimed sizes, bombs, deep nesting), or not matching the model,
    optimizer or RNG. Raised before anything is changed."""


CheckpointError.__module__ = "zerograd.serialization"  # where users import it from


# -- JSON ------------------------------------------------------------------------------------
# A JSON string (an unterminated one runs to the end, so every match attempt succeeds at once
# and the scan stays linear) or one bracket.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)|[][{}]', re.DOTALL)


def parse_json(raw: bytes, where: str, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """``json.loads`` for untrusted bytes: size, nesting depth and container count are
    checked first by a flat scan (the parser recurses once per level), duplicate keys are
    refused."""
    if len(raw) > max_bytes:
        raise CheckpointError(f"{where}: {len(raw)} bytes of JSON; expected at most {max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CheckpointError(f"{where}: not UTF-8 text ({error})") from None
    # Counted in C first (brackets in strings too), so the scan below is short.
    if text.count("[") + text.count("{") > MAX_JSON_CONTAINERS:
        raise CheckpointError(f"{where}: more than {MAX_JSON_CONTAINERS} JSON objects and arrays")
    if text.count('"') > 4 * MAX_JSON_CONTAINERS:
        raise CheckpointError(f"{where}: more than {2 * MAX_JSON_CONTAINERS} JSON strings")
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token == "[" or token == "{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise CheckpointError(f"{where}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
        elif token == "]" or token == "}":
            depth -= 1
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except ValueError as error:  # JSONDecodeError, duplicate keys, over-long integers
        raise CheckpointError(f"{where}: unreadable JSON ({error})") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"key {key!r} appears twice in one object")
        obj[key] = value
    return obj


# -- archives --------------------------------------------------------------------------------
@dataclass
class Entry:
    """One array of a file, known from its header; ``read()`` reads and checks its data."""

    name: str
    shape: tuple[int, ...]
    file_dtype: np.dtype  # as stored: its byte order may be foreign
    fortran: bool
    _read: Callable[[], bytes]

    @property
    def dtype(self) -> np.dtype:
        """The dtype ``read()`` returns (native byte order)."""
        return self.file_dtype.newbyteorder("=")

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.file_dtype.itemsize

    def read(self) -> np.ndarray:
        """The array: a writable C-contiguous copy in native byte order."""
        array = np.frombuffer(self._read(), self.file_dtype)
        array = array.reshape(self.shape, order="F" if self.fortran else "C")
        return np.array(array, dtype=self.dtype, order="C")


class Archive:
    """An open weight file: its JSON header (``meta``, or None) and its arrays' headers."""

    def __init__(self, path: str, what: str, f: IO[bytes]) -> None:
        self.path, self.what, self._file = path, what, f
        self.meta: Any = None
        self.entries: dict[str, Entry] = {}
        self._zip: zipfile.ZipFile | None = None

    def where(self, field: str) -> str:
        return f"{self.what}: {self.path!r}: {field}"

    def error(self, message: str) -> CheckpointError:
        return CheckpointError(self.where(message))

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._zip is not None:
            self._zip.close()
        self._file.close()


def open_archive(path: str, what: str) -> Archive:
    """Open ``path`` (npz, or safetensors by extension) and read every header; no data."""
    from zerograd.serialization import _npz, _safetensors

    f = open(path, "rb")  # the Archive closes it
    archive = Archive(path, what, f)
    try:
        if path.endswith(".safetensors"):
            _safetensors.read_headers(archive)
        else:
            _npz.read_headers(archive)
    except BaseException:
        archive.__exit__()
        raise
    return archive


def check_dtype(archive: Archive, name: str, dtype: np.dtype) -> None:
    if dtype.hasobject:
        raise archive.error(
            f"member {name!r} holds Python objects (dtype {dtype}, stored as a pickle); "
            f"refused: a weight file holds numbers only"
        )
    if dtype.kind not in _SAFE_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise archive.error(
            f"member {name!r} has dtype {dtype}; expected a bool, integer, float or complex dtype"
        )


def check_shape(archive: Archive, name: str, shape: Any) -> tuple[int, ...]:
    ok = isinstance(shape, (list, tuple)) and len(shape) <= MAX_NDIM
    if ok and all(type(n) is int and n >= 0 for n in shape):
        return tuple(shape)
    raise archive.error(
        f"member {name!r} has shape {str(shape)[:80]}; expected at most {MAX_NDIM} "
        f"non-negative integers"
    )
