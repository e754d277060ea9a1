"""Weight files and training checkpoints: ``save_weights``/``load_weights``, ``save``/``load``.

Formats: DeZero's npz (a zip of ``.npy`` members keyed ``"layer/sub/param"``, read with
``allow_pickle=False``) and, for paths ending in ``.safetensors``, safetensors (imported only
then; ``pip install 'zerograd[io]'``). Every write goes to a temporary file in the target's
directory, is flushed and fsynced, then renamed over the target (``os.replace``), so a crash
or a kill mid-save leaves the previous file intact. Every read validates the whole file before
anything is assigned, so a bad file raises ``CheckpointError`` and changes nothing.

A checkpoint (``save``) holds the model's weights under ``model/``, the optimizer's state
under ``optimizer/``, NumPy's global RNG state (the one ``DataLoader`` shuffles and
``dropout`` draws from) and a JSON header; ``load`` restores all of it, so training resumes
exactly where it stopped.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from zerograd import cuda

if TYPE_CHECKING:
    from zerograd.layers.layer import Layer
    from zerograd.optimizers.base import Optimizer

__all__ = ["CheckpointError", "load", "load_weights", "save", "save_weights"]

_META_KEY = "__zerograd__"
_FORMAT = "zerograd-checkpoint"
_VERSION = 1
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members; an empty zip


class CheckpointError(ValueError):
    """A weight or checkpoint file that cannot be used: unreadable, truncated, of the wrong
    format, or not matching the model (missing/unexpected key, shape or dtype)."""


# -- files ---------------------------------------------------------------------------------
def _is_safetensors(path: str) -> bool:
    return path.endswith(".safetensors")


def _save_path(path: Any) -> str:
    path = os.fspath(path)
    if not (path.endswith(".npz") or _is_safetensors(path)):
        path += ".npz"  # numpy.savez's rule, which DeZero's save_weights follows
    return path


def _load_path(path: Any) -> str:
    path = os.fspath(path)
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        return path + ".npz"
    return path


def _atomic_write(path: str, write: Callable[[IO[bytes]], object]) -> None:
    """Write a file through ``write(f)`` so that ``path`` holds either its old or its new
    contents, whatever happens: a temporary file in the same directory, fsync, rename."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(
        dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as f:
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
    _fsync_dir(directory)


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


def _import_safetensors() -> Any:
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError(
            "zerograd: .safetensors files need the safetensors package "
            "(pip install 'zerograd[io]' or pip install safetensors)"
        ) from None
    return safetensors


def _write_arrays(path: str, arrays: Mapping[str, np.ndarray], meta: dict[str, Any] | None) -> None:
    """Write host arrays (and a JSON header) to ``path`` atomically, npz or safetensors."""
    if _is_safetensors(path):
        st = _import_safetensors()
        tensors = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
        metadata = None if meta is None else {_META_KEY: json.dumps(meta)}
        data = st.numpy.save(tensors, metadata=metadata)
        _atomic_write(path, lambda f: f.write(data))
        return
    members = dict(arrays)
    if meta is not None:
        members[_META_KEY] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    _atomic_write(path, lambda f: np.savez(f, **members))  # type: ignore[arg-type]


def _read_arrays(path: str, what: str) -> tuple[dict[str, np.ndarray], dict[str, Any] | None]:
    """Read every array (and the JSON header, if any) from ``path``; raise ``CheckpointError``
    with the reason if the file is not a complete npz/safetensors file."""
    if _is_safetensors(path):
        return _read_safetensors(path, what)
    with open(path, "rb") as f:
        magic = f.read(4)
        if magic not in _ZIP_MAGICS:
            raise CheckpointError(
                f"{what}: {path!r} is not an npz file (it starts with {magic!r}, not a zip "
                f"signature); expected a file written by save_weights, zerograd.save or "
                f"numpy.savez"
            )
        f.seek(0)
        try:
            with np.load(f, allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files}
        except (zipfile.BadZipFile, ValueError, EOFError, OSError, KeyError) as error:
            raise CheckpointError(
                f"{what}: {path!r} is damaged or truncated ({type(error).__name__}: {error})"
            ) from error
    meta = None
    if _META_KEY in arrays:
        meta = _parse_meta(arrays.pop(_META_KEY).tobytes(), path, what)
    return arrays, meta


def _read_safetensors(path: str, what: str) -> tuple[dict[str, np.ndarray], dict[str, Any] | None]:
    st = _import_safetensors()
    with open(path, "rb") as f:
        data = f.read()
    try:
        arrays = st.numpy.load(data)
        header_size = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + header_size])
    except Exception as error:  # safetensors raises its own error type from Rust
        raise CheckpointError(
            f"{what}: {path!r} is not a valid safetensors file ({type(error).__name__}: {error})"
        ) from error
    metadata = header.get("__metadata__") or {}
    meta = None
    if _META_KEY in metadata:
        meta = _parse_meta(metadata[_META_KEY].encode(), path, what)
    return arrays, meta


def _parse_meta(raw: bytes, path: str, what: str) -> dict[str, Any]:
    try:
        meta = json.loads(raw.decode())
    except (UnicodeDecodeError, ValueError) as error:
        raise CheckpointError(f"{what}: {path!r} has an unreadable header ({error})") from error
    if not isinstance(meta, dict):
        raise CheckpointError(f"{what}: {path!r} has an unreadable header (not a JSON object)")
    return meta


# -- weights ---------------------------------------------------------------------------------
def _weights_of(layer: Layer, what: str) -> dict[str, np.ndarray]:
    """Host copies (for GPU arrays) or the arrays themselves of every parameter and buffer."""
    arrays = {}
    for key, var in layer.named_state("/"):
        if var.data is None:
            raise ValueError(
                f"{what}: parameter {key!r} of {type(layer).__name__} is not initialized yet "
                f"(its size is inferred at the first call); run a forward pass before saving"
            )
        arrays[key] = cuda.as_numpy(var.data)  # a copy for GPU data; the model stays put
    return arrays


def _plan_assign(
    layer: Layer, arrays: Mapping[str, np.ndarray], strict: bool, what: str
) -> list[tuple[Any, np.ndarray]]:
    """Check ``arrays`` against the layer's state and return ``(variable, array)`` pairs."""
    state = dict(layer.named_state("/"))
    if strict:
        missing = [k for k in state if k not in arrays]
        unexpected = [k for k in arrays if k not in state]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing key(s) {missing}")
            if unexpected:
                parts.append(f"unexpected key(s) {unexpected}")
            raise CheckpointError(f"{what}: {'; '.join(parts)} for {type(layer).__name__}")
    plan = []
    for key, var in state.items():
        if key not in arrays:
            continue
        value = arrays[key]
        if var.data is not None:
            if tuple(value.shape) != tuple(var.data.shape):
                raise CheckpointError(
                    f"{what}: parameter {key!r} has shape {tuple(value.shape)} in the file, "
                    f"but {tuple(var.data.shape)} in the model"
                )
            if value.dtype != var.data.dtype:
                raise CheckpointError(
                    f"{what}: parameter {key!r} has dtype {value.dtype} in the file, but "
                    f"{var.data.dtype} in the model"
                )
        elif value.dtype.kind not in "biufc":
            raise CheckpointError(f"{what}: parameter {key!r} has unsupported dtype {value.dtype}")
        plan.append((var, value))
    return plan


def _assign(layer: Layer, plan: list[tuple[Any, np.ndarray]]) -> None:
    # Arrays go to the device of the variable, or (for a not yet initialized one) the device
    # of the rest of the model.
    like = next((v.data for _, v in layer.named_state("/") if v.data is not None), None)
    for var, value in plan:
        target = var.data if var.data is not None else like
        on_gpu = target is not None and cuda.get_array_module(target) is not np
        var.data = cuda.as_cupy(value) if on_gpu else np.array(value, copy=True)
        var.bump_version()


def save_weights(layer: Layer, path: Any) -> None:
    """Write the layer's parameters and buffers to ``path`` (see ``Layer.save_weights``)."""
    path = _save_path(path)
    _write_arrays(path, _weights_of(layer, "save_weights"), None)


def load_weights(layer: Layer, path: Any, strict: bool = True) -> None:
    """Read weights into ``layer`` (see ``Layer.load_weights``). A checkpoint written by
    ``zerograd.save`` works too: its model weights are read."""
    path = _load_path(path)
    arrays, meta = _read_arrays(path, "load_weights")
    if meta is not None and meta.get("format") == _FORMAT:
        arrays = _strip(arrays, "model/")
    _assign(layer, _plan_assign(layer, arrays, strict, "load_weights"))


def _strip(arrays: Mapping[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}


# -- checkpoints -------------------------------------------------------------------------------
def save(
    path: Any,
    model: Layer,
    optimizer: Optimizer | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
    rng: bool = True,
) -> None:
    """Checkpoint training: the model's weights, the optimizer's state and hyperparameters,
    NumPy's global RNG state (``rng=True``) and ``extra`` (JSON values: epoch, step...).

    Written atomically, npz (``.npz`` is appended if missing) or safetensors by extension.
    ``zerograd.load(path, model, optimizer)`` restores it so that training continues exactly
    as if it had not stopped.

    >>> import numpy as np, os, tempfile, zerograd as zg
    >>> import zerograd.layers as L, zerograd.optimizers as O
    >>> model = L.Linear(2, in_size=3)
    >>> opt = O.Adam().setup(model)
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
    >>> zg.save(path, model, opt, extra={"epoch": 3})
    >>> zg.load(path, model, opt)["epoch"]
    3
    """
    path = _save_path(path)
    arrays = {"model/" + k: v for k, v in _weights_of(model, "save").items()}
    meta: dict[str, Any] = {"format": _FORMAT, "version": _VERSION}
    if optimizer is not None:
        state = optimizer.state_dict()
        for key, slots in state.pop("state").items():
            for slot, value in slots.items():
                arrays[f"optimizer/{key}/{slot}"] = cuda.as_numpy(value)
        meta["optimizer"] = state
    if rng:
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        arrays["rng/keys"] = np.asarray(keys, dtype=np.uint32)
        meta["rng"] = {
            "kind": kind,
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        }
    extra = dict(extra or {})
    try:
        json.dumps(extra)
    except TypeError as error:
        raise TypeError(
            f"save: extra must hold JSON values (numbers, strings...): {error}"
        ) from None
    meta["extra"] = extra
    _write_arrays(path, arrays, meta)


def load(
    path: Any,
    model: Layer | None = None,
    optimizer: Optimizer | None = None,
    *,
    strict: bool = True,
    restore_rng: bool = True,
) -> dict[str, Any]:
    """Restore a checkpoint written by ``save`` into ``model`` and ``optimizer``; returns its
    ``extra`` dict. NumPy's global RNG is restored too when the checkpoint holds it and
    ``restore_rng`` is true. The file is checked completely before anything is changed.

    A plain weight file (``save_weights``, DeZero) can be given with ``model`` alone.
    """
    path = _load_path(path)
    arrays, meta = _read_arrays(path, "load")
    if meta is None or meta.get("format") != _FORMAT:
        if optimizer is not None:
            raise CheckpointError(
                f"load: {path!r} is a weight file without optimizer state; use "
                f"model.load_weights(path) or pass no optimizer"
            )
        if model is not None:
            _assign(model, _plan_assign(model, arrays, strict, "load"))
        return {}
    if meta.get("version", 0) > _VERSION:
        raise CheckpointError(
            f"load: {path!r} is a version {meta['version']} checkpoint; this zerograd reads "
            f"version {_VERSION} and older"
        )
    plan = [] if model is None else _plan_assign(model, _strip(arrays, "model/"), strict, "load")
    opt_state = None
    if optimizer is not None:
        if "optimizer" not in meta:
            raise CheckpointError(f"load: {path!r} holds no optimizer state")
        opt_state = dict(meta["optimizer"])
        opt_state["state"] = _nest(_strip(arrays, "optimizer/"))
        optimizer._check_state_dict(opt_state)  # all checks before any change
    rng_state = None
    if restore_rng and "rng" in meta:
        r = meta["rng"]
        keys = arrays.get("rng/keys")
        if keys is None or keys.shape != (624,):
            raise CheckpointError(f"load: {path!r} has a damaged RNG state")
        rng_state = (r["kind"], keys, r["pos"], r["has_gauss"], r["cached_gaussian"])
    if model is not None:
        _assign(model, plan)
    if optimizer is not None:
        optimizer.load_state_dict(opt_state)  # type: ignore[arg-type]
    if rng_state is not None:
        np.random.set_state(rng_state)
    return dict(meta.get("extra") or {})


def _nest(flat: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """``{"l0/W/m": a}`` -> ``{"l0/W": {"m": a}}`` (the slot is the last component)."""
    nested: dict[str, dict[str, np.ndarray]] = {}
    for key, value in flat.items():
        param, _, slot = key.rpartition("/")
        nested.setdefault(param, {})[slot] = value
    return nested
