"""``Optimizer``: DeZero's protocol (``setup``, ``update``, ``update_one``, hooks) plus a
``state_dict`` so that checkpoints resume training exactly."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.autograd.variable import Parameter

__all__ = ["Optimizer"]

Hook = Callable[[list[Parameter]], None]


class Optimizer:
    """Base class: ``update()`` runs the hooks on the parameters that have a gradient, then
    ``update_one(param)`` on each that still has one, and marks it changed in place
    (``Variable._bump_version``, so a backward that saved the old value fails loudly).

    Subclasses implement ``update_one``; per-parameter arrays (momentum...) live in
    ``self.state[param]`` and are created with ``self._slot(param, name)``. ``_hyper`` names
    the hyperparameters, ``_counters`` the scalar state and ``_slots`` the state arrays that
    ``state_dict()`` saves and ``load_state_dict()`` accepts.
    """

    _hyper: tuple[str, ...] = ()
    _counters: tuple[str, ...] = ()
    #: The names of the per-parameter state arrays; None: not declared (any names load).
    _slots: tuple[str, ...] | None = None

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
            param._bump_version()

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

    def _check_state_dict(
        self,
        sd: Mapping[str, Any],
        shape_of: Callable[[int], tuple[tuple[int, ...], Any] | None] | None = None,
    ) -> None:
        """Raise ``CheckpointError`` naming the field unless ``sd`` can be loaded; change
        nothing. Every hyperparameter and counter must be one this optimizer has (so a file
        cannot set ``hooks`` or ``target``), of the right type and accepted by its
        constructor; every state array must belong to one of its parameters, be one of its
        slots (``_slots``) and have the parameter's shape and dtype. The state's values need
        only ``.shape`` and ``.dtype``, so a file's headers are checked before its data is
        read; ``shape_of(id(param))`` gives (shape, dtype) for parameters that the same load
        fills (lazily sized ones), when not None."""
        from zerograd.serialization import CheckpointError

        name = type(self).__name__
        if self.target is None:
            raise RuntimeError(f"{name}.load_state_dict: call setup(model) first")

        def fail(message: str) -> CheckpointError:
            return CheckpointError(f"{name}.load_state_dict: {message}")

        fields = {"class", "hyper", "counters", "state"}
        if not isinstance(sd, Mapping) or set(sd) != fields:
            found: object = sorted(sd) if isinstance(sd, Mapping) else type(sd).__name__
            raise fail(f"the state has fields {found}; expected {sorted(fields)}")
        if sd["class"] != name:
            raise fail(f"the state belongs to a {sd['class']} optimizer, not {name}")
        for part, names in (("hyper", self._hyper), ("counters", self._counters)):
            values = sd[part]
            if not isinstance(values, Mapping) or set(values) != set(names):
                found = sorted(values) if isinstance(values, Mapping) else values
                raise fail(f"{part} has the names {found}; {name} has {sorted(names)}")
            for key, value in values.items():
                if not _scalar_like(value, getattr(self, key), counter=part == "counters"):
                    kind = "a non-negative integer" if part == "counters" else "a finite number"
                    raise fail(
                        f"{part}[{key!r}] is {value!r} ({type(value).__name__}); expected {kind}"
                    )
        _check_hyper_by_constructor(type(self), dict(sd["hyper"]), fail)
        state = sd["state"]
        if not isinstance(state, Mapping):
            raise fail(f"state is a {type(state).__name__}; expected a mapping")
        params = dict(_param_keys(self.target))
        for key, slots in state.items():
            param = params.get(key)
            if param is None:
                raise fail(f"state for {key!r}, which the model does not have")
            expected = set(self._slots) if self._slots is not None else None
            if not isinstance(slots, Mapping) or not slots or expected not in (None, set(slots)):
                found = sorted(slots) if isinstance(slots, Mapping) else type(slots).__name__
                want = sorted(expected) if expected is not None else "named arrays"
                raise fail(f"state for {key!r} has the slots {found}; expected {want}")
            spec = shape_of(id(param)) if shape_of is not None else None
            if spec is None and param.data is not None:
                spec = (tuple(param.data.shape), param.data.dtype)
            if spec is None:
                raise fail(f"state for {key!r}, whose parameter is not initialized yet")
            for slot, value in slots.items():
                shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
                if shape is None or tuple(shape) != tuple(spec[0]) or dtype != spec[1]:
                    raise fail(
                        f"state {slot!r} of {key!r} is {dtype} {shape}, but the parameter is "
                        f"{spec[1]} {tuple(spec[0])}"
                    )

    def load_state_dict(self, sd: Mapping[str, Any]) -> None:
        """Restore hyperparameters, counters and per-parameter state from ``state_dict()``;
        ``sd`` is checked in full first (``CheckpointError``, nothing changed)."""
        self._check_state_dict(sd)
        self._apply_state_dict(sd)

    def _apply_state_dict(self, sd: Mapping[str, Any]) -> None:
        """Load a state that ``_check_state_dict`` accepted."""
        for k in self._hyper:
            setattr(self, k, sd["hyper"][k])
        for k in self._counters:
            setattr(self, k, sd["counters"][k])
        params = dict(_param_keys(self.target))
        self.state = {}
        for key, slots in sd["state"].items():
            param = params[key]
            on_gpu = param.data is not None and not isinstance(param.data, np.ndarray)
            self.state[param] = {
                slot: cuda.as_cupy(v) if on_gpu else np.array(v, copy=True)
                for slot, v in slots.items()
            }


def _scalar_like(value: Any, current: Any, counter: bool) -> bool:
    """Whether a loaded hyperparameter or counter may replace ``current``: a non-negative
    integer for counters; a finite real number for numeric hyperparameters (never a bool),
    else a value of the current one's type (a flag, a name, None)."""
    if counter:
        return type(value) is int and 0 <= value < 2**63
    if isinstance(current, (int, float, np.integer, np.floating)) and not isinstance(
        current, (bool, np.bool_)
    ):
        return type(value) in (int, float) and math.isfinite(value)
    return type(value) is type(current) and isinstance(value, (bool, str, type(None)))


def _check_hyper_by_constructor(
    cls: type, hyper: dict[str, Any], fail: Callable[[str], Exception]
) -> None:
    """Validate loaded hyperparameters exactly as the constructor validates given ones, when
    the constructor takes them by these names (every built-in optimizer does)."""
    try:
        inspect.signature(cls).bind(**hyper)
    except TypeError:
        return
    try:
        cls(**hyper)
    except (TypeError, ValueError) as error:
        raise fail(f"hyper {hyper} is refused by {cls.__name__}(): {error}") from None


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
