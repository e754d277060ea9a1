"""Dataset files: the cache directory, downloads on request and SHA-256 verification.

Files live in ``$ZEROGRAD_DATA`` (default ``~/.zerograd``). A download goes to a temporary
file beside its target and is moved into place only once its checksum matches, so an
interrupted or corrupt download leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

__all__ = ["ChecksumError", "Resource", "get_cache_dir", "get_file", "sha256sum"]

_CHUNK = 1 << 20
_SCHEMES = ("http", "https", "file")


class ChecksumError(ValueError):
    """A file's SHA-256 digest is not the one expected."""


def get_cache_dir() -> str:
    """The data directory: ``$ZEROGRAD_DATA`` if set, else ``~/.zerograd``."""
    return os.path.abspath(os.path.expanduser(os.environ.get("ZEROGRAD_DATA") or "~/.zerograd"))


def __getattr__(name: str) -> Any:
    # ``cache_dir`` is DeZero's module-level name; it is read when asked, so that a change of
    # ZEROGRAD_DATA after import takes effect.
    if name == "cache_dir":
        return get_cache_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sha256sum(path: str) -> str:
    """The hex SHA-256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check(what: str, sha256: str, actual: str, url: str, advice: str) -> None:
    if actual != sha256.lower():
        raise ChecksumError(
            f"{what}: SHA-256 is {actual}, expected {sha256.lower()} (the file from {url} is "
            f"corrupt, truncated or a different version); {advice}"
        )


def get_file(
    url: str,
    file_name: str | None = None,
    sha256: str | None = None,
    *,
    download: bool = True,
) -> str:
    """Return the path of ``url``'s file in the cache directory, downloading it if absent.

    DeZero's ``get_file(url, file_name=None)``, plus checks: with ``sha256`` the file (cached
    or downloaded) must have that digest; with ``download=False`` a missing file raises
    ``FileNotFoundError`` saying where to put it.
    """
    if file_name is None:
        file_name = url[url.rfind("/") + 1 :]
    cache = get_cache_dir()
    path = os.path.join(cache, file_name)
    if os.path.exists(path):
        if sha256 is not None:
            _check(path, sha256, sha256sum(path), url, "delete it and download it again")
        return path
    if not download:
        raise FileNotFoundError(
            f"{file_name} is not in the data directory {cache}: download it from {url} and put "
            f"it there, or pass download=True (set ZEROGRAD_DATA to use another directory)"
        )
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in _SCHEMES:
        raise ValueError(f"get_file: unsupported URL scheme {scheme!r} in {url} ({_SCHEMES})")
    os.makedirs(cache, exist_ok=True)
    print(f"Downloading: {file_name}", file=sys.stderr)
    fd, tmp = tempfile.mkstemp(prefix=f".{file_name}.", suffix=".part", dir=cache)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url) as response:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        if sha256 is not None:
            _check(f"download of {file_name}", sha256, digest.hexdigest(), url, "nothing was saved")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(" Done", file=sys.stderr)
    return path


@dataclass(frozen=True)
class Resource:
    """One downloadable file of a dataset: where it comes from and its SHA-256 digest."""

    url: str
    sha256: str
    file_name: str | None = None

    @property
    def name(self) -> str:
        return self.file_name or self.url[self.url.rfind("/") + 1 :]

    def fetch(self, download: bool) -> str:
        """The verified local path (downloaded first when ``download`` is true)."""
        return get_file(self.url, self.name, self.sha256, download=download)


def want_download(download: bool | None) -> bool:
    """Resolve a loader's ``download`` argument: None reads ``ZEROGRAD_DOWNLOAD=1``."""
    if download is None:
        return os.environ.get("ZEROGRAD_DOWNLOAD", "") in ("1", "true", "yes")
    return bool(download)
