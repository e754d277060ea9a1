"""``load``: an ONNX file as a zerograd ``Model`` whose initializers are Parameters and whose
nodes run as zerograd functions, so it trains (forward, backward, ``create_graph``).

A model file is untrusted input: everything is checked (protobuf, operators, opset, tensor
sizes, external-data references) before any array is built.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from zerograd.autograd import Parameter, Variable
from zerograd.models.base import Model

#: The ONNX opsets (default domain) whose operators the importers implement.
MIN_OPSET, MAX_OPSET = 7, 21
#: Default limit on one tensor's size in bytes (``load``'s ``max_tensor_bytes``).
MAX_TENSOR_BYTES = 1 << 30


class OnnxImportError(ValueError):
    """An ONNX file zerograd cannot (or must not) load; the message names what and where."""


@dataclass(frozen=True)
class Importer:
    """How one ONNX operator runs in zerograd.

    ``run(inputs, attrs, node)`` returns the node's outputs (a Variable, an array, or a list
    of them). Inputs at the positions in ``static`` arrive as NumPy arrays (shapes, axes,
    bounds: read, never differentiated); ``buffers`` are positions whose initializers are
    running statistics (kept as buffers, not trained); missing optional inputs are None.
    """

    run: Callable[[list[Any], dict[str, Any], Any], Any]
    static: tuple[int, ...] = ()
    buffers: tuple[int, ...] = ()
    #: ``check(attrs, node)`` runs at load time and raises for variants ``run`` lacks.
    check: Callable[[dict[str, Any], Any], None] | None = None


@dataclass(frozen=True)
class NodeInfo:
    """What an importer may read about its node besides inputs and attributes."""

    name: str
    op_type: str
    outputs: tuple[str, ...]
    opset: int


#: ONNX operator type -> ``Importer``. One entry per operator (``register_importer`` adds one).
IMPORTERS: dict[str, Importer] = {}


def register_importer(
    op_type: str,
    static: Sequence[int] = (),
    buffers: Sequence[int] = (),
    check: Callable[[dict[str, Any], Any], None] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: run ONNX ``op_type`` nodes with ``run(inputs, attrs, node)`` (see
    ``Importer``)."""

    def decorate(run: Callable[..., Any]) -> Callable[..., Any]:
        IMPORTERS[op_type] = Importer(run, tuple(static), tuple(buffers), check)
        return run

    return decorate


def _fail(path: str, message: str) -> OnnxImportError:
    return OnnxImportError(f"zerograd.onnx.load({path!r}): {message}")


def _tensors(graph: Any) -> list[Any]:
    """Every tensor the graph stores: initializers and Constant nodes' values."""
    tensors = list(graph.initializer)
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                tensors.append(attr.t)
            tensors.extend(attr.tensors)
    return tensors


#: The ONNX tensor types that are NumPy dtypes: FLOAT, UINT8, INT8, UINT16, INT16, INT32,
#: INT64, BOOL, FLOAT16, DOUBLE, UINT32, UINT64 (bfloat16, float8, strings... are refused).
_NUMPY_TYPES = frozenset({1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13})


def _check_tensor(path: str, tensor: Any, folder: str, limit: int) -> None:
    """Check one tensor's size and, for external data, its file reference; read that data
    into the tensor."""
    from onnx import TensorProto, helper

    name = tensor.name or "<unnamed>"
    if any(d < 0 for d in tensor.dims):
        raise _fail(path, f"tensor {name!r} has negative dimensions {list(tensor.dims)}")
    if tensor.data_type not in _NUMPY_TYPES:
        known = tensor.data_type in TensorProto.DataType.values()
        kind = TensorProto.DataType.Name(tensor.data_type) if known else str(tensor.data_type)
        raise _fail(path, f"tensor {name!r} has data type {kind}, which NumPy has no dtype for")
    itemsize = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize
    nbytes = int(np.prod([int(d) for d in tensor.dims], dtype=object)) * itemsize
    if nbytes > limit:
        raise _fail(
            path,
            f"tensor {name!r} of shape {list(tensor.dims)} holds {nbytes} bytes, over the "
            f"limit of {limit} (pass max_tensor_bytes= to allow more)",
        )
    if tensor.data_location != TensorProto.EXTERNAL:
        return
    info = {entry.key: entry.value for entry in tensor.external_data}
    location = info.get("location", "")
    real_folder = os.path.realpath(folder)
    target = os.path.realpath(os.path.join(real_folder, location))
    if (
        not location
        or os.path.isabs(location)
        or os.path.commonpath([real_folder, target]) != real_folder
        or target == real_folder
    ):
        raise _fail(
            path,
            f"tensor {name!r} refers to external data {location!r} outside the model's folder "
            f"{folder!r}; refused",
        )
    try:
        offset = int(info.get("offset", "0"))
        length = int(info["length"]) if "length" in info else None
    except ValueError:
        raise _fail(path, f"tensor {name!r}: bad external-data offset/length {info}") from None
    if not os.path.isfile(target):
        raise _fail(path, f"tensor {name!r}: external data file {location!r} not found")
    size = os.path.getsize(target)
    length = nbytes if length is None else length
    if offset < 0 or length != nbytes or offset + length > size:
        raise _fail(
            path,
            f"tensor {name!r}: external data {location!r} (offset {offset}, length {length}) "
            f"does not hold the {nbytes} bytes of shape {list(tensor.dims)} in a file of "
            f"{size} bytes",
        )
    with open(target, "rb") as f:
        f.seek(offset)
        tensor.raw_data = f.read(length)
    del tensor.external_data[:]
    tensor.data_location = TensorProto.DEFAULT


def read_model(path: str | os.PathLike[str], max_tensor_bytes: int = MAX_TENSOR_BYTES) -> Any:
    """The checked ``ModelProto`` of ``path`` (see ``load``)."""
    from zerograd.onnx.export import require_onnx

    onnx = require_onnx()
    from google.protobuf.message import DecodeError

    path = os.fspath(path)
    try:
        proto = onnx.load(path, load_external_data=False)
    except DecodeError as error:
        raise _fail(path, f"not an ONNX model file ({error})") from None
    graph = proto.graph
    if len(graph.sparse_initializer):
        raise _fail(path, "sparse initializers are not supported")
    folder = os.path.dirname(os.path.abspath(path))
    for tensor in _tensors(graph):
        _check_tensor(path, tensor, folder, max_tensor_bytes)
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as error:
        raise _fail(path, f"invalid ONNX model: {str(error).splitlines()[0]}") from None
    opset = _opset(path, proto)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise _fail(
            path, f"opset {opset} is not supported (zerograd reads {MIN_OPSET} to {MAX_OPSET})"
        )
    unknown = sorted(
        {
            n.op_type
            for n in graph.node
            if n.domain not in ("", "ai.onnx") or n.op_type not in IMPORTERS
        }
    )
    if unknown:
        raise _fail(
            path,
            f"unsupported operator(s) {', '.join(unknown)}; zerograd.onnx.register_importer "
            f"adds one",
        )
    return proto


def _opset(path: str, proto: Any) -> int:
    for entry in proto.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    raise _fail(path, "no opset for the default ONNX domain")


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper, numpy_helper

    result = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        elif attr.HasField("t"):
            value = numpy_helper.to_array(attr.t)
        result[attr.name] = value
    return result


def _identifier(name: str, taken: set[str]) -> str:
    """An attribute name for ONNX value ``name`` (``"l0.W"`` -> ``"l0_W"``), unique."""
    base = re.sub(r"\W", "_", name) or "param"
    if base[0].isdigit():
        base = "p_" + base
    result, k = base, 1
    while result in taken:
        result, k = f"{base}_{k}", k + 1
    taken.add(result)
    return result


class OnnxModel(Model):
    """An imported ONNX graph: call it with the graph's inputs (arrays or Variables, in
    ``input_names`` order); it returns one Variable, or a tuple for several outputs.

    Float initializers of one or more dimensions that feed computations are Parameters
    (named after their ONNX names with non-identifier characters as ``_``),
    BatchNormalization statistics are buffers, and scalars, integer and shape initializers
    stay constant arrays. Like any model with batch
    normalization, run inference under ``zerograd.test_mode()``.
    """

    def __init__(self, proto: Any, path: str = "<model>") -> None:
        super().__init__()
        from onnx import helper, numpy_helper

        graph = proto.graph
        self.opset = _opset(path, proto)
        self._path = path
        self._nodes = [
            (
                n.op_type,
                list(n.input),
                list(n.output),
                _attrs(n),
                NodeInfo(n.name, n.op_type, tuple(n.output), self.opset),
            )
            for n in graph.node
        ]
        for op_type, _, _, attrs, info in self._nodes:  # every variant, before any array
            check = IMPORTERS[op_type].check
            if check is not None:
                check(attrs, info)
        # Each initializer's role: a Parameter if any node computes with it, else a buffer
        # if it feeds running statistics, else a constant.
        rank = {"const": 0, "buffer": 1, "param": 2}
        roles: dict[str, str] = {}
        for op_type, inputs, _, _, _ in self._nodes:
            importer = IMPORTERS[op_type]
            for i, name in enumerate(inputs):
                role = (
                    "const"
                    if i in importer.static
                    else "buffer"
                    if i in importer.buffers
                    else "param"
                )
                if rank[role] > rank[roles.get(name, "const")] or name not in roles:
                    roles[name] = role
        self._constants: dict[str, Any] = {}
        self._state: dict[str, str] = {}  # ONNX name -> attribute holding a Parameter/buffer
        taken = set(dir(self))  # never shadow a method
        initialized = set()
        for tensor in graph.initializer:
            array = numpy_helper.to_array(tensor).copy()
            initialized.add(tensor.name)
            role = roles.get(tensor.name, "const")
            if array.dtype.kind != "f" or array.ndim == 0 or role == "const":
                self._constants[tensor.name] = array
                continue
            attr = _identifier(tensor.name, taken)
            if role == "param":
                setattr(self, attr, Parameter(array, name=tensor.name))
            else:
                self.register_buffer(attr, Variable(array, name=tensor.name))
            self._state[tensor.name] = attr
        self._inputs = []
        for info in graph.input:
            if info.name in initialized:  # IR < 4 lists initializers as inputs too
                continue
            t = info.type.tensor_type
            dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
            dtype = np.dtype(helper.tensor_dtype_to_np_dtype(t.elem_type))
            self._inputs.append((info.name, dims if t.HasField("shape") else None, dtype))
        self.input_names = [name for name, _, _ in self._inputs]
        self.output_names = [o.name for o in graph.output]

    def forward(self, *xs: Any) -> Any:
        if len(xs) != len(self._inputs):
            raise TypeError(
                f"OnnxModel: expected {len(self._inputs)} input(s) {self.input_names}, got "
                f"{len(xs)}"
            )
        env: dict[str, Any] = {"": None}
        for (name, dims, dtype), x in zip(self._inputs, xs):
            data = x.data if isinstance(x, Variable) else x
            if not hasattr(data, "shape"):
                raise TypeError(f"OnnxModel: input {name!r} must be an array or a Variable")
            ok = dims is None or (
                len(dims) == data.ndim and all(d in (None, 0, s) for d, s in zip(dims, data.shape))
            )
            if not ok or data.dtype != dtype:
                want = (
                    "any shape"
                    if dims is None
                    else tuple("?" if d in (None, 0) else d for d in dims)
                )
                raise ValueError(
                    f"OnnxModel: input {name!r} expects shape {want} of {dtype}, got "
                    f"{tuple(data.shape)} of {data.dtype}"
                )
            env[name] = x
        env.update(self._constants)
        for onnx_name, attr in self._state.items():
            env[onnx_name] = getattr(self, attr)
        for op_type, inputs, outputs, attrs, node in self._nodes:
            importer = IMPORTERS[op_type]
            args = []
            for i, name in enumerate(inputs):
                if name not in env:
                    raise _fail(
                        self._path, f"node {node.name!r} ({op_type}) reads undefined value {name!r}"
                    )
                v = env[name]
                if i in importer.static and isinstance(v, Variable):
                    v = v.data
                args.append(v)
            try:
                result = importer.run(args, attrs, node)
            except OnnxImportError:
                raise
            except (ValueError, TypeError, IndexError) as error:
                raise OnnxImportError(
                    f"OnnxModel: node {node.name!r} ({op_type}) failed: {error}"
                ) from error
            results = list(result) if isinstance(result, (list, tuple)) else [result]
            for name, value in zip(outputs, results):
                if name:
                    env[name] = value
        ys = [env[name] for name in self.output_names]
        ys = [y if isinstance(y, Variable) else Variable(np.asarray(y)) for y in ys]
        return ys[0] if len(ys) == 1 else tuple(ys)


def load(path: str | os.PathLike[str], *, max_tensor_bytes: int = MAX_TENSOR_BYTES) -> OnnxModel:
    """Load the ONNX model at ``path`` as a trainable zerograd ``OnnxModel``.

    Refuses, with an ``OnnxImportError`` naming the problem: a file that is not a valid ONNX
    model, an operator or opset zerograd does not implement, a tensor over
    ``max_tensor_bytes``, and external data outside the model's folder.
    """
    path = os.fspath(path)
    return OnnxModel(read_model(path, max_tensor_bytes), path)
