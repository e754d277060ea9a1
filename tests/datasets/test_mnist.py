"""MNIST on small IDX gzip files written by the test, and on broken ones."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from tests.datasets.conftest import idx_bytes, write_gzip
from zerograd.datasets import MNIST, ChecksumError
from zerograd.datasets.mnist import parse_idx

N = 5


def make_mnist(root: Path, train: bool = True, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    prefix = "train" if train else "t10k"
    write_gzip(root / f"{prefix}-images-idx3-ubyte.gz", idx_bytes(images))
    write_gzip(root / f"{prefix}-labels-idx1-ubyte.gz", idx_bytes(labels))
    return images, labels


def pin_all(pin, root: Path, train: bool = True, url: bool = False) -> None:
    split = "train" if train else "test"
    prefix = "train" if train else "t10k"
    pin(MNIST, f"{split}_images", root / f"{prefix}-images-idx3-ubyte.gz", url)
    pin(MNIST, f"{split}_labels", root / f"{prefix}-labels-idx1-ubyte.gz", url)


@pytest.mark.parametrize("train", [True, False])
def test_reads_generated_files(data_dir: Path, pin, train: bool) -> None:
    images, labels = make_mnist(data_dir, train)
    pin_all(pin, data_dir, train)
    ds = MNIST(train=train)
    assert ds.data.shape == (N, 1, 28, 28) and ds.data.dtype == np.uint8
    np.testing.assert_array_equal(ds.data[:, 0], images)
    np.testing.assert_array_equal(ds.label, labels)
    x, t = ds[2]
    assert x.shape == (784,) and x.dtype == np.float32
    np.testing.assert_allclose(x, images[2].reshape(-1) / np.float32(255), rtol=1e-6)
    assert t == labels[2]


def test_missing_files_say_where_to_put_them(data_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\.gz.*download=True"):
        MNIST()
    assert not data_dir.exists()


def test_download_on_request(data_dir: Path, tmp_path: Path, pin) -> None:
    remote = tmp_path / "remote"
    _, labels = make_mnist(remote, train=False)
    pin_all(pin, remote, train=False, url=True)
    ds = MNIST(train=False, download=True)
    np.testing.assert_array_equal(ds.label, labels)
    assert sorted(os.listdir(data_dir)) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]


def test_wrong_checksum_on_download_writes_nothing(data_dir: Path, tmp_path: Path, pin) -> None:
    remote = tmp_path / "remote"
    make_mnist(remote)
    pin_all(pin, remote, url=True)
    (remote / "train-images-idx3-ubyte.gz").write_bytes(b"tampered")
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz"):
        MNIST(download=True)
    assert os.listdir(data_dir) == []


def test_wrong_checksum_in_cache(data_dir: Path) -> None:
    make_mnist(data_dir)  # real MNIST digests are expected, these files do not match
    with pytest.raises(ChecksumError, match="SHA-256"):
        MNIST()


def test_truncated_gzip(data_dir: Path, pin) -> None:
    make_mnist(data_dir)
    path = data_dir / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-40])
    pin_all(pin, data_dir)
    with pytest.raises(ValueError, match="not a complete gzip file"):
        MNIST()


def test_truncated_idx_payload(data_dir: Path, pin) -> None:
    make_mnist(data_dir)
    raw = idx_bytes(np.zeros((N, 28, 28), np.uint8))[:-1]
    write_gzip(data_dir / "train-images-idx3-ubyte.gz", raw)
    pin_all(pin, data_dir)
    with pytest.raises(ValueError, match="truncated"):
        MNIST()


def test_wrong_magic(data_dir: Path, pin) -> None:
    make_mnist(data_dir)
    # A label file where the images should be: magic 0x801 instead of 0x803.
    write_gzip(data_dir / "train-images-idx3-ubyte.gz", idx_bytes(np.zeros(N, np.uint8)))
    pin_all(pin, data_dir)
    with pytest.raises(ValueError, match="magic number 0x00000801, expected 0x00000803"):
        MNIST()


def test_not_gzip(data_dir: Path, pin) -> None:
    make_mnist(data_dir)
    (data_dir / "train-labels-idx1-ubyte.gz").write_bytes(b"<html>404</html>")
    pin_all(pin, data_dir)
    with pytest.raises(ValueError, match="not a complete gzip file"):
        MNIST()


def test_count_mismatch(data_dir: Path, pin) -> None:
    make_mnist(data_dir)
    write_gzip(data_dir / "train-labels-idx1-ubyte.gz", idx_bytes(np.zeros(N + 1, np.uint8)))
    pin_all(pin, data_dir)
    with pytest.raises(ValueError, match="5 images but .* 6 labels"):
        MNIST()


def test_parse_idx_types_and_errors() -> None:
    raw = bytes([0, 0, 0x0C, 2]) + np.array([2, 3], ">u4").tobytes()
    raw += np.arange(6, dtype=">i4").tobytes()
    array = parse_idx(raw)
    assert array.dtype == np.int32 and array.dtype.isnative
    np.testing.assert_array_equal(array, np.arange(6).reshape(2, 3))
    with pytest.raises(ValueError, match="trailing data"):
        parse_idx(raw + b"\0")
    with pytest.raises(ValueError, match="bad magic"):
        parse_idx(b"\x1f\x8b\x08\x00")
    with pytest.raises(ValueError, match="truncated IDX header"):
        parse_idx(bytes([0, 0, 8, 3, 0, 0]))
    assert gzip.decompress(gzip.compress(raw)) == raw
