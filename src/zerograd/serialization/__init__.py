"""Weight files and training checkpoints: ``save_weights``/``load_weights``, ``save``/``load``.

Formats: DeZero's npz (a zip of ``.npy`` members keyed ``"layer/sub/param"``) and, for paths
ending in ``.safetensors``, safetensors (writing needs ``pip install 'zerograd[io]'``).

Every write goes to a locked temporary file in the target's directory, is fsynced, then
renamed over the target (``os.replace``): a crash or a kill mid-save leaves the previous
file intact, and the next save to that path deletes temporaries left by dead writers.

Every read treats the file as hostile and checks all of it before anything is changed: the
JSON header against a schema (``_schema.SECTIONS``: known keys, types, ranges; size and depth
bounded), each array's header (shape, dtype) against the model, the optimizer and the RNG
before its data is read, and the sizes a member claims against what its header needs. Any
failure raises ``CheckpointError`` naming the file, the member or field, what was found and
what was expected, with the model, the optimizer and NumPy's RNG untouched.

A checkpoint (``save``) holds the model's weights under ``model/``, the optimizer's state
under ``optimizer/<param>/<slot>``, NumPy's global RNG state (the one ``DataLoader`` shuffles
and ``dropout`` draws from) under ``rng/keys``, and the JSON header (``__zerograd__``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from zerograd import cuda
from zerograd.serialization._archive import (
    META_KEY,
    Archive,
    CheckpointError,
    Entry,
    open_archive,
    parse_json,
)
from zerograd.serialization._atomic import atomic_write
from zerograd.serialization._schema import FORMAT, RNG_WORDS, VERSION, check_meta

if TYPE_CHECKING:
    from zerograd.layers.layer import Layer
    from zerograd.optimizers.base import Optimizer
    from zerograd.optimizers.lr_scheduler import LRScheduler

__all__ = ["CheckpointError", "load", "load_weights", "save", "save_weights"]


def _checked_meta(archive: Archive) -> dict[str, Any] | None:
    if archive.meta is not None:
        try:
            check_meta(archive.meta)
        except CheckpointError as error:
            raise archive.error(str(error)) from None
    return archive.meta


# -- members ---------------------------------------------------------------------------------
def _sections(
    archive: Archive, meta: Mapping[str, Any]
) -> tuple[dict[str, Entry], dict[str, dict[str, Entry]], Entry | None]:
    """Split a checkpoint's members into model weights, optimizer slots and the RNG keys;
    a member outside these (or one whose header section is absent) is refused."""
    model: dict[str, Entry] = {}
    slots: dict[str, dict[str, Entry]] = {}
    rng = None
    for name, entry in archive.entries.items():
        head, _, rest = name.partition("/")
        param, _, slot = rest.rpartition("/")
        if head == "model" and rest:
            model[rest] = entry
        elif head == "optimizer" and "optimizer" in meta and param and slot:
            slots.setdefault(param, {})[slot] = entry
        elif name == "rng/keys" and "rng" in meta:
            rng = entry
        else:
            raise archive.error(
                f"unexpected member {name!r}; a checkpoint holds model/<param>, "
                f"optimizer/<param>/<slot> (with an 'optimizer' header) and rng/keys (with "
                f"an 'rng' header)"
            )
    if "rng" in meta:
        if rng is None:
            raise archive.error("member 'rng/keys' is missing (the header has an 'rng' section)")
        if rng.shape != (RNG_WORDS,) or rng.dtype != np.uint32:
            raise archive.error(
                f"member 'rng/keys' is {rng.dtype} {rng.shape}; expected uint32 ({RNG_WORDS},)"
            )
    return model, slots, rng


def _plan_assign(
    layer: Layer, entries: Mapping[str, Entry], strict: bool, archive: Archive
) -> list[tuple[Any, Entry]]:
    """Check the arrays' headers against the layer's state; ``(variable, entry)`` pairs."""
    state = dict(layer.named_state("/"))
    if strict:
        missing = [k for k in state if k not in entries]
        unexpected = [k for k in entries if k not in state]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing key(s) {missing}")
            if unexpected:
                parts.append(f"unexpected key(s) {unexpected}")
            raise archive.error(f"{'; '.join(parts)} for {type(layer).__name__}")
    plan = []
    for key, var in state.items():
        entry = entries.get(key)
        if entry is None:
            continue
        if var.data is not None:
            if entry.shape != tuple(var.data.shape):
                raise archive.error(
                    f"parameter {key!r} has shape {entry.shape} in the file, but "
                    f"{tuple(var.data.shape)} in the model"
                )
            if entry.dtype != var.data.dtype:
                raise archive.error(
                    f"parameter {key!r} has dtype {entry.dtype} in the file, but "
                    f"{var.data.dtype} in the model"
                )
        plan.append((var, entry))
    return plan


def _assign(layer: Layer, plan: list[tuple[Any, np.ndarray]]) -> None:
    # Arrays go to the device of the variable, or (for a not yet initialized one) the device
    # of the rest of the model.
    like = next((v.data for _, v in layer.named_state("/") if v.data is not None), None)
    for var, value in plan:
        target = var.data if var.data is not None else like
        on_gpu = target is not None and cuda.get_array_module(target) is not np
        var.data = cuda.as_cupy(value) if on_gpu else value
        var.bump_version()


def _read(plan: list[tuple[Any, Entry]]) -> list[tuple[Any, np.ndarray]]:
    return [(var, entry.read()) for var, entry in plan]


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


def _save_path(path: Any) -> str:
    path = os.fspath(path)
    if not (path.endswith(".npz") or path.endswith(".safetensors")):
        path += ".npz"  # numpy.savez's rule, which DeZero's save_weights follows
    return path


def _load_path(path: Any) -> str:
    path = os.fspath(path)
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        return path + ".npz"
    return path


def _write_arrays(path: str, arrays: Mapping[str, np.ndarray], header: str | None) -> None:
    """Write host arrays (and a JSON header) to ``path`` atomically, npz or safetensors."""
    if path.endswith(".safetensors"):
        try:
            import safetensors.numpy
        except ImportError:
            raise ImportError(
                "zerograd: writing .safetensors files needs the safetensors package "
                "(pip install 'zerograd[io]' or pip install safetensors)"
            ) from None
        tensors = {k: np.asarray(v, order="C") for k, v in arrays.items()}  # 0-d stays 0-d
        metadata = None if header is None else {META_KEY: header}
        data = safetensors.numpy.save(tensors, metadata=metadata)
        atomic_write(path, lambda f: f.write(data))
        return
    members = dict(arrays)
    if header is not None:
        members[META_KEY] = np.frombuffer(header.encode(), dtype=np.uint8)
    atomic_write(path, lambda f: np.savez(f, **members))  # type: ignore[arg-type]


def save_weights(layer: Layer, path: Any) -> None:
    """Write the layer's parameters and buffers to ``path`` (see ``Layer.save_weights``)."""
    path = _save_path(path)
    _write_arrays(path, _weights_of(layer, "save_weights"), None)


def load_weights(layer: Layer, path: Any, strict: bool = True) -> None:
    """Read weights into ``layer`` (see ``Layer.load_weights``). A checkpoint written by
    ``zerograd.save`` works too: its model weights are read (and the rest of it checked)."""
    with open_archive(_load_path(path), "load_weights") as archive:
        meta = _checked_meta(archive)
        entries = archive.entries if meta is None else _sections(archive, meta)[0]
        values = _read(_plan_assign(layer, entries, strict, archive))
    _assign(layer, values)


# -- checkpoints -------------------------------------------------------------------------------
def save(
    path: Any,
    model: Layer,
    optimizer: Optimizer | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
    rng: bool = True,
    scheduler: LRScheduler | None = None,
) -> None:
    """Checkpoint training: the model's weights, the optimizer's state and hyperparameters,
    NumPy's global RNG state (``rng=True``), a learning-rate ``scheduler``'s state and
    ``extra`` (JSON values: epoch, step...).

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
    meta: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    if optimizer is not None:
        state = optimizer.state_dict()
        for key, slots in state.pop("state").items():
            for slot, value in slots.items():
                arrays[f"optimizer/{key}/{slot}"] = cuda.as_numpy(value)
        meta["optimizer"] = state
    if scheduler is not None:
        meta["scheduler"] = scheduler.state_dict()
    if rng:
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        arrays["rng/keys"] = np.asarray(keys, dtype=np.uint32)
        meta["rng"] = {
            "kind": kind,
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        }
    meta["extra"] = dict(extra or {})
    try:
        header = json.dumps(meta)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"save: extra must hold JSON values (numbers, strings...): {error}"
        ) from None
    try:  # refuse now what load would refuse (too deep, too large, bad optimizer scalars)
        check_meta(parse_json(header.encode(), "save: the checkpoint's header"))
    except CheckpointError as error:
        raise ValueError(f"save: this checkpoint could not be loaded back: {error}") from None
    _write_arrays(path, arrays, header)


def load(
    path: Any,
    model: Layer | None = None,
    optimizer: Optimizer | None = None,
    *,
    strict: bool = True,
    restore_rng: bool = True,
    scheduler: LRScheduler | None = None,
) -> dict[str, Any]:
    """Restore a checkpoint written by ``save`` into ``model``, ``optimizer`` and
    ``scheduler`` (build it as before, on ``optimizer``); returns its ``extra`` dict. NumPy's
    global RNG is restored too when the checkpoint holds it and ``restore_rng`` is true. The
    whole file is checked before anything is changed; a bad one raises ``CheckpointError`` and
    leaves the model, the optimizer, the scheduler and the RNG as they were.

    A plain weight file (``save_weights``, DeZero) can be given with ``model`` alone.
    """
    with open_archive(_load_path(path), "load") as archive:
        meta = _checked_meta(archive)
        if meta is None:  # a plain weight file: its members are the model's
            if optimizer is not None:
                raise archive.error(
                    "a weight file without optimizer state; use model.load_weights(path) or "
                    "pass no optimizer"
                )
            if scheduler is not None:
                raise archive.error("a weight file without scheduler state")
            weights: Mapping[str, Entry] = archive.entries
            slots: dict[str, dict[str, Entry]] = {}
            rng_entry = None
        else:
            weights, slots, rng_entry = _sections(archive, meta)
        plan = [] if model is None else _plan_assign(model, weights, strict, archive)
        opt_state = None
        if optimizer is not None:
            if meta is None or "optimizer" not in meta:
                raise archive.error("holds no optimizer state (it was saved without one)")
            opt_state = {**meta["optimizer"], "state": slots}
            loaded = {id(var): (entry.shape, entry.dtype) for var, entry in plan}
            try:  # headers only: no slot data has been read yet
                optimizer._check_state_dict(opt_state, loaded.get)
            except CheckpointError as error:
                raise archive.error(str(error)) from None
        scheduler_state = None
        if scheduler is not None:
            if meta is None or "scheduler" not in meta:
                raise archive.error("holds no scheduler state (it was saved without one)")
            try:
                scheduler.check_state_dict(meta["scheduler"])
            except CheckpointError as error:
                raise archive.error(str(error)) from None
            scheduler_state = meta["scheduler"]
        rng_state = None
        if rng_entry is not None and meta is not None:
            r = meta["rng"]
            keys = rng_entry.read()
            rng_state = (r["kind"], keys, r["pos"], r["has_gauss"], r["cached_gaussian"])
            _check_rng_state(rng_state, archive)
        values = _read(plan)
        if opt_state is not None:
            opt_state["state"] = {
                key: {slot: entry.read() for slot, entry in entries.items()}
                for key, entries in slots.items()
            }
    # Everything is checked and read: from here on nothing can fail.
    if model is not None:
        _assign(model, values)
    if optimizer is not None:
        optimizer._apply_state_dict(opt_state)  # type: ignore[arg-type]
    if scheduler_state is not None:
        scheduler.load_state_dict(scheduler_state)  # type: ignore[union-attr]
    if rng_state is not None and restore_rng:
        np.random.set_state(rng_state)
    return {} if meta is None else dict(meta["extra"])


def _check_rng_state(state: tuple[Any, ...], archive: Archive) -> None:
    if not state[1].any():
        raise archive.error("member 'rng/keys' is all zeros, not a Mersenne Twister state")
    try:  # NumPy's own check, on a generator of our own
        np.random.RandomState().set_state(state)
    except (ValueError, TypeError) as error:
        raise archive.error(f"an RNG state NumPy refuses ({error})") from None
