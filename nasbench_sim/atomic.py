"""Crash-safe file replacement, shared by every writer of the project's files.

:func:`atomic_path` gives a writer a temporary file in the destination's folder and, only when
the writer finished without an exception, flushes it to disk and renames it over the
destination (then makes the rename durable by syncing the folder). A crash at any point
leaves the destination as it was, complete, and at most a stray ``*.tmp`` file.

:func:`file_lock` serialises read-modify-write cycles on one file between processes (two
``oneshot`` runs adding their groups to the same table at once) with an advisory ``fcntl``
lock on the file itself.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "file_lock"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path; on a clean exit, ``fsync`` it and ``os.replace`` it over ``path``.

    On an exception the temporary file is deleted and ``path`` is untouched.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
        >>> with atomic_path(out) as tmp:
        ...     _ = tmp.write_text("done")
        >>> out.read_text()
        'done'
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        _chmod_like(tmp, path)
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX)
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _chmod_like(tmp: Path, path: Path) -> None:
    """Give ``tmp`` the mode of ``path`` (``0644`` for a new file) instead of mkstemp's ``0600``."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    os.chmod(tmp, mode)


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive advisory lock on the existing file ``path`` while the block runs.

    An atomic replacement swaps ``path`` for a new file, so after the lock is granted the
    file it was granted on is checked to still be ``path``; if another writer replaced it in
    the meantime, the lock is taken again on the new file. Nothing is left behind. Where
    ``fcntl`` does not exist (Windows) it does not lock.

    Raises:
        FileNotFoundError: there is no file at ``path``.
    """
    path = Path(path)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    while True:
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # replaced while we waited: lock the new file
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
