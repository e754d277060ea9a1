"""zerograd.cuda: lazy CuPy, clear errors without a GPU, device checks, and the engine on
both backends (the ``xp`` fixture runs each test on NumPy, and on CuPy under ``-m gpu``)."""

from __future__ import annotations

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
from zerograd import cuda
from zerograd.testing import array_allclose


def test_numpy_arrays_use_numpy():
    assert cuda.get_array_module(np.zeros(3)) is np
    assert cuda.get_array_module(zg.Variable(np.zeros(3))) is np
    assert cuda.device_of(np.zeros(3)) == "cpu"
    assert isinstance(cuda.as_numpy(zg.Variable(np.ones(2))), np.ndarray)
    assert cuda.as_numpy(3.0).shape == ()


def test_missing_cupy_gives_a_clear_error(monkeypatch):
    monkeypatch.setattr(cuda, "_load_cupy", lambda: None)
    monkeypatch.setattr(cuda, "_gpu_checked", None)
    assert cuda.gpu_enable is False
    with pytest.raises(RuntimeError, match="CuPy is not installed.*pip install"):
        cuda.as_cupy(np.zeros(2))
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        zg.Variable(np.zeros(2)).to_gpu()


def test_no_gpu_gives_a_clear_error(monkeypatch):
    class FakeCupy:
        class cuda:
            class runtime:
                @staticmethod
                def getDeviceCount():
                    raise RuntimeError("no CUDA driver")

    monkeypatch.setattr(cuda, "_load_cupy", lambda: FakeCupy)
    monkeypatch.setattr(cuda, "_gpu_checked", None)
    with pytest.raises(RuntimeError, match="no CUDA GPU is visible"):
        cuda.require_gpu()


def test_engine_on_backend(xp):
    x = zg.Variable(xp.array(2.0))
    a = x**2
    y = a**2 + a**2
    y.backward()
    assert cuda.get_array_module(x.grad.data) is xp
    assert float(cuda.as_numpy(x.grad)) == 64.0


def test_higher_order_on_backend(xp):
    x = zg.Variable(xp.array(1.0))
    y = F.tanh(x)
    for _ in range(3):
        x.cleargrad()
        y.backward(create_graph=True)
        y = x.grad
    t = np.tanh(1.0)
    # d3/dx3 tanh = -2 (1 - t^2)(1 - 3 t^2)
    assert abs(float(cuda.as_numpy(y)) - (-2 * (1 - t**2) * (1 - 3 * t**2))) < 1e-12


def test_matmul_and_indexing_backward_on_backend(xp):
    rng = np.random.default_rng(0)
    A_host, B_host = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    A, B = zg.Variable(xp.asarray(A_host)), zg.Variable(xp.asarray(B_host))
    y = F.matmul(A, B)[:, [0, 0, 2]]  # advanced indexing with a repeat: scatter-add backward
    y.sum().backward()
    a_ref, b_ref = zg.Variable(A_host), zg.Variable(B_host)
    F.matmul(a_ref, b_ref)[:, [0, 0, 2]].sum().backward()
    assert cuda.get_array_module(A.grad.data) is xp
    assert array_allclose(A.grad, a_ref.grad) and array_allclose(B.grad, b_ref.grad)


def test_float32_scalars_stay_on_device(xp):
    x = zg.Variable(xp.ones(3, dtype=np.float32))
    y = (x * 0.5 + 2) / 3.0
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    assert cuda.get_array_module(y.data) is xp


@pytest.mark.gpu
def test_device_mismatch_names_both_devices_and_the_function():
    cp = pytest.importorskip("cupy")
    if not cuda.gpu_enable:
        pytest.skip("no GPU")
    a = zg.Variable(np.ones(3))
    b = zg.Variable(cp.ones(3))
    with pytest.raises(ValueError, match=r"Add: inputs are on different devices.*cpu.*gpu:0"):
        a + b
    with pytest.raises(ValueError, match=r"MatMul.*different devices"):
        F.matmul(zg.Variable(np.ones((2, 2))), zg.Variable(cp.ones((2, 2))))


@pytest.mark.gpu
def test_to_gpu_and_back():
    cp = pytest.importorskip("cupy")
    if not cuda.gpu_enable:
        pytest.skip("no GPU")
    x = zg.Variable(np.arange(3.0))
    assert x.to_gpu() is x and isinstance(x.data, cp.ndarray)
    assert cuda.device_of(x) == "gpu:0"
    x.to_cpu()
    assert isinstance(x.data, np.ndarray) and list(x.data) == [0.0, 1.0, 2.0]


@pytest.mark.gpu
def test_cupy_arrays_work_before_zerograd_loads_cupy(monkeypatch):
    """A user who imports CuPy first and builds Variables right away needs no zerograd call."""
    cp = pytest.importorskip("cupy")
    if not cuda.gpu_enable:
        pytest.skip("no GPU")
    monkeypatch.setattr(cuda, "_cupy", None)
    monkeypatch.setattr(cuda, "array_types", (np.ndarray,))
    x = zg.Variable(cp.arange(3.0))
    assert cuda._cupy is cp
    y = (F.sin(x) * cp.ones(3)).sum()
    y.backward()
    assert isinstance(x.grad.data, cp.ndarray)
