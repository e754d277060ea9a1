"""Learning-rate schedulers: the rate sequences equal torch's (every scheduler, several
settings, 120+ steps), every optimizer's rate attribute, state that resumes exactly, and
strict validation of arguments and loaded state."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.optimizers as O
from zerograd.optimizers import lr_scheduler as S
from zerograd.serialization import CheckpointError

torch = pytest.importorskip("torch")
T = torch.optim.lr_scheduler

STEPS = 130
LR = 0.1

# name -> builder(module, optimizer): the same call on zerograd's module and on torch's.
Builder = Callable[[Any, Any], Any]
CASES: dict[str, Builder] = {
    "step": lambda m, o: m.StepLR(o, step_size=7),
    "step-gamma": lambda m, o: m.StepLR(o, step_size=30, gamma=0.5),
    "step-1": lambda m, o: m.StepLR(o, step_size=1, gamma=0.97),
    "multistep": lambda m, o: m.MultiStepLR(o, milestones=[10, 40, 90]),
    "multistep-repeat": lambda m, o: m.MultiStepLR(o, milestones=[50, 20, 20, 0], gamma=0.3),
    "exponential": lambda m, o: m.ExponentialLR(o, gamma=0.95),
    "exponential-up": lambda m, o: m.ExponentialLR(o, gamma=1.01),
    "cosine": lambda m, o: m.CosineAnnealingLR(o, T_max=100),
    "cosine-short": lambda m, o: m.CosineAnnealingLR(o, T_max=17, eta_min=0.001),
    "cosine-1": lambda m, o: m.CosineAnnealingLR(o, T_max=1),
    "lambda": lambda m, o: m.LambdaLR(o, lambda e: 1.0 / (1 + e)),
    "lambda-warmup": lambda m, o: m.LambdaLR(o, lambda e: min(1.0, (e + 1) / 10)),
    "linear": lambda m, o: m.LinearLR(o),
    "linear-warmup": lambda m, o: m.LinearLR(o, start_factor=0.01, total_iters=50),
    "linear-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=120),
    "linear-0": lambda m, o: m.LinearLR(o, start_factor=0.5, total_iters=0),
    "onecycle": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=STEPS, cycle_momentum=False),
    "onecycle-linear": lambda m, o: m.OneCycleLR(
        o,
        0.5,
        epochs=13,
        steps_per_epoch=10,
        pct_start=0.25,
        anneal_strategy="linear",
        cycle_momentum=False,
    ),
    "onecycle-three": lambda m, o: m.OneCycleLR(
        o,
        2.0,
        total_steps=STEPS + 5,
        three_phase=True,
        div_factor=10.0,
        final_div_factor=100.0,
        cycle_momentum=False,
    ),
    "sequential": lambda m, o: m.SequentialLR(
        o,
        [m.LinearLR(o, start_factor=0.1, total_iters=10), m.CosineAnnealingLR(o, T_max=110)],
        milestones=[10],
    ),
    "sequential-3": lambda m, o: m.SequentialLR(
        o,
        [m.ExponentialLR(o, gamma=0.9), m.StepLR(o, step_size=5), m.LambdaLR(o, lambda e: 0.5)],
        milestones=[20, 60],
    ),
    "sequential-nested": lambda m, o: m.SequentialLR(
        o,
        [
            m.SequentialLR(o, [m.LinearLR(o, 0.2, total_iters=4), m.ExponentialLR(o, 0.9)], [5]),
            m.MultiStepLR(o, [30, 50]),
        ],
        milestones=[40],
    ),
}


def _torch_sgd(lr: float = LR, momentum: float = 0.0) -> Any:
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=momentum)


def _torch_sequence(build: Builder, steps: int = STEPS) -> list[float]:
    opt = _torch_sgd()
    sched = build(T, opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def _sequence(opt: Any, sched: Any, steps: int = STEPS) -> list[float]:
    out = []
    for _ in range(steps):
        out.append(getattr(opt, sched.rate_name))
        sched.step()
    return out


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", sorted(CASES))
def test_rates_equal_torch(case: str) -> None:
    opt = O.SGD(lr=LR)
    sched = CASES[case](S, opt)
    ours = _sequence(opt, sched)
    ref = _torch_sequence(CASES[case])
    np.testing.assert_allclose(ours, ref, rtol=1e-13, atol=0)
    assert sched.get_last_lr() == [opt.lr]


# Every optimizer: which attribute is the rate, and the rate it starts from.
OPTIMIZERS = {
    "SGD": (lambda: O.SGD(lr=LR), "lr"),
    "MomentumSGD": (lambda: O.MomentumSGD(lr=LR), "lr"),
    "AdaGrad": (lambda: O.AdaGrad(lr=LR), "lr"),
    "AdaDelta": (lambda: O.AdaDelta(lr=LR), "lr"),
    "Adam": (lambda: O.Adam(alpha=LR), "alpha"),
    "AdamW": (lambda: O.AdamW(alpha=LR), "alpha"),
}


def test_every_optimizer_is_covered() -> None:
    names = {n for n in O.__all__ if isinstance(getattr(O, n), type)}
    optimizers = {n for n in names if issubclass(getattr(O, n), O.Optimizer)} - {"Optimizer"}
    assert optimizers == set(OPTIMIZERS)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("case", ["cosine", "sequential", "onecycle"])
def test_every_optimizer_gets_its_rate_scheduled(name: str, case: str) -> None:
    make, attr = OPTIMIZERS[name]
    opt = make()
    sched = CASES[case](S, opt)
    assert sched.rate_name == attr
    assert sched.base_lrs == [LR] or case == "onecycle"
    np.testing.assert_allclose(_sequence(opt, sched), _torch_sequence(CASES[case]), rtol=1e-13)
    if attr == "alpha":  # Adam's lr property still derives from the scheduled alpha
        opt.t = 1
        assert opt.lr == pytest.approx(opt.alpha * math.sqrt(1 - opt.beta2) / (1 - opt.beta1))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("ours", "theirs", "attr", "read"),
    [
        (
            lambda: O.MomentumSGD(lr=LR, momentum=0.9),
            lambda: _torch_sgd(momentum=0.9),
            "momentum",
            lambda g: g["momentum"],
        ),
        (
            lambda: O.Adam(alpha=LR),
            lambda: torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=LR),
            "beta1",
            lambda g: g["betas"][0],
        ),
    ],
)
@pytest.mark.parametrize("three_phase", [False, True])
def test_onecycle_cycles_momentum_like_torch(
    ours: Any, theirs: Any, attr: str, read: Any, three_phase: bool
) -> None:
    opt, topt = ours(), theirs()
    sched = S.OneCycleLR(opt, max_lr=0.3, total_steps=120, three_phase=three_phase)
    tsched = T.OneCycleLR(topt, max_lr=0.3, total_steps=120, three_phase=three_phase)
    for _ in range(120):
        assert getattr(opt, sched.rate_name) == pytest.approx(topt.param_groups[0]["lr"], rel=1e-13)
        assert getattr(opt, attr) == pytest.approx(read(topt.param_groups[0]), rel=1e-13)
        topt.step()
        sched.step()
        tsched.step()


def test_onecycle_state_says_whether_momentum_cycles() -> None:
    cycling = S.OneCycleLR(O.MomentumSGD(), max_lr=0.1, total_steps=10)
    opt = O.MomentumSGD()
    plain = S.OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False)
    plain.load_state_dict(cycling.state_dict())
    plain.step()
    assert opt.momentum != 0.9  # now cycling, as the saved schedule did
    with pytest.raises(CheckpointError, match="SGD has no momentum or beta1"):
        S.OneCycleLR(O.SGD(), 0.1, 10, cycle_momentum=False).load_state_dict(cycling.state_dict())


def test_onecycle_needs_momentum_to_cycle_and_stops_at_total_steps() -> None:
    with pytest.raises(ValueError, match="SGD has no momentum or beta1"):
        S.OneCycleLR(O.SGD(), max_lr=0.1, total_steps=10)
    sched = S.OneCycleLR(O.SGD(), max_lr=0.1, total_steps=3, cycle_momentum=False)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="total_steps=3"):
        sched.step()


def _plateau_metrics() -> list[float]:
    rng = np.random.default_rng(0)
    values = 1.0 / np.arange(1, 41)
    return [*values, *(0.025 + 0.01 * rng.standard_normal(60)), *np.linspace(0.02, 0.1, 40)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"patience": 3, "factor": 0.5},
        {"mode": "max", "patience": 2, "cooldown": 3, "threshold_mode": "abs", "threshold": 0.01},
        {"patience": 0, "min_lr": 0.003, "factor": 0.3},
        {"patience": 1, "cooldown": 1, "eps": 0.05, "min_lr": [0.0]},
    ],
)
def test_reduce_on_plateau_equals_torch(kwargs: dict[str, Any]) -> None:
    opt, topt = O.SGD(lr=LR), _torch_sgd()
    sched, tsched = S.ReduceLROnPlateau(opt, **kwargs), T.ReduceLROnPlateau(topt, **kwargs)
    metrics = _plateau_metrics()
    assert len(metrics) > 100
    for value in metrics:
        assert opt.lr == topt.param_groups[0]["lr"]
        sched.step(value)
        tsched.step(value)
    assert sched.get_last_lr() == tsched.get_last_lr()
    assert sched.num_bad_epochs == tsched.num_bad_epochs and sched.best == tsched.best


def test_reduce_on_plateau_takes_variables_and_resumes() -> None:
    opt = O.SGD(lr=LR)
    sched = S.ReduceLROnPlateau(opt, patience=2, cooldown=2)
    metrics = _plateau_metrics()
    for value in metrics[:70]:
        sched.step(zg.Variable(np.array(value)))
    state = json.loads(json.dumps(sched.state_dict()))
    rest = []
    for value in metrics[70:]:
        sched.step(value)
        rest.append(opt.lr)
    opt2 = O.SGD(lr=LR)
    sched2 = S.ReduceLROnPlateau(opt2)
    opt2.lr = state["last_lr"][0]
    sched2.load_state_dict(state)
    resumed = []
    for value in metrics[70:]:
        sched2.step(value)
        resumed.append(opt2.lr)
    assert resumed == rest
    with pytest.raises(TypeError, match="metrics must be a number"):
        sched2.step("loss")


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("stop", [1, 10, 57])
def test_state_round_trips_through_json_and_resumes_exactly(case: str, stop: int) -> None:
    opt = O.Adam(alpha=LR)
    sched = CASES[case](S, opt)
    whole = _sequence(opt, sched)

    opt = O.Adam(alpha=LR)
    sched = CASES[case](S, opt)
    first = _sequence(opt, sched, stop)
    state = json.loads(json.dumps(sched.state_dict()))
    alpha = opt.alpha  # what the optimizer's own state_dict restores

    opt2 = O.Adam(alpha=LR)
    sched2 = CASES[case](S, opt2)
    opt2.alpha = alpha
    sched2.load_state_dict(state)
    assert first + _sequence(opt2, sched2, STEPS - stop) == whole


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_checkpoint_holds_the_scheduler(tmp_path: Any) -> None:
    model = zg.Layer()
    model.W = zg.Parameter(np.ones(3))
    opt = O.MomentumSGD(lr=LR).setup(model)
    sched = CASES["sequential"](S, opt)
    whole = _sequence(opt, sched)

    model.W.data[...] = 1.0
    opt = O.MomentumSGD(lr=LR).setup(model)
    sched = CASES["sequential"](S, opt)
    first = _sequence(opt, sched, 33)
    path = tmp_path / "ckpt.npz"
    zg.save(path, model, opt, scheduler=sched)

    opt2 = O.MomentumSGD(lr=LR).setup(model)
    sched2 = CASES["sequential"](S, opt2)
    zg.load(path, model, opt2, scheduler=sched2)
    assert first + _sequence(opt2, sched2, STEPS - 33) == whole

    zg.save(path, model, opt)
    with pytest.raises(CheckpointError, match="holds no scheduler state"):
        zg.load(path, model, opt2, scheduler=sched2)
    zg.save(path, model, opt, scheduler=S.StepLR(O.SGD(), 3))
    before = sched2.state_dict()
    with pytest.raises(CheckpointError, match="belongs to a 'StepLR' scheduler"):
        zg.load(path, model, opt2, scheduler=sched2)
    assert sched2.state_dict() == before


def _good_state() -> tuple[Any, dict[str, Any]]:
    sched = S.StepLR(O.SGD(lr=LR), step_size=3)
    for _ in range(5):
        sched.step()
    return sched, sched.state_dict()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.update(extra=1), r"unknown key\(s\) \['extra'\]"),
        (lambda s: s.pop("gamma"), r"missing key\(s\) \['gamma'\]"),
        (lambda s: s.update(last_epoch="5"), "'last_epoch' must be an int, got str"),
        (lambda s: s.update(last_epoch=5.0), "'last_epoch' must be an int, got float"),
        (lambda s: s.update(step_count=-3), "'step_count' must be >= 0"),
        (lambda s: s.update(step_size=0), "'step_size' must be >= 1"),
        (lambda s: s.update(step_size=True), "'step_size' must be an int, got bool"),
        (lambda s: s.update(gamma=None), "'gamma' must be a real number, got NoneType"),
        (lambda s: s.update(gamma=float("nan")), "'gamma' must be a number, got nan"),
        (lambda s: s.update(base_lrs=0.1), "'base_lrs' must be a list, got float"),
        (lambda s: s.update(base_lrs=[0.1, 0.2]), r"'base_lrs' must have 1 item\(s\)"),
        (lambda s: s.update(last_lr=[-1.0]), r"'last_lr'\[0\] must be >= 0.0"),
        (lambda s: s.update({"class": "CosineAnnealingLR"}), "belongs to a 'CosineAnnealingLR'"),
    ],
)
def test_load_state_dict_rejects_bad_state_and_changes_nothing(edit: Any, message: str) -> None:
    sched, state = _good_state()
    edit(state)
    before = sched.state_dict()
    with pytest.raises(CheckpointError, match=message):
        sched.load_state_dict(state)
    assert sched.state_dict() == before
    with pytest.raises(CheckpointError, match="must be a dict"):
        sched.load_state_dict([1, 2])


def test_sequential_state_checks_its_parts() -> None:
    opt = O.SGD(lr=LR)
    sched = CASES["sequential"](S, opt)
    state = sched.state_dict()
    state["schedulers"][1]["T_max"] = "many"
    with pytest.raises(CheckpointError, match="CosineAnnealingLR.load_state_dict: 'T_max'"):
        sched.load_state_dict(state)
    state["schedulers"] = state["schedulers"][:1]
    with pytest.raises(CheckpointError, match="list of 2 scheduler states"):
        sched.load_state_dict(state)


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda o: S.StepLR(o, step_size=0), ValueError, "StepLR: step_size must be >= 1"),
        (lambda o: S.StepLR(o, step_size=2.5), TypeError, "step_size must be an int"),
        (lambda o: S.MultiStepLR(o, [3, -1]), ValueError, r"milestones\[1\] must be >= 0"),
        (lambda o: S.ExponentialLR(o, gamma="0.9"), TypeError, "gamma must be a real number"),
        (lambda o: S.CosineAnnealingLR(o, T_max=0), ValueError, "T_max must be >= 1"),
        (lambda o: S.CosineAnnealingLR(o, 10, eta_min=-1), ValueError, "eta_min must be >= 0"),
        (lambda o: S.LinearLR(o, start_factor=0.0), ValueError, "start_factor must be > 0"),
        (lambda o: S.LinearLR(o, end_factor=1.5), ValueError, "end_factor must be <= 1"),
        (lambda o: S.LambdaLR(o, 0.5), TypeError, "lr_lambda must be callable"),
        (lambda o: S.LambdaLR(o, lambda e: None), TypeError, r"lr_lambda\(0\) must be a real"),
        (lambda o: S.OneCycleLR(o, 0.1), ValueError, "give total_steps, or epochs"),
        (lambda o: S.OneCycleLR(o, 0.1, 10, pct_start=1.5), ValueError, "pct_start must be <= 1"),
        (lambda o: S.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"), ValueError, "'cos', 'linear'"),
        (lambda o: S.OneCycleLR(o, -0.1, 10), ValueError, "max_lr must be > 0"),
        (lambda o: S.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor must be < 1.0"),
        (lambda o: S.ReduceLROnPlateau(o, mode="lowest"), ValueError, "mode must be one of"),
        (lambda o: S.SequentialLR(o, [], []), ValueError, "at least one scheduler"),
        (lambda o: S.SequentialLR(o, [S.StepLR(o, 2)], [3]), ValueError, "one milestone fewer"),
        (lambda o: S.SequentialLR(o, [S.StepLR(O.SGD(), 2)], []), ValueError, "another optimizer"),
        (lambda o: S.SequentialLR(o, [S.ReduceLROnPlateau(o)], []), ValueError, "needs a metric"),
        (lambda o: S.StepLR(o, 2, last_epoch=4), ValueError, "construct with last_epoch=-1"),
        (lambda o: S.StepLR(object(), 2), TypeError, "not an optimizer with a learning rate"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(build: Any, error: Any, message: str) -> None:
    with pytest.raises(error, match=message):
        build(O.SGD(lr=LR))


def test_a_dezero_style_optimizer_of_ones_own_is_scheduled() -> None:
    class MySGD(O.Optimizer):
        def __init__(self, lr: float = 0.01) -> None:
            super().__init__()
            self.lr = lr

    opt = MySGD(lr=0.5)
    sched = S.ExponentialLR(opt, gamma=0.5)
    sched.step()
    assert opt.lr == 0.25 and sched.rate_name == "lr"
