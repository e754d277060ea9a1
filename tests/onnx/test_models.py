"""Every model and layer of zerograd, float32: onnxruntime and the reference evaluator match
zerograd at batch 1 and 7 from one exported file; export -> import gives identical outputs
and gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
import zerograd.layers as L
from tests.onnx._check import check_export, check_round_trip
from zerograd.models import MLP, VGG16, ResNet50, SimpleCNN
from zerograd.models.base import Model
from zerograd.models.resnet import BottleneckA, BottleneckB, _global_average_pooling_2d


def images(c: int, h: int, w: int | None = None) -> Callable[[int], list[np.ndarray]]:
    def make(n: int) -> list[np.ndarray]:
        rng = np.random.default_rng(n)
        return [rng.standard_normal((n, c, h, w or h)).astype(np.float32)]

    return make


def rows(d: int) -> Callable[[int], list[np.ndarray]]:
    def make(n: int) -> list[np.ndarray]:
        return [np.random.default_rng(n).standard_normal((n, d)).astype(np.float32)]

    return make


def with_statistics(model: Any) -> Any:
    """Random running statistics and affine weights for every BatchNorm (not 0 and 1)."""
    rng = np.random.default_rng(42)
    for name, b in model.named_buffers():
        if name.endswith("avg_var"):
            b.data = rng.uniform(0.5, 2.0, b.shape).astype(b.dtype)
        else:
            b.data = rng.standard_normal(b.shape).astype(b.dtype)
    for name, p in model.named_params():
        if name.endswith("gamma") or name.endswith("beta"):
            p.data = (rng.standard_normal(p.shape) * 0.5 + (name.endswith("gamma"))).astype(p.dtype)
    return model


class TinyResNet(Model):
    """ResNet's blocks at a small size: a projection bottleneck, an identity one, global
    average pooling and a classifier (every function ResNet50 records)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = L.Conv2d(8, 3, 1, 1)
        self.bn1 = L.BatchNorm()
        self.a = BottleneckA(8, 4, 16, stride=2)
        self.b = BottleneckB(16, 4)
        self.fc = L.Linear(5)

    def forward(self, x: Any) -> Any:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.pooling(x, kernel_size=3, stride=2)
        x = self.b(self.a(x))
        return self.fc(_global_average_pooling_2d(x))


class Unrolled(Model):
    """A recurrent layer run over the time axis of (N, T, D) input; returns every step."""

    def __init__(self, layer: Any) -> None:
        super().__init__()
        self.rnn = layer
        self.fc = L.Linear(3)

    def forward(self, x: Any) -> Any:
        self.rnn.reset_state()
        hs = [self.rnn(x[:, t]) for t in range(x.shape[1])]
        return self.fc(F.concat(hs, axis=1))


def _build(name: str) -> tuple[Any, Callable[[int], list[np.ndarray]]]:
    np.random.seed(0)
    if name == "mlp_sigmoid":
        return MLP((16, 8, 3)), rows(5)
    if name == "mlp_relu":
        return MLP((32, 10), activation=F.relu), rows(64)
    if name == "simple_cnn":
        return SimpleCNN(channels=(4, 6), hidden=12), images(1, 8)
    if name == "simple_cnn_3d_input":
        return SimpleCNN(channels=(4,), hidden=8), lambda n: [images(1, 8)(n)[0][:, 0]]
    if name == "tiny_resnet":
        return TinyResNet(), images(3, 12)
    if name == "linear":
        return L.Linear(4, in_size=6), rows(6)
    if name == "linear_nobias":
        return L.Linear(4, nobias=True, in_size=6), rows(6)
    if name == "conv2d":
        return L.Conv2d(5, kernel_size=3, stride=2, pad=1), images(3, 9)
    if name == "conv2d_rect":
        return L.Conv2d(4, kernel_size=(3, 2), stride=(1, 2), pad=(1, 0)), images(2, 7, 6)
    if name == "deconv2d":
        return L.Deconv2d(3, kernel_size=4, stride=2, pad=1), images(4, 5)
    if name == "batchnorm_2d":
        return L.BatchNorm(), rows(6)
    if name == "batchnorm_4d":
        return L.BatchNorm(), images(3, 4)
    if name == "rnn":
        return Unrolled(L.RNN(6, in_size=4)), lambda n: [rows(12)(n)[0].reshape(n, 3, 4)]
    if name == "lstm":
        return Unrolled(L.LSTM(5, in_size=4)), lambda n: [rows(12)(n)[0].reshape(n, 3, 4)]
    raise KeyError(name)


MODELS = [
    "mlp_sigmoid",
    "mlp_relu",
    "simple_cnn",
    "simple_cnn_3d_input",
    "tiny_resnet",
    "linear",
    "linear_nobias",
    "conv2d",
    "conv2d_rect",
    "deconv2d",
    "batchnorm_2d",
    "batchnorm_4d",
    "rnn",
    "lstm",
]


@pytest.mark.parametrize("name", MODELS)
def test_export_matches_runtimes_and_round_trips(name: str, tmp_path: Any) -> None:
    model, make = _build(name)
    with zg.no_grad(), zg.test_mode():
        model(*make(2))  # the lazily sized weights
    model = with_statistics(model)
    path = check_export(model, make, tmp_path)
    check_round_trip(model, model, path, make(7))


def test_embed_id_ids_stay_an_input(tmp_path: Any) -> None:
    np.random.seed(0)
    embed = L.EmbedID(11, 4, dtype=np.float32)

    def make(n: int) -> list[np.ndarray]:
        return [np.random.default_rng(n).integers(0, 11, size=(n, 3)).astype(np.int64)]

    path = check_export(embed, make, tmp_path)
    import onnx

    graph = onnx.load(path).graph
    assert [n.op_type for n in graph.node] == ["Gather", "Identity"]
    assert graph.node[0].input[1] == "input"  # the ids are the graph input, not a constant
    check_round_trip(embed, embed, path, make(7))


@pytest.mark.slow
def test_vgg16_small_input(tmp_path: Any) -> None:
    """VGG16's functions (dropout is the identity in test mode) at 32x32: fc6 sees 512."""
    np.random.seed(0)
    model = VGG16()
    model.fc6, model.fc7 = L.Linear(16), L.Linear(16)
    make = images(3, 32)
    path = check_export(model, make, tmp_path, batches=(1, 2), trace_batch=1, reference=False)
    check_round_trip(model, model, path, make(2))


@pytest.mark.slow
def test_resnet50_small_input(tmp_path: Any) -> None:
    np.random.seed(0)
    model = ResNet50()
    with zg.no_grad(), zg.test_mode():
        model(np.zeros((1, 3, 32, 32), np.float32))  # the lazily sized weights
    model = with_statistics(model)
    make = images(3, 32)
    # 53 float32 layers of random weights: compared norm-wise (see ``close``).
    path = check_export(
        model, make, tmp_path, batches=(1, 7), trace_batch=2, reference=False, normwise=True
    )
    check_round_trip(model, model, path, make(2))


def test_export_from_the_array_backend(xp: Any, tmp_path: Any) -> None:
    """A model and example input on the GPU (CuPy) export as they do on the CPU."""
    from tests.onnx._check import close, run_ort
    from zerograd import cuda

    np.random.seed(0)
    model = SimpleCNN(channels=(4,), hidden=8)
    x = np.random.default_rng(0).standard_normal((3, 1, 8, 8)).astype(np.float32)
    with zg.no_grad(), zg.test_mode():
        model(x)
    if xp is not np:
        model.to_gpu()
    path = str(tmp_path / "m.onnx")
    from zerograd.onnx import export

    export(model, xp.asarray(x), path)
    with zg.no_grad(), zg.test_mode():
        expected = cuda.as_numpy(model(xp.asarray(x)).data)
    close(run_ort(path, [x]), [expected], "onnxruntime")
