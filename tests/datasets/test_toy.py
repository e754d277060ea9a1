"""Spiral and SinCurve: the same arrays as DeZero 0.0.13 draws, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from tests.compat.dezero_ref import run_dezero_code
from zerograd.datasets import SinCurve, Spiral, get_spiral

_REFERENCE = """
import numpy as np
from dezero.datasets import SinCurve, get_spiral
out = {}
out["x_train"], out["t_train"] = get_spiral(True)
out["x_test"], out["t_test"] = get_spiral(False)
np.random.seed(0)
out["sin_train"] = SinCurve(train=True).data
out["sin_train_label"] = SinCurve(train=True).label
out["sin_test"] = SinCurve(train=False).data
np.savez(OUT, **out)
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    path = tmp_path_factory.mktemp("dezero") / "toy.npz"
    run_dezero_code(f"OUT = {str(path)!r}\n" + _REFERENCE, path.parent)
    with np.load(path) as f:
        return dict(f)


def test_spiral_matches_dezero(reference: dict[str, np.ndarray]) -> None:
    for train, split in ((True, "train"), (False, "test")):
        x, t = get_spiral(train)
        ref_x, ref_t = reference[f"x_{split}"], reference[f"t_{split}"]
        assert x.dtype == np.float32 and x.shape == (300, 2)
        assert t.dtype == ref_t.dtype and t.shape == (300,)
        np.testing.assert_array_equal(x, ref_x)
        np.testing.assert_array_equal(t, ref_t)


def test_spiral_reseeds_global_rng_like_dezero() -> None:
    np.random.seed(123)
    get_spiral(True)
    after = np.random.rand()
    np.random.seed(1984)
    np.random.randn(300)
    np.random.permutation(300)
    assert after == np.random.rand()


def test_spiral_dataset() -> None:
    ds = Spiral(train=False, transform=lambda x: x * 2)
    x, t = get_spiral(False)
    assert len(ds) == 300
    assert np.bincount(ds.label).tolist() == [100, 100, 100]
    xi, ti = ds[5]
    np.testing.assert_array_equal(xi, x[5] * 2)
    assert ti == t[5]
    with pytest.raises(TypeError, match="scalar"):
        ds[[0, 1]]


def test_sincurve_matches_dezero(reference: dict[str, np.ndarray]) -> None:
    np.random.seed(0)
    train = SinCurve(train=True)
    train2 = SinCurve(train=True)
    test = SinCurve(train=False)
    assert train.data.shape == (999, 1) and train.data.dtype == np.float64
    np.testing.assert_array_equal(train.data, reference["sin_train"])
    np.testing.assert_array_equal(train2.label, reference["sin_train_label"])
    np.testing.assert_array_equal(test.data, reference["sin_test"])
    np.testing.assert_array_equal(train.label[:-1], train.data[1:])
    np.testing.assert_allclose(test.data[:, 0], np.cos(np.linspace(0, 2 * np.pi, 1000))[:-1])
