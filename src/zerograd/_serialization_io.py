"""The file side of ``zerograd.serialization``: untrusted npz and safetensors files read
header first, bounded JSON, atomic writes. Private: use ``zerograd.serialization``.

Reading never trusts a size, a count or a nesting depth found in a file: every header is
parsed and bounded before any member's data is read, so a file that claims 2^40 elements, a
deflate bomb or JSON nested 10^5 deep is refused without allocating or recursing.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import secrets
import stat
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

try:
    import fcntl
except ImportError:  # Windows: stale temporaries are recognised by age instead
    fcntl = None  # type: ignore[assignment]

__all__ = ["Archive", "CheckpointError", "Entry", "atomic_write", "open_archive", "parse_json"]

META_KEY = "__zerograd__"
MAX_JSON_BYTES = 16 << 20  # a checkpoint's JSON header (a CLI run's loader index included)
MAX_JSON_DEPTH = 64
MAX_JSON_CONTAINERS = 1 << 18  # objects + arrays (3 per safetensors tensor): bounds memory
MAX_MEMBERS = 1 << 17  # arrays in one file (a model's parameters times optimizer slots)
MAX_NDIM = 32  # NumPy 1.x's limit
_MAX_NPY_HEADER = 10000  # numpy.load's own default limit
_MAX_ST_HEADER = 64 << 20
_DEFLATE_MAX_RATIO = 1032  # deflate cannot expand one byte into more than this
_STALE_AGE_S = 24 * 3600  # without flock(): a temporary this old belongs to a dead writer
_SAFE_KINDS = "biufc"  # bool, integers, floats, complex: no objects, strings or records


class CheckpointError(ValueError):
    """A weight or checkpoint file that cannot be used: unreadable, truncated, of the wrong
    format, hostile (huge claimed sizes, bombs, deep nesting), or not matching the model,
    optimizer or RNG. Raised before anything is changed."""


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
    f = open(path, "rb")  # the Archive closes it
    archive = Archive(path, what, f)
    try:
        if path.endswith(".safetensors"):
            _read_safetensors_header(archive)
        else:
            _read_npz_headers(archive)
    except BaseException:
        archive.__exit__()
        raise
    return archive


def _check_dtype(archive: Archive, name: str, dtype: np.dtype) -> None:
    if dtype.hasobject:
        raise archive.error(
            f"member {name!r} holds Python objects (dtype {dtype}, stored as a pickle); "
            f"refused: a weight file holds numbers only"
        )
    if dtype.kind not in _SAFE_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise archive.error(
            f"member {name!r} has dtype {dtype}; expected a bool, integer, float or complex dtype"
        )


def _check_shape(archive: Archive, name: str, shape: Any) -> tuple[int, ...]:
    ok = isinstance(shape, (list, tuple)) and len(shape) <= MAX_NDIM
    if ok and all(type(n) is int and n >= 0 for n in shape):
        return tuple(shape)
    raise archive.error(
        f"member {name!r} has shape {str(shape)[:80]}; expected at most {MAX_NDIM} "
        f"non-negative integers"
    )


# .. npz ...................................................................................
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


def _read_npz_headers(archive: Archive) -> None:
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
    _check_dtype(archive, name, dtype)
    shape = _check_shape(archive, name, raw_shape)
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


# .. safetensors ............................................................................
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


def _read_safetensors_header(archive: Archive) -> None:
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
        shape = _check_shape(archive, name, spec["shape"])
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


# -- atomic writes ---------------------------------------------------------------------------
def atomic_write(path: str, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` through ``write(f)`` so that it holds either its old or its new
    contents whatever happens: a temporary file in the same directory, fsync, rename.

    The temporary (``.NAME.<16 hex>.tmp``) is locked (``flock``) while its writer lives; a
    writer killed mid-save leaves it behind, and the next save to ``path`` deletes those whose
    lock is free (their writer is dead), never a live writer's.
    """
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    _clear_stale_temporaries(directory, base)
    fd, tmp = _locked_temporary(directory, base)
    f = os.fdopen(fd, "wb")
    try:  # the lock (on fd) is held until the rename is done
        write(f)
        f.flush()
        os.fsync(f.fileno())
        try:
            mode = os.stat(path).st_mode & 0o777  # keep an existing file's permissions
        except FileNotFoundError:
            mode = 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:  # KeyboardInterrupt included: never leave the temporary behind
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    finally:
        f.close()
    _fsync_dir(directory)


def _temporary_pattern(base: str) -> re.Pattern[str]:
    return re.compile(re.escape(f".{base}.") + r"[0-9a-f]{16}\.tmp")


def _locked_temporary(directory: str, base: str) -> tuple[int, str]:
    for _ in range(100):
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_nlink == 0:  # a cleaner took it for stale before we locked it
                os.close(fd)
                continue
        return fd, tmp
    raise FileExistsError(f"cannot create a temporary file for {base!r} in {directory!r}")


def _clear_stale_temporaries(directory: str, base: str) -> None:
    """Delete temporaries of ``base`` left by dead writers: our name pattern only, regular
    files only, and only when no live writer holds their lock."""
    pattern = _temporary_pattern(base)
    try:
        names = [n for n in os.listdir(directory) if pattern.fullmatch(n)]
    except OSError:
        return
    for name in names:
        full = os.path.join(directory, name)
        try:
            fd = os.open(full, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                continue
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # a live writer holds it
            elif time.time() - st.st_mtime < _STALE_AGE_S:
                continue
            now = os.lstat(full)
            if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
                os.unlink(full)
        except OSError:
            pass
        finally:
            os.close(fd)


def _fsync_dir(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    flags = getattr(os, "O_DIRECTORY", 0) | os.O_RDONLY
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
