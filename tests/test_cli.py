"""The ``zerograd`` command: ``demo`` and ``train`` end to end."""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zerograd
from tests._env import child_env
from tests.datasets.conftest import idx_bytes, write_gzip
from zerograd.cli import build_parser, main
from zerograd.datasets import MNIST
from zerograd.datasets._download import Resource, sha256sum
from zerograd.train import (
    HIDDEN,
    INT_RANGES,
    POSITIVE_REALS,
    TrainConfig,
    TrainError,
    build_optimizer,
    train,
)

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
        env=child_env(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert last_accuracy(proc.stdout) > 0.85
    assert "epoch 3/3" in proc.stdout and "curves saved to" in proc.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert proc.stderr == ""  # piped: no progress bar


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
        assert resumed.history == full.history  # exactly: JSON keeps every float's digits
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
    assert main(["train", "--resume", str(ckpt), "--dataset", "digits"]) == 2
    assert "--dataset digits (checkpoint: spiral)" in capsys.readouterr().err


def test_gpu_flag_without_gpu_is_an_error(capsys) -> None:
    from zerograd import cuda

    if cuda.gpu_enable:
        pytest.skip("a GPU is present")
    assert main(["train", "--gpu", "--epochs", "1"]) == 2
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


# -- the command line as a user meets it ---------------------------------------------------
def status_and_err(argv: list[str], capsys) -> tuple[int, str]:
    """Exit status of ``zerograd *argv`` run in process (argparse's usage errors raise
    SystemExit) and what it wrote to stderr."""
    try:
        status = main(argv)
    except SystemExit as stop:
        status = stop.code
    return status, capsys.readouterr().err


def value_options() -> set[tuple[str, str]]:
    """(subcommand, option) for every option of every subcommand that takes a value."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {
        (name, action.option_strings[-1])
        for name, sub in commands.choices.items()
        for action in sub._actions
        if action.option_strings and action.nargs != 0
    }


# Bad values for every option that takes one: (subcommand, option, value, part of the message).
# "{tmp}" is the test's temporary folder; train cases run after "--dataset spiral --epochs 1".
BAD_OPTIONS = [
    ("demo", "--plot", "graph.txt", "cannot tell the format of 'graph.txt'"),
    ("demo", "--plot", "graph", "cannot tell the format"),
    ("demo", "--plot", "no/dir/graph.png", "no directory"),
    ("train", "--dataset", "imagenet", "invalid choice: 'imagenet'"),
    ("train", "--model", "rnn", "invalid choice: 'rnn'"),
    ("train", "--optimizer", "lbfgs", "invalid choice: 'lbfgs'"),
    ("train", "--epochs", "0", "must be an integer >= 1, got 0"),
    ("train", "--epochs", "-1", "must be an integer >= 1, got -1"),
    ("train", "--epochs", "2.5", "must be an integer >= 1, got '2.5'"),
    ("train", "--batch-size", "0", "must be an integer >= 1, got 0"),
    ("train", "--batch-size", "many", "must be an integer >= 1, got 'many'"),
    ("train", "--lr", "0", "must be a finite number > 0, got 0.0"),
    ("train", "--lr", "-0.1", "must be a finite number > 0, got -0.1"),
    ("train", "--lr", "nan", "must be a finite number > 0, got nan"),
    ("train", "--lr", "inf", "must be a finite number > 0, got inf"),
    ("train", "--lr", "fast", "must be a finite number > 0, got 'fast'"),
    ("train", "--seed", "-1", "must be an integer from 0 to 4294967295, got -1"),
    ("train", "--seed", "4294967296", "must be an integer from 0 to 4294967295"),
    ("train", "--threads", "-1", "must be an integer >= 0, got -1"),
    ("train", "--save", "no/dir/c.npz", "--save: cannot write no/dir/c.npz: no directory"),
    ("train", "--save", "{tmp}", "it is a directory"),
    ("train", "--resume", "no-such-file.npz", "--resume: no checkpoint at no-such-file.npz"),
    ("train", "--resume", "{tmp}", "is a directory, not a checkpoint"),
    ("train", "--resume", "notes.txt", "--resume:"),
    ("train", "--plot", "curves.txt", "cannot tell the image format of curves.txt"),
    ("train", "--plot", "curves", "cannot tell the image format"),
    ("train", "--plot", "no/dir/c.png", "--plot: cannot write no/dir/c.png: no directory"),
    ("train", "--lr-schedule", "linear", "invalid choice: 'linear'"),
    ("train", "--warmup", "-1", "must be an integer >= 0, got -1"),
    ("train", "--warmup", "1.5", "must be an integer >= 0, got '1.5'"),
    ("train", "--clip-norm", "0", "must be a finite number > 0, got 0.0"),
    ("train", "--clip-norm", "inf", "must be a finite number > 0, got inf"),
    ("train", "--clip-norm", "x", "must be a finite number > 0, got 'x'"),
    ("train", "--log", "run.txt", "run.txt"),
    ("train", "--log", "no/dir/run.csv", "--log: cannot write no/dir/run.csv: no directory"),
    ("train", "--nproc", "0", "expected a positive integer, got '0'"),
    ("summary", "--dataset", "imagenet", "invalid choice: 'imagenet'"),
    ("summary", "--model", "rnn", "invalid choice: 'rnn'"),
    ("summary", "--batch-size", "0", "must be an integer >= 1, got 0"),
    ("export", "--opset", "12", "invalid choice: 12"),
    ("export", "--checkpoint", "no-such-file.npz", "no checkpoint at no-such-file.npz"),
]


def test_every_option_with_a_value_has_bad_values_in_the_table() -> None:
    assert value_options() == {(cmd, option) for cmd, option, _, _ in BAD_OPTIONS}


@pytest.mark.parametrize("cmd, option, value, message", BAD_OPTIONS)
def test_bad_option_value_is_one_line_and_exit_2(
    cmd, option, value, message, capsys, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("ZEROGRAD_DATA", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    base = {
        "train": ["--dataset", "spiral", "--epochs", "1", "--no-progress"],
        "export": ["out.onnx"],
    }.get(cmd, [])
    status, err = status_and_err([cmd, *base, option, value.format(tmp=tmp_path)], capsys)
    assert status == 2
    assert err.startswith(f"zerograd {cmd}: error: ") and err.count("\n") == 1, err
    assert message in err and option in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # nothing written


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--dataset", "spiral", "--model", "cnn"], "use --model mlp"),
        (["train", "--dataset", "mnist"], "--download"),
        (["no-such-command"], "invalid choice"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_combinations_are_one_line_and_exit_2(
    argv, message, capsys, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("ZEROGRAD_DATA", str(tmp_path))
    status, err = status_and_err(argv, capsys)
    assert status == 2 and err.count("\n") == 1 and message in err, err
    assert err.startswith("zerograd")


@pytest.mark.parametrize("argv", [["train", "--batch-size", "0"], ["train", "--resume", "x.npz"]])
def test_no_traceback_from_the_installed_command(argv, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "zerograd", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=child_env(),
        check=False,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("zerograd train: error: ") and proc.stderr.count("\n") == 1


def test_demo_without_graphviz_says_so_before_drawing(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "")
    status, err = status_and_err(["demo", "--plot", str(tmp_path / "g.png")], capsys)
    assert status == 2 and err.count("\n") == 1
    assert err.startswith("zerograd demo: error: --plot") and "Graphviz" in err
    assert list(tmp_path.iterdir()) == []
    assert main(["demo", "--plot", str(tmp_path / "g.dot")]) == 0  # DOT text needs no Graphviz
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def _spiral_checkpoint(path: Path, epochs: int = 2) -> None:
    argv = ["train", "--dataset", "spiral", "--epochs", str(epochs), "--save", str(path)]
    assert main([*argv, "--no-progress"]) == 0


def test_resume_with_fewer_epochs_than_the_checkpoint_says_so(tmp_path: Path, capsys) -> None:
    ckpt = tmp_path / "ckpt.npz"
    _spiral_checkpoint(ckpt, epochs=3)
    capsys.readouterr()
    status, err = status_and_err(["train", "--resume", str(ckpt), "--epochs", "2"], capsys)
    assert status == 2 and err.count("\n") == 1
    assert "--epochs 2: the checkpoint" in err and "already trained 3 epochs" in err
    # Without --epochs a resumed run finishes the run's total; at the total, nothing to train.
    assert main(["train", "--resume", str(ckpt), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "nothing to train" in out and "for 3 epochs" in out


def test_resume_without_epochs_finishes_the_planned_run(tmp_path: Path) -> None:
    part = tmp_path / "part.npz"
    kw = {"dataset": "spiral", "progress": False}
    full = train(TrainConfig(epochs=3, **kw), log=quiet)
    train(TrainConfig(epochs=1, save=str(part), **kw), log=quiet)
    info = zerograd.load(part, restore_rng=False)["train"]
    assert info["epochs"] == 1 and info["epoch"] == 1
    info["epochs"] = 3  # as if a 3-epoch run had been stopped after its first epoch
    _rewrite_train_entry(part, info)
    resumed = train(TrainConfig(resume=str(part), **kw), log=quiet)
    assert resumed.config.epochs == 3 and resumed.history == full.history


def _rewrite_train_entry(path: Path, info: object) -> None:
    """Replace the ``train`` entry of the checkpoint at ``path`` (weights kept)."""
    from zerograd.models import MLP

    model = MLP((HIDDEN, 3))
    optimizer = build_optimizer("adam", None).setup(model)
    with zerograd.no_grad():
        model(np.zeros((1, 2), np.float32))
    zerograd.load(path, model, optimizer)
    if isinstance(info, dict):
        info = {k: v for k, v in info.items() if k != "scheduler"}  # none is written back
    zerograd.save(path, model, optimizer, extra={"train": info})


def _break(info: dict, key: str, value: object) -> dict:
    info = json.loads(json.dumps(info))
    target = info
    *parents, last = key.split(".")
    for k in parents:
        target = target[k]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return info


DELETE = object()
BROKEN_TRAIN_ENTRIES = [
    ("config", DELETE),
    ("config", "spiral"),
    ("config.dataset", "imagenet"),
    ("config.batch_size", 0),
    ("config.batch_size", "30"),
    ("config.lr", -1.0),
    ("config.seed", -5),
    ("config.optimizer", DELETE),
    ("epoch", 0),
    ("epoch", "1"),
    ("epoch", True),
    ("epochs", 0),
    ("history", {}),
    ("history.loss", [1.0, 2.0, 3.0]),
    ("history.accuracy", ["x"]),
    ("loader_index", [0.5]),
    ("loader_index", [0, 0, 1]),
    ("loader_index", "0,1,2"),
    ("surprise", 1),
]


@pytest.mark.parametrize("key, value", BROKEN_TRAIN_ENTRIES)
def test_a_broken_train_entry_is_refused_in_one_line(key, value, tmp_path: Path, capsys) -> None:
    ckpt = tmp_path / "ckpt.npz"
    _spiral_checkpoint(ckpt, epochs=1)
    info = zerograd.load(ckpt, restore_rng=False)["train"]
    _rewrite_train_entry(ckpt, _break(info, key, value))
    capsys.readouterr()
    status, err = status_and_err(["train", "--resume", str(ckpt), "--epochs", "2"], capsys)
    assert status == 2 and err.count("\n") == 1, err
    assert err.startswith("zerograd train: error: --resume: ")


@pytest.mark.parametrize(
    "setting, value",
    [
        ("epochs", 0),
        ("epochs", 1.0),
        ("batch_size", -1),
        ("batch_size", True),
        ("lr", 0.0),
        ("lr", float("nan")),
        ("lr", "0.1"),
        ("seed", 2**32),
        ("threads", -2),
        ("dataset", "imagenet"),
        ("model", "rnn"),
        ("optimizer", "lbfgs"),
    ],
)
def test_train_config_checks_its_settings(setting: str, value: object) -> None:
    with pytest.raises(TrainError, match=f"TrainConfig: .*{setting}"):
        TrainConfig(**{setting: value})


def test_every_numeric_setting_is_checked() -> None:
    numeric = {
        f.name for f in fields(TrainConfig) if f.type in ("int | None", "int", "float | None")
    }
    assert numeric == {*POSITIVE_REALS, *INT_RANGES}


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bars_only_on_a_terminal(monkeypatch, capsys) -> None:
    pytest.importorskip("tqdm")
    argv = ["train", "--dataset", "spiral", "--epochs", "2"]
    assert main(argv) == 0
    assert capsys.readouterr().err == ""  # captured, not a terminal: no bar
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(argv) == 0
    assert "epoch 1/2" in terminal.getvalue() and "it/s" in terminal.getvalue()
    out = capsys.readouterr().out
    assert "\r" not in out and out.splitlines()[-1].startswith("test_accuracy=")
    terminal.truncate(0)
    assert main([*argv, "--no-progress"]) == 0
    assert terminal.getvalue() == ""


@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"], ["train", "--help"]])
def test_help_is_plain_text(argv, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert not re.search(r"``|:\w+:`|\.\. \w+::", text), text  # no RST literals, roles
    if argv == ["demo", "--help"] or argv == ["--help"]:
        assert "x.grad" in text and "backward" in text  # says what the demo shows


def test_version(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out == f"zerograd {zerograd.__version__}\n"
