"""Shakespear: character ids from a text file written by the test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zerograd import SeqDataLoader
from zerograd.datasets import ChecksumError, Shakespear

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n"


def write_text(data_dir: Path, text: str | bytes = TEXT) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "shakespear.txt"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_reads_characters(data_dir: Path, pin) -> None:
    pin(Shakespear, "text", write_text(data_dir))
    ds = Shakespear()
    assert ds.char_to_id["F"] == 0 and ds.char_to_id["i"] == 1
    decoded = "".join(ds.id_to_char[int(i)] for i in ds.data) + ds.id_to_char[int(ds.label[-1])]
    assert decoded == TEXT
    np.testing.assert_array_equal(ds.data[1:], ds.label[:-1])
    assert ds.data.dtype == np.int64 and len(ds) == len(TEXT) - 1
    x, t = next(SeqDataLoader(ds, batch_size=2))
    assert x.shape == (2,) and t.shape == (2,)


def test_checksum_and_missing(data_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match="shakespear.txt"):
        Shakespear()
    write_text(data_dir)
    with pytest.raises(ChecksumError):
        Shakespear()


def test_bad_text(data_dir: Path, pin) -> None:
    pin(Shakespear, "text", write_text(data_dir, b"\xff\xfe binary"))
    with pytest.raises(ValueError, match="not UTF-8"):
        Shakespear()
    pin(Shakespear, "text", write_text(data_dir, "a"))
    with pytest.raises(ValueError, match="at least 2 characters"):
        Shakespear()
