"""CIFAR-10/100 from small archives in the binary format, written by the test."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.datasets.conftest import write_tar_gz
from zerograd.datasets import CIFAR10, CIFAR100, ChecksumError

ARCHIVE10 = "cifar-10-binary.tar.gz"
ARCHIVE100 = "cifar-100-binary.tar.gz"


def records(labels: np.ndarray, images: np.ndarray) -> bytes:
    """Binary CIFAR records: label byte(s) then 3072 pixel bytes, per image."""
    return (
        np.concatenate([labels.reshape(len(images), -1), images.reshape(len(images), -1)], 1)
        .astype(np.uint8)
        .tobytes()
    )


def make_cifar10(path: Path, per_batch: int = 3) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(1)
    members, content = {}, {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        images = rng.integers(0, 256, size=(per_batch, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, size=per_batch, dtype=np.uint8)
        members[f"cifar-10-batches-bin/{name}"] = records(labels, images)
        content[name] = (images, labels)
    members["cifar-10-batches-bin/batches.meta.txt"] = b"airplane\n"
    write_tar_gz(path, members)
    return content


def make_cifar100(path: Path, n: int = 4) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(2)
    members, content = {}, {}
    for name in ("train.bin", "test.bin"):
        images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        labels = np.stack([rng.integers(0, 20, n), rng.integers(0, 100, n)], 1).astype(np.uint8)
        members[f"cifar-100-binary/{name}"] = records(labels, images)
        content[name] = (images, labels)
    write_tar_gz(path, members)
    return content


def test_cifar10_train_and_test(data_dir: Path, pin) -> None:
    content = make_cifar10(data_dir / ARCHIVE10)
    pin(CIFAR10, "archive", data_dir / ARCHIVE10)
    train = CIFAR10(train=True)
    assert train.data.shape == (15, 3, 32, 32) and train.data.dtype == np.uint8
    expected = np.concatenate([content[f"data_batch_{i}.bin"][0] for i in range(1, 6)])
    np.testing.assert_array_equal(train.data, expected)
    assert train.label.dtype == np.int64
    np.testing.assert_array_equal(train.label[:3], content["data_batch_1.bin"][1])
    test = CIFAR10(train=False, transform=None)
    np.testing.assert_array_equal(test.data, content["test_batch.bin"][0])
    x, t = CIFAR10(train=False)[1]
    assert x.dtype == np.float32 and x.shape == (3, 32, 32)
    np.testing.assert_allclose(x, (content["test_batch.bin"][0][1] - 0.5) / 0.5)
    assert t == content["test_batch.bin"][1][1]
    assert CIFAR10.labels()[0] == "airplane"


@pytest.mark.parametrize("label_type, column", [("fine", 1), ("coarse", 0)])
def test_cifar100(data_dir: Path, pin, label_type: str, column: int) -> None:
    content = make_cifar100(data_dir / ARCHIVE100)
    pin(CIFAR100, "archive", data_dir / ARCHIVE100)
    ds = CIFAR100(train=False, label_type=label_type)
    images, labels = content["test.bin"]
    np.testing.assert_array_equal(ds.data, images)
    np.testing.assert_array_equal(ds.label, labels[:, column])
    assert len(CIFAR100.labels(label_type)) == (100 if label_type == "fine" else 20)
    with pytest.raises(ValueError, match="label_type"):
        CIFAR100(label_type="medium")


def test_download_on_request(data_dir: Path, tmp_path: Path, pin) -> None:
    make_cifar100(tmp_path / ARCHIVE100)
    pin(CIFAR100, "archive", tmp_path / ARCHIVE100, url=True)
    assert len(CIFAR100(download=True)) == 4
    assert os.listdir(data_dir) == [ARCHIVE100]


def test_missing_archive(data_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match="cifar-10-binary.tar.gz"):
        CIFAR10()


def test_wrong_checksum(data_dir: Path, tmp_path: Path, pin) -> None:
    make_cifar10(data_dir / ARCHIVE10)
    with pytest.raises(ChecksumError):
        CIFAR10()
    make_cifar10(tmp_path / ARCHIVE10, per_batch=2)
    pin(CIFAR10, "archive", tmp_path / ARCHIVE10, url=True)
    (tmp_path / ARCHIVE10).write_bytes(b"changed after pinning")
    os.remove(data_dir / ARCHIVE10)
    with pytest.raises(ChecksumError, match="nothing was saved"):
        CIFAR10(download=True)
    assert os.listdir(data_dir) == []


def test_truncated_archive(data_dir: Path, pin) -> None:
    path = data_dir / ARCHIVE10
    make_cifar10(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    pin(CIFAR10, "archive", path)
    with pytest.raises(ValueError, match="not a complete tar.gz archive"):
        CIFAR10()


def test_not_an_archive(data_dir: Path, pin) -> None:
    path = data_dir / ARCHIVE10
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 a zip, not a tar.gz")
    pin(CIFAR10, "archive", path)
    with pytest.raises(ValueError, match="not a complete tar.gz archive"):
        CIFAR10()


def test_truncated_record(data_dir: Path, pin) -> None:
    path = data_dir / ARCHIVE10
    good = records(np.zeros(2, np.uint8), np.zeros((2, 3, 32, 32), np.uint8))
    write_tar_gz(path, {"cifar-10-batches-bin/test_batch.bin": good[:-10]})
    pin(CIFAR10, "archive", path)
    with pytest.raises(ValueError, match="not a whole number of 3073-byte records"):
        CIFAR10(train=False)


def test_python_version_archive_is_refused(data_dir: Path, pin) -> None:
    # The pickled "python version" must never be loaded: its members are not found.
    path = data_dir / ARCHIVE10
    write_tar_gz(path, {"cifar-10-batches-py/test_batch": b"\x80\x04pickle"})
    pin(CIFAR10, "archive", path)
    with pytest.raises(ValueError, match="no member cifar-10-batches-bin/test_batch.bin"):
        CIFAR10(train=False)


def test_label_out_of_range(data_dir: Path, pin) -> None:
    path = data_dir / ARCHIVE100
    bad = records(np.array([[3, 100]], np.uint8), np.zeros((1, 3, 32, 32), np.uint8))
    write_tar_gz(path, {"cifar-100-binary/test.bin": bad})
    pin(CIFAR100, "archive", path)
    with pytest.raises(ValueError, match="label 100 out of range"):
        CIFAR100(train=False)
