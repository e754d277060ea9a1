"""ONNX: export zerograd models to any ONNX runtime, and import ONNX models to fine-tune them.

Needs the ``onnx`` package (``pip install zerograd[onnx]``), imported when a function here
runs, not by ``import zerograd.onnx``.

>>> import os, tempfile, numpy as np, zerograd.functions as F
>>> from zerograd import onnx as zonnx
>>> from zerograd.models import MLP
>>> model = MLP((16, 3), activation=F.relu)
>>> x = np.random.rand(2, 4).astype(np.float32)
>>> path = os.path.join(tempfile.mkdtemp(), "mlp.onnx")
>>> _ = zonnx.export(model, x, path)
>>> imported = zonnx.load(path)        # a zerograd Model: trains like any other
>>> bool(np.array_equal(imported(x).data, model(x).data))
True
"""

from zerograd.onnx.export import (
    CONVERTERS,
    Call,
    ExportContext,
    ExportError,
    export,
    export_testcase,
    register_converter,
)
from zerograd.onnx.load import IMPORTERS, OnnxImportError, OnnxModel, load, register_importer

# The tables' entries (importing them needs no onnx package).
from zerograd.onnx import convert_math, convert_nn, import_math, import_nn  # noqa: F401  isort: skip

__all__ = [
    "CONVERTERS",
    "IMPORTERS",
    "Call",
    "ExportContext",
    "ExportError",
    "OnnxImportError",
    "OnnxModel",
    "export",
    "export_testcase",
    "load",
    "register_converter",
    "register_importer",
]
