"""``Shakespear`` (DeZero's spelling): Karpathy's tiny-shakespeare, one character per step."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from zerograd.datasets._base import Dataset, Transform
from zerograd.datasets._download import Resource, want_download


def encode_chars(text: str) -> tuple[np.ndarray, dict[str, int], dict[int, str]]:
    """Character ids in order of first appearance: ``(ids, char_to_id, id_to_char)``."""
    char_to_id: dict[str, int] = {}
    for c in text:
        if c not in char_to_id:
            char_to_id[c] = len(char_to_id)
    id_to_char = {i: c for c, i in char_to_id.items()}
    ids = np.array([char_to_id[c] for c in text], dtype=np.int64)
    return ids, char_to_id, id_to_char


class Shakespear(Dataset):
    """Next-character prediction on tiny-shakespeare (about 1.1 M characters): ``data`` is
    ``ids[:-1]``, ``label`` is ``ids[1:]``; ``char_to_id``/``id_to_char`` map characters.

    Reads ``shakespear.txt`` from the data directory (``download=True`` fetches it; ``None``
    reads ``ZEROGRAD_DOWNLOAD=1``).
    """

    resources: ClassVar[dict[str, Resource]] = {
        "text": Resource(
            "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/"
            "input.txt",
            "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
            file_name="shakespear.txt",
        )
    }

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
        download: bool | None = None,
    ) -> None:
        self.download = want_download(download)
        super().__init__(train, transform, target_transform)

    def prepare(self) -> None:
        path = self.resources["text"].fetch(self.download)
        with open(path, "rb") as f:
            raw = f.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"{path}: not UTF-8 text ({error})") from None
        if len(text) < 2:
            raise ValueError(f"{path}: needs at least 2 characters, has {len(text)}")
        ids, self.char_to_id, self.id_to_char = encode_chars(text)
        self.data = ids[:-1]
        self.label = ids[1:]
