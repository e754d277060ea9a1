"""``zerograd train``'s training tools: --lr-schedule, --warmup, --clip-norm, --log, the
learning-rate curve, and resuming a scheduled run exactly."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zerograd.cli import main
from zerograd.optimizers import ClipGrad
from zerograd.train import SCHEDULES, TrainConfig, TrainError, train

torch = pytest.importorskip("torch")
T = torch.optim.lr_scheduler

# spiral: 300 points in batches of 30, 10 steps per epoch
KW: dict[str, Any] = {"dataset": "spiral", "batch_size": 30, "progress": False, "epochs": 6}
PER_EPOCH = 10


def quiet(_: str) -> None:
    pass


def _torch_rates(schedule: str, lr: float, warmup: int, epochs: int, momentum: bool) -> list[float]:
    """What torch's schedulers give for the same plan (the reference for SCHEDULES)."""
    param = [torch.zeros(1, requires_grad=True)]
    opt = (
        torch.optim.SGD(param, lr=lr, momentum=0.9) if momentum else torch.optim.Adam(param, lr=lr)
    )
    steps, total, main = warmup * PER_EPOCH, epochs * PER_EPOCH, (epochs - warmup) * PER_EPOCH
    if schedule == "onecycle":
        sched = T.OneCycleLR(opt, lr, total_steps=total, pct_start=warmup / epochs or 0.3)
    else:
        if schedule == "constant":
            body = T.LambdaLR(opt, lambda e: 1.0)
        elif schedule == "step":
            marks = [round((epochs - warmup) * f) * PER_EPOCH for f in (0.5, 0.75)]
            body = T.MultiStepLR(opt, marks, 0.1)
        else:
            body = T.CosineAnnealingLR(opt, T_max=main)
        sched = body
        if warmup:
            ramp = T.LinearLR(opt, start_factor=1 / steps, total_iters=steps)
            sched = T.SequentialLR(opt, [ramp, body], milestones=[steps])
    rates = []
    for _ in range(total):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return rates


def test_every_schedule_is_tested() -> None:
    assert set(SCHEDULES) == {"constant", "step", "cosine", "onecycle"}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
@pytest.mark.parametrize(("optimizer", "warmup"), [("adam", 0), ("adam", 2), ("momentum", 1)])
def test_rates_follow_torchs_schedulers(schedule: str, optimizer: str, warmup: int) -> None:
    result = train(
        TrainConfig(lr_schedule=schedule, warmup=warmup, optimizer=optimizer, lr=0.01, **KW),
        log=quiet,
    )
    ref = _torch_rates(schedule, 0.01, warmup, 6, momentum=optimizer == "momentum")
    np.testing.assert_allclose(result.history["lr"], ref, rtol=1e-12)


def test_constant_schedule_changes_nothing() -> None:
    a = train(TrainConfig(**KW), log=quiet)
    b = train(TrainConfig(lr_schedule="constant", **KW), log=quiet)
    for p, q in zip(a.model.params(), b.model.params()):
        np.testing.assert_array_equal(p.data, q.data)
    assert a.history["lr"] == [0.001] * 60


def test_clip_norm_clips_with_the_clipgrad_rule() -> None:
    result = train(TrainConfig(clip_norm=0.01, **KW), log=quiet)
    hooks = [h for h in result.optimizer.hooks if isinstance(h, ClipGrad)]
    assert [h.max_norm for h in hooks] == [0.01]
    plain = train(TrainConfig(**KW), log=quiet)
    assert result.history["loss"] != plain.history["loss"]


@pytest.mark.parametrize("ext", [".jsonl", ".csv"])
def test_log_has_one_row_per_step(tmp_path: Path, ext: str) -> None:
    path = tmp_path / ("log" + ext)
    result = train(TrainConfig(lr_schedule="cosine", log=str(path), **KW), log=quiet)
    text = path.read_text()
    if ext == ".csv":
        rows: list[dict[str, Any]] = [
            {k: float(v) for k, v in row.items()} for row in csv.DictReader(text.splitlines())
        ]
    else:
        rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == 6 * PER_EPOCH
    assert list(rows[0]) == ["epoch", "step", "loss", "accuracy", "lr", "seconds"]
    assert [r["step"] for r in rows] == list(range(1, 61))
    assert [r["epoch"] for r in rows] == [e for e in range(1, 7) for _ in range(PER_EPOCH)]
    assert [r["lr"] for r in rows] == pytest.approx(result.history["lr"], rel=1e-15)
    seconds = [r["seconds"] for r in rows]
    assert seconds == sorted(seconds) and seconds[0] >= 0
    for epoch in range(6):  # the epoch's mean of the batch rows is the epoch's loss
        batch = [r["loss"] for r in rows[epoch * PER_EPOCH : (epoch + 1) * PER_EPOCH]]
        assert np.mean(batch) == pytest.approx(result.history["loss"][epoch], rel=1e-6)
        assert all(0 <= r["accuracy"] <= 1 for r in rows)


class _Stop(Exception):
    pass


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("schedule", "warmup"), [("cosine", 2), ("onecycle", 0), ("step", 1)])
def test_an_interrupted_scheduled_run_resumes_exactly(
    tmp_path: Path, schedule: str, warmup: int
) -> None:
    kw = {**KW, "lr_schedule": schedule, "warmup": warmup, "optimizer": "momentum"}
    full = train(TrainConfig(**kw, log=str(tmp_path / "full.jsonl")), log=quiet)

    def stop_at_epoch_4(line: str) -> None:
        if line.startswith("epoch 4/"):
            raise _Stop  # killed before epoch 4's checkpoint: the file holds epoch 3

    ckpt, log = tmp_path / "ckpt.npz", tmp_path / "part.jsonl"
    with pytest.raises(_Stop):
        train(TrainConfig(**kw, save=str(ckpt), log=str(log)), log=stop_at_epoch_4)
    np.random.seed(99)
    lines: list[str] = []
    # the schedule's plan (6 epochs) comes from the checkpoint
    resumed = train(
        TrainConfig(**{**kw, "epochs": None}, resume=str(ckpt), log=str(log)), log=lines.append
    )
    assert lines[0] == f"resumed from {ckpt} after epoch 3"
    for p, q in zip(full.model.params(), resumed.model.params()):
        np.testing.assert_array_equal(p.data, q.data)
    assert resumed.history["lr"] == full.history["lr"]
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    full_rows = [json.loads(line) for line in (tmp_path / "full.jsonl").read_text().splitlines()]
    # epoch 4's rows were written before the interruption, then again by the resumed run
    assert [r["step"] for r in rows] == [*range(1, 41), *range(31, 61)]
    rows = rows[:30] + rows[40:]
    assert [(r["step"], r["lr"], r["loss"]) for r in rows] == [
        (r["step"], r["lr"], r["loss"]) for r in full_rows
    ]
    with pytest.raises(TrainError, match="planned for 6 epochs; --epochs 9"):
        train(TrainConfig(**{**kw, "epochs": 9}, resume=str(ckpt)), log=quiet)


def test_plot_has_the_learning_rate_curve(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.figure

    made: list[Any] = []
    savefig = matplotlib.figure.Figure.savefig

    def spy(fig: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(fig)
        return savefig(fig, *args, **kwargs)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(matplotlib.figure.Figure, "savefig", spy)
        result = train(
            TrainConfig(lr_schedule="onecycle", plot=str(tmp_path / "c.png"), **KW), log=quiet
        )
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    lr_axis = [ax for ax in made[0].axes if ax.get_ylabel() == "learning rate"]
    (line,) = lr_axis[0].get_lines()
    assert list(line.get_ydata()) == result.history["lr"]
    assert line.get_xdata()[-1] == pytest.approx(6.0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "3", "--warmup", "3"], "--warmup 3 must leave at least one of the 3 epochs"),
        (["--epochs", "1", "--log", "no/dir/log.csv"], "--log: cannot write"),
    ],
)
def test_bad_combinations_are_one_clear_line(argv: list[str], message: str, capsys: Any) -> None:
    # (Bad values of each option alone: tests/test_cli.py's table of every option.)
    assert main(["train", "--dataset", "spiral", "--no-progress", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zerograd train: error:") and message in err
