"""Atomic writes: a locked temporary file in the target's directory, fsync, rename; the
temporaries of writers killed mid-save are cleared by the next save to the same path."""

from __future__ import annotations

import os
import re
import secrets
import stat
import time
from collections.abc import Callable
from typing import IO

try:
    import fcntl
except ImportError:  # Windows: stale temporaries are recognised by age instead
    fcntl = None  # type: ignore[assignment]

_STALE_AGE_S = 24 * 3600  # without flock(): a temporary this old belongs to a dead writer


def atomic_write(path: str, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` through ``write(f)`` so that it holds either its old or its new
    contents whatever happens: a temporary file in the same directory, fsync, rename.

    The temporary (``.NAME.<16 hex>.tmp``) is locked (``flock``) while its writer lives; a
    writer killed mid-save leaves it behind, and the next save to ``path`` deletes those whose
    lock is free (their writer is dead), never a live writer's.
    """
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    _clear_stale_temporaries(directory, base)
    fd, tmp = _locked_temporary(directory, base)
    f = os.fdopen(fd, "wb")
    try:  # the lock (on fd) is held until the rename is done
        write(f)
        f.flush()
        os.fsync(f.fileno())
        if fcntl is None:
            f.close()  # Windows renames no open file (and holds no lock to keep)
        try:
            mode = os.stat(path).st_mode & 0o777  # keep an existing file's permissions
        except FileNotFoundError:
            mode = 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:  # KeyboardInterrupt included: never leave the temporary behind
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    finally:
        f.close()
    _fsync_dir(directory)


def _temporary_pattern(base: str) -> re.Pattern[str]:
    return re.compile(re.escape(f".{base}.") + r"[0-9a-f]{16}\.tmp")


def _locked_temporary(directory: str, base: str) -> tuple[int, str]:
    for _ in range(100):
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_nlink == 0:  # a cleaner took it for stale before we locked it
                os.close(fd)
                continue
        return fd, tmp
    raise FileExistsError(f"cannot create a temporary file for {base!r} in {directory!r}")


def _clear_stale_temporaries(directory: str, base: str) -> None:
    """Delete temporaries of ``base`` left by dead writers: our name pattern only, regular
    files only, and only when no live writer holds their lock."""
    pattern = _temporary_pattern(base)
    try:
        names = [n for n in os.listdir(directory) if pattern.fullmatch(n)]
    except OSError:
        return
    for name in names:
        full = os.path.join(directory, name)
        try:
            fd = os.open(full, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                continue
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # a live writer holds it
            elif time.time() - st.st_mtime < _STALE_AGE_S:
                continue
            now = os.lstat(full)
            if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
                os.unlink(full)
        except OSError:
            pass
        finally:
            os.close(fd)


def _fsync_dir(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    flags = getattr(os, "O_DIRECTORY", 0) | os.O_RDONLY
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
