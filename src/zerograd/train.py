"""Train a classifier end to end: the loop behind ``zerograd train``.

With no options an MLP learns scikit-learn's 8x8 digits (no network needed). Each epoch runs
a DataLoader over the training set (a tqdm bar when tqdm is installed), then measures the test
set; ``--save`` checkpoints after every epoch and ``--resume`` continues from a checkpoint so
that the weights come out exactly as in an uninterrupted run with the same seed.

>>> from zerograd.train import TrainConfig, train
>>> result = train(TrainConfig(dataset="spiral", epochs=2, progress=False), log=lambda s: None)
>>> len(result.history["test_accuracy"])
2
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

DATASETS = ("digits", "spiral", "mnist")
MODELS = ("mlp", "cnn")
#: Optimizer name: (class name in zerograd.optimizers, name of its step-size argument, default).
OPTIMIZERS = {
    "sgd": ("SGD", "lr", 0.1),
    "momentum": ("MomentumSGD", "lr", 0.05),
    "adagrad": ("AdaGrad", "lr", 0.01),
    "adadelta": ("AdaDelta", "lr", 1.0),
    "adam": ("Adam", "alpha", 0.001),
    "adamw": ("AdamW", "alpha", 0.001),
}
#: Epochs and batch size when not given, per dataset and model.
DEFAULTS = {
    ("digits", "mlp"): (40, 32),
    ("digits", "cnn"): (30, 32),
    ("spiral", "mlp"): (300, 30),
    ("mnist", "mlp"): (5, 100),
    ("mnist", "cnn"): (3, 100),
}
HIDDEN = 256  # MLP hidden units
CNN = {"channels": (32, 64), "hidden": 128}  # SimpleCNN's sizes
# Settings a resumed run takes from its checkpoint (they shape the run's arithmetic).
_RESUMED = ("dataset", "model", "batch_size", "optimizer", "lr", "seed")


class TrainError(RuntimeError):
    """A training run that cannot start: bad option combination, missing data or GPU."""


@dataclass
class TrainConfig:
    """What ``train`` does; ``None`` means the default for the dataset and model."""

    dataset: str = "digits"
    model: str = "mlp"
    epochs: int | None = None
    batch_size: int | None = None
    optimizer: str = "adam"
    lr: float | None = None
    seed: int = 0
    save: str | None = None
    resume: str | None = None
    plot: str | None = None
    gpu: bool = False
    download: bool = False
    threads: int | None = 1
    progress: bool = True


@dataclass
class TrainResult:
    """The trained model and optimizer, per-epoch history and final accuracies."""

    model: Any
    optimizer: Any
    config: TrainConfig
    history: dict[str, list[float]] = field(default_factory=dict)
    train_accuracy: float = float("nan")
    test_accuracy: float = float("nan")
    seconds: float = 0.0


# -- data -------------------------------------------------------------------------------------
def _materialize(ds: Any) -> Any:
    """The dataset with its per-example transforms applied once, as plain arrays (so the
    DataLoader slices arrays instead of calling transforms for every example every epoch)."""
    from zerograd.datasets import Dataset

    pairs = [ds[i] for i in range(len(ds))]
    arrays = (
        np.stack([np.asarray(x) for x, _ in pairs]),
        np.asarray([t for _, t in pairs]).astype(np.int64),
    )

    class ArrayDataset(Dataset):
        def prepare(self) -> None:
            self.data, self.label = arrays

    return ArrayDataset(train=ds.train)


def load_data(config: TrainConfig) -> tuple[Any, Any, int]:
    """Train set, test set (transformed for the model) and the number of classes."""
    from zerograd import datasets
    from zerograd.transforms import Compose, Normalize, ToFloat

    if config.dataset == "spiral":
        if config.model != "mlp":
            raise TrainError("--dataset spiral has 2-D points, not images: use --model mlp")
        return datasets.Spiral(train=True), datasets.Spiral(train=False), 3
    if config.dataset == "digits":
        image = Compose([ToFloat(), Normalize(0.0, 16.0)])
        kwargs = {"transform": image} if config.model == "cnn" else {}
        return datasets.Digits(True, **kwargs), datasets.Digits(False, **kwargs), 10
    if config.dataset == "mnist":
        image = Compose([ToFloat(), Normalize(0.0, 255.0)])
        kwargs = {"transform": image} if config.model == "cnn" else {}
        try:
            train = datasets.MNIST(True, download=config.download, **kwargs)
            test = datasets.MNIST(False, download=config.download, **kwargs)
        except FileNotFoundError as error:
            raise TrainError(f"{error} (zerograd train --dataset mnist --download)") from None
        except (OSError, ValueError) as error:  # checksum, format or network errors
            raise TrainError(str(error)) from None
        return train, test, 10
    raise TrainError(f"unknown dataset {config.dataset!r}; choose from {', '.join(DATASETS)}")


# -- model and optimizer -----------------------------------------------------------------------
def build_model(name: str, num_classes: int) -> Any:
    """``mlp``: Linear(256)-ReLU-Linear; ``cnn``: zerograd.models.SimpleCNN (two 3x3 conv
    layers of 32 and 64 channels, each with ReLU and 2x2 max pooling, then 128 hidden units)."""
    import zerograd.functions as F
    from zerograd.models import MLP, SimpleCNN

    if name == "mlp":
        return MLP((HIDDEN, num_classes), activation=F.relu)
    if name == "cnn":
        return SimpleCNN(num_classes=num_classes, **CNN)  # type: ignore[arg-type]
    raise TrainError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")


def build_optimizer(name: str, lr: float | None) -> Any:
    """An optimizer from ``OPTIMIZERS`` with step size ``lr`` (its default when None)."""
    import zerograd.optimizers as O

    if name not in OPTIMIZERS:
        raise TrainError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    cls_name, arg, default = OPTIMIZERS[name]
    return getattr(O, cls_name)(**{arg: default if lr is None else lr})


# -- the loop ---------------------------------------------------------------------------------
def _progress(total: int, desc: str, enabled: bool) -> Any:
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            return None
        return tqdm(total=total, desc=desc, leave=False, file=sys.stderr, dynamic_ncols=True)
    return None


def train_epoch(model: Any, optimizer: Any, loader: Any, bar: Any = None) -> tuple[float, float]:
    """One pass over ``loader`` with softmax cross entropy; mean loss and accuracy. ``bar``
    (tqdm) shows the running values."""
    import zerograd.functions as F

    sum_loss = sum_acc = 0.0
    seen = 0
    for x, t in loader:
        y = model(x)
        loss = F.softmax_cross_entropy(y, t)
        acc = F.accuracy(y, t)
        model.cleargrads()
        loss.backward()
        optimizer.update()
        seen += len(t)
        sum_loss += float(loss.data) * len(t)
        sum_acc += float(acc.data) * len(t)
        if bar is not None:
            bar.set_postfix(
                loss=f"{sum_loss / seen:.4f}", acc=f"{sum_acc / seen:.4f}", refresh=False
            )
            bar.update()
    if bar is not None:
        bar.close()
    return sum_loss / seen, sum_acc / seen


def evaluate(model: Any, x: Any, t: Any, batch_size: int = 500) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``(x, t)``, in test mode without a graph."""
    import zerograd
    import zerograd.functions as F

    total_loss = total_acc = 0.0
    with zerograd.no_grad(), zerograd.test_mode():
        for i in range(0, len(x), batch_size):
            xb, tb = x[i : i + batch_size], t[i : i + batch_size]
            y = model(xb)
            total_loss += float(F.softmax_cross_entropy(y, tb).data) * len(tb)
            total_acc += float(F.accuracy(y, tb).data) * len(tb)
    return total_loss / len(x), total_acc / len(x)


@contextlib.contextmanager
def _blas_threads(threads: int | None) -> Iterator[None]:
    """Limit BLAS threads (small matrices run fastest, and steadiest on a busy machine, on
    one); needs threadpoolctl, which scikit-learn installs. ``None`` leaves them alone."""
    if threads is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=threads, user_api="blas"):
        yield


def _read_checkpoint_extra(path: str) -> dict[str, Any]:
    import zerograd

    try:
        extra = zerograd.load(path, restore_rng=False)
    except FileNotFoundError:
        raise TrainError(f"--resume: no checkpoint at {path}") from None
    except (OSError, ValueError) as error:  # CheckpointError is a ValueError
        raise TrainError(f"--resume: {error}") from None
    if "train" not in extra:
        raise TrainError(f"--resume: {path} is not a checkpoint written by zerograd train")
    return extra


def train(config: TrainConfig, log: Callable[[str], None] = print) -> TrainResult:
    """Train as ``config`` says; ``log`` receives one summary line per epoch."""
    import zerograd
    from zerograd import DataLoader, cuda

    config = replace(config)  # filled in below; the caller's stays as given
    state: dict[str, Any] = {}
    if config.resume is not None:
        state = _read_checkpoint_extra(config.resume)
        saved = state["train"]["config"]
        config = TrainConfig(**{**asdict(config), **{k: saved[k] for k in _RESUMED}})
    epochs, batch_size = DEFAULTS.get((config.dataset, config.model), (10, 32))
    epochs = config.epochs if config.epochs is not None else epochs
    batch_size = config.batch_size if config.batch_size is not None else batch_size
    config.epochs, config.batch_size = epochs, batch_size
    for option, path in (("--save", config.save), ("--plot", config.plot)):
        folder = os.path.dirname(os.path.abspath(path)) if path else None
        if folder is not None and not os.path.isdir(folder):  # fail before training, not after
            raise TrainError(f"{option}: cannot write {path}: no directory {folder}")
    if config.gpu and not cuda.gpu_enable:
        raise TrainError("--gpu: no CUDA GPU with CuPy is available (pip install cupy-cuda12x)")

    train_set, test_set, num_classes = load_data(config)  # Spiral reseeds the global RNG
    train_set, test_set = _materialize(train_set), _materialize(test_set)
    np.random.seed(config.seed)
    model = build_model(config.model, num_classes)
    with zerograd.no_grad():
        model(train_set.data[:1])  # create the lazily sized weights now, before any resume
    optimizer = build_optimizer(config.optimizer, config.lr).setup(model)
    loader = DataLoader(train_set, batch_size, shuffle=True, gpu=config.gpu)
    x_test, t_test = test_set.data, test_set.label
    if config.gpu:
        model.to_gpu()
        x_test, t_test = cuda.as_cupy(x_test), cuda.as_cupy(t_test)

    names = ("loss", "accuracy", "test_loss", "test_accuracy")
    history: dict[str, list[float]] = {k: [] for k in names}
    start_epoch = 0
    if config.resume is not None:
        zerograd.load(config.resume, model, optimizer)  # weights, moments, RNG state
        start_epoch = state["train"]["epoch"]
        history = state["train"]["history"]
        loader.index = np.asarray(state["train"]["loader_index"], dtype=np.int64)
        log(f"resumed from {config.resume} after epoch {start_epoch}")

    started = time.perf_counter()
    with _blas_threads(config.threads):
        for epoch in range(start_epoch + 1, epochs + 1):
            t0 = time.perf_counter()
            bar = _progress(len(loader), f"epoch {epoch}/{epochs}", config.progress)
            loss, acc = train_epoch(model, optimizer, loader, bar)
            test_loss, test_acc = evaluate(model, x_test, t_test)
            for key, value in zip(names, (loss, acc, test_loss, test_acc)):
                history[key].append(value)
            stride = max(1, epochs // 20)  # at most about 20 lines for long runs
            if epoch % stride == 0 or epoch in (start_epoch + 1, epochs):
                log(
                    f"epoch {epoch}/{epochs}  loss={loss:.4f}  accuracy={acc:.4f}  "
                    f"test_loss={test_loss:.4f}  test_accuracy={test_acc:.4f}  "
                    f"({time.perf_counter() - t0:.1f}s)"
                )
            if config.save is not None:
                _checkpoint(config, model, optimizer, loader, epoch, history)
    seconds = time.perf_counter() - started

    x_train, t_train = train_set.data, train_set.label
    if config.gpu:
        x_train, t_train = cuda.as_cupy(x_train), cuda.as_cupy(t_train)
    _, train_acc = evaluate(model, x_train, t_train)
    _, test_acc = evaluate(model, x_test, t_test)
    if config.plot is not None:
        save_plot(history, config.plot, title=f"{config.model} on {config.dataset}")
        log(f"curves saved to {config.plot}")
    return TrainResult(model, optimizer, config, history, train_acc, test_acc, seconds)


def _checkpoint(
    config: TrainConfig, model: Any, optimizer: Any, loader: Any, epoch: int, history: Any
) -> None:
    import zerograd

    info = {
        "config": {k: getattr(config, k) for k in _RESUMED},
        "epoch": epoch,
        "history": history,
        # The next epoch's order, already drawn when this one ended.
        "loader_index": [int(i) for i in loader.index],
    }
    try:
        zerograd.save(config.save, model, optimizer, extra={"train": info})
    except OSError as error:
        raise TrainError(f"--save: cannot write {config.save}: {error}") from None


def save_plot(history: dict[str, list[float]], path: str, title: str = "") -> None:
    """Loss and accuracy per epoch, train and test, as an image (matplotlib, no display)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise TrainError("--plot needs matplotlib (pip install matplotlib)") from None
    fig = Figure(figsize=(10, 4))
    FigureCanvasAgg(fig)
    epochs = range(1, len(history["loss"]) + 1)
    for ax, key, label in zip(fig.subplots(1, 2), ("loss", "accuracy"), ("loss", "accuracy")):
        ax.plot(epochs, history[key], label="train")
        ax.plot(epochs, history["test_" + key], label="test")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as error:
        raise TrainError(f"--plot: cannot write {path}: {error}") from None


# -- command line ------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``zerograd train``."""
    parser.add_argument("--dataset", choices=DATASETS, default=None, help="default: digits")
    parser.add_argument("--model", choices=MODELS, default=None, help="default: mlp")
    parser.add_argument("--epochs", type=int, help="total epochs (default per dataset/model)")
    parser.add_argument("--batch-size", type=int, help="default per dataset/model")
    parser.add_argument(
        "--optimizer", choices=sorted(OPTIMIZERS), default=None, help="default: adam"
    )
    parser.add_argument("--lr", type=float, help="step size (default per optimizer)")
    parser.add_argument("--seed", type=int, default=None, help="NumPy's global seed (default 0)")
    parser.add_argument("--save", metavar="PATH", help="checkpoint here after every epoch")
    parser.add_argument("--resume", metavar="PATH", help="continue from this checkpoint")
    parser.add_argument("--plot", metavar="PATH", help="save loss/accuracy curves (PNG)")
    parser.add_argument("--gpu", action="store_true", help="train on the GPU (CuPy)")
    parser.add_argument("--download", action="store_true", help="download missing MNIST files")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS threads (default 1; 0 leaves the library's default)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    """``zerograd train``: train, print one line per epoch, end with ``test_accuracy=...``."""
    given = {
        "dataset": args.dataset,
        "model": args.model,
        "optimizer": args.optimizer,
        "seed": args.seed,
        "lr": args.lr,
        "batch_size": args.batch_size,
    }
    if args.resume is not None:
        saved = _read_checkpoint_extra(args.resume)["train"]["config"]
        clash = [
            f"--{k.replace('_', '-')} {v} (checkpoint: {saved[k]})"
            for k, v in given.items()
            if v is not None and v != saved[k]
        ]
        if clash:
            raise TrainError(
                "--resume continues the checkpoint's run; these differ: " + "; ".join(clash)
            )
    defaults = {f.name: f.default for f in fields(TrainConfig)}
    config = TrainConfig(
        **{k: defaults[k] if v is None else v for k, v in given.items()},  # type: ignore[arg-type]
        epochs=args.epochs,
        save=args.save,
        resume=args.resume,
        plot=args.plot,
        gpu=args.gpu,
        download=args.download,
        threads=None if args.threads == 0 else args.threads,
        progress=not args.no_progress,
    )
    result = train(config)
    config = result.config  # as resolved: defaults filled in, a checkpoint's settings taken
    device = "GPU" if config.gpu else "CPU"
    print(
        f"trained {config.model} on {config.dataset} for {config.epochs} epochs in "
        f"{result.seconds:.1f}s ({device})"
    )
    print(f"train_accuracy={result.train_accuracy:.4f}")
    print(f"test_accuracy={result.test_accuracy:.4f}")
    return 0
