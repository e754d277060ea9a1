"""Models: ``Model.plot``, ``Sequential``, ``MLP``, ``SimpleCNN``, ``VGG16``, ``ResNet``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
import zerograd.layers as L
import zerograd.optimizers as O
from zerograd.models import MLP, VGG16, Model, ResNet, ResNet50, Sequential, SimpleCNN


def test_plot_draws_the_graph(tmp_path: Path) -> None:
    model = MLP((4, 2))
    path = tmp_path / "model.dot"
    model.plot(np.ones((3, 5), dtype=np.float32), to_file=str(path))
    text = path.read_text()
    assert text.startswith("digraph")
    assert text.count("Linear") == 2 and "Sigmoid" in text


def test_plot_calls_plot_dot_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    import zerograd.viz.dot

    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        zerograd.viz.dot,
        "plot_dot_graph",
        lambda y, verbose, to_file: calls.append((y, verbose, to_file)),
    )
    MLP((2,)).plot(np.ones((1, 3), dtype=np.float32))
    ((y, verbose, to_file),) = calls
    assert isinstance(y, zg.Variable) and y.shape == (1, 2) and verbose and to_file == "model.png"


def test_sequential_mixes_layers_and_functions() -> None:
    model = Sequential(L.Linear(4, in_size=3), F.relu, L.Linear(2, in_size=4))
    assert isinstance(model, Model)
    assert [n for n, _ in model.named_params()] == ["l0.W", "l0.b", "l2.W", "l2.b"]
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    expected = model.l2(F.relu(model.l0(x)))
    np.testing.assert_array_equal(model(x).data, expected.data)
    assert repr(model).splitlines()[2] == "  (l1): relu"
    with pytest.raises(TypeError, match="Sequential: item 1 is a int"):
        Sequential(L.Linear(2), 3)


def test_mlp_dezero_signature_and_names() -> None:
    model = MLP((10, 10, 3))
    assert model.activation is F.sigmoid
    assert [n for n, _ in model.named_params()] == [
        "l0.W", "l0.b", "l1.W", "l1.b", "l2.W", "l2.b",
    ]  # fmt: skip
    assert model(np.ones((2, 7), dtype=np.float32)).shape == (2, 3)
    assert repr(model).splitlines()[0] == "MLP(activation=sigmoid"


def test_mlp_learns_xor() -> None:
    np.random.seed(0)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    t = np.array([0, 1, 1, 0])
    model = MLP((16, 2), activation=F.relu)
    opt = O.Adam(alpha=0.05).setup(model)
    for _ in range(200):
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
    assert float(loss.data) < 0.05
    assert (model(x).data.argmax(axis=1) == t).all()


@pytest.mark.parametrize(("shape", "flat"), [((4, 1, 8, 8), 128), ((2, 28, 28), 1568)])
def test_simple_cnn_shapes(shape: tuple[int, ...], flat: int) -> None:
    model = SimpleCNN()
    y = model(np.zeros(shape, dtype=np.float32))
    assert y.shape == (shape[0], 10) and y.dtype == np.float32
    assert model.fc1.W.shape == (flat, 64)
    assert [n for n, _ in model.named_params()] == [
        "conv1.W", "conv1.b", "conv2.W", "conv2.b", "fc1.W", "fc1.b", "fc2.W", "fc2.b",
    ]  # fmt: skip


def test_simple_cnn_learns() -> None:
    np.random.seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 1, 8, 8)).astype(np.float32)
    t = (x[:, 0, :4].sum(axis=(1, 2)) > x[:, 0, 4:].sum(axis=(1, 2))).astype(np.int64)
    model = SimpleCNN(num_classes=2, channels=(4, 8), hidden=16)
    opt = O.Adam(alpha=0.01).setup(model)
    losses = []
    for _ in range(40):
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        losses.append(float(loss.data))
    assert losses[-1] < 0.5 * losses[0]


def test_training_on_device_with_checkpoint(xp: Any, tmp_path: Path) -> None:
    np.random.seed(0)
    x = xp.asarray(np.random.default_rng(0).standard_normal((8, 1, 8, 8)).astype(np.float32))
    t = xp.asarray(np.arange(8) % 3)
    model = SimpleCNN(num_classes=3, channels=(4,), hidden=8)
    model(x)  # weights drawn on the input's device
    opt = O.MomentumSGD(lr=0.05).setup(model)
    opt.add_hook(O.ClipGrad(10.0))
    losses = []
    for _ in range(5):
        loss = F.softmax_cross_entropy(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        losses.append(float(loss.data))
    assert losses[-1] < losses[0]
    zg.save(tmp_path / "c.npz", model, opt)
    other = SimpleCNN(num_classes=3, channels=(4,), hidden=8)
    other(x)
    other_opt = O.MomentumSGD().setup(other)
    zg.load(tmp_path / "c.npz", other, other_opt)
    for (_, a), (_, b) in zip(model.named_state(), other.named_state()):
        assert isinstance(b.data, xp.ndarray)
        np.testing.assert_array_equal(zg.cuda.as_numpy(a.data), zg.cuda.as_numpy(b.data))
    assert all(isinstance(s["v"], xp.ndarray) for s in other_opt.state.values())


def test_simple_cnn_rejects_flat_input() -> None:
    with pytest.raises(ValueError, match=r"SimpleCNN: expected images of shape \(N, C, H, W\)"):
        SimpleCNN()(np.zeros((2, 64), dtype=np.float32))


def test_vgg16_structure() -> None:
    model = VGG16()
    names = [n for n, _ in model.named_state("/")]
    assert len(names) == 32
    assert names[:2] == ["conv1_1/W", "conv1_1/b"] and names[-2:] == ["fc8/W", "fc8/b"]
    assert all(p.data is None for n, p in model.named_params() if n.endswith("W"))  # lazy


def test_resnet_structure_uses_dezero_keys() -> None:
    model = ResNet50()
    names = [n for n, _ in model.named_state("/")]
    assert names[:6] == [
        "conv1/W",
        "conv1/b",
        "bn1/gamma",
        "bn1/beta",
        "bn1/avg_mean",
        "bn1/avg_var",
    ]
    assert "res2/a/conv4/W" in names and "res5/b2/bn3/avg_var" in names
    assert "res5/b3/conv1/W" not in names  # 3 blocks in res5
    assert names[-2:] == ["fc6/W", "fc6/b"]
    n_conv = sum(1 for n in names if n.endswith("W") and "conv" in n)
    assert n_conv == 1 + (3 + 4 + 6 + 3) * 3 + 4  # stem, bottlenecks, projections
    with pytest.raises(ValueError, match="n_layers must be 50, 101 or 152, got 34"):
        ResNet(34)


@pytest.mark.slow
def test_resnet50_forward_backward() -> None:
    np.random.seed(0)
    model = ResNet50()
    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
    y = model(x)
    assert y.shape == (2, 1000) and y.dtype == np.float32
    assert model.res3.a.conv1.W.shape == (128, 256, 1, 1)
    assert model.res3.a.conv4.W.shape == (512, 256, 1, 1)
    loss = F.softmax_cross_entropy(y, np.array([1, 2]))
    loss.backward()
    assert all(p.grad is not None for p in model.params())


@pytest.mark.slow
def test_vgg16_forward() -> None:
    np.random.seed(0)
    model = VGG16()
    with zg.test_mode(), zg.no_grad():
        y = model(np.zeros((1, 3, 32, 32), dtype=np.float32))
    assert y.shape == (1, 1000) and model.fc6.W.shape == (512, 4096)


def test_exports() -> None:
    import zerograd.models as M

    assert set(M.__all__) >= {
        "Model",
        "Sequential",
        "MLP",
        "SimpleCNN",
        "VGG16",
        "ResNet50",
        "ResNet101",
        "ResNet152",
    }
    assert zg.Model is M.Model
