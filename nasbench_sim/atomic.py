"""Crash-safe file replacement, shared by every writer of the project's files.

:func:`atomic_path` gives a writer a temporary file in the destination's folder and, only when
the writer finished without an exception, flushes it to disk and renames it over the
destination (then makes the rename durable by syncing the folder). A crash at any point
leaves the destination as it was, complete, and at most a stray ``*.tmp`` file.

:func:`file_lock` serialises read-modify-write cycles on one file between processes (two
``oneshot`` runs adding their groups to the same table at once) with an advisory ``fcntl``
lock on a hidden ``.<name>.lock`` file beside it; readers are never blocked.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Collection, Iterator
from fnmatch import fnmatchcase
from pathlib import Path

from nasbench_sim.errors import NasBenchSimError

__all__ = ["OutputFolderError", "atomic_dir", "atomic_path", "check_output_dir", "file_lock"]


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
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, _mode_for(path))  # after writing: a read-only mode must not block it
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


def _mode_for(path: Path) -> int:
    """The mode ``path`` has, or a new file's (``0666`` less the umask), not mkstemp's ``0600``."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux), else 022."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


class OutputFolderError(NasBenchSimError, FileExistsError):
    """An output folder holds files a command did not write; it is never replaced."""


def check_output_dir(path: str | os.PathLike[str], names: Collection[str]) -> None:
    """Refuse (before any work) an output folder that :func:`atomic_dir` may not replace:
    a file, or a folder holding anything but ``names`` (a previous output of the same kind;
    a name may be a shell-style pattern, ``gap_*.png``).

    Raises:
        OutputFolderError: naming the foreign entries.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputFolderError(f"--out {path}: a file is there, not a folder")
    if path.is_dir():
        foreign = sorted(
            p.name for p in path.iterdir() if not any(fnmatchcase(p.name, n) for n in names)
        )
        if foreign:
            raise OutputFolderError(
                f"--out {path} holds files this command did not write ({', '.join(foreign[:5])}"
                f"{', ...' if len(foreign) > 5 else ''}); it replaces its output folder as a "
                "whole, so give a new or empty folder"
            )


@contextlib.contextmanager
def atomic_dir(
    path: str | os.PathLike[str], names: Collection[str] | None = None
) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on a clean exit, swap it in for ``path``.

    A reader sees either the previous output folder, whole, or the new one, never a mix; on an
    exception (or Ctrl-C) the temporary folder is removed and ``path`` is untouched.

    Args:
        path: the output folder.
        names: the files an output of this kind may hold; a ``path`` holding anything else is
            refused (:func:`check_output_dir`) rather than replaced.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "results"
        >>> with atomic_dir(out) as tmp:
        ...     _ = (tmp / "a.txt").write_text("done")
        >>> sorted(p.name for p in out.iterdir())
        ['a.txt']
    """
    path = Path(path)
    if names is not None:
        check_output_dir(path, names)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive advisory lock for ``path`` (blocking) while the block runs.

    The lock is on a hidden ``.<name>.lock`` file beside ``path``, which stays there: not on
    ``path`` itself, because HDF5 takes its own ``flock`` on the files it opens (an exclusive
    lock on a table would make every reader fail), and because an atomic replacement swaps
    ``path`` for a new file. Where ``fcntl`` does not exist (Windows) it does not lock.
    """
    path = Path(path)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(path.parent / f".{path.name}.lock", "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
