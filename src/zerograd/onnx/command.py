"""``zerograd export --checkpoint ck.npz out.onnx``: the model ``zerograd train`` saved, as
an ONNX file (one file for any batch size)."""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np


class ExportCommandError(RuntimeError):
    """A checkpoint or option the command cannot use."""


def export_checkpoint(
    checkpoint: str, output: str, opset: int = 17, dynamic_batch: bool = True
) -> str:
    """Rebuild the model a ``zerograd train`` checkpoint holds and export it; returns a
    one-line summary."""
    import zerograd
    from zerograd.onnx import export
    from zerograd.train import INPUTS, TrainError, build_model, read_checkpoint_extra

    try:
        config = read_checkpoint_extra(checkpoint, "--checkpoint")["train"]["config"]
    except TrainError as error:
        raise ExportCommandError(str(error)) from None
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise ExportCommandError(f"cannot write {output}: no directory {folder}")
    shapes, classes = INPUTS[config["dataset"]]
    shape = shapes[config["model"]]
    if shape is None:  # the checkpoint was checked, so this pairing cannot come from train
        raise ExportCommandError(f"--checkpoint: {config['model']} on {config['dataset']}")
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
