"""safetensors files, read without the safetensors package: the header (8-byte length,
JSON) is checked in full (dtypes, shapes, offsets that tile the data) before any tensor's
bytes are read."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from zerograd.serialization._archive import (
    MAX_MEMBERS,
    META_KEY,
    Archive,
    Entry,
    check_shape,
    parse_json,
)

_MAX_ST_HEADER = 64 << 20

_ST_DTYPES = {
    "BOOL": "|b1",
    "U8": "|u1",
    "I8": "|i1",
    "U16": "<u2",
    "I16": "<i2",
    "F16": "<f2",
    "U32": "<u4",
    "I32": "<i4",
    "F32": "<f4",
    "U64": "<u8",
    "I64": "<i8",
    "F64": "<f8",
}
_ST_FIELDS = {"dtype", "shape", "data_offsets"}


def read_headers(archive: Archive) -> None:
    """The header (8-byte length, JSON) checked in full: every tensor's dtype, shape and
    offsets, which must tile the data section exactly, as the format requires."""
    f = archive._file
    size = os.fstat(f.fileno()).st_size
    prefix = f.read(8)
    length = int.from_bytes(prefix, "little")
    if len(prefix) < 8 or length > min(size - 8, _MAX_ST_HEADER):
        raise archive.error(
            f"not a valid safetensors file: its header claims {length} bytes, but the file "
            f"has {size} bytes (header limit {_MAX_ST_HEADER})"
        )
    header = parse_json(f.read(length), archive.where("header"), _MAX_ST_HEADER)
    if not isinstance(header, dict):
        raise archive.error("not a valid safetensors file: its header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise archive.error("safetensors __metadata__ is not an object of strings")
    if len(header) > MAX_MEMBERS:
        raise archive.error(f"{len(header)} tensors; expected at most {MAX_MEMBERS}")
    data_start = 8 + length
    spans = []
    for name, spec in header.items():
        if not isinstance(spec, dict) or set(spec) != _ST_FIELDS:
            raise archive.error(
                f"tensor {name!r} is described by {str(spec)[:80]}; expected an object with "
                f"the fields {sorted(_ST_FIELDS)}"
            )
        code = spec["dtype"]
        if not isinstance(code, str) or code not in _ST_DTYPES:
            raise archive.error(
                f"tensor {name!r} has dtype {str(code)[:20]!r}; expected one of "
                f"{sorted(_ST_DTYPES)} (NumPy has no bfloat16 or float8)"
            )
        shape = check_shape(archive, name, spec["shape"])
        offsets = spec["data_offsets"]
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(type(n) is int for n in offsets)
            and 0 <= offsets[0] <= offsets[1]
        ):
            raise archive.error(
                f"tensor {name!r} has data_offsets {str(offsets)[:80]}; expected [begin, end]"
            )
        begin, end = offsets
        entry = Entry(
            name,
            shape,
            np.dtype(_ST_DTYPES[code]),
            False,
            _st_reader(archive, name, data_start + begin, end - begin),
        )
        if end - begin != entry.nbytes:
            raise archive.error(
                f"tensor {name!r} spans {end - begin} bytes, but its shape {shape} and dtype "
                f"{code} need {entry.nbytes}"
            )
        archive.entries[name] = entry
        spans.append((begin, end, name))
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            raise archive.error(
                f"tensor {name!r} starts at data offset {begin}, expected {position}: tensors "
                f"must tile the data section without gaps or overlaps"
            )
        position = end
    if data_start + position != size:
        raise archive.error(
            f"the tensors end at byte {data_start + position}, but the file has {size} bytes "
            f"(truncated, or trailing data)"
        )
    if META_KEY in metadata:
        # JSON may escape lone surrogates ("\udcff"): kept as bytes, refused as not UTF-8.
        raw = metadata[META_KEY].encode("utf-8", errors="surrogatepass")
        archive.meta = parse_json(raw, archive.where(META_KEY))


def _st_reader(archive: Archive, name: str, start: int, count: int) -> Callable[[], bytes]:
    def read() -> bytes:
        archive._file.seek(start)
        data = archive._file.read(count)
        if len(data) != count:
            raise archive.error(f"tensor {name!r} is truncated")
        return data

    return read
