"""``zerograd export --checkpoint ck.npz out.onnx``: the model ``zerograd train`` saved, as
an ONNX file (one file for any batch size)."""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

#: (dataset, model) of ``zerograd train`` -> (shape of one example, number of classes).
INPUTS = {
    ("digits", "mlp"): ((64,), 10),
    ("digits", "cnn"): ((1, 8, 8), 10),
    ("spiral", "mlp"): ((2,), 3),
    ("mnist", "mlp"): ((784,), 10),
    ("mnist", "cnn"): ((1, 28, 28), 10),
}


class ExportCommandError(RuntimeError):
    """A checkpoint or option the command cannot use."""


def export_checkpoint(
    checkpoint: str, output: str, opset: int = 17, dynamic_batch: bool = True
) -> str:
    """Rebuild the model a ``zerograd train`` checkpoint holds and export it; returns a
    one-line summary."""
    import zerograd
    from zerograd.onnx import export
    from zerograd.train import build_model

    try:
        extra = zerograd.load(checkpoint, restore_rng=False)
    except FileNotFoundError:
        raise ExportCommandError(f"--checkpoint: no checkpoint at {checkpoint}") from None
    except (OSError, ValueError) as error:  # CheckpointError is a ValueError
        raise ExportCommandError(f"--checkpoint: {error}") from None
    config = extra.get("train", {}).get("config") if isinstance(extra, dict) else None
    if not isinstance(config, dict) or (config.get("dataset"), config.get("model")) not in INPUTS:
        raise ExportCommandError(
            f"--checkpoint: {checkpoint} is not a checkpoint written by zerograd train "
            f"(no known dataset and model in it)"
        )
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise ExportCommandError(f"cannot write {output}: no directory {folder}")
    shape, classes = INPUTS[config["dataset"], config["model"]]
    model = build_model(config["model"], classes)
    example = np.zeros((1, *shape), dtype=np.float32)
    with zerograd.no_grad():
        model(example)  # create the lazily sized weights, then overwrite them
    try:
        zerograd.load(checkpoint, model, restore_rng=False)
    except ValueError as error:
        raise ExportCommandError(f"--checkpoint: {error}") from None
    export(model, example, output, opset=opset, dynamic_batch=dynamic_batch)
    batch = "batch" if dynamic_batch else "1"
    return (
        f"exported {config['model']} ({config['dataset']}) to {output}: input "
        f"[{batch}, {', '.join(map(str, shape))}] float32 -> output [{batch}, {classes}]"
    )


def run(args: argparse.Namespace) -> int:
    """``zerograd export``: print one summary line; errors go to stderr with status 2."""
    from zerograd.onnx import ExportError

    try:
        print(export_checkpoint(args.checkpoint, args.output, args.opset, not args.static_batch))
    except (ExportCommandError, ExportError, ImportError) as error:
        print(f"zerograd export: error: {error}", file=sys.stderr)
        return 2
    return 0
