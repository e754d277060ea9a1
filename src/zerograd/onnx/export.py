"""``export``: a zerograd model to an ONNX file, one converter per ``Function`` class.

The converters live in one table, ``CONVERTERS`` (onnx-chainer's design): the table is keyed
by the ``Function`` class, and each entry turns one recorded call into ONNX nodes through an
``ExportContext``. ``register_converter`` adds an entry for a function of your own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.autograd import Function, Variable
from zerograd.onnx import _graph

#: The opsets the converters are written for (Softmax's one-axis rule is opset 13's).
MIN_OPSET, MAX_OPSET = 13, 21


class ExportError(ValueError):
    """A model that cannot be written as ONNX (unsupported function, bad argument)."""


@dataclass
class Call:
    """One recorded function call, as a converter sees it."""

    #: The Function (typed Any: each converter reads the attributes of its own class).
    function: Any
    #: ONNX value names of the inputs and outputs.
    inputs: list[str]
    outputs: list[str]
    #: The arrays the call read and produced in the traced forward pass.
    xs: list[Any]
    ys: list[Any]


Converter = Callable[["ExportContext", Call], None]
#: ``Function`` class -> converter. One entry per function (``register_converter`` adds one).
CONVERTERS: dict[type, Converter] = {}


def register_converter(function_class: type) -> Callable[[Converter], Converter]:
    """Decorator: convert calls of ``function_class`` with the decorated
    ``converter(ctx, call)``, which adds ONNX nodes with ``ctx.node`` (reading ``call.inputs``
    and writing ``call.outputs``) and constants with ``ctx.const``.

    >>> import numpy as np, zerograd as zg
    >>> from zerograd.onnx import register_converter
    >>> class Cube(zg.Function):
    ...     def forward(self, x):
    ...         return x**3
    ...     def backward(self, gy):
    ...         return 3 * self.inputs[0] ** 2 * gy
    >>> @register_converter(Cube)
    ... def cube(ctx, call):
    ...     three = ctx.const(np.asarray(3, call.xs[0].dtype), "three")
    ...     ctx.node("Pow", [call.inputs[0], three], call.outputs)
    """

    def decorate(converter: Converter) -> Converter:
        CONVERTERS[function_class] = converter
        return converter

    return decorate


class ExportContext:
    """What a converter writes into: nodes, constants and fresh value names."""

    def __init__(self, opset: int, dynamic_batch: bool) -> None:
        self.opset = opset
        self.dynamic_batch = dynamic_batch
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        #: id of each graph input's array -> its name: an index array that a function keeps
        #: as an attribute (``embed_id``'s ids) is that input, not a constant.
        self.input_arrays: dict[int, str] = {}
        self._names: set[str] = set()

    def fresh(self, hint: str) -> str:
        """A value name not used yet, built from ``hint``."""
        name, k = hint, 1
        while name in self._names:
            name, k = f"{hint}_{k}", k + 1
        self._names.add(name)
        return name

    def node(
        self,
        op_type: str,
        inputs: Sequence[str],
        outputs: Sequence[str] | None = None,
        **attrs: Any,
    ) -> list[str]:
        """Add an ONNX node; ``outputs`` default to one fresh name. Returns the output names."""
        from onnx import helper

        outs = [self.fresh(op_type.lower())] if outputs is None else list(outputs)
        name = self.fresh(f"{op_type}_{len(self.nodes)}")
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=name, **attrs))
        return outs

    def one(self, op_type: str, inputs: Sequence[str], **attrs: Any) -> str:
        """``node`` with one fresh output, returned as a name."""
        return self.node(op_type, inputs, **attrs)[0]

    def const(self, value: Any, hint: str = "const", dtype: Any = None) -> str:
        """A constant tensor (an initializer that is not a graph input)."""
        from onnx import numpy_helper

        array = np.asarray(cuda.as_numpy(value), dtype=dtype)
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.array(array, order="C"), name))
        return name

    def ints(self, values: Sequence[int], hint: str = "shape") -> str:
        """A 1-D int64 constant (shapes, axes, sizes)."""
        return self.const(np.asarray(list(values), dtype=np.int64).reshape(-1), hint)

    def reduce(
        self,
        op_type: str,
        x: str,
        axes: Sequence[int] | None,
        keepdims: bool,
        outputs: Sequence[str] | None = None,
    ) -> str:
        """A Reduce* node over ``axes`` (None: all): axes are an input from opset 18 on
        (ReduceSum: 13)."""
        attrs: dict[str, Any] = {"keepdims": int(keepdims)}
        inputs = [x]
        if axes is not None:
            if op_type == "ReduceSum" or self.opset >= 18:
                inputs.append(self.ints(axes, "axes"))
            else:
                attrs["axes"] = list(axes)
        return self.node(op_type, inputs, outputs, **attrs)[0]


def require_onnx() -> Any:
    """The ``onnx`` package, or an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "zerograd.onnx needs the onnx package: pip install 'zerograd[onnx]'"
        ) from None
    return onnx


def _convert_error(f: Function) -> ExportError:
    cls = type(f)
    return ExportError(
        f"zerograd.onnx.export: no ONNX converter for function {cls.__name__} "
        f"({cls.__module__}.{cls.__qualname__}); register one with "
        f"@zerograd.onnx.register_converter({cls.__name__}) on a function "
        f"converter(ctx, call) that adds ONNX nodes with ctx.node(...)"
    )


def _value_info(name: str, array: Any, batch: bool) -> Any:
    from onnx import helper

    shape: list[Any] = list(array.shape)
    if batch and shape:
        shape[0] = "batch"
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(array.dtype), shape)


def _names(given: Sequence[str] | None, n: int, default: str, what: str) -> list[str]:
    if given is None:
        return [default] if n == 1 else [f"{default}_{i}" for i in range(n)]
    names = list(given)
    if len(names) != n or len(set(names)) != n or not all(isinstance(s, str) and s for s in names):
        raise ExportError(
            f"zerograd.onnx.export: {what} must be {n} distinct non-empty strings, got {given!r}"
        )
    return names


def build(
    model: Any,
    args: Sequence[Any],
    *,
    opset: int = 17,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_batch: bool = True,
) -> tuple[Any, list[Variable], list[Variable]]:
    """The ONNX ``ModelProto`` of ``model(*args)`` (see ``export``), with the traced inputs
    and outputs."""
    onnx = require_onnx()
    from onnx import helper, numpy_helper

    if not isinstance(opset, int) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise ExportError(
            f"zerograd.onnx.export: opset must be an int from {MIN_OPSET} to {MAX_OPSET}, "
            f"got {opset!r}"
        )
    if not callable(model):
        raise ExportError(f"zerograd.onnx.export: model must be callable, got {type(model)}")
    if isinstance(args, (Variable, np.ndarray)) or not isinstance(args, (tuple, list)):
        args = (args,)
    for i, a in enumerate(args):
        data = a.data if isinstance(a, Variable) else a
        if not isinstance(data, cuda.array_types):
            raise ExportError(
                f"zerograd.onnx.export: example input {i} must be a NumPy (or CuPy) array or "
                f"a Variable holding one, got {type(data).__name__}"
            )
    variables = [id(a) for a in args if isinstance(a, Variable)]
    if len(set(variables)) != len(variables):
        raise ExportError("zerograd.onnx.export: the example inputs must be distinct Variables")
    in_names = _names(input_names, len(args), "input", "input_names")
    tr = _graph.trace(model, args)
    out_names = _names(output_names, len(tr.outputs), "output", "output_names")
    ctx = ExportContext(opset, dynamic_batch)
    names: dict[int, str] = {}  # id(Variable) -> ONNX value name
    keep: list[Any] = []  # holds traced Variables so that their ids stay unique
    for name, x in zip(in_names, tr.inputs):
        ctx._names.add(name)
        names[id(x)] = name
    ctx.input_arrays = {id(x.data): names[id(x)] for x in tr.inputs}
    param_names: dict[int, str] = {}
    if hasattr(model, "named_params"):
        param_names = {id(p): n for n, p in model.named_params()}
    order = {n: i for i, n in enumerate(param_names.values())}
    params: list[Any] = []

    def value(v: Variable) -> str:
        name = names.get(id(v))
        if name is not None:
            return name
        keep.append(v)
        data = cuda.as_numpy(v.data)
        if _graph.is_parameter(v):
            name = ctx.fresh(param_names.get(id(v)) or v.name or "param")
            params.append(numpy_helper.from_array(np.array(data, order="C"), name))
        else:  # a constant: folded into the graph
            name = ctx.const(data, v.name or "const")
        names[id(v)] = name
        return name

    for k, (f, xs, ys) in enumerate(tr.calls):
        converter = CONVERTERS.get(type(f))
        if converter is None:
            raise _convert_error(f)
        in_vals = [value(x) for x in xs]
        stem = f"{type(f).__name__.lower()}_{k}"
        out_vals = []
        for i, y in enumerate(ys):
            name = ctx.fresh(stem if len(ys) == 1 else f"{stem}_{i}")
            if y is not None:
                keep.append(y)
                names[id(y)] = name
            out_vals.append(name)
        ys_data = [None if y is None else cuda.as_numpy(y.data) for y in ys]
        converter(ctx, Call(f, in_vals, out_vals, [cuda.as_numpy(x.data) for x in xs], ys_data))

    outputs_info = []
    for name, y in zip(out_names, tr.outputs):
        ctx._names.add(name)
        ctx.node("Identity", [value(y)], [name])
        outputs_info.append(
            helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(cuda.as_numpy(y.data).dtype), None
            )
        )
    inputs_info = [_value_info(n, x.data, dynamic_batch) for n, x in zip(in_names, tr.inputs)]
    graph = helper.make_graph(
        ctx.nodes,
        getattr(model, "__class__", type(model)).__name__,
        inputs_info,
        outputs_info,
        # Parameters in the model's order (its params()), then the folded constants.
        initializer=sorted(params, key=lambda t: order.get(t.name, len(order))) + ctx.initializers,
    )
    proto = helper.make_model(
        graph,
        producer_name="zerograd",
        opset_imports=[helper.make_opsetid("", opset)],
    )
    proto.ir_version = min(proto.ir_version, _IR_FOR_OPSET.get(opset, 8))
    inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=True, data_prop=True)
    known = {v.name: v for v in inferred.graph.output}
    for out in proto.graph.output:
        if known[out.name].type.tensor_type.HasField("shape"):
            out.type.CopyFrom(known[out.name].type)
    onnx.checker.check_model(proto, full_check=True)
    return proto, tr.inputs, tr.outputs


#: The newest IR version each opset's runtimes read (onnx's VERSION_TABLE).
_IR_FOR_OPSET = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10}


def export(
    model: Any,
    args: Any,
    path: str | os.PathLike[str],
    *,
    opset: int = 17,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_batch: bool = True,
) -> Any:
    """Write ``model`` (a Layer/Model or any callable on Variables) as an ONNX file.

    Runs ``model(*args)`` once in test mode (dropout off, batch norm on its running
    statistics), converts every recorded function through ``CONVERTERS``, stores parameters
    as initializers and folds other constants. With ``dynamic_batch`` the first axis of
    every input (and so of the outputs) is the symbolic ``batch``: one file serves any batch
    size. The file passes ``onnx.checker.check_model(full_check=True)``. Returns the
    ``onnx.ModelProto``.

    >>> import os, tempfile, numpy as np, zerograd.functions as F
    >>> from zerograd.models import MLP
    >>> from zerograd.onnx import export
    >>> model = MLP((8, 2), activation=F.relu)
    >>> path = os.path.join(tempfile.mkdtemp(), "mlp.onnx")
    >>> proto = export(model, np.zeros((1, 4), np.float32), path)
    >>> [n.op_type for n in proto.graph.node]
    ['Gemm', 'Relu', 'Gemm', 'Identity']
    """
    onnx = require_onnx()

    proto, _, _ = build(
        model,
        args,
        opset=opset,
        input_names=input_names,
        output_names=output_names,
        dynamic_batch=dynamic_batch,
    )
    onnx.save(proto, os.fspath(path))
    return proto


def export_testcase(
    model: Any,
    args: Any,
    directory: str | os.PathLike[str],
    **options: Any,
) -> Any:
    """Write ``directory/model.onnx`` and ``directory/test_data_set_0/{input,output}_<i>.pb``
    (onnx-chainer's layout, ONNX's backend-test format): the model plus the example inputs
    and zerograd's outputs for them. ``options`` are ``export``'s. Returns the ModelProto."""
    onnx = require_onnx()
    from onnx import numpy_helper

    proto, xs, ys = build(model, args, **options)
    directory = os.fspath(directory)
    data_dir = os.path.join(directory, "test_data_set_0")
    os.makedirs(data_dir, exist_ok=True)
    onnx.save(proto, os.path.join(directory, "model.onnx"))
    for kind, values, infos in (
        ("input", xs, proto.graph.input),
        ("output", ys, proto.graph.output),
    ):
        for i, (v, info) in enumerate(zip(values, infos)):
            tensor = numpy_helper.from_array(cuda.as_numpy(v.data), info.name)
            with open(os.path.join(data_dir, f"{kind}_{i}.pb"), "wb") as f:
                f.write(tensor.SerializeToString())
    return proto
