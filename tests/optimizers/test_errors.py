"""Bad input to optimizers and hooks: a clear error at the call that made it, naming the
class, the argument or parameter, and what was expected; nothing updated."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.layers as L
import zerograd.optimizers as O

OPTIMIZERS = ["SGD", "MomentumSGD", "AdaGrad", "AdaDelta", "Adam", "AdamW"]

# Every optimizer and hook x every hyperparameter: its allowed range (torch's checks; a
# clip norm must be positive).
HYPER = {
    ("SGD", "lr"): ">=0",
    ("MomentumSGD", "lr"): ">=0",
    ("MomentumSGD", "momentum"): ">=0",
    ("AdaGrad", "lr"): ">=0",
    ("AdaGrad", "eps"): ">=0",
    ("AdaDelta", "rho"): "[0,1]",
    ("AdaDelta", "eps"): ">=0",
    ("AdaDelta", "lr"): ">=0",
    ("Adam", "alpha"): ">=0",
    ("Adam", "beta1"): "[0,1)",
    ("Adam", "beta2"): "[0,1)",
    ("Adam", "eps"): ">=0",
    ("AdamW", "alpha"): ">=0",
    ("AdamW", "beta1"): "[0,1)",
    ("AdamW", "beta2"): "[0,1)",
    ("AdamW", "eps"): ">=0",
    ("AdamW", "weight_decay"): ">=0",
    ("WeightDecay", "rate"): ">=0",
    ("ClipGrad", "max_norm"): ">0",
}
GOOD = {">=0": [0, 0.0, 0.5, 7, np.float32(0.25)], "[0,1]": [0.0, 0.5, 1.0], "[0,1)": [0.0, 0.99]}
GOOD[">0"] = [1e-3, 5, np.float64(2.0)]
BAD = {">=0": [-1e-3, -1], "[0,1]": [-0.1, 1.01], "[0,1)": [-0.1, 1.0, 2.0], ">0": [0.0, -1.0]}
NOT_FINITE = [math.nan, math.inf, -math.inf]
NOT_REAL = ["0.1", None, True, np.array([0.1]), 1j, zg.Variable(np.array(0.1))]
HOOK_ARGS = {"WeightDecay": {"rate": 0.1}, "ClipGrad": {"max_norm": 1.0}}


def _make(cls: str, **kwargs: Any) -> Any:
    return getattr(O, cls)(**{**HOOK_ARGS.get(cls, {}), **kwargs})


def test_the_table_covers_every_hyperparameter() -> None:
    covered = {(cls, h) for cls, h in HYPER}
    declared = {(cls, h) for cls in OPTIMIZERS for h in getattr(O, cls)._hyper}
    declared |= {(cls, h) for cls, kw in HOOK_ARGS.items() for h in kw}
    assert covered == declared
    classes = {n for n in O.__all__ if isinstance(getattr(O, n), type)}
    assert classes - {"Optimizer", "FreezeParam", "Hyper"} == set(OPTIMIZERS) | set(HOOK_ARGS)


@pytest.mark.parametrize(("cls", "name"), list(HYPER), ids=[f"{c}.{h}" for c, h in HYPER])
def test_hyperparameter_ranges(cls: str, name: str) -> None:
    kind = HYPER[(cls, name)]
    for value in GOOD[kind]:
        obj = _make(cls, **{name: value})
        assert getattr(obj, name) == float(value) and type(getattr(obj, name)) is float
    for value in [*BAD[kind], *NOT_FINITE]:
        with pytest.raises(ValueError, match=rf"^{cls}: {name} must be .*, got {value!r}$"):
            _make(cls, **{name: value})
        obj = _make(cls)
        before = getattr(obj, name)
        with pytest.raises(ValueError, match=rf"^{cls}: {name} must be"):
            setattr(obj, name, value)  # assignment is checked too
        assert getattr(obj, name) == before
    for value in NOT_REAL:
        with pytest.raises(TypeError, match=rf"^{cls}: {name} must be a real number"):
            _make(cls, **{name: value})


def test_a_refused_learning_rate_reads_like_torch() -> None:
    with pytest.raises(ValueError, match=r"SGD: lr must be a finite number >= 0, got -0.1"):
        O.SGD(lr=-0.1)
    with pytest.raises(ValueError, match=r"Adam: beta2 must be in \[0, 1\), got 1.0"):
        O.Adam(beta2=1.0)


# -- setup -------------------------------------------------------------------------------------
class Net(zg.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.l1 = L.Linear(2, in_size=3)


BAD_TARGETS = [
    ([], ValueError, r"got an empty parameter list"),
    ((), ValueError, r"empty parameter list"),
    (zg.Layer(), ValueError, r"empty parameter list"),
    ([np.ones(3)], TypeError, r"item 0 is a numpy.ndarray, not a Parameter or Variable"),
    ([zg.Parameter(np.ones(2)), 3.0], TypeError, r"item 1 is a builtins.float"),
    (5, TypeError, r"expected a Layer or an iterable of Parameters, got int"),
    (zg.Parameter(np.ones(2)), TypeError, r"got a single Parameter; pass \[parameter\]"),
]


@pytest.mark.parametrize("cls", OPTIMIZERS)
@pytest.mark.parametrize(("target", "exc", "match"), BAD_TARGETS, ids=range(len(BAD_TARGETS)))
def test_setup_refuses_what_it_cannot_optimize(cls: str, target: Any, exc: Any, match: str) -> None:
    opt = _make(cls)
    with pytest.raises(exc, match=rf"^{cls}\.setup: .*{match}"):
        opt.setup(target)
    assert opt.target is None


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_setup_accepts_layers_lists_generators_and_variables(cls: str) -> None:
    p = zg.Parameter(np.ones(2))
    v = zg.Variable(np.ones(2))
    for target in (Net(), [p], (q for q in [p, v]), [v]):
        opt = _make(cls).setup(target)
        for q in opt.target.params():
            q.grad = zg.Variable(np.ones(q.shape))
        opt.update()
    assert not np.array_equal(p.data, np.ones(2))


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_setup_refuses_a_parameter_twice(cls: str) -> None:
    p = zg.Parameter(np.ones(2))
    with pytest.raises(ValueError, match=rf"^{cls}\.setup: item 1 is the same parameter as item 0"):
        _make(cls).setup([p, p])


# -- parameters and gradients at update ---------------------------------------------------------
@pytest.mark.parametrize("cls", OPTIMIZERS)
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, np.complex128])
def test_non_float_parameters_are_refused(cls: str, dtype: Any) -> None:
    name = np.dtype(dtype).name
    p = zg.Parameter(np.ones(3, dtype=dtype), name="w")
    with pytest.raises(TypeError, match=rf"^{cls}\.setup: parameter #0 \('w'\) has dtype {name}; "):
        _make(cls).setup([p])
    net = Net()
    opt = _make(cls).setup(net)
    net.l1.b.data = np.zeros(2, dtype=dtype)  # changed after setup
    for q in net.params():
        q.grad = zg.Variable(np.ones(q.shape))
    W = net.l1.W.data.copy()
    with pytest.raises(TypeError, match=rf"^{cls}\.update: parameter 'l1/b' has dtype {name}"):
        opt.update()
    np.testing.assert_array_equal(net.l1.W.data, W)  # nothing was updated


@pytest.mark.parametrize("cls", OPTIMIZERS)
@pytest.mark.parametrize("hooks", [(), ("WeightDecay",), ("ClipGrad", "WeightDecay")])
def test_gradients_of_the_wrong_shape_are_refused(cls: str, hooks: tuple[str, ...]) -> None:
    net = Net()
    opt = _make(cls).setup(net)
    for h in hooks:
        opt.add_hook(_make(h))
    net.l1.b.grad = zg.Variable(np.ones(2))
    net.l1.W.grad = zg.Variable(np.full(1, 10.0))  # would broadcast over (3, 2)
    b = net.l1.b.data.copy()
    with pytest.raises(
        ValueError,
        match=rf"^{cls}\.update: the gradient of parameter 'l1/W' has shape \(1,\), but the "
        r"parameter has shape \(3, 2\)$",
    ):
        opt.update()
    np.testing.assert_array_equal(net.l1.b.data, b)
    np.testing.assert_array_equal(net.l1.b.grad.data, np.ones(2))  # no hook ran


@pytest.mark.parametrize("cls", OPTIMIZERS)
@pytest.mark.parametrize(
    ("grad", "exc", "match"),
    [
        (
            zg.Variable(np.ones((3, 2), dtype=np.int64)),
            TypeError,
            r"has dtype int64; expected a floating",
        ),
        (np.ones((3, 2)), TypeError, r"must be a Variable holding an array, got ndarray"),
    ],
)
def test_gradients_that_are_not_float_variables_are_refused(
    cls: str, grad: Any, exc: Any, match: str
) -> None:
    net = Net()
    opt = _make(cls).setup(net)
    net.l1.W.grad = grad
    with pytest.raises(exc, match=rf"^{cls}\.update: the gradient of parameter 'l1/W' {match}"):
        opt.update()


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_a_gradient_on_an_uninitialised_parameter_is_refused(cls: str) -> None:
    lazy = L.Linear(2)
    opt = _make(cls).setup(lazy)
    lazy.b.grad = zg.Variable(np.ones(2))
    lazy.W.grad = zg.Variable(np.ones((3, 2)))
    with pytest.raises(TypeError, match=rf"^{cls}\.update: parameter 'W' has no data"):
        opt.update()


def test_freeze_param_refuses_what_is_neither_layer_nor_parameter() -> None:
    with pytest.raises(TypeError, match=r"FreezeParam: expected Layers or Parameters, got ndarray"):
        O.FreezeParam(np.ones(3))


@pytest.mark.parametrize("cls", OPTIMIZERS)
def test_add_hook_refuses_what_cannot_be_called(cls: str) -> None:
    opt = _make(cls)
    with pytest.raises(TypeError, match=rf"^{cls}\.add_hook: a hook must be callable .*got float"):
        opt.add_hook(0.1)
    assert opt.hooks == []
