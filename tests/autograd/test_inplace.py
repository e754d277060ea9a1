"""In-place safety: zerograd's in-place updates bump a version counter, and a backward that
needs an array changed since the forward pass fails, naming what changed, instead of
returning a wrong gradient."""

from __future__ import annotations

import re
from types import ModuleType

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
import zerograd.layers as L
from zerograd import Parameter, Variable
from zerograd.optimizers import SGD, Adam, MomentumSGD


def test_bumped_parameter_fails_backward_with_details(xp: ModuleType) -> None:
    x = Variable(xp.ones((4, 3), dtype=np.float32))
    W = Parameter(xp.ones((3, 2), dtype=np.float32), name="W")
    y = F.sum(F.matmul(x, W))
    W.data *= 2  # an in-place change made through zerograd's own paths...
    W.bump_version()  # ...records a new version
    with pytest.raises(RuntimeError) as info:
        y.backward()
    message = str(info.value)
    assert re.search(r"\bMatMul\b", message)
    assert "input 1" in message
    assert "shape (3, 2)" in message and "dtype float32" in message
    assert "version 0 then, 1 now" in message
    assert "modified in place" in message
    assert x.grad is None  # no wrong gradient was stored


def test_only_arrays_backward_needs_are_checked() -> None:
    """x needs no gradient, so MatMul keeps only x (for W's gradient): changing W is safe."""
    x = np.ones((1, 2))
    W = Parameter(np.ones((2, 2)))
    y = F.sum(F.matmul(x, W))
    W.bump_version()
    y.backward()
    np.testing.assert_array_equal(W.grad.data, np.ones((2, 2)))


def test_unchanged_version_backward_is_fine() -> None:
    x = Variable(np.array([1.0, 2.0]))
    W = Parameter(np.array([3.0, 4.0]))
    y = F.sum(x * W)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


def test_an_array_backward_does_not_need_may_change() -> None:
    """Add keeps no input: changing one after the forward pass cannot spoil its gradient."""
    x = Variable(np.array([1.0, 2.0]))
    b = Parameter(np.array([3.0, 4.0]))
    y = F.sum(x + b)
    b.bump_version()
    y.backward()
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])


def test_optimizer_step_between_forward_and_backward_is_caught() -> None:
    """Two losses share a model; stepping the optimizer after the first backward changes the
    second layer's W, which the second loss's backward needs (for the first layer's
    gradient)."""
    from zerograd.models import MLP

    np.random.seed(0)
    model = MLP((4, 2))
    optimizer = SGD(lr=0.1).setup(model)
    x = np.random.randn(5, 3).astype(np.float32)
    loss1 = F.sum(model(x) ** 2)
    loss2 = F.sum(F.sin(model(x)))
    loss1.backward()
    versions = [p._version for p in model.params()]
    optimizer.update()
    assert [p._version for p in model.params()] == [v + 1 for v in versions]
    with pytest.raises(RuntimeError) as info:
        loss2.backward()
    assert re.search(r"needs input 1 \(shape \(4, 2\), dtype float32\)", str(info.value))
    assert "version 0 then, 1 now" in str(info.value)


@pytest.mark.parametrize("optimizer_cls", [SGD, MomentumSGD, Adam])
def test_every_optimizer_bumps_versions(optimizer_cls) -> None:
    W = Parameter(np.ones((2, 2)))
    x = Variable(np.ones((1, 2)))
    optimizer = optimizer_cls().setup([W])
    F.sum(F.matmul(x, W)).backward()
    optimizer.update()
    assert W._version == 1
    y = F.sum(F.matmul(x, W))  # a fresh forward pass saves the new version
    W.cleargrad()
    y.backward()
    np.testing.assert_array_equal(W.grad.data, np.ones((2, 2)))


def test_parameters_without_gradient_keep_their_version() -> None:
    used, unused = Parameter(np.ones(2)), Parameter(np.ones(2))
    optimizer = SGD().setup([used, unused])
    F.sum(used * 2).backward()
    optimizer.update()
    assert (used._version, unused._version) == (1, 0)


def test_recorded_backward_checks_too() -> None:
    x = Variable(np.array(0.5))
    y = F.sin(x)
    x.bump_version()
    with pytest.raises(RuntimeError, match=r"Sin\.backward needs input 0 .*version 0 then, 1 now"):
        y.backward(create_graph=True)


def test_anomaly_mode_adds_where_the_function_was_created() -> None:
    W = Parameter(np.ones((2, 2)))
    with zg.detect_anomaly():
        x = Variable(np.ones((1, 2)))
        y = F.sum(F.matmul(x, W))
        W.bump_version()
        with pytest.raises(RuntimeError, match="modified in place") as info:
            y.backward()
    notes = "\n".join(info.value.__notes__)
    assert "y = F.sum(F.matmul(x, W))" in notes


def test_batchnorm_running_statistics_bump_in_training_only() -> None:
    layer = L.BatchNorm()
    x = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    layer(x)
    v_mean, v_var = layer.avg_mean._version, layer.avg_var._version
    assert v_mean >= 1 and v_var >= 1
    layer(x)
    assert (layer.avg_mean._version, layer.avg_var._version) == (v_mean + 1, v_var + 1)
    with zg.test_mode():
        y = layer(x)
    assert (layer.avg_mean._version, layer.avg_var._version) == (v_mean + 1, v_var + 1)
    # In test mode the statistics are inputs of the graph; updating them afterwards (another
    # training step) must not change y's gradient.
    layer(x)
    F.sum(y * y).backward()
    assert layer.gamma.grad is not None
