"""transforms: DeZero's array transforms and the PIL ones."""

from __future__ import annotations

import numpy as np
import pytest

from zerograd import transforms as T


def test_compose_flatten_astype_normalize() -> None:
    x = np.arange(12, dtype=np.uint8).reshape(3, 2, 2)
    f = T.Compose([T.Flatten(), T.ToFloat(), T.Normalize(1.0, 2.0)])
    y = f(x)
    assert y.dtype == np.float32 and y.shape == (12,)
    np.testing.assert_array_equal(y, (np.arange(12, dtype=np.float32) - 1) / 2)
    assert T.Compose()(x) is x
    assert T.ToInt()(np.array([1.7])).dtype == np.dtype(int)
    assert T.AsType(np.float64)(x).dtype == np.float64


def test_normalize_per_channel() -> None:
    x = np.ones((3, 2, 2), dtype=np.float32)
    y = T.Normalize(mean=[0.0, 1.0, 2.0], std=[1.0, 2.0, 4.0])(x)
    np.testing.assert_allclose(y[:, 0, 0], [1.0, 0.0, -0.25])
    assert y.dtype == np.float32
    z = T.Normalize(mean=[1.0], std=[2.0])(x)  # one value for every channel
    np.testing.assert_array_equal(z, np.zeros_like(x))


def test_random_horizontal_flip_uses_global_rng() -> None:
    x = np.arange(6).reshape(1, 2, 3)
    np.random.seed(0)  # first draw 0.5488 >= 0.5: no flip; second 0.7152: no flip
    assert T.RandomHorizontalFlip()(x) is x
    flipped = T.RandomHorizontalFlip(p=1.0)(x)
    np.testing.assert_array_equal(flipped, x[..., ::-1])


def test_pil_transforms() -> None:
    Image = pytest.importorskip("PIL.Image")
    array = np.arange(3 * 4 * 6, dtype=np.uint8).reshape(3, 4, 6)
    img = T.ToPIL()(array)
    assert img.size == (6, 4)
    back = T.ToArray()(img)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, array)
    assert T.ToArray()(array) is array
    crop = T.CenterCrop(2)(img)
    np.testing.assert_array_equal(T.ToArray(np.uint8)(crop), array[:, 1:3, 2:4])
    assert T.Resize((3, 2))(img).size == (3, 2)
    bgr = T.ToArray(np.uint8)(T.Convert("BGR")(img))
    np.testing.assert_array_equal(bgr, array[::-1])
    assert T.Convert("L")(img).mode == "L"
    np.testing.assert_array_equal(
        T.ToArray(np.uint8)(T.RandomHorizontalFlip(p=1.0)(img)), array[..., ::-1]
    )
    with pytest.raises(TypeError, match="PIL image"):
        T.ToArray()([1, 2])
    assert isinstance(img, Image.Image)
