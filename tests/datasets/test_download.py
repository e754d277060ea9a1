"""get_file and the data directory: cache hits, downloads on request, SHA-256 checks."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

import zerograd.datasets
import zerograd.utils
from zerograd.datasets import ChecksumError, get_cache_dir, get_file
from zerograd.datasets._download import want_download


def test_cache_dir_follows_environment(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_cache_dir() == str(data_dir)
    assert zerograd.utils.cache_dir == str(data_dir)
    assert zerograd.datasets.cache_dir == str(data_dir)
    monkeypatch.delenv("ZEROGRAD_DATA")
    assert get_cache_dir() == os.path.join(os.path.expanduser("~"), ".zerograd")
    assert zerograd.utils.get_file is get_file


def test_download_verifies_and_caches(data_dir: Path, tmp_path: Path, capsys) -> None:
    source = tmp_path / "remote" / "blob.bin"
    source.parent.mkdir()
    source.write_bytes(b"zerograd" * 100)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    path = get_file(source.as_uri(), sha256=digest)
    assert path == str(data_dir / "blob.bin")
    assert Path(path).read_bytes() == source.read_bytes()
    assert "Downloading: blob.bin" in capsys.readouterr().err
    source.unlink()  # a cache hit must not touch the source
    assert get_file(source.as_uri(), sha256=digest) == path


def test_wrong_checksum_writes_nothing(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "blob.bin"
    source.write_bytes(b"not what was promised")
    with pytest.raises(ChecksumError, match="nothing was saved"):
        get_file(source.as_uri(), sha256="0" * 64)
    assert not data_dir.exists() or os.listdir(data_dir) == []


def test_corrupt_cached_file_is_reported_not_deleted(data_dir: Path) -> None:
    data_dir.mkdir()
    cached = data_dir / "blob.bin"
    cached.write_bytes(b"truncated")
    with pytest.raises(ChecksumError, match=r"blob\.bin.*delete it"):
        get_file("https://example.invalid/blob.bin", sha256="0" * 64)
    assert cached.read_bytes() == b"truncated"


def test_missing_file_without_download_says_where(data_dir: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        get_file("https://example.invalid/x/blob.bin", download=False)
    message = str(info.value)
    assert str(data_dir) in message and "https://example.invalid/x/blob.bin" in message
    assert "download=True" in message and not data_dir.exists()


def test_failed_download_leaves_no_partial_file(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(OSError):
        get_file((tmp_path / "does-not-exist.bin").as_uri())
    assert os.listdir(data_dir) == []


def test_rejects_unknown_url_scheme(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="scheme"):
        get_file("ftp://example.invalid/blob.bin")


def test_want_download(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZEROGRAD_DOWNLOAD", raising=False)
    assert want_download(None) is False and want_download(True) is True
    monkeypatch.setenv("ZEROGRAD_DOWNLOAD", "1")
    assert want_download(None) is True and want_download(False) is False
