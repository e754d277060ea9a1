"""Import: hand-built ONNX graphs run in zerograd as onnxruntime runs them, train with
zerograd's optimizers, and untrusted files are refused with clear errors."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.optimizers as O
from tests.onnx._check import close, run_ort
from zerograd.onnx import OnnxImportError, OnnxModel, load

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

FLOAT = TensorProto.FLOAT


def save(
    tmp_path: Any,
    nodes: list[Any],
    inputs: list[Any],
    outputs: list[Any],
    initializers: dict[str, np.ndarray],
    opset: int = 17,
    name: str = "m.onnx",
) -> str:
    graph = helper.make_graph(
        nodes,
        "g",
        inputs,
        outputs,
        initializer=[numpy_helper.from_array(v, k) for k, v in initializers.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = os.path.join(tmp_path, name)
    onnx.save(model, path)
    return path


def value(name: str, shape: list[Any]) -> Any:
    return helper.make_tensor_value_info(name, FLOAT, shape)


def rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def run_both(path: str, xs: list[np.ndarray]) -> OnnxModel:
    model = load(path)
    with zg.test_mode():
        ys = model(*xs)
    ys = list(ys) if isinstance(ys, tuple) else [ys]
    close([y.data for y in ys], run_ort(path, xs), "zerograd vs onnxruntime")
    return model


@pytest.mark.parametrize("trans_a", [0, 1])
def test_gemm_trans_b_alpha_beta(tmp_path: Any, trans_a: int) -> None:
    node = helper.make_node(
        "Gemm", ["x", "W", "b"], ["y"], transA=trans_a, transB=1, alpha=0.5, beta=2.0
    )
    x_shape = [4, 3] if trans_a else [3, 4]
    path = save(
        tmp_path,
        [node],
        [value("x", x_shape)],
        [value("y", [3, 5])],
        {"W": rand(5, 4, seed=1), "b": rand(5, seed=2)},
    )
    model = run_both(path, [rand(*x_shape)])
    assert sorted(n for n, _ in model.named_params()) == ["W", "b"]


def test_gemm_plain_is_linear(tmp_path: Any) -> None:
    node = helper.make_node("Gemm", ["x", "W", "b"], ["y"])
    path = save(
        tmp_path,
        [node],
        [value("x", ["N", 4])],
        [value("y", ["N", 5])],
        {"W": rand(4, 5, seed=1), "b": rand(5, seed=2)},
    )
    run_both(path, [rand(3, 4)])
    run_both(path, [rand(9, 4)])


def test_conv_with_pads_and_strides(tmp_path: Any) -> None:
    node = helper.make_node(
        "Conv", ["x", "W", "b"], ["y"], kernel_shape=[3, 2], pads=[1, 2, 1, 2], strides=[2, 1]
    )
    path = save(
        tmp_path,
        [node],
        [value("x", [2, 3, 7, 6])],
        [value("y", [2, 4, 4, 9])],
        {"W": rand(4, 3, 3, 2, seed=1), "b": rand(4, seed=2)},
    )
    run_both(path, [rand(2, 3, 7, 6)])


def test_batch_normalization(tmp_path: Any) -> None:
    node = helper.make_node(
        "BatchNormalization", ["x", "s", "bias", "mean", "var"], ["y"], epsilon=1e-3
    )
    stats = {
        "s": rand(3, seed=1),
        "bias": rand(3, seed=2),
        "mean": rand(3, seed=3),
        "var": np.abs(rand(3, seed=4)) + 0.5,
    }
    path = save(tmp_path, [node], [value("x", [2, 3, 4, 5])], [value("y", [2, 3, 4, 5])], stats)
    model = run_both(path, [rand(2, 3, 4, 5)])
    assert sorted(n for n, _ in model.named_params()) == ["bias", "s"]
    assert sorted(n for n, _ in model.named_buffers()) == ["mean", "var"]


@pytest.mark.parametrize("opset,axis", [(13, 0), (13, 1), (13, -1), (11, 1), (11, 0)])
def test_softmax_axis(tmp_path: Any, opset: int, axis: int) -> None:
    nodes = [
        helper.make_node("Softmax", ["x"], ["s"], axis=axis),
        helper.make_node("LogSoftmax", ["x"], ["l"], axis=axis),
    ]
    path = save(
        tmp_path,
        nodes,
        [value("x", [2, 3, 4])],
        [value("s", [2, 3, 4]), value("l", [2, 3, 4])],
        {},
        opset=opset,
    )
    run_both(path, [rand(2, 3, 4)])


def test_shape_and_movement_ops(tmp_path: Any) -> None:
    """The ops exporters emit around a model's core: Shape, Gather, Concat, Reshape, Flatten,
    Transpose, Slice, Squeeze, Unsqueeze, Expand, Split, reductions, Constant, Cast."""
    i64 = lambda v: np.asarray(v, dtype=np.int64)  # noqa: E731
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Gather", ["shape", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "zero1"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["flat"]),
        helper.make_node("Flatten", ["x"], ["flat2"], axis=1),
        helper.make_node("Add", ["flat", "flat2"], ["sum2"]),
        helper.make_node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]),
        helper.make_node("Slice", ["xt", "starts", "ends", "axes", "steps"], ["sl"]),
        helper.make_node("ReduceMean", ["sl"], ["m"], axes=[2], keepdims=1),
        helper.make_node("Squeeze", ["m", "two"], ["sq"]),
        helper.make_node("Constant", [], ["k"], value=numpy_helper.from_array(rand(1, 1, seed=3))),
        helper.make_node("Cast", ["shape"], ["shape_f"], to=TensorProto.INT64),
        helper.make_node("Expand", ["k", "shape_f"], ["kk"]),
        helper.make_node("Mul", ["x", "kk"], ["xk"]),
        helper.make_node("Split", ["xk", "split"], ["a", "b"], axis=2),
        helper.make_node("ReduceSum", ["a", "two"], ["ra"], keepdims=0),
        helper.make_node("ReduceMax", ["b"], ["rb"], axes=[1], keepdims=0),
    ]
    inits = {
        "zero": i64(0),
        "zero1": i64([0]),
        "minus1": i64([-1]),
        "starts": i64([3, 0]),
        "ends": i64([-(2**63), 2**62]),
        "axes": i64([1, 2]),
        "steps": i64([-2, 1]),
        "two": i64([2]),
        "split": i64([1, 2]),
    }
    path = save(
        tmp_path,
        nodes,
        [value("x", ["N", 4, 3])],
        [
            value("sum2", ["N", 12]),
            value("ra", ["N", 4]),
            value("sq", ["N", 2]),
            value("rb", ["N", 2]),
        ],
        inits,
        opset=13,
    )
    run_both(path, [rand(5, 4, 3)])


def test_imported_model_trains(tmp_path: Any) -> None:
    """SGD on an imported two-layer net lowers the loss; gradients of gradients work."""
    nodes = [
        helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=1),
        helper.make_node("Tanh", ["h"], ["t"]),
        helper.make_node("MatMul", ["t", "W2"], ["y"]),
    ]
    path = save(
        tmp_path,
        nodes,
        [value("x", ["N", 3])],
        [value("y", ["N", 1])],
        {"W1": rand(8, 3, seed=1), "b1": rand(8, seed=2), "W2": rand(8, 1, seed=3)},
    )
    model = load(path)
    x = rand(32, 3, seed=4)
    t = np.sin(x.sum(axis=1, keepdims=True))
    opt = O.SGD(lr=0.1).setup(model)
    losses = []
    for _ in range(30):
        loss = zg.functions.mean_squared_error(model(x), t)
        model.cleargrads()
        loss.backward()
        opt.update()
        losses.append(float(loss.data))
    assert losses[-1] < 0.5 * losses[0]
    xv = zg.Variable(x[:2])
    model.cleargrads()
    zg.functions.sum(model(xv) ** 2).backward(create_graph=True)
    gx = xv.grad
    model.cleargrads()
    zg.functions.sum(gx * gx).backward()  # second order, through every imported node
    assert model.W1.grad is not None


# -- refusals --------------------------------------------------------------------------------
def _gemm_file(tmp_path: Any, **save_options: Any) -> str:
    node = helper.make_node("Gemm", ["x", "W"], ["y"])
    return save(
        tmp_path,
        [node],
        [value("x", ["N", 64])],
        [value("y", ["N", 64])],
        {"W": rand(64, 64)},
        **save_options,
    )


def test_unsupported_operator_is_named(tmp_path: Any) -> None:
    nodes = [helper.make_node("Det", ["x"], ["y"])]
    path = save(tmp_path, nodes, [value("x", [3, 3])], [value("y", [])], {})
    with pytest.raises(
        OnnxImportError, match=r"unsupported operator\(s\) Det; .*register_importer"
    ):
        load(path)


VARIANTS = [
    ("Conv", {"group": 2}, r"group=2 \(grouped convolution\)"),
    ("Conv", {"dilations": [2, 2]}, r"dilations \[2, 2\]"),
    ("Conv", {"pads": [0, 0, 1, 1]}, r"pads \[0, 0, 1, 1\]: only 2-D, symmetric"),
    ("Conv", {"auto_pad": "SAME_UPPER"}, "auto_pad=SAME_UPPER"),
    ("MaxPool", {"kernel_shape": [2, 2], "ceil_mode": 1}, "ceil_mode"),
    ("AveragePool", {"kernel_shape": [2, 2], "pads": [1, 1, 1, 1]}, "count_include_pad=0"),
]


@pytest.mark.parametrize("op,attrs,message", VARIANTS)
def test_unsupported_variant_is_named_at_load(
    tmp_path: Any, op: str, attrs: dict[str, Any], message: str
) -> None:
    inputs = ["x", "W"] if op == "Conv" else ["x"]
    node = helper.make_node(op, inputs, ["y"], name="n0", **attrs)
    inits = {"W": rand(4, 4 // attrs.get("group", 1), 3, 3)} if op == "Conv" else {}
    graph = helper.make_graph(
        [node],
        "g",
        [value("x", [1, 4, 6, 6])],
        [value("y", ["n", "c", "h", "w"])],
        initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = os.path.join(tmp_path, "m.onnx")
    onnx.save(model, path)
    with pytest.raises(OnnxImportError, match=rf"node 'n0' \({op}\): .*{message}"):
        load(path)  # refused at load time, before any array is built


def test_batch_norm_training_form_is_refused(tmp_path: Any) -> None:
    node = helper.make_node(
        "BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"], training_mode=1
    )
    stats = {k: rand(3, seed=i) for i, k in enumerate("sbmv")}
    path = save(
        tmp_path,
        [node],
        [value("x", [2, 3])],
        [value("y", [2, 3]), value("rm", [3]), value("rv", [3])],
        stats,
    )
    with pytest.raises(OnnxImportError, match="only the inference form"):
        load(path)


def test_not_an_onnx_file(tmp_path: Any) -> None:
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\xff\x00 certainly not protobuf" * 10)
    with pytest.raises(OnnxImportError, match="junk.onnx"):
        load(path)


def test_oversize_tensor_is_refused(tmp_path: Any) -> None:
    path = _gemm_file(tmp_path)
    with pytest.raises(OnnxImportError, match=r"tensor 'W' of shape \[64, 64\] holds 16384 bytes"):
        load(path, max_tensor_bytes=10_000)
    assert load(path, max_tensor_bytes=16_384).W.shape == (64, 64)


def _external(tmp_path: Any, location: str) -> str:
    """A Gemm model whose weight lives in external data at ``location`` (rewritten after
    saving, as a hostile file would be)."""
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    path = _gemm_file(folder)
    model = onnx.load(path)
    from onnx.external_data_helper import convert_model_to_external_data

    convert_model_to_external_data(
        model, all_tensors_to_one_file=True, location="weights.bin", size_threshold=0
    )
    onnx.save(model, path)
    model = onnx.load(path, load_external_data=False)
    for entry in model.graph.initializer[0].external_data:
        if entry.key == "location":
            entry.value = location
    onnx.save(model, path)
    return path


def test_external_data_in_the_folder_loads(tmp_path: Any) -> None:
    path = _external(tmp_path, "weights.bin")
    model = run_both(path, [rand(2, 64)])
    assert model.W.shape == (64, 64)


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/passwd", "sub/../../x.bin"])
def test_external_data_outside_the_folder_is_refused(tmp_path: Any, location: str) -> None:
    (tmp_path / "secret.bin").write_bytes(b"\0" * 16384)
    path = _external(tmp_path, location)
    with pytest.raises(OnnxImportError, match="outside the model's folder"):
        load(path)


def test_external_data_symlink_out_is_refused(tmp_path: Any) -> None:
    (tmp_path / "secret.bin").write_bytes(b"\0" * 16384)
    path = _external(tmp_path, "link.bin")
    os.symlink(tmp_path / "secret.bin", tmp_path / "model" / "link.bin")
    with pytest.raises(OnnxImportError, match="outside the model's folder"):
        load(path)


def test_truncated_external_data_is_refused(tmp_path: Any) -> None:
    path = _external(tmp_path, "weights.bin")
    weights = tmp_path / "model" / "weights.bin"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(OnnxImportError, match="does not hold the 16384 bytes"):
        load(path)


def test_wrong_input_is_named(tmp_path: Any) -> None:
    model = load(_gemm_file(tmp_path))
    with pytest.raises(ValueError, match=r"input 'x' expects shape \('\?', 64\) of float32"):
        model(rand(2, 63))
    with pytest.raises(ValueError, match="got .* float64"):
        model(rand(2, 64).astype(np.float64))
    with pytest.raises(TypeError, match=r"expected 1 input\(s\) \['x'\], got 2"):
        model(rand(2, 64), rand(2, 64))


def test_non_numpy_tensor_type_is_refused(tmp_path: Any) -> None:
    W = helper.make_tensor("W", TensorProto.BFLOAT16, [2, 2], [0, 0, 0, 0])
    node = helper.make_node("Identity", ["W"], ["y"])
    graph = helper.make_graph(
        [node], "g", [], [helper.make_tensor_value_info("y", TensorProto.BFLOAT16, [2, 2])], [W]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = os.path.join(tmp_path, "m.onnx")
    onnx.save(model, path)
    with pytest.raises(OnnxImportError, match="tensor 'W' has data type BFLOAT16"):
        load(path)
