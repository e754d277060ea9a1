"""Learning-rate schedulers with ``torch.optim.lr_scheduler``'s names, arguments and
``step()`` semantics.

Constructing a scheduler takes the optimizer's current rate as its base and performs the
first step (``last_epoch`` becomes 0); each ``step()`` after ``optimizer.update()`` moves one
epoch (or one batch: the unit is yours). The rate is the optimizer's ``lr`` attribute (SGD,
MomentumSGD, AdaGrad, AdaDelta) or ``alpha`` (Adam, AdamW: DeZero's name for torch's ``lr``).
The formulas are torch's own (the recursive forms where torch uses them), so the sequences
equal torch's to the last bit or within a few ulps.

>>> import zerograd.optimizers as O
>>> from zerograd.optimizers.lr_scheduler import StepLR
>>> opt = O.SGD(lr=0.1)
>>> sched = StepLR(opt, step_size=2, gamma=0.5)
>>> rates = []
>>> for epoch in range(5):
...     rates.append(opt.lr)  # train one epoch with this rate, then:
...     sched.step()
>>> rates
[0.1, 0.1, 0.05, 0.05, 0.025]

``state_dict()`` is a JSON-friendly dict (``zerograd.save(..., scheduler=sched)`` stores it in
a checkpoint); ``load_state_dict`` checks every key and value before changing anything.
"""

from __future__ import annotations

import math
import numbers
import weakref
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "rate_attribute",
]

# The rate each optimizer started from (torch keeps it as ``param_group["initial_lr"]``): a
# second scheduler on the same optimizer (SequentialLR's parts) takes it as its base, not the
# rate the first one has already changed.
_INITIAL: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


# -- argument checks (shared by the constructors and load_state_dict) -----------------------------
Check = Callable[[str, Any], Any]


def _real(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False) -> Check:
    """A real number in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``); infinities allowed only
    where the range allows them."""

    def check(where: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{where} must be a real number, got {type(value).__name__}")
        value = float(value)
        if math.isnan(value):
            raise ValueError(f"{where} must be a number, got nan")
        if lo is not None and (value < lo or (lo_open and value == lo)):
            bound = f"> {lo}" if lo_open else f">= {lo}"
            raise ValueError(f"{where} must be {bound}, got {value}")
        if hi is not None and value > hi:
            raise ValueError(f"{where} must be <= {hi}, got {value}")
        return value

    return check


def _int(lo: int | None = None) -> Check:
    def check(where: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{where} must be an int, got {type(value).__name__}")
        if lo is not None and value < lo:
            raise ValueError(f"{where} must be >= {lo}, got {value}")
        return int(value)

    return check


def _choice(*options: Any) -> Check:
    def check(where: str, value: Any) -> Any:
        if value not in options or type(value) is not type(options[0]):
            raise ValueError(f"{where} must be one of {list(options)}, got {value!r}")
        return value

    return check


def _list(item: Check, length: int | None = None) -> Check:
    def check(where: str, value: Any) -> list[Any]:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{where} must be a list, got {type(value).__name__}")
        if length is not None and len(value) != length:
            raise ValueError(f"{where} must have {length} item(s), got {len(value)}")
        return [item(f"{where}[{i}]", v) for i, v in enumerate(value)]

    return check


_POSITIVE = _real(0.0, lo_open=True)
_RATE = _real(0.0)
_ANY_REAL = _real()
_BOOL: Check = _choice(True, False)


def _rate_name(optimizer: Any, names: Sequence[str]) -> str | None:
    """The first of ``names`` that ``optimizer`` declares as a hyperparameter or holds as a
    plain attribute (Adam's ``lr`` is a computed property, so its rate is ``alpha``)."""
    declared = getattr(optimizer, "_hyper", ())  # (a multi-node wrapper passes it through)
    for name in names:
        if name in declared or name in getattr(optimizer, "__dict__", {}):
            return name
    return None


def rate_attribute(optimizer: Any) -> str:
    """The name of ``optimizer``'s learning-rate attribute, which schedulers set: ``"lr"``
    (SGD, MomentumSGD, AdaGrad, AdaDelta, DeZero-style optimizers of your own) or ``"alpha"``
    (Adam, AdamW).

    >>> import zerograd.optimizers as O
    >>> rate_attribute(O.SGD()), rate_attribute(O.Adam())
    ('lr', 'alpha')
    """
    name = _rate_name(optimizer, ("lr", "alpha"))
    if name is None:
        raise TypeError(
            f"{type(optimizer).__name__} is not an optimizer with a learning rate (an 'lr' or "
            f"'alpha' attribute)"
        )
    return name


# -- the base class --------------------------------------------------------------------------------
class LRScheduler:
    """Base class: subclasses define ``get_lr()`` (the rate for ``self.last_epoch``, from the
    optimizer's current rate where torch's formula is recursive) and may define
    ``_closed_form()`` (the rate from ``base_lrs`` alone, which ``SequentialLR`` uses when it
    switches to a scheduler). ``_settings`` maps each setting saved by ``state_dict`` to its
    check."""

    _settings: ClassVar[dict[str, Check]] = {}

    def __init__(self, optimizer: Any, last_epoch: int = -1) -> None:
        self._attach(optimizer)
        last_epoch = _int(-1)(f"{self._name}: last_epoch", last_epoch)
        if last_epoch == -1:
            initial = _INITIAL.setdefault(optimizer, self._get_rate())
        elif optimizer in _INITIAL:
            initial = _INITIAL[optimizer]
        else:
            raise ValueError(
                f"{self._name}: last_epoch={last_epoch} resumes a schedule, but no scheduler has "
                f"recorded this optimizer's initial rate; construct with last_epoch=-1 and call "
                f"load_state_dict(state) instead"
            )
        self.base_lrs = [initial]
        self.last_epoch = last_epoch
        self._initial_step()

    def _attach(self, optimizer: Any) -> None:
        self._name = type(self).__name__
        try:
            name = rate_attribute(optimizer)
        except TypeError as error:
            raise TypeError(f"{self._name}: {error}") from None
        self.optimizer = optimizer
        #: The optimizer's attribute this scheduler sets: ``"lr"``, or ``"alpha"`` for Adam.
        self.rate_name = name
        _RATE(f"{self._name}: {type(optimizer).__name__}.{name}", getattr(optimizer, name))

    def _get_rate(self) -> float:
        return float(getattr(self.optimizer, self.rate_name))

    def _set_rate(self, value: float) -> None:
        setattr(self.optimizer, self.rate_name, value)

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The rate for ``last_epoch`` (called by ``step``)."""
        raise NotImplementedError(f"{self._name}.get_lr is not implemented")

    def get_last_lr(self) -> list[float]:
        """The rate set by the last ``step()`` (a one-item list, as torch's for one group)."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one epoch and set the optimizer's rate; call after ``optimizer.update()``."""
        self._step_count += 1
        self.last_epoch += 1
        self._apply(self.get_lr())

    def _jump_to_start(self) -> None:
        """Restart at epoch 0 from ``base_lrs`` (torch's ``_update_lr(0)``, used by
        SequentialLR at a milestone)."""
        self.last_epoch = 0
        closed = getattr(self, "_closed_form", None)
        self._apply(closed() if closed is not None else self.get_lr())

    def _apply(self, values: list[float]) -> None:
        self._set_rate(values[0])
        self._last_lr = [self._get_rate()]

    # -- checkpoints ----------------------------------------------------------------------------
    def _schema(self) -> dict[str, Check]:
        return {
            "last_epoch": _int(),  # below -1 for the later parts of nested SequentialLRs
            "step_count": _int(0),
            "base_lrs": _list(_RATE, 1),
            "last_lr": _list(_RATE, 1),
            **self._settings,
        }

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state as JSON values: its class, counters, base and last rates and
        settings (a ``LambdaLR``'s function is not saved: construct it with the same one)."""
        state: dict[str, Any] = {
            "class": self._name,
            "last_epoch": self.last_epoch,
            "step_count": self._step_count,
            "base_lrs": list(self.base_lrs),
            "last_lr": list(self._last_lr),
        }
        for key in self._settings:
            value = getattr(self, key)
            state[key] = list(value) if isinstance(value, (list, tuple)) else value
        return state

    def check_state_dict(self, state: Any) -> dict[str, Any]:
        """Validate ``state`` (from ``state_dict()``, maybe read from a file) and return the
        checked values; raise ``CheckpointError`` naming the key and the problem."""
        from zerograd.serialization import CheckpointError

        where = f"{self._name}.load_state_dict"
        if not isinstance(state, dict):
            raise CheckpointError(f"{where}: the state must be a dict, got {type(state).__name__}")
        if state.get("class") != self._name:
            raise CheckpointError(
                f"{where}: the state belongs to a {state.get('class')!r} scheduler, not a "
                f"{self._name}"
            )
        schema = self._schema()
        unknown = sorted(str(k) for k in state if k not in schema and k != "class")
        missing = [k for k in schema if k not in state]
        if unknown or missing:
            parts = [f"unknown key(s) {unknown}"] if unknown else []
            parts += [f"missing key(s) {missing}"] if missing else []
            raise CheckpointError(f"{where}: {'; '.join(parts)}")
        checked = {}
        for key, check in schema.items():
            try:
                checked[key] = check(f"{where}: {key!r}", state[key])
            except (TypeError, ValueError) as error:
                raise CheckpointError(str(error)) from None
        return checked

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()``'s values (checked first: nothing changes on error)."""
        self._load(self.check_state_dict(state))

    def _load(self, checked: dict[str, Any]) -> None:
        self.last_epoch = checked.pop("last_epoch")
        self._step_count = checked.pop("step_count")
        self.base_lrs = checked.pop("base_lrs")
        self._last_lr = checked.pop("last_lr")
        _INITIAL.setdefault(self.optimizer, self.base_lrs[0])
        for key, value in checked.items():
            setattr(self, key, value)


# -- schedules -------------------------------------------------------------------------------------
class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(epoch)``."""

    def __init__(
        self, optimizer: Any, lr_lambda: Callable[[int], float], last_epoch: int = -1
    ) -> None:
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != 1:
                raise ValueError(
                    f"LambdaLR: expected 1 lr_lambda (zerograd optimizers have one rate), got "
                    f"{len(lr_lambda)}"
                )
            lr_lambda = lr_lambda[0]
        if not callable(lr_lambda):
            raise TypeError(f"LambdaLR: lr_lambda must be callable, got {type(lr_lambda).__name__}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        factor = _ANY_REAL(
            f"LambdaLR: lr_lambda({self.last_epoch})", self.lr_lambda(self.last_epoch)
        )
        return [self.base_lrs[0] * factor]


class StepLR(LRScheduler):
    """``lr = base_lr * gamma ** (epoch // step_size)``."""

    _settings: ClassVar[dict[str, Check]] = {"step_size": _int(1), "gamma": _ANY_REAL}

    def __init__(
        self, optimizer: Any, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = _int(1)("StepLR: step_size", step_size)
        self.gamma = _ANY_REAL("StepLR: gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [self._get_rate()]
        return [self._get_rate() * self.gamma]

    def _closed_form(self) -> list[float]:
        return [self.base_lrs[0] * self.gamma ** (self.last_epoch // self.step_size)]


class MultiStepLR(LRScheduler):
    """``lr = base_lr * gamma ** (number of milestones <= epoch)``."""

    _settings: ClassVar[dict[str, Check]] = {"milestones": _list(_int(0)), "gamma": _ANY_REAL}

    def __init__(
        self, optimizer: Any, milestones: Sequence[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.milestones = sorted(_list(_int(0))("MultiStepLR: milestones", list(milestones)))
        self.gamma = _ANY_REAL("MultiStepLR: gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        count = Counter(self.milestones)[self.last_epoch]
        if count == 0:
            return [self._get_rate()]
        return [self._get_rate() * self.gamma**count]

    def _closed_form(self) -> list[float]:
        return [self.base_lrs[0] * self.gamma ** bisect_right(self.milestones, self.last_epoch)]


class ExponentialLR(LRScheduler):
    """``lr = base_lr * gamma ** epoch``."""

    _settings: ClassVar[dict[str, Check]] = {"gamma": _ANY_REAL}

    def __init__(self, optimizer: Any, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _ANY_REAL("ExponentialLR: gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return [self._get_rate()]
        return [self._get_rate() * self.gamma]

    def _closed_form(self) -> list[float]:
        return [self.base_lrs[0] * self.gamma**self.last_epoch]


class LinearLR(LRScheduler):
    """The factor goes linearly from ``start_factor`` to ``end_factor`` over ``total_iters``
    epochs, then stays (a warmup with ``start_factor < 1``)."""

    _settings: ClassVar[dict[str, Check]] = {
        "start_factor": _real(0.0, 1.0, lo_open=True),
        "end_factor": _real(0.0, 1.0),
        "total_iters": _int(0),
    }

    def __init__(
        self,
        optimizer: Any,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        s = self._settings
        self.start_factor = s["start_factor"]("LinearLR: start_factor", start_factor)
        self.end_factor = s["end_factor"]("LinearLR: end_factor", end_factor)
        self.total_iters = s["total_iters"]("LinearLR: total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lr = self._get_rate()
        if self.last_epoch == 0:
            return [lr * self.start_factor]
        if self._is_initial or self.last_epoch > self.total_iters:
            return [lr]
        span = self.end_factor - self.start_factor
        return [
            lr
            * (1.0 + span / (self.total_iters * self.start_factor + (self.last_epoch - 1) * span))
        ]

    def _closed_form(self) -> list[float]:
        span = self.end_factor - self.start_factor
        done = min(self.total_iters, self.last_epoch)
        return [self.base_lrs[0] * (self.start_factor + span * done / self.total_iters)]


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2`` (torch's
    recursive form of it)."""

    _settings: ClassVar[dict[str, Check]] = {"T_max": _int(1), "eta_min": _RATE}

    def __init__(
        self, optimizer: Any, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        self.T_max = _int(1)("CosineAnnealingLR: T_max", T_max)
        self.eta_min = _RATE("CosineAnnealingLR: eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lr, base, t, n = self._get_rate(), self.base_lrs[0], self.last_epoch, self.T_max
        if self._is_initial:
            return [lr]
        if self._step_count == 1 and t > 0:
            return [self.eta_min + (base - self.eta_min) * (1 + math.cos(t * math.pi / n)) / 2]
        if (t - 1 - n) % (2 * n) == 0:
            return [lr + (base - self.eta_min) * (1 - math.cos(math.pi / n)) / 2]
        return [
            (1 + math.cos(math.pi * t / n))
            / (1 + math.cos(math.pi * (t - 1) / n))
            * (lr - self.eta_min)
            + self.eta_min
        ]

    def _closed_form(self) -> list[float]:
        cos = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (self.base_lrs[0] - self.eta_min) * cos / 2]


class OneCycleLR(LRScheduler):
    """The 1cycle policy: the rate rises from ``max_lr / div_factor`` to ``max_lr`` over the
    first ``pct_start`` of ``total_steps`` and anneals to ``initial / final_div_factor``;
    with ``cycle_momentum`` the momentum (MomentumSGD's ``momentum``, Adam's ``beta1``) moves
    the opposite way between ``max_momentum`` and ``base_momentum``. Step it per batch."""

    _settings: ClassVar[dict[str, Check]] = {
        "total_steps": _int(1),
        "max_lr": _RATE,
        "initial_lr": _RATE,
        "min_lr": _RATE,
        "pct_start": _real(0.0, 1.0),
        "anneal_strategy": _choice("cos", "linear"),
        "three_phase": _BOOL,
        "cycle_momentum": _BOOL,
        "base_momentum": _RATE,
        "max_momentum": _RATE,
    }

    def __init__(
        self,
        optimizer: Any,
        max_lr: float,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        s, n = self._settings, "OneCycleLR"
        if total_steps is not None:
            self.total_steps = _int(1)(f"{n}: total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            epochs = _int(1)(f"{n}: epochs", epochs)
            self.total_steps = epochs * _int(1)(f"{n}: steps_per_epoch", steps_per_epoch)
        else:
            raise ValueError(f"{n}: give total_steps, or epochs and steps_per_epoch")
        self.pct_start = s["pct_start"](f"{n}: pct_start", pct_start)
        self.anneal_strategy = s["anneal_strategy"](f"{n}: anneal_strategy", anneal_strategy)
        self.three_phase = _BOOL(f"{n}: three_phase", three_phase)
        self.cycle_momentum = _BOOL(f"{n}: cycle_momentum", cycle_momentum)
        self.max_lr = _POSITIVE(f"{n}: max_lr", max_lr)
        div_factor = _POSITIVE(f"{n}: div_factor", div_factor)
        final_div_factor = _POSITIVE(f"{n}: final_div_factor", final_div_factor)
        self.base_momentum = _RATE(f"{n}: base_momentum", base_momentum)
        self.max_momentum = _RATE(f"{n}: max_momentum", max_momentum)
        self._attach(optimizer)
        self.momentum_name = None
        if self.cycle_momentum:
            self.momentum_name = _rate_name(optimizer, ("momentum", "beta1"))
            if self.momentum_name is None:
                raise ValueError(
                    f"{n}: {type(optimizer).__name__} has no momentum or beta1 to cycle; pass "
                    f"cycle_momentum=False"
                )
        self.initial_lr = self.max_lr / div_factor
        self.min_lr = self.initial_lr / final_div_factor
        if _int(-1)(f"{n}: last_epoch", last_epoch) == -1:
            # torch overwrites the optimizer's initial rate here: the cycle starts from it.
            _INITIAL[optimizer] = self.initial_lr
            if self.momentum_name is not None:
                setattr(optimizer, self.momentum_name, self.max_momentum)
        super().__init__(optimizer, last_epoch)

    def check_state_dict(self, state: Any) -> dict[str, Any]:
        from zerograd.serialization import CheckpointError

        checked = super().check_state_dict(state)
        if checked["cycle_momentum"] and _rate_name(self.optimizer, ("momentum", "beta1")) is None:
            raise CheckpointError(
                f"OneCycleLR.load_state_dict: the state cycles momentum, but "
                f"{type(self.optimizer).__name__} has no momentum or beta1"
            )
        return checked

    def _load(self, checked: dict[str, Any]) -> None:
        super()._load(checked)
        cycles = self.cycle_momentum
        self.momentum_name = _rate_name(self.optimizer, ("momentum", "beta1")) if cycles else None

    def _phases(self) -> list[tuple[float, str, str, str, str]]:
        """``(end_step, start_lr, end_lr, start_momentum, end_momentum)`` per phase."""
        total, pct = self.total_steps, self.pct_start
        if self.three_phase:
            return [
                (float(pct * total) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (
                    float(2 * pct * total) - 2,
                    "max_lr",
                    "initial_lr",
                    "base_momentum",
                    "max_momentum",
                ),
                (total - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        return [
            (float(pct * total) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            (total - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
        ]

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times; the schedule has total_steps="
                f"{self.total_steps}"
            )
        phases = self._phases()
        start_step = 0.0
        for i, (end_step, lr0, lr1, m0, m1) in enumerate(phases):
            if step <= end_step or i == len(phases) - 1:
                # The one step past the end that torch allows (the loop's last ``step()``)
                # would extrapolate: a negative rate for linear annealing, which optimizers
                # refuse. It stays at the schedule's end instead; no update reads it.
                pct = min((step - start_step) / (end_step - start_step), 1.0)
                lr = self._anneal(getattr(self, lr0), getattr(self, lr1), pct)
                if self.momentum_name is not None:
                    momentum = self._anneal(getattr(self, m0), getattr(self, m1), pct)
                    setattr(self.optimizer, self.momentum_name, momentum)
                return [lr]
            start_step = end_step
        raise AssertionError("unreachable: the last phase always matches")


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rate by ``factor`` when ``step(metric)`` has not improved for more than
    ``patience`` epochs (then wait ``cooldown`` epochs); never below ``min_lr``."""

    _settings: ClassVar[dict[str, Check]] = {
        "mode": _choice("min", "max"),
        "factor": _real(0.0, 1.0),
        "patience": _int(0),
        "threshold": _real(0.0),
        "threshold_mode": _choice("rel", "abs"),
        "cooldown": _int(0),
        "min_lrs": _list(_RATE, 1),
        "eps": _real(0.0),
        "best": _real(),
        "num_bad_epochs": _int(0),
        "cooldown_counter": _int(0),
    }

    def __init__(
        self,
        optimizer: Any,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0,
        eps: float = 1e-8,
    ) -> None:
        s, n = self._settings, "ReduceLROnPlateau"
        self._attach(optimizer)
        self.factor = s["factor"](f"{n}: factor", factor)
        if self.factor >= 1.0:
            raise ValueError(f"{n}: factor must be < 1.0, got {self.factor}")
        self.mode = s["mode"](f"{n}: mode", mode)
        self.threshold = s["threshold"](f"{n}: threshold", threshold)
        self.threshold_mode = s["threshold_mode"](f"{n}: threshold_mode", threshold_mode)
        self.patience = s["patience"](f"{n}: patience", patience)
        self.cooldown = s["cooldown"](f"{n}: cooldown", cooldown)
        if isinstance(min_lr, (list, tuple)):
            self.min_lrs = s["min_lrs"](f"{n}: min_lr", min_lr)
        else:
            self.min_lrs = [_RATE(f"{n}: min_lr", min_lr)]
        self.eps = s["eps"](f"{n}: eps", eps)
        self.base_lrs = [self._get_rate()]
        self.last_epoch = 0
        self._step_count = 0
        self._last_lr = [self._get_rate()]
        self.best = math.inf if self.mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics: Any) -> None:  # type: ignore[override]
        """Record this epoch's ``metrics`` (a number, 0-d array or Variable)."""
        from zerograd.autograd.variable import Variable

        value = metrics.data if isinstance(metrics, Variable) else metrics
        try:
            current = float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"ReduceLROnPlateau.step: metrics must be a number, got {type(metrics).__name__}"
            ) from None
        self._step_count += 1
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            old = self._get_rate()
            new = max(old * self.factor, self.min_lrs[0])
            if old - new > self.eps:
                self._set_rate(new)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [self._get_rate()]


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` from its start,
    and so on (warmup then decay: ``SequentialLR(opt, [LinearLR(...), CosineAnnealingLR(...)],
    milestones=[5])``)."""

    def __init__(
        self,
        optimizer: Any,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ) -> None:
        n = "SequentialLR"
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError(f"{n}: expects at least one scheduler, got none")
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler):
                raise TypeError(f"{n}: schedulers[{i}] is a {type(s).__name__}, not a scheduler")
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError(
                    f"{n}: schedulers[{i}] is a ReduceLROnPlateau (its step needs a metric)"
                )
            if s.optimizer is not optimizer:
                raise ValueError(f"{n}: schedulers[{i}] belongs to another optimizer")
            if i > 0 and isinstance(s, SequentialLR):
                raise ValueError(
                    f"{n}: schedulers[{i}] is a SequentialLR; only the first part may be one"
                )
        milestones = _list(_int(0))(f"{n}: milestones", list(milestones))
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"{n}: expects one milestone fewer than schedulers, got {len(schedulers)} "
                f"scheduler(s) and {len(milestones)} milestone(s)"
            )
        if milestones != sorted(milestones):
            raise ValueError(f"{n}: milestones must be increasing, got {milestones}")
        self._attach(optimizer)
        self._schedulers = schedulers
        self.milestones = milestones
        self.last_epoch = _int(-1)(f"{n}: last_epoch", last_epoch) + 1
        self._step_count = 0
        self.base_lrs = [_INITIAL[optimizer]]
        self._set_rate(self.base_lrs[0])
        # Undo the first step each part took when it was built.
        stack: list[LRScheduler] = list(schedulers)
        while stack:
            s = stack.pop()
            if isinstance(s, SequentialLR):
                stack.extend(s._schedulers)
            else:
                s.last_epoch -= 1
        first = schedulers[bisect_right(milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        self._step_count += 1
        self.last_epoch += 1
        idx = bisect_right(self.milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self.milestones[idx - 1] == self.last_epoch:
            scheduler._jump_to_start()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def _schema(self) -> dict[str, Check]:
        return {**super()._schema(), "milestones": _list(_int(0), len(self.milestones))}

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["milestones"] = list(self.milestones)
        state["schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def check_state_dict(self, state: Any) -> dict[str, Any]:
        from zerograd.serialization import CheckpointError

        if not isinstance(state, dict) or state.get("class") != self._name:
            return super().check_state_dict(state)  # raises, naming the problem
        state = dict(state)
        parts = state.pop("schedulers", None)
        if not isinstance(parts, list) or len(parts) != len(self._schedulers):
            raise CheckpointError(
                f"SequentialLR.load_state_dict: 'schedulers' must be a list of "
                f"{len(self._schedulers)} scheduler states, got {type(parts).__name__}"
            )
        checked = super().check_state_dict(state)
        checked["schedulers"] = [s.check_state_dict(p) for s, p in zip(self._schedulers, parts)]
        return checked

    def _load(self, checked: dict[str, Any]) -> None:
        parts = checked.pop("schedulers")
        super()._load(checked)
        for s, part in zip(self._schedulers, parts):
            s._load(part)
