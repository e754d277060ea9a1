"""npz files (DeZero's format, ``numpy.savez``): a zip of ``.npy`` members, each read header
first; the zip's records are checked against what each header needs, so nothing is inflated
beyond a few KB before the member is known to fit."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from typing import IO

import numpy as np

from zerograd.serialization._archive import (
    MAX_JSON_BYTES,
    MAX_MEMBERS,
    META_KEY,
    Archive,
    Entry,
    check_dtype,
    check_shape,
    parse_json,
)

_MAX_NPY_HEADER = 10000  # numpy.load's own default limit
_DEFLATE_MAX_RATIO = 1032  # deflate cannot expand one byte into more than this

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members; an empty zip
_NPY_MAGIC = b"\x93NUMPY"
# What zipfile and zlib raise on damaged data (BadZipFile, CRC, truncated deflate streams).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    struct.error,
    ValueError,
    OSError,
    NotImplementedError,
)


def read_headers(archive: Archive) -> None:
    f = archive._file
    magic = f.read(4)
    if magic not in _ZIP_MAGICS:
        raise archive.error(
            f"not an npz file (it starts with {magic!r}, not a zip signature); expected a file "
            f"written by save_weights, zerograd.save or numpy.savez"
        )
    size = os.fstat(f.fileno()).st_size
    count = _zip_entry_count(f, size)
    if count is not None and count > MAX_MEMBERS:
        raise archive.error(f"{count} members; expected at most {MAX_MEMBERS}")
    f.seek(0)
    try:
        archive._zip = zf = zipfile.ZipFile(f)
        infos = zf.infolist()
    except _ZIP_ERRORS as error:
        raise archive.error(f"damaged or truncated ({type(error).__name__}: {error})") from None
    if len(infos) > MAX_MEMBERS:
        raise archive.error(f"{len(infos)} members; expected at most {MAX_MEMBERS}")
    for info in infos:
        name = info.filename
        if not name.endswith(".npy"):
            raise archive.error(f"member {name!r} is not an .npy array")
        key = name[:-4]
        if key in archive.entries:
            raise archive.error(f"member {name!r} appears twice")
        archive.entries[key] = _npy_entry(archive, zf, info, size)
    meta = archive.entries.pop(META_KEY, None)
    if meta is not None:
        if meta.dtype != np.uint8 or len(meta.shape) != 1 or meta.nbytes > MAX_JSON_BYTES:
            raise archive.error(
                f"member {META_KEY!r} is {meta.dtype} {meta.shape}; expected the JSON header "
                f"as uint8 bytes, at most {MAX_JSON_BYTES}"
            )
        archive.meta = parse_json(meta.read().tobytes(), archive.where(META_KEY))


def _npy_entry(archive: Archive, zf: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> Entry:
    """Parse one member's npy header and check the zip's sizes against it, inflating only
    the header (a few KB) whatever the member claims."""
    name = info.filename[:-4]
    if info.flag_bits & 0x1:
        raise archive.error(f"member {name!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise archive.error(
            f"member {name!r} uses zip compression method {info.compress_type}; expected "
            f"stored or deflated (numpy.savez, numpy.savez_compressed)"
        )
    if info.header_offset + info.compress_size > size:
        raise archive.error(
            f"member {name!r} claims {info.compress_size} compressed bytes at offset "
            f"{info.header_offset}, beyond the end of the file ({size} bytes): truncated"
        )
    try:
        with zf.open(info) as stream:
            preamble = stream.read(len(_NPY_MAGIC) + 2)
            if len(preamble) < 8 or preamble[:6] != _NPY_MAGIC:
                raise archive.error(f"member {name!r} is not an .npy array (no npy header)")
            version = (preamble[6], preamble[7])
            if version not in ((1, 0), (2, 0)):
                raise archive.error(
                    f"member {name!r} has npy format version {version}; expected (1, 0) or (2, 0)"
                )
            length_field = stream.read(2 if version == (1, 0) else 4)
            length = int.from_bytes(length_field, "little")
            if len(length_field) not in (2, 4) or length > _MAX_NPY_HEADER:
                raise archive.error(
                    f"member {name!r} has an npy header of {length} bytes; expected at most "
                    f"{_MAX_NPY_HEADER}"
                )
            header = stream.read(length)
    except _ZIP_ERRORS as error:
        raise archive.error(
            f"member {name!r} is damaged ({type(error).__name__}: {error})"
        ) from None
    if len(header) != length:
        raise archive.error(f"member {name!r} is truncated inside its npy header")
    reader = np.lib.format.read_array_header_1_0
    if version == (2, 0):
        reader = np.lib.format.read_array_header_2_0
    try:
        # NumPy's own parser (ast.literal_eval) on at most 10 KB: its parser reports deep
        # nesting as SyntaxError or MemoryError (its stack), neither of which is real OOM.
        raw_shape, fortran, dtype = reader(io.BytesIO(length_field + header))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as error:
        raise archive.error(f"member {name!r} has an unreadable npy header ({error})") from None
    check_dtype(archive, name, dtype)
    shape = check_shape(archive, name, raw_shape)
    offset = len(preamble) + len(length_field) + length
    entry = Entry(name, shape, dtype, bool(fortran), lambda: _read_member(archive, info, offset))
    if info.file_size != offset + entry.nbytes:
        raise archive.error(
            f"member {name!r} holds {info.file_size - offset} data bytes, but its header "
            f"(shape {shape}, dtype {dtype}) needs {entry.nbytes}"
        )
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise archive.error(
            f"member {name!r} is stored uncompressed, yet its sizes differ "
            f"({info.compress_size} and {info.file_size} bytes)"
        )
    if info.file_size > info.compress_size * _DEFLATE_MAX_RATIO + 1024:
        raise archive.error(
            f"member {name!r} claims to inflate {info.compress_size} bytes into "
            f"{info.file_size}, more than deflate can (a zip bomb or a damaged file)"
        )
    return entry


def _read_member(archive: Archive, info: zipfile.ZipInfo, offset: int) -> bytes:
    name = info.filename[:-4]
    assert archive._zip is not None
    try:
        with archive._zip.open(info) as stream:
            stream.read(offset)
            data = stream.read(info.file_size - offset)  # at EOF zipfile checks the CRC
            trailing = stream.read(1)
    except _ZIP_ERRORS as error:
        raise archive.error(
            f"member {name!r} is damaged ({type(error).__name__}: {error})"
        ) from None
    if len(data) != info.file_size - offset or trailing:
        raise archive.error(
            f"member {name!r} holds {len(data)} data bytes; its header says "
            f"{info.file_size - offset}"
        )
    return data


def _zip_entry_count(f: IO[bytes], size: int) -> int | None:
    """The member count in the zip's end record (zip64 included), read before ``zipfile``
    builds one object per member; None if no end record is found (zipfile then refuses)."""
    tail_size = min(size, 22 + 65535)
    f.seek(size - tail_size)
    tail = f.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    count = int.from_bytes(tail[at + 10 : at + 12], "little")
    if count == 0xFFFF and at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":
        record = int.from_bytes(tail[at - 12 : at - 4], "little")
        if record + 40 <= size:
            f.seek(record)
            zip64 = f.read(40)
            if zip64[:4] == b"PK\x06\x06":
                count = int.from_bytes(zip64[32:40], "little")
    return count
