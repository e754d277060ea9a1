"""Digits: scikit-learn's 8x8 digits with a fixed train/test split."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from zerograd.datasets import Digits
from zerograd.transforms import Compose, Normalize, ToFloat


def test_split_is_fixed_disjoint_and_complete() -> None:
    from sklearn.datasets import load_digits

    train, test = Digits(train=True), Digits(train=False)
    assert (len(train), len(test)) == (1437, 360)
    assert train.data.shape == (1437, 1, 8, 8) and train.data.dtype == np.uint8
    assert train.label.dtype == np.int64
    np.testing.assert_array_equal(Digits(train=True).data, train.data)
    images = load_digits().images.reshape(-1, 64)
    both = np.concatenate([train.data, test.data]).reshape(-1, 64)
    assert sorted(map(bytes, both.astype(np.uint8))) == sorted(map(bytes, images.astype(np.uint8)))
    assert set(np.unique(test.label)) == set(range(10))


def test_split_leaves_global_rng_alone() -> None:
    np.random.seed(7)
    Digits(train=False)
    value = np.random.rand()
    np.random.seed(7)
    assert value == np.random.rand()


def test_default_and_image_transforms() -> None:
    x, t = Digits()[0]
    assert x.shape == (64,) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.5
    ds = Digits(transform=Compose([ToFloat(), Normalize(0.0, 16.0)]))
    img, label = ds[0]
    assert img.shape == (1, 8, 8)
    np.testing.assert_array_equal(img.reshape(-1), x)
    assert label == t


def test_missing_scikit_learn_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from zerograd.datasets.digits import load_digits_arrays

    load_digits_arrays.cache_clear()
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        Digits()
