"""``CIFAR10`` and ``CIFAR100`` from the *binary* versions of the archives.

The Python versions are pickles, which zerograd never loads from downloaded content. The
binary versions hold fixed-size records: ``<label><3072 pixel bytes>`` for CIFAR-10,
``<coarse label><fine label><3072 pixel bytes>`` for CIFAR-100 (pixels are 1024 red, 1024
green, 1024 blue, row-major). Members are read from the tar.gz in memory, never extracted.
"""

from __future__ import annotations

import tarfile
import zlib
from typing import ClassVar

import numpy as np

from zerograd.datasets._base import Dataset, Transform
from zerograd.datasets._download import Resource, want_download
from zerograd.datasets.mnist import _show_grid
from zerograd.transforms import Compose, Normalize, ToFloat

_PIXELS = 3 * 32 * 32
_BASE = "https://www.cs.toronto.edu/~kriz/"

#: DeZero's default per-example transform (one shared instance, as in DeZero).
_DEFAULT_TRANSFORM = Compose([ToFloat(), Normalize(mean=0.5, std=0.5)])


def read_members(path: str, names: list[str]) -> dict[str, bytes]:
    """The content of the named members of a tar.gz archive (errors name what is wrong)."""
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                if member.name in names and member.isfile():
                    f = archive.extractfile(member)
                    assert f is not None
                    found[member.name] = f.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path}: not a complete tar.gz archive ({error})") from None
    missing = [n for n in names if n not in found]
    if missing:
        raise ValueError(f"{path}: the archive has no member {', '.join(missing)}")
    return found


def parse_records(
    raw: bytes, label_bytes: int, num_classes: tuple[int, ...], where: str
) -> tuple[np.ndarray, np.ndarray]:
    """Split binary CIFAR records into images uint8 (N, 3, 32, 32) and labels uint8
    (N, label_bytes)."""
    size = label_bytes + _PIXELS
    if not raw or len(raw) % size:
        raise ValueError(
            f"{where}: {len(raw)} bytes is not a whole number of {size}-byte records "
            f"(truncated or not a CIFAR binary file)"
        )
    records = np.frombuffer(raw, np.uint8).reshape(-1, size)
    labels = records[:, :label_bytes]
    for k, limit in enumerate(num_classes):
        if labels[:, k].max() >= limit:
            raise ValueError(
                f"{where}: label {int(labels[:, k].max())} out of range (< {limit}); "
                f"not a CIFAR binary file?"
            )
    return records[:, label_bytes:].reshape(-1, 3, 32, 32), labels


class CIFAR10(Dataset):
    """CIFAR-10: ``data`` uint8 (N, 3, 32, 32), ``label`` int64 (N,); 50000 train, 10000 test.

    Reads ``cifar-10-binary.tar.gz`` from the data directory (``download=True`` fetches it;
    ``None`` reads ``ZEROGRAD_DOWNLOAD=1``).
    """

    resources: ClassVar[dict[str, Resource]] = {
        "archive": Resource(
            _BASE + "cifar-10-binary.tar.gz",
            "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
        )
    }
    _folder = "cifar-10-batches-bin/"

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = _DEFAULT_TRANSFORM,
        target_transform: Transform | None = None,
        download: bool | None = None,
    ) -> None:
        self.download = want_download(download)
        super().__init__(train, transform, target_transform)

    def _members(self) -> list[str]:
        if self.train:
            return [f"{self._folder}data_batch_{i}.bin" for i in range(1, 6)]
        return [f"{self._folder}test_batch.bin"]

    def prepare(self) -> None:
        path = self.resources["archive"].fetch(self.download)
        names = self._members()
        contents = read_members(path, names)
        images, labels = [], []
        for name in names:
            x, t = parse_records(contents[name], 1, (10,), f"{path}:{name}")
            images.append(x)
            labels.append(t[:, 0])
        self.data = np.concatenate(images)
        self.label = np.concatenate(labels).astype(np.int64)

    def show(self, row: int = 10, col: int = 10) -> None:
        """Show ``row x col`` random images (matplotlib)."""
        _show_grid(self.data, row, col, lambda img: img.transpose(1, 2, 0) / 255)

    @staticmethod
    def labels() -> dict[int, str]:
        names = "airplane automobile bird cat deer dog frog horse ship truck".split()
        return dict(enumerate(names))


class CIFAR100(CIFAR10):
    """CIFAR-100: like ``CIFAR10`` with 100 ``'fine'`` or 20 ``'coarse'`` labels
    (``label_type``); reads ``cifar-100-binary.tar.gz``."""

    resources: ClassVar[dict[str, Resource]] = {
        "archive": Resource(
            _BASE + "cifar-100-binary.tar.gz",
            "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
        )
    }
    _folder = "cifar-100-binary/"

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = _DEFAULT_TRANSFORM,
        target_transform: Transform | None = None,
        label_type: str = "fine",
        download: bool | None = None,
    ) -> None:
        if label_type not in ("fine", "coarse"):
            raise ValueError(f"CIFAR100: label_type must be 'fine' or 'coarse', got {label_type!r}")
        self.label_type = label_type
        super().__init__(train, transform, target_transform, download)

    def _members(self) -> list[str]:
        return [self._folder + ("train.bin" if self.train else "test.bin")]

    def prepare(self) -> None:
        path = self.resources["archive"].fetch(self.download)
        (name,) = self._members()
        raw = read_members(path, [name])[name]
        self.data, labels = parse_records(raw, 2, (20, 100), f"{path}:{name}")
        column = 1 if self.label_type == "fine" else 0
        self.label = labels[:, column].astype(np.int64)

    @staticmethod
    def labels(label_type: str = "fine") -> dict[int, str]:  # type: ignore[override]
        names = _FINE if label_type == "fine" else _COARSE
        return dict(enumerate(names.split()))


_COARSE = (
    "aquatic_mammals fish flowers food_containers fruit_and_vegetables "
    "household_electrical_devices household_furniture insects large_carnivores "
    "large_man-made_outdoor_things large_natural_outdoor_scenes large_omnivores_and_herbivores "
    "medium_mammals non-insect_invertebrates people reptiles small_mammals trees vehicles_1 "
    "vehicles_2"
)
_FINE = (
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus "
    "butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch "
    "crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house "
    "kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle "
    "mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree "
    "plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew "
    "skunk skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank "
    "telephone television tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf "
    "woman worm"
)
