"""``MNIST``: the handwritten digits in their original IDX gzip files.

The four files are read from the data directory (``$ZEROGRAD_DATA``, default
``~/.zerograd``), checked against their SHA-256 digests and parsed strictly: magic number,
dimensions and length must agree, so a truncated or foreign file fails with a clear error.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Any, ClassVar

import numpy as np

from zerograd.datasets._base import Dataset, Transform
from zerograd.datasets._download import Resource, want_download
from zerograd.transforms import Compose, Flatten, Normalize, ToFloat

_BASE = "https://storage.googleapis.com/cvdf-datasets/mnist/"
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

#: DeZero's default per-example transform (one shared instance, as in DeZero).
_DEFAULT_TRANSFORM = Compose([Flatten(), ToFloat(), Normalize(0.0, 255.0)])


def read_gzip(path: str) -> bytes:
    """The decompressed content of a gzip file, or a ValueError naming what is wrong."""
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: not a complete gzip file ({error})") from None


def parse_idx(raw: bytes, path: str = "<bytes>") -> np.ndarray:
    """Parse an IDX buffer (the MNIST format): 2 zero bytes, a type code, the number of
    dimensions, the big-endian uint32 sizes, then the values."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    dtype = np.dtype(_IDX_TYPES[raw[2]])  # type: ignore[call-overload]
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"{path}: IDX header says shape {shape} ({expected} bytes), the file has "
            f"{len(raw)} bytes ({'truncated' if len(raw) < expected else 'trailing data'})"
        )
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def load_idx(path: str, magic: int) -> np.ndarray:
    """Read a gzip IDX file whose 4-byte magic number must be ``magic``."""
    raw = read_gzip(path)
    found = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if found != magic:
        shown = "none" if found is None else f"0x{found:08x}"
        raise ValueError(f"{path}: magic number {shown}, expected 0x{magic:08x}")
    return parse_idx(raw, path)


class MNIST(Dataset):
    """MNIST: ``data`` uint8 (N, 1, 28, 28), ``label`` uint8 (N,); 60000 train, 10000 test.

    ``download=True`` fetches missing files (``None`` reads ``ZEROGRAD_DOWNLOAD=1``);
    otherwise a missing file raises ``FileNotFoundError`` saying where to put it.
    """

    resources: ClassVar[dict[str, Resource]] = {
        "train_images": Resource(
            _BASE + "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ),
        "train_labels": Resource(
            _BASE + "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
        "test_images": Resource(
            _BASE + "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ),
        "test_labels": Resource(
            _BASE + "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
    }

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = _DEFAULT_TRANSFORM,
        target_transform: Transform | None = None,
        download: bool | None = None,
    ) -> None:
        self.download = want_download(download)
        super().__init__(train, transform, target_transform)

    def prepare(self) -> None:
        split = "train" if self.train else "test"
        image_path = self.resources[f"{split}_images"].fetch(self.download)
        label_path = self.resources[f"{split}_labels"].fetch(self.download)
        data = load_idx(image_path, 0x00000803)
        label = load_idx(label_path, 0x00000801)
        if data.shape[1:] != (28, 28):
            raise ValueError(f"{image_path}: images of shape {data.shape[1:]}, expected (28, 28)")
        if len(data) != len(label):
            raise ValueError(
                f"{image_path} has {len(data)} images but {label_path} has {len(label)} labels"
            )
        if label.size and label.max() > 9:
            raise ValueError(f"{label_path}: label {int(label.max())} is not a digit")
        self.data = data.reshape(-1, 1, 28, 28)
        self.label = label

    def show(self, row: int = 10, col: int = 10) -> None:
        """Show ``row x col`` random images (matplotlib)."""
        _show_grid(self.data, row, col, lambda img: img.reshape(28, 28), cmap="gray")

    @staticmethod
    def labels() -> dict[int, str]:
        return {i: str(i) for i in range(10)}


def _show_grid(data: np.ndarray, row: int, col: int, to_image: Any, **kwargs: Any) -> None:
    import matplotlib.pyplot as plt

    first = to_image(data[0])
    H, W = first.shape[:2]
    img = np.zeros((H * row, W * col, *first.shape[2:]))
    for r in range(row):
        for c in range(col):
            sample = data[np.random.randint(0, len(data) - 1)]
            img[r * H : (r + 1) * H, c * W : (c + 1) * W] = to_image(sample)
    plt.imshow(img, interpolation="nearest", **kwargs)
    plt.axis("off")
    plt.show()
