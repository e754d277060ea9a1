"""Every layer: gradient checks (first and second order), shapes, dtypes, errors, state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
import zerograd.layers as L
from zerograd.testing import check_backward


def _resolve(layer: zg.Layer, dotted: str) -> tuple[Any, str]:
    *path, name = dotted.split(".")
    owner = layer
    for part in path:
        owner = getattr(owner, part)
    return owner, name


def check_layer(
    layer: zg.Layer,
    x: np.ndarray,
    run: Callable[[zg.Layer, Any], Any] | None = None,
    second_order: bool = True,
    **kwargs: Any,
) -> None:
    """Gradient-check ``run(layer, x)`` w.r.t. ``x`` (if float) and every parameter."""
    names = [n for n, _ in layer.named_params()]
    values = [p.data for _, p in layer.named_params()]
    run = run or (lambda layer, x: layer(x))

    def f(x: zg.Variable, *params: zg.Variable) -> Any:
        for name, p in zip(names, params):
            owner, attr = _resolve(layer, name)
            vars(owner)[attr] = p  # the checker's own Variables, so gradients reach them
        return run(layer, x)

    check_backward(f, x, *values, second_order=second_order, **kwargs)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# -- Linear ----------------------------------------------------------------------------------
def test_linear_gradients() -> None:
    layer = L.Linear(3, in_size=4, dtype=np.float64)
    layer.b.data = _rng().standard_normal(3)
    check_layer(layer, _rng(1).standard_normal((5, 4)))


def test_linear_nobias_and_nd_input() -> None:
    layer = L.Linear(3, nobias=True, in_size=4, dtype=np.float64)
    assert layer.b is None and [n for n, _ in layer.named_params()] == ["W"]
    check_layer(layer, _rng(1).standard_normal((2, 3, 4)), second_order=False)


def test_linear_lazy_init_from_last_axis() -> None:
    np.random.seed(0)
    layer = L.Linear(3)
    assert layer.W.data is None
    y = layer(np.ones((2, 5), dtype=np.float32))
    assert layer.in_size == 5 and layer.W.shape == (5, 3) and y.dtype == np.float32
    np.random.seed(0)
    expected = np.random.randn(5, 3).astype(np.float32) * np.float32(np.sqrt(1 / 5))
    np.testing.assert_array_equal(layer.W.data, expected)


def test_linear_wrong_input_names_layer() -> None:
    layer = L.Linear(3, in_size=4)
    with pytest.raises(
        ValueError, match=r"Linear: input of shape \(2, 5\) has 5 features.*in_size=4"
    ):
        layer(np.ones((2, 5), dtype=np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_keeps_dtype(dtype: Any) -> None:
    layer = L.Linear(3, in_size=4, dtype=dtype)
    assert layer.W.dtype == dtype and layer.b.dtype == dtype
    x = np.ones((2, 4), dtype=dtype)
    y = layer(x)
    y.sum().backward()
    assert y.dtype == dtype and layer.W.grad.dtype == dtype


# -- Conv2d / Deconv2d ---------------------------------------------------------------------
def test_conv2d_gradients() -> None:
    layer = L.Conv2d(3, kernel_size=3, stride=2, pad=1, dtype=np.float64, in_channels=2)
    layer.b.data = _rng().standard_normal(3)
    check_layer(layer, _rng(1).standard_normal((2, 2, 5, 5)))


def test_conv2d_rectangular_kernel_nobias() -> None:
    layer = L.Conv2d(
        2, kernel_size=(2, 3), stride=(1, 2), pad=(1, 0), nobias=True, dtype=np.float64
    )
    layer(np.zeros((1, 2, 4, 5)))  # lazy init
    assert layer.W.shape == (2, 2, 2, 3) and layer.b is None
    check_layer(layer, _rng(1).standard_normal((1, 2, 4, 5)), second_order=False)


def test_deconv2d_gradients() -> None:
    layer = L.Deconv2d(2, kernel_size=3, stride=2, pad=1, dtype=np.float64, in_channels=3)
    assert layer.W.shape == (3, 2, 3, 3)
    layer.b.data = _rng().standard_normal(2)
    check_layer(layer, _rng(1).standard_normal((1, 3, 3, 3)))


@pytest.mark.parametrize("cls", [L.Conv2d, L.Deconv2d])
def test_conv_errors_name_layer(cls: Any) -> None:
    layer = cls(2, 3, in_channels=3)
    name = cls.__name__
    with pytest.raises(ValueError, match=rf"{name}: expected input of shape \(N, C, H, W\)"):
        layer(np.zeros((3, 5, 5), dtype=np.float32))
    with pytest.raises(ValueError, match=rf"{name}: input of shape .* has 4 channels.*=3"):
        layer(np.zeros((1, 4, 5, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="pair of ints"):
        cls(2, (1, 2, 3))


# -- RNN / LSTM ----------------------------------------------------------------------------
def _sequence(layer: zg.Layer, x: zg.Variable) -> list[zg.Variable]:
    layer.reset_state()
    return [layer(x[t]) for t in range(x.shape[0])]


def _float64(layer: zg.Layer) -> zg.Layer:
    for p in layer.params():
        p.data = p.data.astype(np.float64)
    return layer


def test_rnn_gradients_through_time() -> None:
    layer = _float64(L.RNN(3, in_size=2))
    layer.x2h.b.data = _rng().standard_normal(3)
    check_layer(layer, _rng(1).standard_normal((3, 2, 2)), run=_sequence)


def test_rnn_h2h_maps_hidden_to_hidden() -> None:
    # DeZero builds h2h with in_size=in_size: a shape error at the second step.
    layer = L.RNN(4, in_size=3)
    assert layer.h2h.W.shape == (4, 4)
    layer(np.ones((2, 3), dtype=np.float32))
    assert layer(np.ones((2, 3), dtype=np.float32)).shape == (2, 4)


def test_rnn_reset_state() -> None:
    layer = L.RNN(2, in_size=2)
    x = np.ones((1, 2), dtype=np.float32)
    first = layer(x).data.copy()
    assert not np.allclose(layer(x).data, first)
    layer.reset_state()
    np.testing.assert_array_equal(layer(x).data, first)


def test_lstm_gradients_through_time() -> None:
    layer = _float64(L.LSTM(3, in_size=2))
    for name in ("x2f", "x2i", "x2o", "x2u"):
        getattr(layer, name).b.data = _rng().standard_normal(3)
    check_layer(layer, _rng(1).standard_normal((3, 2, 2)), run=_sequence)


def test_lstm_parameter_order_is_documented() -> None:
    names = [n for n, _ in L.LSTM(2, in_size=3).named_params()]
    assert names == [
        "x2f.W", "x2f.b", "x2i.W", "x2i.b", "x2o.W", "x2o.b", "x2u.W", "x2u.b",
        "h2f.W", "h2i.W", "h2o.W", "h2u.W",
    ]  # fmt: skip


# -- EmbedID ---------------------------------------------------------------------------------
def test_embed_id_gradients_accumulate_repeated_ids() -> None:
    layer = L.EmbedID(5, 3)
    assert layer.W.dtype == np.float64  # DeZero's dtype
    ids = np.array([[1, 3], [1, 0]])

    def run(layer: zg.Layer, x: Any) -> Any:
        return layer(ids) * x

    check_layer(layer, _rng().standard_normal((2, 2, 3)), run=run)
    layer.W.cleargrad()
    layer(ids).sum().backward()
    np.testing.assert_array_equal(layer.W.grad.data[:, 0], [1, 2, 0, 1, 0])


def test_embed_id_float32() -> None:
    layer = L.EmbedID(5, 3, dtype=np.float32)
    assert layer(np.array([0, 4])).dtype == np.float32


# -- BatchNorm -------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 2, 2)])
def test_batch_norm_gradients(shape: tuple[int, ...]) -> None:
    layer = L.BatchNorm()
    layer(np.zeros(shape))  # creates gamma, beta (float64) and the buffers
    layer.gamma.data = _rng().standard_normal(3) + 1
    layer.beta.data = _rng(2).standard_normal(3)
    check_layer(layer, _rng(1).standard_normal(shape), rtol=1e-4, atol=1e-5)


def test_batch_norm_test_mode_gradients() -> None:
    layer = L.BatchNorm()
    layer(_rng(3).standard_normal((8, 3)))
    with zg.test_mode():
        check_layer(layer, _rng(1).standard_normal((4, 3)))


def test_batch_norm_statistics_are_buffers() -> None:
    layer = L.BatchNorm()
    x = _rng().standard_normal((16, 3)).astype(np.float32)
    layer(x)
    assert [n for n, _ in layer.named_params()] == ["gamma", "beta"]
    assert [n for n, _ in layer.named_buffers()] == ["avg_mean", "avg_var"]
    assert all(not isinstance(b, zg.Parameter) for b in layer.buffers())
    np.testing.assert_allclose(layer.avg_mean.data, 0.1 * x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(layer.avg_var.data, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-5)
    assert layer.avg_mean.dtype == np.float32
    before = layer.avg_mean.data.copy()
    with zg.test_mode():
        layer(x)
    np.testing.assert_array_equal(layer.avg_mean.data, before)


def test_batch_norm_errors() -> None:
    layer = L.BatchNorm()
    with pytest.raises(ValueError, match=r"BatchNorm: expected input of shape \(N, C\)"):
        layer(np.zeros((2, 3, 4)))
    layer(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="BatchNorm: input of shape .* has 4 channels"):
        layer(np.zeros((2, 4)))


def test_batch_norm_optimizer_leaves_statistics_alone() -> None:
    import zerograd.optimizers as O

    layer = L.BatchNorm()
    loss = (layer(_rng().standard_normal((8, 2))) ** 2).sum()
    loss.backward()
    stats = [b.data.copy() for b in layer.buffers()]
    O.SGD(lr=1.0).setup(layer).update()
    for b, s in zip(layer.buffers(), stats):
        np.testing.assert_array_equal(b.data, s)


# -- devices ---------------------------------------------------------------------------------
def test_layers_on_device(xp: Any) -> None:
    model = zg.Layer()
    model.fc = L.Linear(4, in_size=3)
    model.bn = L.BatchNorm()
    model.conv = L.Conv2d(2, 3, pad=1, in_channels=1)
    if xp is not np:
        model.to_gpu()
    h = F.relu(model.bn(model.fc(xp.ones((2, 3), dtype=np.float32))))
    y = model.conv(xp.ones((1, 1, 4, 4), dtype=np.float32))
    (h.sum() + y.sum()).backward()
    for _, v in model.named_state():
        assert isinstance(v.data, xp.ndarray)
    assert isinstance(model.fc.W.grad.data, xp.ndarray)
    model.to_cpu()
    assert all(isinstance(v.data, np.ndarray) for _, v in model.named_state())


def test_lazy_layer_initializes_on_input_device(xp: Any) -> None:
    layer = L.Linear(2)
    layer(xp.ones((1, 3), dtype=np.float32))
    assert isinstance(layer.W.data, xp.ndarray)


def test_exports() -> None:
    assert set(L.__all__) == {
        "Layer", "Linear", "Conv2d", "Deconv2d", "RNN", "LSTM", "EmbedID", "BatchNorm",
    }  # fmt: skip
    assert zg.Layer is L.Layer
