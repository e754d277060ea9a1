"""One row per export converter (the systematic test): each function, float32, exported at
batch 3, matches onnxruntime and the reference evaluator at batch 1 and 7, and round-trips
through import with the same outputs and input gradients. A test checks that the rows cover
every entry of ``CONVERTERS``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
from tests.onnx._check import check_export, check_round_trip
from zerograd.functions import activation as A
from zerograd.functions import arithmetic as R
from zerograd.functions import conv as C
from zerograd.functions import elementwise as E
from zerograd.functions import linalg as L
from zerograd.functions import normalization as N
from zerograd.functions import reduction as D
from zerograd.functions import shape as S
from zerograd.functions.pooling import AveragePooling, Pooling
from zerograd.onnx import CONVERTERS, ExportError, export, register_converter

_rng = np.random.default_rng(7)
W34 = _rng.standard_normal((4, 5)).astype(np.float32)
B5 = _rng.standard_normal(5).astype(np.float32)
K = _rng.standard_normal((4, 3, 3, 3)).astype(np.float32)  # conv: 3 -> 4 channels
KT = _rng.standard_normal((3, 2, 3, 3)).astype(np.float32)  # deconv: 3 -> 2 channels
B4 = _rng.standard_normal(4).astype(np.float32)
GAMMA = _rng.uniform(0.5, 1.5, 3).astype(np.float32)
BETA = _rng.standard_normal(3).astype(np.float32)
MEAN = _rng.standard_normal(3).astype(np.float32)
VAR = _rng.uniform(0.5, 2.0, 3).astype(np.float32)
COND = _rng.random((3, 4)) > 0.5


def x34(n: int, k: int = 1, positive: bool = False) -> list[np.ndarray]:
    rng = np.random.default_rng(n)
    xs = [rng.standard_normal((n, 3, 4)).astype(np.float32) for _ in range(k)]
    return [np.abs(x) + 0.5 for x in xs] if positive else xs


def img(n: int) -> list[np.ndarray]:
    return [np.random.default_rng(n).standard_normal((n, 3, 7, 6)).astype(np.float32)]


class Row(NamedTuple):
    name: str
    fn: Callable[..., Any]
    make: Callable[[int], list[np.ndarray]]
    covers: tuple[type, ...]
    exact: bool = True  # the imported model computes bit for bit what zerograd did


one = x34
two = lambda n: x34(n, 2)  # noqa: E731
pos = lambda n: x34(n, 1, True)  # noqa: E731
pos2 = lambda n: x34(n, 2, True)  # noqa: E731

ROWS = [
    Row("add", lambda a, b: a + b, two, (R.Add,)),
    Row("add_folded_constant", lambda a: a + W34[0, :4], one, (R.Add,)),
    Row("sub", lambda a, b: a - b, two, (R.Sub,)),
    Row("mul", lambda a, b: a * b, two, (R.Mul,)),
    Row("div", lambda a, b: a / b, pos2, (R.Div,)),
    Row("rdiv_scalar", lambda a: 2 / a, pos, (R.Div,)),
    Row("neg", lambda a: -a, one, (R.Neg,)),
    Row("add_constant", lambda a: a + 2.5, one, (R.AddConstant,)),
    Row("sub_constant", lambda a: a - 1.5, one, (R.SubConstant,)),
    Row("constant_sub", lambda a: 3 - a, one, (R.ConstantSub,)),
    Row("mul_constant", lambda a: a * 0.5, one, (R.MulConstant,)),
    Row("div_constant", lambda a: a / 4, one, (R.DivConstant,)),
    Row("pow_constant", lambda a: a**3, one, (R.Pow,)),
    Row("pow_elementwise", lambda a, b: a**b, pos2, (R.ElementwisePow,)),
    Row("sin", F.sin, one, (E.Sin,)),
    Row("cos", F.cos, one, (E.Cos,)),
    Row("tanh", F.tanh, one, (E.Tanh,)),
    Row("exp", F.exp, one, (E.Exp,)),
    Row("log", F.log, pos, (E.Log,)),
    Row("sqrt", F.sqrt, pos, (E.Sqrt,)),
    Row("abs", F.abs, one, (E.Abs,)),
    Row("square", F.square, one, (E.Square,)),
    Row("clip", lambda a: F.clip(a, -0.5, 0.7), one, (E.Clip,)),
    Row("clip_lower", lambda a: F.clip(a, -0.5, None), one, (E.Clip,)),
    Row("maximum", F.maximum, two, (E.Maximum,)),
    Row("minimum", F.minimum, two, (E.Minimum,)),
    Row("where", lambda a, b: F.where(COND, a, b), two, (E.Where,)),
    Row("sigmoid", F.sigmoid, one, (A.Sigmoid,)),
    Row("relu", F.relu, one, (A.ReLU,)),
    Row("leaky_relu", lambda a: F.leaky_relu(a, 0.1), one, (A.LeakyReLU,)),
    Row("softmax_axis1", lambda a: F.softmax(a, axis=1), one, (A.Softmax,)),
    Row("softmax_last", lambda a: F.softmax(a, axis=-1), one, (A.Softmax,)),
    Row("softmax_axes", lambda a: F.softmax(a, axis=(1, 2)), one, (A.Softmax,), False),
    Row("log_softmax", lambda a: F.log_softmax(a, axis=2), one, (A.LogSoftmax,)),
    Row("log_softmax_axes", lambda a: F.log_softmax(a, axis=(1, 2)), one, (A.LogSoftmax,), False),
    Row("softplus", F.softplus, one, (A.Softplus,)),
    Row("softplus_beta", lambda a: F.softplus(a, beta=2.0), one, (A.Softplus,), False),
    Row("gelu", F.gelu, one, (A.NormalCdf, R.Mul), False),
    Row("linear", lambda a: F.linear(a[:, 0], W34, B5), one, (L.Linear,)),
    # (N, T, I) input: MatMul (+ Add), which NumPy computes in a different order than dot
    Row("linear_3d", lambda a: F.linear(a, W34, B5), one, (L.Linear,), False),
    Row("linear_3d_nobias", lambda a: F.linear(a, W34), one, (L.Linear,), False),
    Row("matmul", lambda a: F.matmul(a, W34), one, (L.MatMul,)),
    Row("conv2d", lambda a: F.conv2d(a, K, B4, stride=2, pad=1), img, (C.Conv2d,)),
    Row("deconv2d", lambda a: F.deconv2d(a, KT, None, 2, 1, (14, 12)), img, (C.Deconv2d,)),
    Row("pooling", lambda a: F.pooling(a, 3, 2, 1), img, (Pooling,)),
    Row("average_pooling", lambda a: F.average_pooling(a, 2, 2, 1), img, (AveragePooling,)),
    Row(
        "batch_norm",
        lambda a: F.batch_norm(a, GAMMA, BETA, MEAN.copy(), VAR.copy()),
        img,
        (N.BatchNorm,),
    ),
    Row("reshape", lambda a: F.reshape(a, (a.shape[0], 12)), one, (S.Reshape,)),
    Row("reshape_fold_batch", lambda a: F.reshape(a, (-1, 4)), one, (S.Reshape,)),
    Row("transpose", lambda a: F.transpose(a, (0, 2, 1)), one, (S.Transpose,)),
    Row("transpose_reverse", lambda a: F.transpose(a), one, (S.Transpose,)),
    Row("get_item_int", lambda a: a[:, 1], one, (S.GetItem,)),
    Row("get_item_last", lambda a: a[:, -1], one, (S.GetItem,)),
    Row("get_item_slices", lambda a: a[:, ::-1, 1:3], one, (S.GetItem,)),
    Row("get_item_newaxis", lambda a: a[..., None, 0], one, (S.GetItem,)),
    Row(
        "get_item_gather",
        lambda a: F.get_item(a, (slice(None), np.array([2, 0, 2]))),
        one,
        (S.GetItem,),
    ),
    Row("concat", lambda a, b: F.concat([a, b], axis=1), two, (S.Concat,)),
    Row("stack", lambda a, b: F.stack([a, b], axis=1), two, (S.Concat, S.Reshape)),
    Row("split", lambda a: tuple(F.split(a, 2, axis=2)), one, (S.Split,)),
    Row("split_indices", lambda a: tuple(F.split(a, [1], axis=1)), one, (S.Split,)),
    Row("sum", lambda a: F.sum(a, axis=1), one, (D.Sum,)),
    Row("sum_keepdims", lambda a: F.sum(a, axis=(1, 2), keepdims=True), one, (D.Sum,)),
    Row("sum_all", lambda a: F.sum(a * a), one, (D.Sum,)),
    Row("mean", lambda a: F.mean(a, axis=2), one, (D.Sum, R.MulConstant)),
    Row("max", lambda a: F.max(a, axis=2), one, (D.Max,)),
    Row("min", lambda a: F.min(a, axis=(1, 2), keepdims=True), one, (D.Min,)),
    Row("logsumexp", lambda a: F.logsumexp(a, axis=1), one, (D.LogSumExp,), False),
    Row("sum_to", lambda a: F.sum_to(a, (1, 4)), one, (D.SumTo,)),
    Row("sum_to_keep_batch", lambda a: F.sum_to(a, (a.shape[0], 1, 4)), one, (D.SumTo,)),
    Row(
        "broadcast_to",
        lambda a: F.broadcast_to(a[:, :1], (a.shape[0], 3, 4)),
        one,
        (D.BroadcastTo,),
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_converter(row: Row, tmp_path: Any) -> None:
    path = check_export(row.fn, row.make, tmp_path)
    check_round_trip(None, row.fn, path, row.make(7), exact=row.exact)


def test_rows_cover_every_converter() -> None:
    covered = {cls for row in ROWS for cls in row.covers}
    builtin = {cls for cls in CONVERTERS if cls.__module__.startswith("zerograd.functions")}
    assert builtin - covered == set()


class Cube(zg.Function):
    def forward(self, x: Any) -> Any:
        return x**3

    def backward(self, gy: Any) -> Any:
        return 3 * self.inputs[0] ** 2 * gy


def test_registered_converter_is_used(tmp_path: Any) -> None:
    def cube(ctx: Any, call: Any) -> None:
        three = ctx.const(np.asarray(3, call.xs[0].dtype), "three")
        ctx.node("Pow", [call.inputs[0], three], call.outputs)

    with pytest.raises(ExportError, match="no ONNX converter for function Cube"):
        export(lambda a: Cube()(a), one(2), tmp_path / "m.onnx")
    register_converter(Cube)(cube)
    try:
        check_export(lambda a: F.tanh(Cube()(a)), one, tmp_path)
    finally:
        del CONVERTERS[Cube]


def test_opsets(tmp_path: Any) -> None:
    """Reductions take their axes as attributes before opset 18 and as inputs from it on."""
    fn = lambda a: F.max(F.softmax(a, axis=(1, 2)), axis=2)  # noqa: E731
    for opset in (13, 17, 18, 21):
        check_export(fn, one, tmp_path, opset=opset)


def test_function_without_converter_names_it(tmp_path: Any) -> None:
    with pytest.raises(ExportError, match=r"Im2col .*register_converter\(Im2col\)"):
        export(lambda a: F.conv2d_simple(a, K), img(2), tmp_path / "m.onnx")


def test_bad_arguments(tmp_path: Any) -> None:
    x = one(2)[0]
    with pytest.raises(ExportError, match="opset must be an int from 13 to 21"):
        export(F.relu, x, tmp_path / "m.onnx", opset=12)
    with pytest.raises(ExportError, match="input_names must be 1 distinct"):
        export(F.relu, x, tmp_path / "m.onnx", input_names=["a", "b"])
    with pytest.raises(ExportError, match=r"example input 0 must be a NumPy \(or CuPy\) array"):
        export(F.relu, [[1.0]], tmp_path / "m.onnx")


def test_names_and_static_batch(tmp_path: Any) -> None:
    import onnx

    export(
        lambda a, b: (a + b, a * b),
        two(2),
        tmp_path / "m.onnx",
        input_names=["p", "q"],
        output_names=["s", "t"],
        dynamic_batch=False,
    )
    graph = onnx.load(tmp_path / "m.onnx").graph
    assert [i.name for i in graph.input] == ["p", "q"]
    assert [o.name for o in graph.output] == ["s", "t"]
    dims = [[d.dim_value for d in o.type.tensor_type.shape.dim] for o in graph.output]
    assert dims == [[2, 3, 4], [2, 3, 4]]


def test_dynamic_batch_is_symbolic(tmp_path: Any) -> None:
    import onnx

    export(F.relu, one(2), tmp_path / "m.onnx")
    graph = onnx.load(tmp_path / "m.onnx").graph
    for value in (graph.input[0], graph.output[0]):
        assert value.type.tensor_type.shape.dim[0].dim_param == "batch"


def test_export_runs_in_test_mode_and_restores_it(tmp_path: Any) -> None:
    """Dropout is the identity in the file; the caller's mode is untouched."""
    path = check_export(lambda a: F.dropout(F.relu(a), 0.5), one, tmp_path)
    import onnx

    assert [n.op_type for n in onnx.load(path).graph.node] == ["Relu", "Identity"]
    assert zg.Config.train


def test_deep_chain_is_walked_iteratively(tmp_path: Any) -> None:
    """3000 recorded calls: deeper than Python's recursion limit, for export and import."""

    def chain(a: Any) -> Any:
        for _ in range(1500):
            a = F.tanh(a) * 1.01
        return a

    path = check_export(chain, one, tmp_path, batches=(2,), reference=False)
    check_round_trip(None, chain, path, one(2))


def test_export_testcase_writes_model_and_data(tmp_path: Any) -> None:
    import onnx
    from onnx import numpy_helper
    from tests.onnx._check import run_ort
    from zerograd.onnx import export_testcase

    fn = lambda a, b: (F.relu(a) * b, F.sum(a, axis=1))  # noqa: E731
    xs = two(3)
    export_testcase(fn, xs, tmp_path / "case")
    data = tmp_path / "case" / "test_data_set_0"
    assert sorted(p.name for p in data.iterdir()) == [
        "input_0.pb",
        "input_1.pb",
        "output_0.pb",
        "output_1.pb",
    ]

    def read(name: str) -> np.ndarray:
        tensor = onnx.TensorProto()
        tensor.ParseFromString((data / name).read_bytes())
        return numpy_helper.to_array(tensor)

    inputs = [read("input_0.pb"), read("input_1.pb")]
    for x, saved in zip(xs, inputs):
        np.testing.assert_array_equal(saved, x)
    outputs = run_ort(str(tmp_path / "case" / "model.onnx"), inputs)
    for i, y in enumerate(outputs):
        np.testing.assert_allclose(y, read(f"output_{i}.pb"), rtol=1e-6)


def test_an_input_with_history_is_a_graph_input(tmp_path: Any) -> None:
    """A Variable passed in that was computed earlier: the walk stops at it."""
    import onnx

    x = zg.Variable(one(2)[0])
    h = F.exp(x)  # earlier work, recorded, not part of the model
    export(F.relu, [h], tmp_path / "m.onnx")
    assert [n.op_type for n in onnx.load(tmp_path / "m.onnx").graph.node] == ["Relu", "Identity"]
    with pytest.raises(ExportError, match="distinct Variables"):
        export(lambda a, b: a + b, [h, h], tmp_path / "m.onnx")


def test_get_item_with_a_0d_index_array(tmp_path: Any) -> None:
    check_export(lambda a: F.get_item(a, (slice(None), np.array(1))), one, tmp_path)
