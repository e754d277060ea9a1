"""Train a classifier end to end: the loop behind ``zerograd train``.

With no options an MLP learns scikit-learn's 8x8 digits (no network needed). Each epoch runs
a DataLoader over the training set (a tqdm bar on a terminal when tqdm is installed), then
measures the test set; ``--save`` checkpoints after every epoch and ``--resume`` continues
from a checkpoint so that the weights come out exactly as in an uninterrupted run with the
same seed. The rate follows ``--lr-schedule`` (stepped per batch, after ``--warmup`` epochs
of linear warmup), ``--clip-norm`` clips the gradients' global norm, and ``--log`` writes one
row per step.

>>> from zerograd.train import TrainConfig, train
>>> result = train(TrainConfig(dataset="spiral", epochs=2, progress=False), log=lambda s: None)
>>> len(result.history["test_accuracy"])
2
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
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
#: One example's shape per dataset for each model (``None``: not a valid pairing), and the
#: number of classes: what ``zerograd summary`` feeds the model without loading data.
INPUTS: dict[str, tuple[dict[str, tuple[int, ...] | None], int]] = {
    "digits": ({"mlp": (64,), "cnn": (1, 8, 8)}, 10),
    "spiral": ({"mlp": (2,), "cnn": None}, 3),
    "mnist": ({"mlp": (784,), "cnn": (1, 28, 28)}, 10),
}
HIDDEN = 256  # MLP hidden units
CNN: dict[str, Any] = {"channels": (32, 64), "hidden": 128}  # SimpleCNN's sizes
#: Learning-rate schedules: name -> builder(optimizer, epochs, steps_per_epoch, warmup_epochs),
#: stepped once per batch; see ``build_scheduler``.
SCHEDULES: dict[str, Callable[[Any, int, int, int], Any]] = {}
#: ``--log`` formats by file extension.
LOG_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
LOG_FIELDS = ("epoch", "step", "loss", "accuracy", "lr", "seconds")
# Settings a resumed run takes from its checkpoint (they shape the run's arithmetic).
_RESUMED = (
    "dataset", "model", "batch_size", "optimizer", "lr", "seed", "lr_schedule", "warmup",
    "clip_norm",
)  # fmt: skip
#: The integer settings' allowed ranges (inclusive; None: no bound).
INT_RANGES: dict[str, tuple[int, int | None]] = {
    "epochs": (1, None),
    "batch_size": (1, None),
    "seed": (0, 2**32 - 1),  # what np.random.seed takes
    "threads": (0, None),  # 0: the BLAS library's own default
    "warmup": (0, None),
}
#: The real-valued settings: finite and > 0.
POSITIVE_REALS = ("lr", "clip_norm")


class TrainError(RuntimeError):
    """A training run that cannot start or go on: a bad setting or combination of settings, a
    path that cannot be written, a checkpoint that does not fit, missing data or GPU."""


def check_setting(name: str, value: Any) -> Any:
    """``value`` if it is allowed for the numeric setting ``name``; else ``ValueError`` saying
    what is allowed (the CLI and ``TrainConfig`` share these rules)."""
    if name in POSITIVE_REALS:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (ok and math.isfinite(value) and value > 0):
            raise ValueError(f"must be a finite number > 0, got {value!r}")
        return value
    low, high = INT_RANGES[name]
    allowed = f">= {low}" if high is None else f"from {low} to {high}"
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise ValueError(f"must be an integer {allowed}, got {value!r}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"must be an integer {allowed}, got {value!r}")
    return value


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
    progress: bool = True  # a progress bar per epoch, when stderr is a terminal
    lr_schedule: str = "constant"
    warmup: int = 0
    clip_norm: float | None = None
    log: str | None = None

    def __post_init__(self) -> None:
        choices = {"dataset": DATASETS, "model": MODELS, "optimizer": tuple(OPTIMIZERS)}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise TrainError(
                    f"TrainConfig: unknown {name} {getattr(self, name)!r}; choose from "
                    + ", ".join(allowed)
                )
        if self.lr_schedule not in SCHEDULES:
            raise TrainError(
                f"TrainConfig: unknown lr_schedule {self.lr_schedule!r}; choose from "
                + ", ".join(SCHEDULES)
            )
        for name in (*POSITIVE_REALS, *INT_RANGES):
            value = getattr(self, name)
            if value is not None:
                try:
                    check_setting(name, value)
                except ValueError as error:
                    raise TrainError(f"TrainConfig: {name} {error}") from None


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
    rank: int = 0  # this process's rank when trained on several (zerograd.distributed)


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


def _constant(epoch: int) -> float:
    return 1.0


def _schedule(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(build: Callable[..., Any]) -> Callable[..., Any]:
        SCHEDULES[name] = build
        return build

    return register


@_schedule("constant")
def _constant_schedule(optimizer: Any, epochs: int, per_epoch: int, warmup: int) -> Any:
    """The optimizer's rate throughout."""
    from zerograd.optimizers.lr_scheduler import LambdaLR

    return LambdaLR(optimizer, _constant)


@_schedule("step")
def _step_schedule(optimizer: Any, epochs: int, per_epoch: int, warmup: int) -> Any:
    """x0.1 at 50% and again at 75% of the epochs after warmup (at epoch boundaries)."""
    from zerograd.optimizers.lr_scheduler import MultiStepLR

    main = epochs - warmup
    return MultiStepLR(optimizer, [round(main * f) * per_epoch for f in (0.5, 0.75)], 0.1)


@_schedule("cosine")
def _cosine_schedule(optimizer: Any, epochs: int, per_epoch: int, warmup: int) -> Any:
    """Cosine annealing to 0 over the epochs after warmup."""
    from zerograd.optimizers.lr_scheduler import CosineAnnealingLR

    return CosineAnnealingLR(optimizer, T_max=(epochs - warmup) * per_epoch)


@_schedule("onecycle")
def _onecycle_schedule(optimizer: Any, epochs: int, per_epoch: int, warmup: int) -> Any:
    """1cycle up to the optimizer's rate (warmup: the rising part, default 30% of the run);
    momentum (or Adam's beta1) cycles where the optimizer has one."""
    from zerograd.optimizers.lr_scheduler import OneCycleLR, rate_attribute

    return OneCycleLR(
        optimizer,
        max_lr=float(getattr(optimizer, rate_attribute(optimizer))),
        total_steps=epochs * per_epoch,
        pct_start=warmup / epochs if warmup else 0.3,
        cycle_momentum=hasattr(optimizer, "momentum") or hasattr(optimizer, "beta1"),
    )


def build_scheduler(
    name: str, optimizer: Any, epochs: int, steps_per_epoch: int, warmup: int = 0
) -> Any:
    """The ``SCHEDULES[name]`` scheduler on ``optimizer`` for ``epochs`` epochs of
    ``steps_per_epoch`` batches, after ``warmup`` epochs of linear warmup from
    ``rate / warmup_steps`` (for ``onecycle``, the warmup is its rising part)."""
    from zerograd.optimizers.lr_scheduler import LinearLR, SequentialLR

    if name not in SCHEDULES:
        raise TrainError(f"unknown --lr-schedule {name!r}; choose from {', '.join(SCHEDULES)}")
    if not 0 <= warmup < epochs:
        raise TrainError(f"--warmup {warmup} must leave at least one of the {epochs} epochs")
    if name == "onecycle" or warmup == 0:
        return SCHEDULES[name](optimizer, epochs, steps_per_epoch, warmup)
    steps = warmup * steps_per_epoch
    ramp = LinearLR(optimizer, start_factor=1.0 / steps, total_iters=steps)
    main = SCHEDULES[name](optimizer, epochs, steps_per_epoch, warmup)
    return SequentialLR(optimizer, [ramp, main], milestones=[steps])


class _StepLog:
    """``--log``: one row per training step, JSON lines or CSV by the file's extension."""

    def __init__(self, path: str, append: bool) -> None:
        self.format = _log_format(path)
        fresh = not (append and os.path.exists(path) and os.path.getsize(path) > 0)
        try:
            self.file = open(path, "w" if fresh else "a", newline="", encoding="utf-8")
        except OSError as error:
            raise TrainError(f"--log: cannot write {path}: {error}") from None
        self.csv = csv.writer(self.file) if self.format == "csv" else None
        if self.csv is not None and fresh:
            self.csv.writerow(LOG_FIELDS)

    def write(self, row: dict[str, Any]) -> None:
        if self.csv is not None:
            self.csv.writerow([row[k] for k in LOG_FIELDS])
        else:
            self.file.write(json.dumps(row) + "\n")

    def close(self) -> None:
        self.file.close()


def _log_format(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext not in LOG_FORMATS:
        raise ValueError(
            f"--log {path}: the extension must be one of {', '.join(LOG_FORMATS)} "
            f"(JSON lines or CSV), got {ext or 'none'!r}"
        )
    return LOG_FORMATS[ext]


def model_summary(dataset: str, model: str, batch_size: int = 1) -> Any:
    """``zerograd summary``: the summary (``Model.summary``) of the model ``zerograd train``
    builds for ``dataset``, on a zero batch of ``batch_size`` examples."""
    if dataset not in INPUTS:
        raise TrainError(f"unknown dataset {dataset!r}; choose from {', '.join(DATASETS)}")
    shapes, num_classes = INPUTS[dataset]
    shape = shapes.get(model)
    if shape is None:
        raise TrainError(f"--dataset {dataset} has no input for --model {model}")
    net = build_model(model, num_classes)
    return net.summary(np.zeros((batch_size, *shape), np.float32))


# -- the loop ---------------------------------------------------------------------------------
def _progress(total: int, desc: str, enabled: bool) -> Any:
    """A tqdm bar on stderr, only when ``enabled`` and stderr is a terminal (piped or
    redirected output stays clean) and tqdm is installed; else None."""
    isatty = getattr(sys.stderr, "isatty", None)
    if not (enabled and isatty is not None and isatty()):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, leave=False, file=sys.stderr, dynamic_ncols=True)


def train_epoch(
    model: Any,
    optimizer: Any,
    loader: Any,
    bar: Any = None,
    scheduler: Any = None,
    on_step: Callable[[float, float, float], None] | None = None,
) -> tuple[float, float]:
    """One pass over ``loader`` with softmax cross entropy; mean loss and accuracy. ``bar``
    (tqdm) shows the running values; ``scheduler.step()`` runs after each update, and
    ``on_step(loss, accuracy, lr)`` receives each batch's values and the rate it used."""
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
        if scheduler is not None:
            lr = getattr(optimizer, scheduler.rate_name)
            scheduler.step()
            if on_step is not None:
                on_step(float(loss.data), float(acc.data), lr)
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


def read_checkpoint_extra(path: str, option: str = "--resume") -> dict[str, Any]:
    """The ``extra`` of the ``zerograd train`` checkpoint at ``path``, its ``train`` entry
    checked in full; a ``TrainError`` naming ``option`` otherwise."""
    import zerograd

    if os.path.isdir(path):
        raise TrainError(f"{option}: {path} is a directory, not a checkpoint")
    try:
        extra = zerograd.load(path, restore_rng=False)
    except FileNotFoundError:
        raise TrainError(f"{option}: no checkpoint at {path}") from None
    except (OSError, ValueError) as error:  # CheckpointError is a ValueError
        raise TrainError(f"{option}: {error}") from None
    if not isinstance(extra, dict) or "train" not in extra:
        raise TrainError(f"{option}: {path} is not a checkpoint written by zerograd train")
    _check_resumed(extra["train"], f"{option}: {path}")
    return extra


def _check_resumed(state: Any, where: str) -> None:
    """The run state a checkpoint's ``extra["train"]`` holds, checked before any use (the
    loader index, which needs the dataset's size, is checked by ``train``)."""

    def fail(field: str, value: Any, expected: str) -> TrainError:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        return TrainError(f"{where}: train.{field} is {shown}; expected {expected}")

    def is_int(value: Any, low: int, high: int) -> bool:
        return type(value) is int and low <= value <= high

    fields = {"config", "epoch", "history", "loader_index"}
    optional = {"epochs", "scheduler", "nproc"}  # written since schedules and --nproc
    if not isinstance(state, dict) or not fields <= set(state) <= fields | optional:
        expected = f"an object with the fields {sorted(fields)} (and {sorted(optional)})"
        raise fail("", state, expected)
    config = state["config"]
    if not isinstance(config, dict) or set(config) != set(_RESUMED):
        raise fail("config", config, f"an object with the fields {sorted(_RESUMED)}")
    for key, choices in (("dataset", DATASETS), ("model", MODELS), ("optimizer", OPTIMIZERS)):
        if config[key] not in choices or not isinstance(config[key], str):
            raise fail(f"config.{key}", config[key], f"one of {', '.join(choices)}")
    if not is_int(config["batch_size"], 1, 2**31):
        raise fail("config.batch_size", config["batch_size"], "a positive integer")
    if not is_int(config["seed"], 0, 2**32 - 1):
        raise fail("config.seed", config["seed"], "an integer from 0 to 2**32 - 1")
    for key in ("lr", "clip_norm"):
        value = config[key]
        if value is not None and not (
            type(value) in (int, float) and math.isfinite(value) and value >= 0
        ):
            raise fail(f"config.{key}", value, "a non-negative number or null")
    if config["lr_schedule"] not in SCHEDULES:
        raise fail("config.lr_schedule", config["lr_schedule"], f"one of {', '.join(SCHEDULES)}")
    if not is_int(config["warmup"], 0, 10**9):
        raise fail("config.warmup", config["warmup"], "a non-negative integer")
    epoch = state["epoch"]
    if not is_int(epoch, 0, 10**9):
        raise fail("epoch", epoch, "a non-negative integer")
    if "epochs" in state and not is_int(state["epochs"], max(epoch, 1), 10**9):
        raise fail("epochs", state["epochs"], f"an integer from {max(epoch, 1)} (the planned run)")
    if "nproc" in state and not is_int(state["nproc"], 1, 2**20):
        raise fail("nproc", state["nproc"], "a positive integer (the number of processes)")
    if "scheduler" in state and state["scheduler"] is not True:
        raise fail("scheduler", state["scheduler"], "true (the checkpoint holds a schedule)")
    history = state["history"]
    names = {"loss", "accuracy", "test_loss", "test_accuracy"}
    if not isinstance(history, dict) or not names <= set(history) <= names | {"lr"}:
        raise fail("history", history, f"an object with the fields {sorted(names)} (and 'lr')")
    for key, values in history.items():
        per_epoch = key != "lr"  # the rate is logged per step
        if not (
            isinstance(values, list)
            and (len(values) == epoch or not per_epoch)
            and all(type(v) in (int, float) for v in values)
        ):
            expected = f"a list of {epoch} numbers (one per epoch)" if per_epoch else "numbers"
            raise fail(f"history.{key}", values, expected)
    index = state["loader_index"]
    if not (isinstance(index, list) and all(type(i) is int for i in index)):
        raise fail("loader_index", index, "a list of integers")


def train(config: TrainConfig, log: Callable[[str], None] = print) -> TrainResult:
    """Train as ``config`` says; ``log`` receives one summary line per epoch.

    Started by ``mpiexec -n N`` (or ``zerograd train --nproc N``), each process trains on
    its shard of the training set with ``batch_size / N`` examples per step and averaged
    gradients (``zerograd.distributed``); rank 0 alone logs and writes files.
    """
    import zerograd
    from zerograd import DataLoader, cuda, distributed

    config = replace(config)  # filled in below; the caller's stays as given
    comm = distributed.create_communicator()  # one process unless started by mpiexec
    if comm.rank != 0:
        log = _quiet
    state: dict[str, Any] = {}
    start_epoch = 0
    epochs, batch_size = DEFAULTS.get((config.dataset, config.model), (10, 32))
    if config.resume is not None:
        state = read_checkpoint_extra(config.resume)["train"]
        if state.get("nproc", 1) != comm.size:  # each rank's shard would differ
            raise TrainError(
                f"--resume: {config.resume} was written by {state.get('nproc', 1)} "
                f"processes; resume it with as many (--nproc), not {comm.size}"
            )
        saved = state["config"]
        config = TrainConfig(**{**asdict(config), **{k: saved[k] for k in _RESUMED}})
        start_epoch = state["epoch"]
        planned = state.get("epochs", epochs)  # the run's total, which a schedule spans
        epochs, batch_size = planned, saved["batch_size"]
        if config.epochs is not None and config.epochs < start_epoch:
            raise TrainError(
                f"--epochs {config.epochs}: the checkpoint {config.resume} has already trained "
                f"{start_epoch} epochs; give --epochs {start_epoch} or more (the total, not "
                "the number of epochs to add)"
            )
        if config.lr_schedule != "constant" and config.epochs not in (None, planned):
            raise TrainError(
                f"--resume: the checkpoint's --lr-schedule {config.lr_schedule} was planned "
                f"for {planned} epochs; --epochs {config.epochs} would change it"
            )
    epochs = config.epochs if config.epochs is not None else epochs
    batch_size = config.batch_size if config.batch_size is not None else batch_size
    config.epochs, config.batch_size = epochs, batch_size
    _check_output_paths(config)  # fail before training, not after
    if config.warmup >= epochs:
        raise TrainError(f"--warmup {config.warmup} must leave at least one of the {epochs} epochs")
    if config.gpu and not cuda.gpu_enable:
        raise TrainError("--gpu: no CUDA GPU with CuPy is available (pip install cupy-cuda12x)")

    train_set, test_set, num_classes = load_data(config)  # Spiral reseeds the global RNG
    train_set, test_set = _materialize(train_set), _materialize(test_set)
    x_train, t_train = train_set.data, train_set.label
    if comm.size > 1:  # this rank's shard; the global batch is split over the ranks
        train_set = distributed.scatter_dataset(train_set, comm, shuffle=True, seed=config.seed)
        batch_size = -(-batch_size // comm.size)
    np.random.seed(config.seed)
    model = build_model(config.model, num_classes)
    with zerograd.no_grad():
        model(train_set.data[:1])  # create the lazily sized weights now, before any resume
    optimizer = build_optimizer(config.optimizer, config.lr).setup(model)
    if config.clip_norm is not None:
        from zerograd.optimizers import ClipGrad

        optimizer.add_hook(ClipGrad(config.clip_norm))
    if comm.size > 1:  # gradients are averaged before the hooks (clipping) run
        optimizer = distributed.create_multi_node_optimizer(optimizer, comm)
    loader = DataLoader(train_set, batch_size, shuffle=True, gpu=config.gpu)
    scheduler = build_scheduler(config.lr_schedule, optimizer, epochs, len(loader), config.warmup)
    x_test, t_test = test_set.data, test_set.label
    if config.gpu:
        model.to_gpu()
        x_test, t_test = cuda.as_cupy(x_test), cuda.as_cupy(t_test)

    names = ("loss", "accuracy", "test_loss", "test_accuracy")
    history: dict[str, list[float]] = {k: [] for k in (*names, "lr")}  # "lr": per step
    if config.resume is not None:
        index = np.asarray(state["loader_index"], dtype=np.int64)
        if not np.array_equal(np.sort(index), np.arange(len(train_set))):
            raise TrainError(
                f"--resume: {config.resume}: train.loader_index is not an order of the "
                f"{len(train_set)} training examples"
            )
        # weights, moments, RNG state, and the schedule's position when the run had one
        with_schedule = "scheduler" in state
        try:
            zerograd.load(
                config.resume, model, optimizer, scheduler=scheduler if with_schedule else None
            )
        except (OSError, ValueError) as error:  # CheckpointError: checked, nothing changed
            raise TrainError(f"--resume: {error}") from None
        history = {"lr": [], **state["history"]}
        loader.index = index
        log(f"resumed from {config.resume} after epoch {start_epoch}")
        if start_epoch == epochs:
            log(f"the checkpoint has trained all {epochs} epochs: nothing to train")

    started = time.perf_counter()
    step_log = None
    if config.log is not None and comm.rank == 0:  # rank 0 alone writes files
        step_log = _StepLog(config.log, config.resume is not None)
    step = start_epoch * len(loader)

    def on_step(loss: float, acc: float, lr: float) -> None:
        nonlocal step
        step += 1
        history["lr"].append(lr)
        if step_log is not None:
            seconds = round(time.perf_counter() - started, 6)
            step_log.write(
                {"epoch": epoch, "step": step, "loss": loss, "accuracy": acc, "lr": lr}
                | {"seconds": seconds}
            )

    with _blas_threads(config.threads), contextlib.closing(step_log or _NoLog()):
        for epoch in range(start_epoch + 1, epochs + 1):
            t0 = time.perf_counter()
            show = config.progress and comm.rank == 0
            bar = _progress(len(loader), f"epoch {epoch}/{epochs}", show)
            epoch_metrics = train_epoch(model, optimizer, loader, bar, scheduler, on_step)
            loss, acc = comm.allreduce_obj(epoch_metrics, op="mean")
            test_loss, test_acc = _evaluate_on_all(model, x_test, t_test, comm)
            for key, value in zip(names, (loss, acc, test_loss, test_acc)):
                history[key].append(value)
            stride = max(1, epochs // 20)  # at most about 20 lines for long runs
            if epoch % stride == 0 or epoch in (start_epoch + 1, epochs):
                log(
                    f"epoch {epoch}/{epochs}  loss={loss:.4f}  accuracy={acc:.4f}  "
                    f"test_loss={test_loss:.4f}  test_accuracy={test_acc:.4f}  "
                    f"({time.perf_counter() - t0:.1f}s)"
                )
            if config.save is not None and comm.rank == 0:
                with comm.abort_on_error():  # the other ranks must not wait for rank 0
                    _checkpoint(
                        config, model, optimizer, scheduler, loader, epoch, history, comm.size
                    )
    seconds = time.perf_counter() - started

    if config.gpu:
        x_train, t_train = cuda.as_cupy(x_train), cuda.as_cupy(t_train)
    _, train_acc = _evaluate_on_all(model, x_train, t_train, comm)
    _, test_acc = _evaluate_on_all(model, x_test, t_test, comm)
    if config.plot is not None and comm.rank == 0:
        with comm.abort_on_error():
            save_plot(history, config.plot, title=f"{config.model} on {config.dataset}")
        log(f"curves saved to {config.plot}")
    return TrainResult(model, optimizer, config, history, train_acc, test_acc, seconds, comm.rank)


def _quiet(line: str) -> None:
    """The log of ranks other than 0."""


def _evaluate_on_all(model: Any, x: Any, t: Any, comm: Any) -> tuple[float, float]:
    """``evaluate`` over all of ``(x, t)``, each rank taking its slice when there are several."""
    if comm.size == 1:
        return evaluate(model, x, t)
    from zerograd.distributed import evaluate as evaluate_all

    lo, hi = len(x) * comm.rank // comm.size, len(x) * (comm.rank + 1) // comm.size
    batches = [(x[i : min(i + 500, hi)], t[i : min(i + 500, hi)]) for i in range(lo, hi, 500)]
    metrics = evaluate_all(model, batches, comm)
    return metrics["loss"], metrics["accuracy"]


class _NoLog:
    def close(self) -> None:
        pass


def _check_output_paths(config: TrainConfig) -> None:
    """``--save``, ``--plot`` and ``--log`` can be written: their folder exists, they are not
    folders, the log's extension names a format, and the plot's an image format that
    matplotlib (installed) writes."""
    if config.log is not None:
        try:
            _log_format(config.log)
        except ValueError as error:
            raise TrainError(str(error)) from None
    outputs = (("--save", config.save), ("--plot", config.plot), ("--log", config.log))
    for option, path in outputs:
        if path is None:
            continue
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise TrainError(f"{option}: cannot write {path}: no directory {folder}")
        if os.path.isdir(path):
            raise TrainError(f"{option}: cannot write {path}: it is a directory")
    if config.plot is not None:
        try:
            from matplotlib.backend_bases import FigureCanvasBase
        except ImportError:
            raise TrainError("--plot needs matplotlib (pip install 'zerograd[plot]')") from None
        formats = sorted(FigureCanvasBase.get_supported_filetypes())
        suffix = os.path.splitext(config.plot)[1].lower().lstrip(".")
        if suffix not in formats:
            raise TrainError(
                f"--plot: cannot tell the image format of {config.plot}; end it in one of "
                + " ".join("." + f for f in formats)
            )


def _checkpoint(
    config: TrainConfig,
    model: Any,
    optimizer: Any,
    scheduler: Any,
    loader: Any,
    epoch: int,
    history: Any,
    nproc: int = 1,
) -> None:
    import zerograd

    info = {
        "config": {k: getattr(config, k) for k in _RESUMED},
        "epoch": epoch,
        # The run's total: --resume without --epochs finishes it; a schedule spans it.
        "epochs": config.epochs,
        "scheduler": True,
        "history": history,
        # The next epoch's order, already drawn when this one ended.
        "loader_index": [int(i) for i in loader.index],
        "nproc": nproc,  # the shards, and so loader_index, depend on it
    }
    try:
        zerograd.save(config.save, model, optimizer, extra={"train": info}, scheduler=scheduler)
    except OSError as error:
        raise TrainError(f"--save: cannot write {config.save}: {error}") from None


def save_plot(history: dict[str, list[float]], path: str, title: str = "") -> None:
    """Loss and accuracy per epoch, train and test, and the learning rate per step, as an
    image (matplotlib, no display)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise TrainError("--plot needs matplotlib (pip install matplotlib)") from None
    fig = Figure(figsize=(15, 4))
    FigureCanvasAgg(fig)
    epochs = range(1, len(history["loss"]) + 1)
    axes = fig.subplots(1, 3)
    for ax, key in zip(axes, ("loss", "accuracy")):
        ax.plot(epochs, history[key], label="train")
        ax.plot(epochs, history["test_" + key], label="test")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(True, alpha=0.3)
        ax.legend()
    rates = history.get("lr") or []
    per_epoch = len(rates) / max(1, len(history["loss"]))
    axes[2].plot([(i + 1) / per_epoch for i in range(len(rates))], rates)
    axes[2].set_xlabel("epoch")
    axes[2].set_ylabel("learning rate")
    axes[2].grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as error:
        raise TrainError(f"--plot: cannot write {path}: {error}") from None


# -- command line ------------------------------------------------------------------------------
def option_type(name: str) -> Callable[[str], Any]:
    """The argparse ``type`` of a numeric option: parses and checks it (``check_setting``), so
    a bad value is a one-line usage error."""
    parse = float if name in POSITIVE_REALS else int

    def option(text: str) -> Any:
        value: Any
        try:
            value = parse(text)
        except ValueError:
            value = text
        try:
            return check_setting(name, value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    option.__name__ = name
    return option


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``zerograd train``."""
    parser.add_argument("--dataset", choices=DATASETS, default=None, help="default: digits")
    parser.add_argument("--model", choices=MODELS, default=None, help="default: mlp")
    parser.add_argument(
        "--epochs",
        type=option_type("epochs"),
        help="total epochs, >= 1 (default per dataset/model; with --resume: the run's total)",
    )
    parser.add_argument(
        "--batch-size", type=option_type("batch_size"), help=">= 1 (default per dataset/model)"
    )
    parser.add_argument(
        "--optimizer", choices=sorted(OPTIMIZERS), default=None, help="default: adam"
    )
    parser.add_argument(
        "--lr", type=option_type("lr"), help="step size > 0 (default per optimizer)"
    )
    parser.add_argument(
        "--seed", type=option_type("seed"), help="NumPy's global seed, 0 to 2**32-1 (default 0)"
    )
    parser.add_argument("--save", metavar="PATH", help="checkpoint here after every epoch")
    parser.add_argument("--resume", metavar="PATH", help="continue from this checkpoint")
    parser.add_argument(
        "--plot", metavar="PATH", help="save loss/accuracy curves (.png, .pdf, .svg, ...)"
    )
    parser.add_argument("--gpu", action="store_true", help="train on the GPU (CuPy)")
    parser.add_argument("--download", action="store_true", help="download missing MNIST files")
    parser.add_argument(
        "--threads",
        type=option_type("threads"),
        default=1,
        help="BLAS threads (default 1; 0 leaves the library's default)",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bars (shown only on a terminal)"
    )
    parser.add_argument(
        "--lr-schedule",
        choices=list(SCHEDULES),
        default=None,
        help="learning-rate schedule, stepped per batch (default: constant)",
    )
    parser.add_argument(
        "--warmup",
        type=option_type("warmup"),
        metavar="EPOCHS",
        default=None,
        help="linear warmup over the first EPOCHS epochs (default 0)",
    )
    parser.add_argument(
        "--clip-norm",
        type=option_type("clip_norm"),
        metavar="X",
        default=None,
        help="clip the gradients' global L2 norm to X",
    )
    parser.add_argument(
        "--log", type=_log_path, metavar="PATH", help="one row per step: .jsonl or .csv"
    )


def add_summary_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``zerograd summary``."""
    parser.add_argument("--dataset", choices=DATASETS, default="digits", help="default: digits")
    parser.add_argument("--model", choices=MODELS, default="mlp", help="default: mlp")
    parser.add_argument(
        "--batch-size",
        type=option_type("batch_size"),
        default=1,
        help="examples in the batch (default 1)",
    )


def _log_path(text: str) -> str:
    try:
        _log_format(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def run(args: argparse.Namespace) -> int:
    """``zerograd train``: train, print one line per epoch, end with ``test_accuracy=...``."""
    given = {
        "dataset": args.dataset,
        "model": args.model,
        "optimizer": args.optimizer,
        "seed": args.seed,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "lr_schedule": args.lr_schedule,
        "warmup": args.warmup,
        "clip_norm": args.clip_norm,
    }
    defaults: dict[str, Any] = {f.name: f.default for f in fields(TrainConfig)}
    if args.resume is not None:
        saved = read_checkpoint_extra(args.resume)["train"]["config"]
        clash = [
            f"--{k.replace('_', '-')} {v} (checkpoint: {saved[k]})"
            for k, v in given.items()
            if v is not None and v != saved.get(k, defaults[k])
        ]
        if clash:
            raise TrainError(
                "--resume continues the checkpoint's run; these differ: " + "; ".join(clash)
            )
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
        log=args.log,
    )
    result = train(config)
    if result.rank != 0:  # rank 0 alone reports
        return 0
    config = result.config  # as resolved: defaults filled in, a checkpoint's settings taken
    device = "GPU" if config.gpu else "CPU"
    print(
        f"trained {config.model} on {config.dataset} for {config.epochs} epochs in "
        f"{result.seconds:.1f}s ({device})"
    )
    print(f"train_accuracy={result.train_accuracy:.4f}")
    print(f"test_accuracy={result.test_accuracy:.4f}")
    return 0
