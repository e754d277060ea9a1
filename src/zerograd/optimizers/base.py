"""``Optimizer``: DeZero's protocol (``setup``, ``update``, ``update_one``, hooks) plus a
``state_dict`` so that checkpoints resume training exactly."""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from zerograd import cuda
from zerograd.autograd.variable import Parameter, Variable

__all__ = ["Hyper", "Optimizer"]

Hook = Callable[[list[Parameter]], None]


class Hyper:
    """A real-valued hyperparameter of an optimizer or hook, checked at every assignment:
    a finite number in ``[low, high]`` (an end is excluded where ``*_open``), kept as a
    Python float, so that it meets arrays of any dtype as DeZero's Python floats do.

    >>> import zerograd.optimizers as O
    >>> O.SGD(lr=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: SGD: lr must be a finite number >= 0, got -1.0
    """

    def __init__(
        self,
        low: float = 0.0,
        high: float = math.inf,
        *,
        low_open: bool = False,
        high_open: bool = False,
    ) -> None:
        self.low, self.high = low, high
        self.low_open, self.high_open = low_open, high_open
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    # No __get__: reads come straight from the instance's __dict__, at full speed.
    if TYPE_CHECKING:

        def __get__(self, obj: Any, owner: Any = None) -> float: ...

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.name] = self.check(type(obj).__name__, value)

    def check(self, owner: str, value: Any) -> float:
        """``value`` as a float, or a TypeError/ValueError naming ``owner`` and the argument."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(
                f"{owner}: {self.name} must be a real number, got {value!r} "
                f"({type(value).__name__})"
            )
        v = float(value)
        too_low = v <= self.low if self.low_open else v < self.low
        too_high = v >= self.high if self.high_open else v > self.high
        if not math.isfinite(v) or too_low or too_high:
            raise ValueError(f"{owner}: {self.name} must be {self.describe()}, got {value!r}")
        return v

    def describe(self) -> str:
        """The allowed range in words: ``>= 0``, ``in [0, 1)``..."""
        lo = ">" if self.low_open else ">="
        if self.high == math.inf:
            return f"a finite number {lo} {self.low:g}"
        return (
            f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}"
            f"{')' if self.high_open else ']'}"
        )


class Optimizer:
    """Base class: ``update()`` runs the hooks on the parameters that have a gradient, then
    ``update_one(param)`` on each that still has one, and marks it changed in place
    (``Variable.bump_version``, so a backward that saved the old value fails loudly).

    Subclasses implement ``update_one``; per-parameter arrays (momentum...) live in
    ``self.state[param]`` and are created with ``self._slot(param, name)`` (the parameter's
    dtype); ``self._tmp(param, i, dtype)`` lends scratch arrays, so that each intermediate
    gets the dtype NumPy gives DeZero's expression. ``_hyper`` names the hyperparameters
    (declared as ``Hyper`` class attributes, checked at every assignment), ``_counters`` the
    scalar state and ``_slots`` the state arrays that ``state_dict()`` saves and
    ``load_state_dict()`` accepts.
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
        self._views: dict[tuple[Any, ...], Any] = {}

    def setup(self, target: Any) -> Optimizer:
        """Optimize the parameters of ``target``: a Layer (or Model), or an iterable of
        Parameters (or Variables); returns self.

        The list may not be empty, and parameters that already hold data must be floating
        point (checked again at every ``update()``).
        """
        name = f"{type(self).__name__}.setup"
        if isinstance(target, Variable):
            raise TypeError(
                f"{name}: expected a Layer or an iterable of Parameters, got a single "
                f"{type(target).__name__}; pass [{type(target).__name__.lower()}]"
            )
        if callable(getattr(target, "params", None)):
            params = list(target.params())
        else:
            target = _ParamList(name, target)
            params = target._list
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
        for param in params:
            if param.data is not None:
                self._check_param(param, name, grad=False, target=target)
        self.target = target
        return self

    def add_hook(self, f: Hook) -> None:
        """Call ``f(params)`` on the parameters with gradients before each update."""
        if not callable(f):
            raise TypeError(
                f"{type(self).__name__}.add_hook: a hook must be callable as f(params), got "
                f"{type(f).__name__}"
            )
        self.hooks.append(f)

    def update(self) -> None:
        """One optimization step on every parameter that has a gradient.

        Every parameter and gradient is checked first (floating point, one shape), so a bad
        one changes nothing. Hooks run next, in the order they were added; a hook may drop
        gradients (``FreezeParam``), and the hooks after it see only the parameters that
        still have one.
        """
        if self.target is None:
            raise RuntimeError(f"{type(self).__name__}.update: call setup(model) first")
        params = [p for p in self.target.params() if p.grad is not None]
        self._check_grads(params)
        if self.hooks:
            for f in self.hooks:
                f(params)
                params = [p for p in params if p.grad is not None]
            self._check_grads(params)  # a hook may have replaced a gradient
        for param in params:
            self.update_one(param)
            param.bump_version()

    def _check_grads(self, params: list[Parameter]) -> None:
        for param in params:
            # One fast test per parameter; the slow one says what is wrong.
            try:
                g, data = param.grad.data, param.data  # type: ignore[union-attr]
                ok = g.shape == data.shape and g.dtype.kind == "f" == data.dtype.kind
            except AttributeError:
                ok = False
            if not ok:
                self._check_param(param, f"{type(self).__name__}.update", grad=True)

    def _check_param(self, param: Parameter, where: str, grad: bool, target: Any = None) -> None:
        """Raise a TypeError/ValueError naming ``param`` (by its key in ``target``, default
        the optimizer's) unless it (and, with ``grad``, its gradient) is a floating-point
        array of one shape."""
        target = self.target if target is None else target
        data: Any = param.data
        if not hasattr(data, "dtype") or data.dtype.kind != "f":
            what = "no data" if data is None else f"dtype {getattr(data, 'dtype', type(data))}"
            raise TypeError(
                f"{where}: parameter {_param_name(target, param)} has {what}; optimizers update "
                f"floating-point parameters only"
            )
        if not grad:
            return
        g: Any = getattr(param.grad, "data", None)
        if not hasattr(g, "dtype") or not hasattr(g, "shape"):
            raise TypeError(
                f"{where}: the gradient of parameter {_param_name(target, param)} must be a "
                f"Variable holding an array, got {type(param.grad).__name__}"
            )
        if g.dtype.kind != "f":
            raise TypeError(
                f"{where}: the gradient of parameter {_param_name(target, param)} has dtype "
                f"{g.dtype}; expected a floating-point gradient"
            )
        if g.shape != data.shape:
            raise ValueError(
                f"{where}: the gradient of parameter {_param_name(target, param)} has shape "
                f"{tuple(g.shape)}, but the parameter has shape {tuple(data.shape)}"
            )

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

    def _tmp(self, param: Parameter, index: int = 0, dtype: Any = None) -> Any:
        """A scratch array shaped like ``param`` (of ``dtype``, default the parameter's) for
        in-place arithmetic without temporaries.

        All parameters of one device share one buffer per ``(dtype, index)`` (sized for the
        largest), so the optimizer allocates nothing per step and holds no per-parameter
        copies; the view for each parameter is cached.
        """
        data = param.data
        dtype = data.dtype if dtype is None else dtype
        view = self._views.get((param, index, dtype))
        if view is not None and view.shape == data.shape and type(view) is type(data):
            return view
        key = (type(data), dtype, index)
        buf = self._scratch.get(key)
        if buf is None or buf.size < data.size:
            buf = self._scratch[key] = cuda.get_array_module(data).empty(data.size, dtype)
            self._views.clear()  # views of the old buffer would no longer be shared
        view = self._views[(param, index, dtype)] = buf[: data.size].reshape(data.shape)
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


def wider(a: Any, b: Any) -> Any:
    """The wider of two floating-point dtypes (NumPy's promotion of two float arrays)."""
    return a if a.itemsize >= b.itemsize else b


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

    def __init__(self, where: str, params: Iterable[Parameter]) -> None:
        try:
            items = list(params)
        except TypeError:
            raise TypeError(
                f"{where}: expected a Layer or an iterable of Parameters, got "
                f"{type(params).__name__}"
            ) from None
        seen: dict[int, int] = {}
        for i, p in enumerate(items):
            if not isinstance(p, Variable):
                raise TypeError(
                    f"{where}: expected a Layer or an iterable of Parameters; item {i} is a "
                    f"{type(p).__module__}.{type(p).__name__}, not a Parameter or Variable"
                )
            if id(p) in seen:
                raise ValueError(f"{where}: item {i} is the same parameter as item {seen[id(p)]}")
            seen[id(p)] = i
        self._list = items

    def params(self) -> Any:
        return iter(self._list)

    def named_params(self) -> Any:
        return ((str(i), p) for i, p in enumerate(self._list))


def _param_name(target: Any, param: Parameter) -> str:
    """How messages name ``param``: its key in a Layer (``'l0/W'``) or its position in a list
    (``#0 ('W')``)."""
    if isinstance(target, _ParamList):
        i = next(i for i, p in enumerate(target._list) if p is param)
        return f"#{i}" + (f" ({param.name!r})" if param.name else "")
    if hasattr(target, "named_state") or hasattr(target, "named_params"):
        for key, p in _param_keys(target):
            if p is param:
                return repr(key)
    return repr(param.name) if param.name else "(unnamed)"


def _param_keys(target: Any) -> list[tuple[str, Parameter]]:
    if hasattr(target, "named_state"):
        return [(k, p) for k, p in target.named_state("/") if isinstance(p, Parameter)]
    return list(target.named_params())


def _plain(value: Any) -> Any:
    """A JSON-friendly copy of a hyperparameter (NumPy scalars become Python numbers)."""
    if isinstance(value, np.generic):
        return value.item()
    return value
