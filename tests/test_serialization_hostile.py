"""Hostile weight and checkpoint files, systematically.

Valid files (a checkpoint and a plain weight file, npz and safetensors) are broken in every
way that matters: every header field (missing, wrong type, out of range, unknown key), every
member (missing, wrong shape, wrong dtype, duplicate, extra, huge claimed size, truncated,
deflate bomb, objects), the npy and safetensors headers and the zip's records. Each broken
file must raise ``CheckpointError`` naming the file and the field or member, and leave the
model, the optimizer and NumPy's RNG bit-identical.
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
import re
import struct
import tempfile
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.optimizers as O
from tests.test_serialization import Net, _train
from zerograd.serialization import CheckpointError, _archive, _npz

Pairs = list[tuple[str, np.ndarray]]


# -- valid files, as parts -----------------------------------------------------------------
@functools.cache
def _valid_parts(kind: str) -> tuple[tuple[tuple[str, np.ndarray], ...], dict[str, Any] | None]:
    """The members and JSON header that ``zg.save`` (kind "checkpoint") or ``save_weights``
    ("weights") write for a trained model."""
    np.random.seed(0)
    model = Net(0)
    opt = O.Adam(alpha=0.01).setup(model)
    _train(model, opt, 2)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "valid.npz")
        if kind == "checkpoint":
            zg.save(path, model, opt, extra={"epoch": 2})
        else:
            model.save_weights(path)
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    raw = arrays.pop("__zerograd__", None)
    meta = None if raw is None else json.loads(raw.tobytes())
    return tuple(arrays.items()), meta


def _parts(kind: str) -> tuple[Pairs, Any]:
    pairs, meta = _valid_parts(kind)
    return [(k, v.copy()) for k, v in pairs], json.loads(json.dumps(meta))


def _json(meta: Any) -> bytes:
    return meta if isinstance(meta, bytes) else json.dumps(meta).encode()


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=True)  # objects: the hostile case
    return buf.getvalue()


def _npy_raw(header: str, data: bytes = b"", version: bytes = b"\x01\x00") -> bytes:
    text = header.encode("latin1")
    size = struct.pack("<H", len(text)) if version == b"\x01\x00" else struct.pack("<I", len(text))
    return b"\x93NUMPY" + version + size + text + data


def _zip(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": the hostile case
        with zipfile.ZipFile(buf, "w", method) as zf:
            for name, data in members:
                zf.writestr(name, data)
    return buf.getvalue()


def _npz_members(pairs: Pairs, meta: Any) -> list[tuple[str, bytes]]:
    members = [(k + ".npy", _npy(v)) for k, v in pairs]
    if meta is not None:
        members.append(("__zerograd__.npy", _npy(np.frombuffer(_json(meta), np.uint8))))
    return members


_ST_CODES = {"f4": "F32", "f8": "F64", "i8": "I64", "i4": "I32", "u4": "U32", "b1": "BOOL"}


def _st_entries(pairs: Pairs, meta: Any) -> tuple[list[tuple[str, Any]], bytearray]:
    entries: list[tuple[str, Any]] = []
    data = bytearray()
    if meta is not None:
        text = _json(meta).decode("utf-8", errors="surrogateescape")  # bad UTF-8 stays bad
        entries.append(("__metadata__", {"__zerograd__": text}))
    for key, value in pairs:
        raw = np.ascontiguousarray(value).tobytes()
        code = _ST_CODES[value.dtype.str[1:]]
        spec = {
            "dtype": code,
            "shape": list(value.shape),
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        entries.append((key, spec))
        data += raw
    return entries, data


def _st_file(entries: list[tuple[str, Any]], data: bytes) -> bytes:
    # Written by hand so that keys can repeat and fields can be anything.
    header = "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in entries) + "}"
    return struct.pack("<Q", len(header)) + header.encode() + bytes(data)


def _render(fmt: str, pairs: Pairs, meta: Any) -> bytes:
    if fmt == "npz":
        return _zip(_npz_members(pairs, meta))
    return _st_file(*_st_entries(pairs, meta))


# -- the model, optimizer and RNG that a bad file must leave alone --------------------------
def _target() -> tuple[Net, O.Optimizer]:
    np.random.seed(1)
    model = Net(3)
    opt = O.Adam(alpha=0.05).setup(model)
    opt.add_hook(lambda params: None)
    _train(model, opt, 1)
    np.random.seed(2)
    return model, opt


def _snapshot(model: Net, opt: O.Optimizer) -> dict[str, Any]:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "model": {k: (v.data.copy(), v.data.dtype) for k, v in model.named_state()},
        "target": opt.target,
        "hooks": list(opt.hooks),
        "scalars": {k: repr(getattr(opt, k)) for k in ("alpha", "beta1", "beta2", "eps", "t")},
        "state": {id(p): {s: a.copy() for s, a in slots.items()} for p, slots in opt.state.items()},
        "rng": (kind, keys.copy(), pos, has_gauss, cached),
    }


def _assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["target"] is b["target"] and a["hooks"] == b["hooks"] and a["scalars"] == b["scalars"]
    assert a["model"].keys() == b["model"].keys() and a["state"].keys() == b["state"].keys()
    for k, (value, dtype) in a["model"].items():
        assert dtype == b["model"][k][1]
        np.testing.assert_array_equal(value, b["model"][k][0], err_msg=k)
    for p, slots in a["state"].items():
        assert slots.keys() == b["state"][p].keys()
        for s in slots:
            np.testing.assert_array_equal(slots[s], b["state"][p][s])
    assert a["rng"][0::2] == b["rng"][0::2] and a["rng"][3] == b["rng"][3]
    np.testing.assert_array_equal(a["rng"][1], b["rng"][1])


def _load(kind: str, path: Path, model: Net, opt: O.Optimizer) -> None:
    if kind == "checkpoint":
        zg.load(path, model, opt)
    else:
        model.load_weights(path)


# -- the table ---------------------------------------------------------------------------------
Case = tuple[str, str, str, Callable[[], bytes], str]  # kind, fmt, id, build, pattern


def _member_cases() -> list[Any]:
    """Every member of every valid file, broken in every way both formats can express, and
    the npz-only ways (objects, strings)."""
    cases = []
    for kind in ("checkpoint", "weights"):
        pairs, _ = _valid_parts(kind)
        for fmt in ("npz", "safetensors"):
            for name, value in pairs:
                other = np.float64 if value.dtype != np.float64 else np.float32
                breaks: dict[str, Callable[[np.ndarray], Any]] = {
                    "missing": lambda v: None,
                    "extra_dim": lambda v: v[..., None],
                    "wrong_size": lambda v: np.concatenate([v.ravel(), v.ravel()[:1]]),
                    "scalar": lambda v: v.ravel()[0],
                    "dtype": lambda v, other=other: v.astype(other),
                    "dtype_int32": lambda v: v.astype(np.int32),
                    "duplicate": lambda v: [v, v],
                }
                if fmt == "npz":
                    breaks["objects"] = lambda v: np.array(["pickled"], dtype=object)
                    breaks["strings"] = lambda v: np.array(["text"])
                for how, change in breaks.items():
                    cases.append(
                        _case(
                            kind, fmt, f"{name}:{how}", _swap(kind, fmt, name, change), _named(name)
                        )
                    )
            for extra in (
                "model/bogus",
                "optimizer/enc/W/zz",
                "optimizer/nope/m",
                "rng/more",
                "other",
            ):
                if kind == "weights" and not extra.startswith("model"):
                    extra = extra.replace("/", "_")
                cases.append(
                    _case(
                        kind,
                        fmt,
                        f"extra member {extra}",
                        _add(kind, fmt, extra),
                        "bogus|zz|nope|more|other",
                    )
                )
    return cases


def _named(member: str) -> str:
    """How an error names a member: by its parameter's key (and the slot's name)."""
    if member.startswith("optimizer/"):
        return re.escape(member.removeprefix("optimizer/").rpartition("/")[0])
    return re.escape(member.removeprefix("model/"))


def _case(
    kind: str, fmt: str, name: str, build: Callable[[], bytes], pattern: str, *marks: Any
) -> Any:
    return pytest.param(kind, fmt, build, pattern, id=f"{kind}-{fmt}-{name}", marks=marks)


def _swap(
    kind: str, fmt: str, name: str, change: Callable[[np.ndarray], Any]
) -> Callable[[], bytes]:
    def build() -> bytes:
        pairs, meta = _parts(kind)
        out: Pairs = []
        for key, value in pairs:
            if key != name:
                out.append((key, value))
                continue
            new = change(value)
            for v in new if isinstance(new, list) else [] if new is None else [new]:
                out.append((key, np.asarray(v)))
        return _render(fmt, out, meta)

    return build


def _add(kind: str, fmt: str, name: str) -> Callable[[], bytes]:
    def build() -> bytes:
        pairs, meta = _parts(kind)
        return _render(fmt, [*pairs, (name, np.zeros(2, np.float32))], meta)

    return build


def _header_paths(meta: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every field of the header except inside ``extra`` (the user's own data)."""
    out = []
    for key, value in meta.items():
        out.append(((*path, key), value))
        if isinstance(value, dict) and key != "extra":
            out.extend(_header_paths(value, (*path, key)))
    return out


_WRONG = [None, "x", [], {}, True, 1.5, -1, 2**64, math.nan, math.inf]


def _set(meta: dict[str, Any], path: tuple[str, ...], value: Any, delete: bool = False) -> None:
    node = meta
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value


def _meta_case(fmt: str, name: str, edit: Callable[[dict[str, Any]], Any], pattern: str) -> Any:
    def build() -> bytes:
        pairs, meta = _parts("checkpoint")
        changed = edit(meta)
        return _render(fmt, pairs, meta if changed is None else changed)

    return _case("checkpoint", fmt, name, build, pattern)


def _header_cases() -> list[Any]:
    _, valid = _valid_parts("checkpoint")
    cases = []
    for fmt in ("npz", "safetensors"):
        for path, original in _header_paths(valid):
            field = ".".join(path)
            cases.append(
                _meta_case(
                    fmt,
                    f"{field}:missing",
                    lambda m, p=path: _set(m, p, None, True),
                    path[-1] + "|optimizer state|rng/keys",
                )
            )
            for wrong in _WRONG:
                if type(original) is float and type(wrong) in (int, float) and math.isfinite(wrong):
                    continue  # another finite number is a valid value
                if field == "extra" and wrong == {}:
                    continue
                cases.append(
                    _meta_case(
                        fmt,
                        f"{field}={wrong!r}",
                        lambda m, p=path, w=wrong: _set(m, p, w),
                        path[-1] + "|Adam",
                    )
                )
            if isinstance(original, dict) and field != "extra":
                for unknown, value in (("hooks", []), ("target", None), ("zz", 1)):
                    cases.append(
                        _meta_case(
                            fmt,
                            f"{field}.{unknown}=",
                            lambda m, p=path, u=unknown, v=value: _set(m, (*p, u), v),
                            unknown,
                        )
                    )
        cases.append(
            _meta_case(fmt, "top-level unknown", lambda m: _set(m, ("hooks",), []), "hooks")
        )
        for field, value in (
            ("version", 2),
            ("version", 0),
            ("format", "zerograd-checkpoint-2"),
            ("rng.pos", 625),
            ("rng.has_gauss", 2),
            ("rng.kind", "PCG64"),
            ("optimizer.hyper.alpha", "0.01"),
            ("optimizer.counters.t", 2**63),
        ):
            cases.append(
                _meta_case(
                    fmt,
                    f"{field}={value!r}",
                    lambda m, f=field, v=value: _set(m, tuple(f.split(".")), v),
                    f"{field.split('.')[-1]}|version",
                )
            )
        raw: dict[str, Callable[[bytes], bytes]] = {
            "nested 10^5 deep": lambda t: (
                t[:-1] + b', "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
            ),
            "nested 65 deep": lambda t: t[:-1] + b', "deep": ' + b"[" * 65 + b"]" * 65 + b"}",
            "nested in a string is fine, then deep": lambda t: (
                t[:-1] + b', "s": "[[[\\"", "deep": ' + b'{"a":' * 70 + b"1" + b"}" * 70 + b"}"
            ),
            "duplicate key": lambda t: t[:-1] + b', "version": 1}',
            "not JSON": lambda t: t[:-3],
            "not UTF-8": lambda t: t[:-1] + b', "s": "\xff\xfe"}',
            "not an object": lambda t: b"[" + t + b"]",
            "huge integer": lambda t: t[:-1] + b', "n": ' + b"7" * 5000 + b"}",
            "many containers": lambda t: (
                t[:-1] + b', "l": [' + b"[]," * _archive.MAX_JSON_CONTAINERS + b"[]]}"
            ),
            "over 16 MiB": lambda t: t[:-1] + b', "pad": "' + b"x" * (16 << 20) + b'"}',
        }
        for name, edit in raw.items():
            cases.append(
                _meta_case(
                    fmt,
                    name,
                    lambda m, e=edit: e(json.dumps(m).encode()),
                    "__zerograd__|JSON|header|UTF-8|deep",
                )
            )
    return cases


# .. npz containers ..........................................................................
def _npz_with(member: str, data: bytes, method: int = zipfile.ZIP_STORED) -> Callable[[], bytes]:
    def build() -> bytes:
        pairs, meta = _parts("checkpoint")
        members = [(n, data if n == member + ".npy" else d) for n, d in _npz_members(pairs, meta)]
        return _zip(members, method)

    return build


def _patched(build: Callable[[], bytes], edit: Callable[[bytearray], None]) -> Callable[[], bytes]:
    def patched() -> bytes:
        data = bytearray(build())
        edit(data)
        return bytes(data)

    return patched


def _central_entry(data: bytearray) -> int:
    return data.index(b"PK\x01\x02")  # the first member's central directory record


def _set_u32(offset: Callable[[bytearray], int], value: int) -> Callable[[bytearray], None]:
    def edit(data: bytearray) -> None:
        data[offset(data) : offset(data) + 4] = struct.pack("<I", value)

    return edit


@functools.cache
def _bomb(claim: str) -> bytes:
    """A checkpoint whose model/enc/W member deflates 256 MiB of zeros into ~255 KiB and
    claims that shape ("huge"), or 16 MiB behind a header of the model's shape."""
    pairs, meta = _parts("checkpoint")
    shape = (1 << 26,) if claim == "huge" else (4, 5)
    mib = 256 if claim == "huge" else 16  # the 256 MiB; the size check needs less
    header = _npy_raw(f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape!r}, }}")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in _npz_members(pairs, meta):
            if name != "model/enc/W.npy":
                zf.writestr(name, data)
                continue
            with zf.open(name, "w", force_zip64=True) as member:
                member.write(header)
                chunk = bytes(1 << 20)
                for _ in range(mib):
                    member.write(chunk)
    return buf.getvalue()


def _npz_cases() -> list[Any]:
    pairs, _ = _valid_parts("checkpoint")
    valid = dict(pairs)
    W = valid["model/enc/W"]
    good = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 5), }"
    data = W.tobytes()
    member = "model/enc/W"
    headers = {
        "bad magic": b"\x93NUMPZ\x01\x00" + _npy(W)[8:],
        "npy version 3": _npy_raw(good, data, b"\x03\x00"),
        "npy version 2 ok but huge header": _npy_raw(good + " " * 70_000, data, b"\x02\x00"),
        "header not a dict": _npy_raw("[1, 2, 3]", data),
        "header missing shape": _npy_raw("{'descr': '<f4', 'fortran_order': False, }", data),
        "header unknown key": _npy_raw(good[:-1] + "'hooks': [], }", data),
        "fortran_order not a bool": _npy_raw(good.replace("False", "'yes'"), data),
        "negative shape": _npy_raw(good.replace("(4, 5)", "(-4, -5)"), data),
        "float shape": _npy_raw(good.replace("(4, 5)", "(4.0, 5)"), data),
        "object descr": _npy_raw(good.replace("'<f4'", "'|O'"), data),
        "record descr": _npy_raw(good.replace("'<f4'", "[('a', '<f4')]"), data),
        "string descr": _npy_raw(good.replace("'<f4'", "'<U1'"), data),
        "datetime descr": _npy_raw(good.replace("'<f4'", "'<M8[s]'"), data),
        "subarray descr": _npy_raw(good.replace("'<f4'", "('<f4', (2,))"), data),
        "nested parentheses": _npy_raw(good.replace("(4, 5)", "(" * 300 + ")" * 300), data),
        "deep unary minus": _npy_raw(good.replace("(4, 5)", "(" + "-" * 9000 + "4, 5)"), data),
        "huge claimed size": _npy_raw(good.replace("(4, 5)", "(1099511627776,)"), data),
        "too many dimensions": _npy_raw(good.replace("(4, 5)", str((1,) * 40)), data),
        "data truncated": _npy_raw(good, data[:-5]),
        "data too long": _npy_raw(good, data + b"\0" * 8),
        "header truncated": _npy(W)[:40],
        "empty member": b"",
    }
    cases = [
        _case("checkpoint", "npz", name, _npz_with(member, raw), member)
        for name, raw in headers.items()
    ]
    valid_npz = functools.partial(_render, "npz", *_parts("checkpoint"))
    crc_offset = lambda d: d.index(data) + 3  # noqa: E731 (a byte inside enc/W's data)
    cases += [
        _case("checkpoint", "npz", "not a zip", lambda: b"hello, not weights", "not an npz file"),
        _case("checkpoint", "npz", "empty file", lambda: b"", "not an npz file"),
        _case(
            "checkpoint", "npz", "pickle", lambda: b"\x80\x04\x95" + b"\0" * 64, "not an npz file"
        ),
        _case("checkpoint", "npz", "empty zip", lambda: _zip([]), "without optimizer state"),
        _case(
            "checkpoint",
            "npz",
            "member not .npy",
            _patched(
                valid_npz,
                lambda d: d.__setitem__(
                    slice(None), d.replace(b"model/enc/W.npy", b"model/enc/W.bin")
                ),
            ),
            "not an .npy",
        ),
        _case(
            "checkpoint",
            "npz",
            "bzip2 member",
            _npz_with(member, _npy(W), zipfile.ZIP_BZIP2),
            "compression method",
        ),
        _case(
            "checkpoint",
            "npz",
            "corrupt data (CRC)",
            _patched(valid_npz, lambda d: d.__setitem__(crc_offset(d), d[crc_offset(d)] ^ 0xFF)),
            "CRC|damaged",
        ),
        _case(
            "checkpoint",
            "npz",
            "compressed size beyond the file",
            _patched(valid_npz, _set_u32(lambda d: _central_entry(d) + 20, 0x7FFFFFFF)),
            "beyond the end",
        ),
        _case(
            "checkpoint",
            "npz",
            "uncompressed size lies",
            _patched(valid_npz, _set_u32(lambda d: _central_entry(d) + 24, 0x7FFFFFFF)),
            "needs|differ",
        ),
        _case(
            "checkpoint",
            "npz",
            "encrypted flag",
            _patched(
                valid_npz,
                lambda d: d.__setitem__(_central_entry(d) + 8, d[_central_entry(d) + 8] | 1),
            ),
            "encrypted",
        ),
        _case("checkpoint", "npz", "bomb claiming 256 MiB", lambda: _bomb("huge"), "enc/W"),
        _case(
            "checkpoint",
            "npz",
            "bomb claiming the model's shape",
            lambda: _bomb("model shape"),
            "model/enc/W",
        ),
    ]
    for keep in (0.02, 0.3, 0.6, 0.95, 0.999):
        cases.append(
            _case(
                "checkpoint",
                "npz",
                f"truncated to {keep}",
                lambda k=keep: valid_npz()[: int(len(valid_npz()) * k)],
                "damaged|truncated|beyond",
            )
        )
    return cases


# .. safetensors containers ...................................................................
def _st_edit(edit: Callable[[list[tuple[str, Any]], bytearray], Any]) -> Callable[[], bytes]:
    def build() -> bytes:
        entries, data = _st_entries(*_parts("checkpoint"))
        result = edit(entries, data)
        return result if isinstance(result, bytes) else _st_file(entries, data)

    return build


def _spec(entries: list[tuple[str, Any]], name: str) -> dict[str, Any]:
    return next(v for k, v in entries if k == name)


def _safetensors_cases() -> list[Any]:
    W = "model/enc/W"
    edits: dict[str, tuple[Callable[[list[tuple[str, Any]], bytearray], Any], str]] = {
        "header longer than the file": (
            lambda e, d: struct.pack("<Q", 1 << 40) + b"{}",
            "header claims",
        ),
        "header length zero": (lambda e, d: struct.pack("<Q", 0) + b"{}", "JSON|header"),
        "shorter than 8 bytes": (lambda e, d: b"\x05\x00", "header claims"),
        "header not JSON": (lambda e, d: struct.pack("<Q", 5) + b"{abc}", "JSON"),
        "header not an object": (lambda e, d: struct.pack("<Q", 2) + b"[]", "not a JSON object"),
        "metadata not strings": (
            lambda e, d: e.__setitem__(0, ("__metadata__", {"__zerograd__": 5})),
            "__metadata__",
        ),
        "metadata not an object": (
            lambda e, d: e.__setitem__(0, ("__metadata__", [1])),
            "__metadata__",
        ),
        "spec missing field": (lambda e, d: _spec(e, W).pop("shape"), W),
        "spec unknown field": (lambda e, d: _spec(e, W).update(hooks=[]), W),
        "spec not an object": (lambda e, d: e.__setitem__(2, (e[2][0], [1, 2])), "model/"),
        "dtype BF16": (lambda e, d: _spec(e, W).update(dtype="BF16"), "BF16"),
        "dtype unknown": (lambda e, d: _spec(e, W).update(dtype="OBJECT"), "OBJECT"),
        "dtype not a string": (lambda e, d: _spec(e, W).update(dtype=["F32"]), W),
        "negative shape": (lambda e, d: _spec(e, W).update(shape=[-4, -5]), W),
        "float shape": (lambda e, d: _spec(e, W).update(shape=[4.0, 5]), W),
        "bool shape": (lambda e, d: _spec(e, W).update(shape=[True, 20]), W),
        "shape a string": (lambda e, d: _spec(e, W).update(shape="4,5"), W),
        "huge claimed shape": (lambda e, d: _spec(e, W).update(shape=[1 << 40]), W),
        "offsets one number": (lambda e, d: _spec(e, W).update(data_offsets=[0]), W),
        "offsets reversed": (
            lambda e, d: _spec(e, W).update(data_offsets=_spec(e, W)["data_offsets"][::-1]),
            W,
        ),
        "offsets strings": (
            lambda e, d: _spec(e, W).update(
                data_offsets=[str(x) for x in _spec(e, W)["data_offsets"]]
            ),
            W,
        ),
        "offsets negative": (lambda e, d: _spec(e, W).update(data_offsets=[-80, 0]), W),
        "offsets beyond the data": (
            lambda e, d: _spec(e, W).update(
                data_offsets=[x + (1 << 40) for x in _spec(e, W)["data_offsets"]]
            ),
            "tile|end",
        ),
        "overlapping tensors": (
            lambda e, d: _spec(e, "model/enc/b").update(data_offsets=[0, 20]),
            "tile|model/enc/b",
        ),
        "trailing bytes": (lambda e, d: d.extend(b"\0" * 8), "trailing"),
        "truncated data": (lambda e, d: d.__delitem__(slice(-4, None)), "truncated"),
        "zerograd header not JSON": (
            lambda e, d: e.__setitem__(0, ("__metadata__", {"__zerograd__": "{"})),
            "__zerograd__",
        ),
    }
    cases = [
        _case("checkpoint", "safetensors", name, _st_edit(edit), pattern)
        for name, (edit, pattern) in edits.items()
    ]
    for keep in (0.02, 0.3, 0.6, 0.95, 0.999):
        full = functools.partial(_render, "safetensors", *_parts("checkpoint"))
        cases.append(
            _case(
                "checkpoint",
                "safetensors",
                f"truncated to {keep}",
                lambda k=keep, f=full: f()[: int(len(f()) * k)],
                "header claims|end at byte|truncated",
            )
        )
    return cases


CASES = _member_cases() + _header_cases() + _npz_cases() + _safetensors_cases()


@pytest.mark.parametrize(("kind", "fmt", "build", "pattern"), CASES)
def test_hostile_file_is_refused_and_changes_nothing(
    tmp_path: Path, kind: str, fmt: str, build: Callable[[], bytes], pattern: str
) -> None:
    path = tmp_path / f"bad.{fmt}"
    path.write_bytes(build())
    model, opt = _target()
    before = _snapshot(model, opt)
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match=pattern) as info:
            _load(kind, path, model, opt)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value)  # the file is named
    assert peak < 64 << 20  # nothing a file claims is allocated, nothing inflated
    _assert_same(_snapshot(model, opt), before)


@pytest.mark.parametrize("fmt", ["npz", "safetensors"])
@pytest.mark.parametrize("kind", ["checkpoint", "weights"])
def test_the_valid_files_of_the_table_load(tmp_path: Path, kind: str, fmt: str) -> None:
    # The control: the files every case breaks load, and give the saved values exactly.
    pairs, meta = _parts(kind)
    path = tmp_path / f"good.{fmt}"
    path.write_bytes(_render(fmt, pairs, meta))
    model, opt = _target()
    _load(kind, path, model, opt)
    state = dict(model.named_state())
    for key, value in pairs:
        if key.startswith("model/") or kind == "weights":
            loaded = state[key.removeprefix("model/")].data
            assert loaded.dtype == value.dtype
            np.testing.assert_array_equal(loaded, value)
    if kind == "checkpoint":
        assert opt.t == 2 and opt.alpha == 0.01
        np.testing.assert_array_equal(np.random.get_state()[1], dict(pairs)["rng/keys"])


def test_json_within_the_limits_loads(tmp_path: Path) -> None:
    model, opt = _target()
    deep: Any = 1
    for _ in range(_archive.MAX_JSON_DEPTH - 2):
        deep = [deep]
    zg.save(tmp_path / "c.npz", model, opt, extra={"deep": deep, "s": '[[[{{{\\"]]'})
    assert zg.load(tmp_path / "c.npz", model, opt) == {"deep": deep, "s": '[[[{{{\\"]]'}
    with pytest.raises(ValueError, match="deeper than 64"):
        zg.save(tmp_path / "d.npz", model, opt, extra={"deep": [deep]})
    assert not (tmp_path / "d.npz").exists()


def test_fortran_order_and_big_endian_members_load(tmp_path: Path) -> None:
    pairs, _ = _parts("weights")
    members = []
    for key, value in pairs:
        value = np.asfortranarray(value).astype(value.dtype.newbyteorder(">"))
        members.append((key + ".npy", _npy(value)))
    (tmp_path / "w.npz").write_bytes(_zip(members, zipfile.ZIP_DEFLATED))
    model = Net(5)
    model.load_weights(tmp_path / "w.npz")
    for key, value in pairs:
        data = dict(model.named_state())[key].data
        assert data.dtype == value.dtype and data.flags.c_contiguous and data.flags.writeable
        np.testing.assert_array_equal(data, value)


def test_member_count_is_read_before_the_zip_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.npz"
    model, opt = _target()
    zg.save(path, model, opt)
    monkeypatch.setattr(_npz, "MAX_MEMBERS", 5)
    built = []
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: built.append(a))
    with pytest.raises(CheckpointError, match=r"19 members; expected at most 5"):
        zg.load(path, model, opt)
    assert built == []
