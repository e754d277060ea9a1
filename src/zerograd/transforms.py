"""Per-example transforms (DeZero's ``dezero.transforms``).

The NumPy ones (``Normalize``, ``Flatten``, ``AsType``/``ToFloat``, ``ToInt``) need nothing
else; the PIL ones (``Convert``, ``Resize``, ``CenterCrop``, ``ToArray``, ``ToPIL``,
``RandomHorizontalFlip`` on images) import Pillow when first used.

>>> import numpy as np
>>> f = Compose([Flatten(), ToFloat(), Normalize(0.0, 255.0)])
>>> f(np.full((1, 2, 2), 255, dtype=np.uint8))
array([1., 1., 1., 1.], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "AsType",
    "CenterCrop",
    "Compose",
    "Convert",
    "Flatten",
    "Normalize",
    "RandomHorizontalFlip",
    "Resize",
    "ToArray",
    "ToFloat",
    "ToInt",
    "ToPIL",
]


def _pair(x: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(x, int):
        return (x, x)
    if len(x) == 2:
        return (int(x[0]), int(x[1]))
    raise ValueError(f"expected an int or a pair of ints, got {x!r}")


def _pil_image() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "zerograd.transforms: this transform works on PIL images and needs Pillow "
            "(pip install pillow)"
        ) from None
    return Image


class Compose:
    """Apply ``transforms`` in order."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]] = ()) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"


# -- PIL images ---------------------------------------------------------------------------------
class Convert:
    """Convert a PIL image to ``mode`` (``'BGR'`` swaps the channels of RGB)."""

    def __init__(self, mode: str = "RGB") -> None:
        self.mode = mode

    def __call__(self, img: Any) -> Any:
        if self.mode == "BGR":
            Image = _pil_image()
            r, g, b = img.convert("RGB").split()
            return Image.merge("RGB", (b, g, r))
        return img.convert(self.mode)


class Resize:
    """Resize a PIL image to ``size`` (int or (width, height)); ``mode`` defaults to
    bilinear."""

    def __init__(self, size: int | tuple[int, int], mode: Any = None) -> None:
        self.size = _pair(size)
        self.mode = mode

    def __call__(self, img: Any) -> Any:
        mode = self.mode if self.mode is not None else _pil_image().BILINEAR
        return img.resize(self.size, mode)


class CenterCrop:
    """Crop the centre ``size`` (int or (width, height)) of a PIL image."""

    def __init__(self, size: int | tuple[int, int]) -> None:
        self.size = _pair(size)

    def __call__(self, img: Any) -> Any:
        W, H = img.size
        OW, OH = self.size
        left = (W - OW) // 2
        right = W - ((W - OW) // 2 + (W - OW) % 2)
        up = (H - OH) // 2
        bottom = H - ((H - OH) // 2 + (H - OH) % 2)
        return img.crop((left, up, right, bottom))


class ToArray:
    """PIL image (H, W, C) to a (C, H, W) array of ``dtype``; arrays pass through."""

    def __init__(self, dtype: Any = np.float32) -> None:
        self.dtype = dtype

    def __call__(self, img: Any) -> Any:
        if isinstance(img, np.ndarray):
            return img
        if isinstance(img, _pil_image().Image):
            return np.asarray(img).transpose(2, 0, 1).astype(self.dtype)
        raise TypeError(f"ToArray: expected a PIL image or an ndarray, got {type(img).__name__}")


class ToPIL:
    """A (C, H, W) array to a PIL image."""

    def __call__(self, array: np.ndarray) -> Any:
        return _pil_image().fromarray(array.transpose(1, 2, 0))


class RandomHorizontalFlip:
    """Flip left-right with probability ``p`` (NumPy's global RNG): PIL images, or arrays
    whose last axis is the width."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        if np.random.rand() >= self.p:
            return img
        if isinstance(img, np.ndarray):
            return img[..., ::-1].copy()
        return img.transpose(_pil_image().FLIP_LEFT_RIGHT)


# -- NumPy arrays ---------------------------------------------------------------------------------
class Normalize:
    """``(array - mean) / std``; ``mean``/``std`` are scalars or one value per channel
    (axis 0)."""

    def __init__(self, mean: Any = 0, std: Any = 1) -> None:
        self.mean = mean
        self.std = std

    def __call__(self, array: np.ndarray) -> np.ndarray:
        return (array - self._per_channel(self.mean, array)) / self._per_channel(self.std, array)

    @staticmethod
    def _per_channel(value: Any, array: np.ndarray) -> Any:
        if np.isscalar(value):
            return value
        # Shaped (C, 1, 1...) to broadcast along axis 0; DeZero's reshape of a one-value
        # sequence to (len(array), 1...) failed, here it broadcasts to every channel.
        value = np.asarray(value, dtype=array.dtype)
        return value.reshape(len(value), *([1] * (array.ndim - 1)))


class Flatten:
    """Flatten an array to 1-D."""

    def __call__(self, array: np.ndarray) -> np.ndarray:
        return array.flatten()


class AsType:
    """Cast an array to ``dtype`` (float32 by default)."""

    def __init__(self, dtype: Any = np.float32) -> None:
        self.dtype = dtype

    def __call__(self, array: np.ndarray) -> np.ndarray:
        return array.astype(self.dtype)


ToFloat = AsType


class ToInt(AsType):
    """Cast an array to an integer ``dtype`` (NumPy's default int by default)."""

    def __init__(self, dtype: Any = int) -> None:
        self.dtype = dtype
