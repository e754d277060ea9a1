"""``Optimizer``: DeZero's protocol (``setup``, ``update``, ``update_one``, hooks) plus a
``state_dict`` so that checkpoints resume training exactly."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.autograd.variable import Parameter

__all__ = ["Optimizer"]

Hook = Callable[[list[Parameter]], None]


class Optimizer:
    """Base class: ``update()`` runs the hooks on the parameters that have a gradient, then
    ``update_one(param)`` on each that still has one, and marks it changed in place
    (``Variable.bump_version``, so a backward that saved the old value fails loudly).

    Subclasses implement ``update_one``; per-parameter arrays (momentum...) live in
    ``self.state[param]`` and are created with ``self._slot(param, name)``. ``_hyper`` names
    the hyperparameters and ``_counters`` the scalar state saved by ``state_dict()``.
    """

    _hyper: tuple[str, ...] = ()
    _counters: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.target: Any = None
        self.hooks: list[Hook] = []
        #: Per-parameter state arrays, ``{param: {slot_name: array}}``.
        self.state: dict[Parameter, dict[str, Any]] = {}
        self._scratch: dict[tuple[Any, ...], Any] = {}
        self._views: dict[tuple[Parameter, int], Any] = {}

    def setup(self, target: Any) -> Optimizer:
        """Optimize the parameters of ``target`` (a Layer, or an iterable of Parameters);
        returns self."""
        if not hasattr(target, "params"):
            target = _ParamList(target)
        self.target = target
        return self

    def add_hook(self, f: Hook) -> None:
        """Call ``f(params)`` on the parameters with gradients before each update."""
        self.hooks.append(f)

    def update(self) -> None:
        """One optimization step on every parameter that has a gradient."""
        if self.target is None:
            raise RuntimeError(f"{type(self).__name__}.update: call setup(model) first")
        params = [p for p in self.target.params() if p.grad is not None]
        if self.hooks:
            for f in self.hooks:
                f(params)
            # Hooks may drop gradients (FreezeParam); DeZero crashes on those.
            params = [p for p in params if p.grad is not None]
        for param in params:
            self.update_one(param)
            param.bump_version()

    def update_one(self, param: Parameter) -> None:
        raise NotImplementedError(f"{type(self).__name__}.update_one is not implemented")

    # -- per-parameter state ------------------------------------------------------------------
    def _slot(self, param: Parameter, name: str) -> Any:
        """The state array ``name`` of ``param`` (zeros at first use), on the param's device."""
        slots = self.state.get(param)
        if slots is None:
            slots = self.state[param] = {}
        value = slots.get(name)
        data = param.data
        if value is None:
            value = slots[name] = cuda.get_array_module(data).zeros_like(data)
        elif type(value) is not type(data):  # the model moved between devices
            value = slots[name] = (
                cuda.as_numpy(value) if isinstance(data, np.ndarray) else cuda.as_cupy(value)
            )
        return value

    def _tmp(self, param: Parameter, index: int = 0) -> Any:
        """A scratch array shaped like ``param`` for in-place arithmetic without temporaries.

        All parameters of one device and dtype share one buffer per ``index`` (sized for the
        largest), so the optimizer allocates nothing per step and holds no per-parameter
        copies; the view for each parameter is cached.
        """
        data = param.data
        view = self._views.get((param, index))
        if view is not None and view.shape == data.shape and type(view) is type(data):
            if view.dtype == data.dtype:
                return view
        key = (type(data), data.dtype, index)
        buf = self._scratch.get(key)
        if buf is None or buf.size < data.size:
            buf = self._scratch[key] = cuda.get_array_module(data).empty(data.size, data.dtype)
            self._views.clear()  # views of the old buffer would no longer be shared
        view = self._views[(param, index)] = buf[: data.size].reshape(data.shape)
        return view

    # -- checkpoints ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state: ``{"class", "hyper", "counters", "state"}``, where ``state``
        maps each parameter's key (``"l0/W"``, as in weight files) to its slot arrays."""
        if self.target is None:
            raise RuntimeError(f"{type(self).__name__}.state_dict: call setup(model) first")
        names = {id(p): key for key, p in _param_keys(self.target)}
        state = {}
        for param, slots in self.state.items():
            key = names.get(id(param))
            if key is not None and slots:
                state[key] = dict(slots)
        return {
            "class": type(self).__name__,
            "hyper": {k: _plain(getattr(self, k)) for k in self._hyper},
            "counters": {k: _plain(getattr(self, k)) for k in self._counters},
            "state": state,
        }

    def _check_state_dict(self, sd: dict[str, Any]) -> None:
        """Raise ``CheckpointError`` if ``sd`` cannot be loaded; change nothing."""
        from zerograd.serialization import CheckpointError

        name = type(self).__name__
        if self.target is None:
            raise RuntimeError(f"{name}.load_state_dict: call setup(model) first")
        if sd.get("class") != name:
            raise CheckpointError(
                f"{name}.load_state_dict: the state belongs to a {sd.get('class')} optimizer"
            )
        params = dict(_param_keys(self.target))
        for key, slots in sd.get("state", {}).items():
            param = params.get(key)
            if param is None:
                raise CheckpointError(
                    f"{name}.load_state_dict: state for {key!r}, which the model does not have"
                )
            for slot, value in slots.items():
                if param.data is not None and tuple(value.shape) != tuple(param.data.shape):
                    raise CheckpointError(
                        f"{name}.load_state_dict: state {slot!r} of {key!r} has shape "
                        f"{tuple(value.shape)}, but the parameter has shape "
                        f"{tuple(param.data.shape)}"
                    )

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore hyperparameters, counters and per-parameter state from ``state_dict()``."""
        self._check_state_dict(sd)
        for k, v in sd.get("hyper", {}).items():
            setattr(self, k, v)
        for k, v in sd.get("counters", {}).items():
            setattr(self, k, v)
        params = dict(_param_keys(self.target))
        self.state = {}
        for key, slots in sd.get("state", {}).items():
            param = params[key]
            on_gpu = param.data is not None and not isinstance(param.data, np.ndarray)
            self.state[param] = {
                slot: cuda.as_cupy(v) if on_gpu else np.array(v, copy=True)
                for slot, v in slots.items()
            }


class _ParamList:
    """Wraps a plain list of Parameters so that it looks like a Layer to ``setup``."""

    def __init__(self, params: Iterable[Parameter]) -> None:
        self._list = list(params)

    def params(self) -> Any:
        return iter(self._list)

    def named_params(self) -> Any:
        return ((str(i), p) for i, p in enumerate(self._list))


def _param_keys(target: Any) -> list[tuple[str, Parameter]]:
    if hasattr(target, "named_state"):
        return [(k, p) for k, p in target.named_state("/") if isinstance(p, Parameter)]
    return list(target.named_params())


def _plain(value: Any) -> Any:
    """A JSON-friendly copy of a hyperparameter (NumPy scalars become Python numbers)."""
    if isinstance(value, np.generic):
        return value.item()
    return value
