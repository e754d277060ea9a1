"""Exported models in onnxruntime against zerograd's own forward (issue 14), informational.

An MLP (784-1000-1000-10, ReLU) and ResNet50 (at 64x64 input) are exported with
``zerograd.onnx.export`` and run for inference: zerograd in ``test_mode`` under ``no_grad``,
onnxruntime's CPU provider with one intra-op thread. The outputs are checked to agree (1e-4
relative) before anything is timed; the impls take turns. Ratios are to zerograd's row.
Without onnx or onnxruntime the case yields no rows.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np
from benchmarks._common import Row, interleaved_medians, limit_threads, optional_import

# name -> (input shape, repeats). Smoke: the MLP at batch 2, one repeat (building and
# exporting ResNet50's 25M weights alone takes seconds).
FULL = {"mlp": ((100, 784), 15), "resnet50": ((4, 3, 64, 64), 5)}
SMOKE = {"mlp": ((2, 784), 1)}


def _model(name: str, x: np.ndarray) -> Any:
    import zerograd as zg
    import zerograd.functions as F
    from zerograd.models import MLP, ResNet50

    np.random.seed(0)
    model = MLP((1000, 1000, 10), activation=F.relu) if name == "mlp" else ResNet50()
    with zg.no_grad(), zg.test_mode():
        model(x)  # the lazily sized weights
    return model


def run(smoke: bool) -> list[Row]:
    ort = optional_import("onnxruntime")
    if ort is None or optional_import("onnx") is None:
        return []
    import zerograd as zg
    from zerograd.onnx import export

    limit_threads()
    rows = []
    for name, (shape, repeats) in (SMOKE if smoke else FULL).items():
        x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
        model = _model(name, x)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, f"{name}.onnx")
            export(model, x, path)
            options = ort.SessionOptions()
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

        def zerograd_forward() -> np.ndarray:
            with zg.no_grad(), zg.test_mode():
                return model(x).data

        def ort_forward() -> np.ndarray:
            return session.run(None, {"input": x})[0]

        expected, actual = zerograd_forward(), ort_forward()
        scale = float(np.abs(expected).max()) or 1.0
        if not np.allclose(actual, expected, rtol=1e-4, atol=1e-4 * scale):
            raise AssertionError(f"onnx_forward {name}: onnxruntime disagrees with zerograd")
        times = interleaved_medians(
            {"zerograd": zerograd_forward, "onnxruntime": ort_forward}, repeats
        )
        params = "x".join(map(str, shape))
        for impl, seconds in times.items():
            rows.append(
                Row(f"onnx-{name}", impl, "forward", seconds * 1e3, "ms", params, "zerograd")
            )
    return rows
