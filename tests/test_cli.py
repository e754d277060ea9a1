"""The ``zerograd`` command: ``demo`` and ``train`` end to end."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.datasets.conftest import idx_bytes, write_gzip
from zerograd.cli import main
from zerograd.datasets import MNIST
from zerograd.datasets._download import Resource, sha256sum
from zerograd.train import TrainConfig, TrainError, train

ROOT = Path(__file__).resolve().parents[1]
LAST = re.compile(r"^test_accuracy=(\d\.\d+)$")


def last_accuracy(out: str) -> float:
    match = LAST.match(out.strip().splitlines()[-1])
    assert match, f"last line is not test_accuracy=<float>:\n{out}"
    return float(match.group(1))


def quiet(_: str) -> None:
    pass


def test_demo(capsys) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "y = 32.0" in out and "x.grad = 64.0" in out


def test_train_subprocess_end_to_end(tmp_path: Path) -> None:
    plot = tmp_path / "curves.png"
    proc = subprocess.run(
        [sys.executable, "-m", "zerograd", "train", "--epochs", "3", "--plot", str(plot)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert last_accuracy(proc.stdout) > 0.85
    assert "epoch 3/3" in proc.stdout and "curves saved to" in proc.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "epoch 1/3" in proc.stderr  # the tqdm bar


def test_train_defaults_reach_acceptance(capsys) -> None:
    """``zerograd train`` with no options: an MLP on Digits, test accuracy >= 0.97."""
    assert main(["train", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "trained mlp on digits for 40 epochs" in out
    assert last_accuracy(out) >= 0.97
    seconds = float(re.search(r"epochs in ([\d.]+)s", out).group(1))
    assert seconds < 60


def test_spiral_mlp_train_accuracy(capsys) -> None:
    assert main(["train", "--dataset", "spiral", "--no-progress"]) == 0
    out = capsys.readouterr().out
    train_accuracy = float(re.search(r"^train_accuracy=(\S+)$", out, re.M).group(1))
    assert train_accuracy >= 0.95
    assert len(out.splitlines()) < 30  # 300 epochs, about 20 epoch lines
    assert last_accuracy(out) >= 0.9


@pytest.mark.slow
def test_cnn_on_digits_reaches_acceptance(capsys) -> None:
    assert main(["train", "--model", "cnn", "--no-progress"]) == 0
    assert last_accuracy(capsys.readouterr().out) >= 0.98


def test_resume_gives_the_weights_of_an_uninterrupted_run(tmp_path: Path) -> None:
    for model in ("mlp", "cnn"):
        whole, part = tmp_path / f"{model}-whole.npz", tmp_path / f"{model}-part.npz"
        kw = {"model": model, "batch_size": 64, "seed": 3, "progress": False}
        full = train(TrainConfig(epochs=2, save=str(whole), **kw), log=quiet)
        train(TrainConfig(epochs=1, save=str(part), **kw), log=quiet)
        np.random.seed(12345)  # whatever happened in between must not matter
        lines: list[str] = []
        resumed = train(TrainConfig(epochs=2, resume=str(part), **kw), log=lines.append)
        assert lines[0] == f"resumed from {part} after epoch 1"
        pairs = list(zip(full.model.params(), resumed.model.params()))
        assert len(pairs) == (4 if model == "mlp" else 8)
        for p, q in pairs:
            np.testing.assert_array_equal(p.data, q.data)
        assert resumed.history == pytest.approx(full.history)
        assert resumed.test_accuracy == full.test_accuracy


def test_resume_through_the_cli(tmp_path: Path, capsys) -> None:
    ckpt = tmp_path / "ckpt.npz"
    assert (
        main(
            ["train", "--dataset", "spiral", "--epochs", "2", "--save", str(ckpt), "--no-progress"]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["train", "--resume", str(ckpt), "--epochs", "4", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "trained mlp on spiral for 4 epochs" in out and "epoch 3/4" in out
    assert main(["train", "--resume", str(ckpt), "--dataset", "digits"]) == 1
    assert "--dataset digits (checkpoint: spiral)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dataset", "spiral", "--model", "cnn"], "use --model mlp"),
        (["--resume", "no-such-file.npz"], "no checkpoint"),
        (["--dataset", "mnist"], "--download"),
        (["--dataset", "spiral", "--epochs", "1", "--save", "no/dir/c.npz"], "--save: cannot"),
        (["--dataset", "spiral", "--epochs", "1", "--plot", "no/dir/c.png"], "--plot: cannot"),
    ],
)
def test_train_errors_are_one_clear_line(argv, message, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ZEROGRAD_DATA", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert main(["train", *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("zerograd train: error:") and message in err


def test_gpu_flag_without_gpu_is_an_error(capsys) -> None:
    from zerograd import cuda

    if cuda.gpu_enable:
        pytest.skip("a GPU is present")
    assert main(["train", "--gpu", "--epochs", "1"]) == 1
    assert "no CUDA GPU" in capsys.readouterr().err


def test_checkpoint_from_elsewhere_is_refused(tmp_path: Path) -> None:
    import zerograd
    from zerograd.models import MLP

    model = MLP((3,))
    model(np.zeros((1, 2), dtype=np.float32))
    zerograd.save(tmp_path / "other.npz", model)
    with pytest.raises(TrainError, match="not a checkpoint written by zerograd train"):
        train(TrainConfig(resume=str(tmp_path / "other.npz")), log=quiet)


def test_mnist_on_generated_idx_files(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ZEROGRAD_DATA", str(tmp_path))
    rng = np.random.default_rng(0)
    for split, prefix, n in (("train", "train", 60), ("test", "t10k", 20)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = np.zeros((n, 28, 28), np.uint8)
        for i, label in enumerate(labels):  # a learnable pattern: a bright row per class
            images[i, 2 + 2 * label] = 255
        for kind, array in (("images", images), ("labels", labels)):
            idx = "idx3" if kind == "images" else "idx1"
            path = write_gzip(tmp_path / f"{prefix}-{kind}-{idx}-ubyte.gz", idx_bytes(array))
            old = MNIST.resources[f"{split}_{kind}"]
            new = Resource(old.url, sha256sum(str(path)), old.name)
            monkeypatch.setitem(MNIST.resources, f"{split}_{kind}", new)
    for model in ("mlp", "cnn"):
        argv = ["train", "--dataset", "mnist", "--model", model, "--epochs", "2"]
        assert main([*argv, "--batch-size", "10", "--lr", "0.01", "--no-progress"]) == 0
        assert last_accuracy(capsys.readouterr().out) >= 0.9


def test_plain_lines_without_tqdm(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert main(["train", "--dataset", "spiral", "--epochs", "2"]) == 0
    captured = capsys.readouterr()
    assert "epoch 2/2" in captured.out and captured.err == ""


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "adadelta", "adamw"])
def test_optimizers(optimizer: str) -> None:
    result = train(
        TrainConfig(dataset="spiral", optimizer=optimizer, epochs=30, progress=False), log=quiet
    )
    assert result.train_accuracy > 0.5


@pytest.mark.gpu
def test_train_on_gpu(capsys) -> None:
    from zerograd import cuda

    if not cuda.gpu_enable:
        pytest.skip("no GPU")
    assert main(["train", "--gpu", "--epochs", "5", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "(GPU)" in out and last_accuracy(out) > 0.9


@pytest.mark.gpu
def test_resume_on_gpu(tmp_path: Path) -> None:
    from zerograd import cuda

    if not cuda.gpu_enable:
        pytest.skip("no GPU")
    kw = {"model": "cnn", "batch_size": 64, "gpu": True, "progress": False}
    full = train(TrainConfig(epochs=2, save=str(tmp_path / "a.npz"), **kw), log=quiet)
    train(TrainConfig(epochs=1, save=str(tmp_path / "b.npz"), **kw), log=quiet)
    resumed = train(TrainConfig(epochs=2, resume=str(tmp_path / "b.npz"), **kw), log=quiet)
    for p, q in zip(full.model.params(), resumed.model.params()):
        np.testing.assert_allclose(cuda.as_numpy(p.data), cuda.as_numpy(q.data), rtol=1e-6)


def _resume_edits() -> list[tuple[str, Any, str]]:
    """(path in extra["train"], new value or _DROP, what the error names)."""
    edits: list[tuple[str, Any, str]] = []
    for field in ("config", "epoch", "history", "loader_index"):
        edits.append((field, _DROP, "train."))
    edits.append(("hooks", [], "train."))
    for key in ("dataset", "model", "batch_size", "optimizer", "lr", "seed"):
        edits.append((f"config.{key}", _DROP, "train.config"))
    for key in ("dataset", "model", "optimizer"):
        edits += [(f"config.{key}", v, f"config.{key}") for v in ("nope", None, 5)]
    edits += [("config.batch_size", v, "batch_size") for v in (0, -1, 1.5, "32", True, None)]
    edits += [("config.seed", v, "seed") for v in (-1, 2**32, "0", 1.0)]
    edits += [("config.lr", v, "lr") for v in (-0.1, float("nan"), "0.1", True, [])]
    edits += [("epoch", v, "epoch") for v in (-1, 1.5, "1", None)]
    edits += [
        ("history", [], "history"),
        ("history.loss", _DROP, "history"),
        ("history.loss", [], "history.loss"),
        ("history.accuracy", ["x"], "history.accuracy"),
        ("loader_index", "0,1", "loader_index"),
        ("loader_index", ["0"], "loader_index"),
        ("loader_index", [0, 1, 2], "loader_index"),
        ("loader_index", "duplicate", "loader_index"),
        ("loader_index", "out of range", "loader_index"),
    ]
    return edits


_DROP = object()


@pytest.fixture(scope="module")
def spiral_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    path = tmp_path_factory.mktemp("resume") / "c.npz"
    train(TrainConfig(dataset="spiral", epochs=1, save=str(path), progress=False), log=quiet)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return arrays, json.loads(arrays.pop("__zerograd__").tobytes())


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [pytest.param(*e, id=f"{e[0]}={e[1]!r}"[:60]) for e in _resume_edits()],
)
def test_resume_refuses_a_bad_run_state(
    tmp_path: Path, spiral_checkpoint: tuple[dict, dict], field: str, value: Any, message: str
) -> None:
    arrays, meta = spiral_checkpoint
    meta = json.loads(json.dumps(meta))
    node = meta["extra"]["train"]
    *parents, last = field.split(".")
    for key in parents:
        node = node[key]
    if value is _DROP:
        del node[last]
    elif value == "duplicate":
        node[last][1] = node[last][0]
    elif value == "out of range":
        node[last][0] = len(node[last])
    else:
        node[last] = value
    path = tmp_path / "bad.npz"
    header = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(path, **arrays, __zerograd__=header)
    with pytest.raises(TrainError, match=re.escape(message)) as info:
        train(TrainConfig(resume=str(path), progress=False), log=quiet)
    assert str(path) in str(info.value)
