"""Optimizer protocol, hooks, DeZero's exact arithmetic, in-place versioning and devices."""

from __future__ import annotations

import json

import numpy as np
import pytest

import zerograd as zg
import zerograd.optimizers as O

SHAPES = [(3, 4), (5,)]


class Pair(zg.Layer):
    def __init__(self) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self.a = zg.Layer()
        self.a.W = zg.Parameter(rng.standard_normal((3, 4)).astype(np.float32))
        self.b = zg.Parameter(rng.standard_normal(5).astype(np.float32))


def _set_grads(model: zg.Layer, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for p in model.params():
        p.grad = zg.Variable(rng.standard_normal(p.shape).astype(p.dtype))


def test_setup_returns_self_and_update_needs_setup() -> None:
    opt = O.SGD()
    model = Pair()
    assert opt.setup(model) is opt
    with pytest.raises(RuntimeError, match="setup"):
        O.Adam().update()


def test_parameters_without_gradient_are_skipped() -> None:
    model = Pair()
    before = model.b.data.copy()
    model.a.W.grad = zg.Variable(np.ones((3, 4), dtype=np.float32))
    O.MomentumSGD().setup(model).update()
    np.testing.assert_array_equal(model.b.data, before)


def test_adam_counts_updates() -> None:
    model = Pair()
    opt = O.Adam().setup(model)
    for i in range(3):
        _set_grads(model, i)
        opt.update()
    assert opt.t == 3
    assert opt.lr == pytest.approx(0.001 * np.sqrt(1 - 0.999**3) / (1 - 0.9**3))


def test_update_does_not_touch_the_gradient() -> None:
    model = Pair()
    _set_grads(model, 0)
    grads = [p.grad.data.copy() for p in model.params()]
    opt = O.Adam().setup(model)
    opt.update()
    for p, g in zip(model.params(), grads):
        np.testing.assert_array_equal(p.grad.data, g)


def test_update_bumps_version_so_stale_backward_fails() -> None:
    p = zg.Parameter(np.array([1.0, 2.0]))
    x = zg.Variable(np.array([3.0, 4.0]))
    y = (p * x).sum()  # mul keeps p for the gradient of x
    p.grad = zg.Variable(np.array([1.0, 1.0]))
    O.SGD(lr=0.1).setup([p]).update()
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


# -- hooks ---------------------------------------------------------------------------------------
def test_weight_decay_adds_rate_times_param() -> None:
    model = Pair()
    _set_grads(model, 1)
    expected = [p.data - 0.1 * (p.grad.data + 0.5 * p.data) for p in model.params()]
    opt = O.SGD(lr=0.1).setup(model)
    opt.add_hook(O.WeightDecay(0.5))
    opt.update()
    for p, e in zip(model.params(), expected):
        np.testing.assert_allclose(p.data, e, rtol=1e-6)


def test_clip_grad_matches_torch(torch) -> None:
    model = Pair()
    _set_grads(model, 2)
    grads = [p.grad.data.copy() for p in model.params()]
    tparams = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for t, g in zip(tparams, grads):
        t.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_norm_(tparams, max_norm=1.0)
    O.ClipGrad(1.0)(list(model.params()))
    for p, t in zip(model.params(), tparams):
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-6)
    norm = np.sqrt(sum(float((p.grad.data**2).sum()) for p in model.params()))
    assert norm == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_leaves_small_gradients() -> None:
    model = Pair()
    _set_grads(model, 3)
    grads = [p.grad.data.copy() for p in model.params()]
    O.ClipGrad(1e6)(list(model.params()))
    for p, g in zip(model.params(), grads):
        np.testing.assert_array_equal(p.grad.data, g)


@pytest.mark.parametrize("what", ["layer", "parameter"])
def test_freeze_param_works(what: str) -> None:
    model = Pair()
    frozen = model.a if what == "layer" else model.a.W
    before_w, before_b = model.a.W.data.copy(), model.b.data.copy()
    opt = O.Adam().setup(model)
    opt.add_hook(O.FreezeParam(frozen))
    _set_grads(model, 4)
    opt.update()  # DeZero crashes here (AttributeError on the dropped gradient)
    np.testing.assert_array_equal(model.a.W.data, before_w)
    assert not np.array_equal(model.b.data, before_b)


def test_freeze_param_collects_lazy_parameters() -> None:
    import zerograd.layers as L

    layer = L.Linear(3)  # W not drawn yet
    hook = O.FreezeParam(layer)
    assert hook.freeze_params[0] is layer.W


# DeZero's arithmetic, bit for bit: tests/optimizers/test_dezero_parity.py.


# -- state ------------------------------------------------------------------------------------
def test_state_dict_round_trip_continues_identically() -> None:
    a, b = Pair(), Pair()
    opt_a = O.Adam(alpha=0.05).setup(a)
    for i in range(3):
        _set_grads(a, i)
        opt_a.update()
    sd = opt_a.state_dict()
    assert sd["class"] == "Adam" and sd["counters"] == {"t": 3}
    assert sorted(sd["state"]) == ["a/W", "b"] and sorted(sd["state"]["b"]) == ["m", "v"]
    json.dumps({k: v for k, v in sd.items() if k != "state"})  # the header is JSON
    for pa, pb in zip(a.params(), b.params()):
        pb.data = pa.data.copy()
    opt_b = O.Adam().setup(b)
    opt_b.load_state_dict(sd)
    for i in range(3, 6):
        _set_grads(a, i)
        _set_grads(b, i)
        opt_a.update()
        opt_b.update()
    for pa, pb in zip(a.params(), b.params()):
        np.testing.assert_array_equal(pa.data, pb.data)


def test_load_state_dict_rejects_unknown_parameter() -> None:
    from zerograd.serialization import CheckpointError

    model = Pair()
    opt = O.MomentumSGD().setup(model)
    sd = {**opt.state_dict(), "state": {"nope": {"v": np.ones(2)}}}
    with pytest.raises(CheckpointError, match="'nope'"):
        opt.load_state_dict(sd)


def test_optimizer_on_device(xp) -> None:
    model = Pair()
    if xp is not np:
        model.to_gpu()
    opt = O.Adam().setup(model)
    for i in range(2):
        for p in model.params():
            p.grad = zg.Variable(xp.ones_like(p.data))
        opt.update()
    assert all(isinstance(s["m"], xp.ndarray) for s in opt.state.values())
    model.to_cpu()  # the state follows the parameters at the next update
    for p in model.params():
        p.grad = zg.Variable(np.ones_like(p.data))
    opt.update()
    assert all(isinstance(s["m"], np.ndarray) for s in opt.state.values())


def test_scratch_is_shared_not_per_parameter() -> None:
    model = Pair()
    opt = O.SGD().setup(model)
    _set_grads(model, 0)
    opt.update()
    assert len(opt._scratch) == 1  # one float32 buffer, sized for the largest parameter
    (buf,) = opt._scratch.values()
    assert buf.size == 12


def test_exports() -> None:
    assert set(O.__all__) >= {"SGD", "MomentumSGD", "AdaGrad", "AdaDelta", "Adam", "AdamW"}
