"""DataLoader and SeqDataLoader: DeZero's batches, permutations and RNG draws."""

from __future__ import annotations

import numpy as np
import pytest

from tests.compat.dezero_ref import run_dezero_code
from zerograd import DataLoader, SeqDataLoader
from zerograd.datasets import Dataset, SinCurve, Spiral


class Range(Dataset):
    def __init__(self, n: int) -> None:
        self.n = n
        super().__init__()

    def prepare(self) -> None:
        self.data = np.arange(self.n, dtype=np.float32).reshape(-1, 1)
        self.label = np.arange(self.n) % 3


_REFERENCE = """
import numpy as np
from dezero import DataLoader, SeqDataLoader
from dezero.datasets import SinCurve, Spiral
ds = Spiral()
np.random.seed(0)
loader = DataLoader(ds, batch_size=64)
xs = [x for _ in range(2) for x, t in loader]
after = np.random.rand()
np.random.seed(1)
seq = SeqDataLoader(SinCurve(), batch_size=4)
sx = [x for x, t in seq]
np.savez(OUT, x=np.concatenate(xs), after=after, sx=np.stack(sx))
"""


def test_batches_match_dezero(tmp_path) -> None:
    path = tmp_path / "loader.npz"
    run_dezero_code(f"OUT = {str(path)!r}\n" + _REFERENCE, tmp_path)
    ds = Spiral()
    np.random.seed(0)
    loader = DataLoader(ds, batch_size=64)
    xs = [x for _ in range(2) for x, t in loader]
    after = np.random.rand()
    np.random.seed(1)
    sx = [x for x, t in SeqDataLoader(SinCurve(), batch_size=4)]
    with np.load(path) as ref:
        np.testing.assert_array_equal(np.concatenate(xs), ref["x"])
        assert after == ref["after"]
        np.testing.assert_array_equal(np.stack(sx), ref["sx"])


def test_epochs_reset_and_reshuffle() -> None:
    np.random.seed(3)
    loader = DataLoader(Range(10), batch_size=4)
    first = [t.tolist() for _, t in loader]
    assert [len(b) for b in first] == [4, 4, 2] and len(loader) == 3
    x, t = next(loader)  # a new epoch, a new permutation drawn at the end of the last one
    assert x.shape == (4, 1) and x.dtype == np.float32 and t.dtype == np.int64
    np.random.seed(3)
    expected_first = np.random.permutation(10)
    expected_second = np.random.permutation(10)
    assert [t for batch in first for t in batch] == (expected_first % 3).tolist()
    np.testing.assert_array_equal(x[:, 0], expected_second[:4])


def test_no_shuffle_and_next() -> None:
    loader = DataLoader(Range(5), batch_size=2, shuffle=False)
    x, _ = loader.next()
    np.testing.assert_array_equal(x[:, 0], [0, 1])
    assert [b[0][:, 0].tolist() for b in loader] == [[2, 3], [4]]
    assert [b[0][:, 0].tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(Range(5), batch_size=0)


def test_seq_loader_walks_parallel_offsets() -> None:
    loader = SeqDataLoader(Range(10), batch_size=2)
    rows = [x[:, 0].tolist() for x, _ in loader]
    assert rows == [[0, 5], [1, 6], [2, 7], [3, 8], [4, 9]]


def test_to_gpu_without_cupy_errors_clearly() -> None:
    from zerograd import cuda

    if cuda.gpu_enable:
        pytest.skip("a GPU is present")
    loader = DataLoader(Range(4), batch_size=2)
    loader.to_gpu()
    with pytest.raises(RuntimeError, match="CuPy|GPU"):
        next(loader)
    loader.to_cpu()
    assert isinstance(next(loader)[0], np.ndarray)


@pytest.mark.gpu
def test_gpu_batches() -> None:
    from zerograd import cuda

    if not cuda.gpu_enable:
        pytest.skip("no GPU")
    import cupy

    x, t = next(DataLoader(Range(4), batch_size=2, gpu=True))
    assert isinstance(x, cupy.ndarray) and isinstance(t, cupy.ndarray)


def test_array_fast_path_equals_per_example_path() -> None:
    plain, mapped = Spiral(), Spiral(transform=lambda x: x, target_transform=lambda t: t)
    np.random.seed(0)
    fast = list(DataLoader(plain, batch_size=7))
    np.random.seed(0)
    slow = list(DataLoader(mapped, batch_size=7))
    assert len(fast) == len(slow) == 43
    for (x0, t0), (x1, t1) in zip(fast, slow):
        assert x0.dtype == x1.dtype and t0.dtype == t1.dtype
        np.testing.assert_array_equal(x0, x1)
        np.testing.assert_array_equal(t0, t1)


@pytest.mark.parametrize("loader", [DataLoader, SeqDataLoader])
@pytest.mark.parametrize(
    ("batch_size", "exc", "match"),
    [
        (2.5, TypeError, r"batch_size must be an integer, got 2.5 \(float\)"),
        (2.0, TypeError, r"batch_size must be an integer, got 2.0 \(float\)"),
        ("2", TypeError, r"batch_size must be an integer, got '2' \(str\)"),
        (True, TypeError, r"batch_size must be an integer, got True \(bool\)"),
        (None, TypeError, r"batch_size must be an integer, got None"),
        (np.array([2]), TypeError, r"batch_size must be an integer"),
        (0, ValueError, r"batch_size must be positive, got 0"),
        (-1, ValueError, r"batch_size must be positive, got -1"),
    ],
)
def test_batch_size_must_be_a_positive_integer(
    loader: type, batch_size: object, exc: type, match: str
) -> None:
    with pytest.raises(exc, match=rf"^{loader.__name__}: {match}"):
        loader(Spiral(), batch_size)


@pytest.mark.parametrize("loader", [DataLoader, SeqDataLoader])
def test_numpy_integer_batch_sizes_are_plain_ints(loader: type) -> None:
    dl = loader(Spiral(), np.int64(100))
    assert type(dl.batch_size) is int and len(dl) == 3
