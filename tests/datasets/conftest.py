"""Fixtures for the file-based loaders: a private data directory and real-format writers."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from zerograd.datasets._download import Resource, sha256sum


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``ZEROGRAD_DATA`` directory for this test."""
    path = tmp_path / "zerograd-data"
    monkeypatch.setenv("ZEROGRAD_DATA", str(path))
    monkeypatch.delenv("ZEROGRAD_DOWNLOAD", raising=False)
    return path


@pytest.fixture
def pin(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``pin(cls, key, path)``: make ``cls.resources[key]`` expect the digest of ``path``
    (and, with ``url=True``, download from it through a file:// URL)."""

    def _pin(cls: type, key: str, path: Path, url: bool = False) -> None:
        old = cls.resources[key]  # type: ignore[attr-defined]
        source = path.resolve().as_uri() if url else old.url
        new = Resource(source, sha256sum(str(path)), old.name)
        monkeypatch.setitem(cls.resources, key, new)  # type: ignore[attr-defined]

    return _pin


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array (magic 0x0000080N, big-endian sizes, values)."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def write_gzip(path: Path, raw: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        f.write(raw)
    return path


def write_tar_gz(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path
