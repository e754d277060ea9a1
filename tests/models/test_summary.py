"""``Model.summary`` and ``zerograd summary``: rows per layer call, totals, no side effects."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
import zerograd.layers as L
from zerograd.cli import main
from zerograd.models import MLP, Model, Sequential, SimpleCNN
from zerograd.models.summary import summary
from zerograd.train import INPUTS, TrainConfig, _materialize, load_data


class Block(Model):
    def __init__(self) -> None:
        super().__init__()
        self.fc = L.Linear(6)
        self.bn = L.BatchNorm()

    def forward(self, x: Any) -> Any:
        return F.relu(self.bn(self.fc(x)))


class Net(Model):
    """Nested blocks, a shared layer called twice, dropout, a bias of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.block = Block()
        self.shared = L.Linear(6, in_size=6)
        self.head = L.Linear(2)
        self.scale = zg.Parameter(np.ones(2, np.float32))

    def forward(self, x: Any) -> Any:
        h = self.shared(self.shared(self.block(x)))
        return F.dropout(self.head(h)) * self.scale


def test_rows_follow_the_calls_with_depth_shapes_and_own_parameters() -> None:
    net = Net()
    s = net.summary(np.ones((5, 3), np.float32))
    got = [(r.name, r.cls, r.depth, r.output_shape, r.params) for r in s.rows]
    assert got == [
        ("", "Net", 0, [5, 2], 2),
        ("block", "Block", 1, [5, 6], 0),
        ("fc", "Linear", 2, [5, 6], 3 * 6 + 6),
        ("bn", "BatchNorm", 2, [5, 6], 12),
        ("shared", "Linear", 1, [5, 6], 42),
        ("shared", "Linear", 1, [5, 6], None),  # the second call of the same layer
        ("head", "Linear", 1, [5, 2], 14),
    ]
    total = sum(p.size for p in net.params())
    assert s.total_params == s.trainable_params == total == 2 + 24 + 12 + 42 + 14
    assert s.buffer_elements == 12  # BatchNorm's running mean and variance
    assert s.param_bytes == 4 * total
    text = str(s)
    assert repr(s) == text
    lines = text.splitlines()
    assert lines[1].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#"]
    assert lines[3].split() == ["Net", "[5,", "2]", "2"]
    assert lines[5].split() == ["│", "└─fc", "(Linear)", "[5,", "6]", "24"]
    assert lines[8].split() == ["├─shared", "(Linear)", "[5,", "6]", "(recursive)"]
    assert f"Total params: {total:,}" in text and "Buffers (saved, not trained" in text


def test_summary_changes_nothing_but_lazy_weights() -> None:
    net = Net()
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    net(x)  # training-mode call: BatchNorm statistics move, dropout draws
    stats = [b.data.copy() for b in net.buffers()]
    weights = [p.data.copy() for p in net.params()]
    rng = np.random.get_state()
    net.summary(x)
    assert all(np.array_equal(a, b.data) for a, b in zip(stats, net.buffers()))
    assert all(np.array_equal(a, p.data) for a, p in zip(weights, net.params()))
    assert np.array_equal(rng[1], np.random.get_state()[1])  # no dropout draw
    for _, layer in [("", net), *net.named_children()]:
        assert "forward" not in layer.__dict__
    assert all(p.grad is None for p in net.params())


def test_forward_is_restored_when_the_model_fails() -> None:
    model = Sequential(L.Linear(4, in_size=3), F.relu)
    with pytest.raises(ValueError):
        model.summary(np.ones((2, 5), np.float32))  # wrong input width
    assert "forward" not in model.__dict__ and "forward" not in model.l0.__dict__
    assert model(np.ones((2, 3), np.float32)).shape == (2, 4)


@pytest.mark.parametrize(
    ("model", "shape"),
    [
        (MLP((32, 7), activation=F.relu), (3, 10)),
        (SimpleCNN(num_classes=4, channels=(2, 3), hidden=5), (2, 1, 8, 8)),
    ],
)
def test_counts_equal_torch_modules(model: Any, shape: tuple[int, ...]) -> None:
    torch = pytest.importorskip("torch")
    s = model.summary(np.zeros(shape, np.float32))
    if isinstance(model, MLP):
        ref = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.Linear(32, 7))
    else:
        ref = torch.nn.Sequential(
            torch.nn.Conv2d(1, 2, 3, padding=1),
            torch.nn.Conv2d(2, 3, 3, padding=1),
            torch.nn.Linear(3 * 2 * 2, 5),
            torch.nn.Linear(5, 4),
        )
    assert [r.params for r in s.rows[1:]] == [sum(p.numel() for p in m.parameters()) for m in ref]
    assert s.total_params == sum(p.numel() for p in ref.parameters())


def test_not_a_layer() -> None:
    with pytest.raises(TypeError, match="summary: expected a Layer or Model, got function"):
        summary(F.relu, np.ones(2))


@pytest.mark.parametrize(
    ("dataset", "model"), [("digits", "mlp"), ("digits", "cnn"), ("spiral", "mlp")]
)
def test_cli_input_shapes_match_the_data(dataset: str, model: str) -> None:
    train_set, _, classes = load_data(TrainConfig(dataset=dataset, model=model))
    shapes, n = INPUTS[dataset]
    assert (_materialize(train_set).data.shape[1:], classes) == (shapes[model], n)


def test_zerograd_summary_command(capsys: Any) -> None:
    assert main(["summary", "--model", "cnn", "--batch-size", "4"]) == 0
    out = capsys.readouterr().out
    assert "SimpleCNN" in out and "├─conv1 (Conv2d)" in out and "[4, 10]" in out
    assert main(["summary", "--dataset", "spiral", "--model", "cnn"]) == 2
    assert "zerograd summary: error: --dataset spiral has no input for --model cnn" in (
        capsys.readouterr().err
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["summary", "--batch-size", "0"])
    assert exit_info.value.code == 2
