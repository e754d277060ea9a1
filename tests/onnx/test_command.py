"""``zerograd export --checkpoint ck.npz out.onnx`` on checkpoints of ``zerograd train``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import zerograd as zg
from tests.onnx._check import close, run_ort
from zerograd.cli import main
from zerograd.train import TrainConfig, train


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_export_a_trained_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], model: str
) -> None:
    ckpt = tmp_path / "ck.npz"
    config = TrainConfig(dataset="digits", model=model, epochs=1, save=str(ckpt), progress=False)
    result = train(config, log=lambda s: None)
    out = tmp_path / "model.onnx"
    assert main(["export", "--checkpoint", str(ckpt), str(out)]) == 0
    assert f"exported {model} (digits) to {out}" in capsys.readouterr().out
    shape = (64,) if model == "mlp" else (1, 8, 8)
    for batch in (1, 7):
        x = np.random.default_rng(batch).random((batch, *shape)).astype(np.float32)
        with zg.test_mode(), zg.no_grad():
            expected = result.model(x).data
        close(run_ort(str(out), [x]), [expected], f"batch {batch}")


def test_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "m.onnx")
    assert main(["export", "--checkpoint", str(tmp_path / "missing.npz"), out]) == 2
    assert "zerograd export: error: --checkpoint: no checkpoint at" in capsys.readouterr().err
    weights = tmp_path / "w.npz"
    zg.layers.Linear(2, in_size=3).save_weights(weights)
    assert main(["export", "--checkpoint", str(weights), out]) == 2
    assert "is not a checkpoint written by zerograd train" in capsys.readouterr().err
