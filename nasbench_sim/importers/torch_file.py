"""Read a ``torch.save`` file that holds only plain Python objects, without torch.

``torch.save`` writes one of two containers:

* **zip** (torch >= 1.6): a zip archive ``NAME/data.pkl`` (the object's pickle), ``NAME/version``,
  ``NAME/byteorder`` and one ``NAME/data/KEY`` entry per tensor storage;
* **legacy**: a sequence of pickles on one stream: a magic number, the protocol version
  (1001), a system-info dict, the object, the list of storage keys, then raw storage bytes.

Benchmark files such as NAS-Bench-201's ``.pth`` hold dicts, lists, strings and numbers only,
so both containers reduce to one pickle, read here with the allow-list unpickler of
:mod:`nasbench_sim.importers.safe_pickle`. A tensor inside (a storage referenced by persistent
id, or a ``torch._utils`` rebuild call) is refused with
:class:`~nasbench_sim.importers.errors.WeightsInFileError`.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

from nasbench_sim.importers.errors import ImportFormatError, WeightsInFileError
from nasbench_sim.importers.safe_pickle import WEIGHTS_MESSAGE, safe_load

__all__ = ["LEGACY_MAGIC", "LEGACY_PROTOCOL", "container_kind", "read_torch_file"]

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
"""The first pickle of a legacy ``torch.save`` file."""
LEGACY_PROTOCOL = 1001
"""The second pickle of a legacy ``torch.save`` file."""

_ZIP_HEAD = b"PK\x03\x04"


def container_kind(path: str | os.PathLike[str]) -> str:
    """``"zip"`` or ``"legacy"``: which ``torch.save`` container ``path`` looks like.

    Raises:
        ImportFormatError: missing, empty, or a zip archive whose end is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFormatError(path, "no such file")
    with path.open("rb") as f:
        head = f.read(4)
    if not head:
        raise ImportFormatError(path, "empty file")
    if zipfile.is_zipfile(path):
        return "zip"
    if head == _ZIP_HEAD:
        raise ImportFormatError(
            path, "a zip container without its central directory: truncated or corrupt file"
        )
    return "legacy"


def _read_zip(path: Path) -> Any:
    source = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFormatError(source, f"corrupt zip container ({exc})") from None
    with zf:
        names = zf.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pkl) != 1:
            what = (
                "constants.pkl (a TorchScript module)"
                if any(n.endswith("/constants.pkl") for n in names)
                else f"{len(pkl)} data.pkl entries"
            )
            raise ImportFormatError(
                source, f"a zip file but not a torch.save container: found {what}"
            )
        prefix = pkl[0].split("/", 1)[0]
        if any(n.startswith(f"{prefix}/data/") for n in names):
            raise WeightsInFileError(source, f"{WEIGHTS_MESSAGE} (it stores tensor storages)")
        try:
            with zf.open(pkl[0]) as f:
                return safe_load(f, f"{source} ({pkl[0]})")
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ImportFormatError(source, f"corrupt zip entry {pkl[0]} ({exc})") from None


def _read_legacy(path: Path) -> Any:
    source = str(path)
    with path.open("rb") as f:
        try:
            magic = safe_load(f, source)
        except ImportFormatError:
            raise ImportFormatError(
                source,
                "not a torch.save file (neither a zip container nor torch's legacy pickle "
                "sequence)",
            ) from None
        if magic != LEGACY_MAGIC:
            raise ImportFormatError(
                source,
                "not a torch.save file: a pickle, but its first object is not torch's magic "
                "number (a plain pickle is not a .pth container)",
            )
        version = safe_load(f, source)
        if version != LEGACY_PROTOCOL:
            raise ImportFormatError(
                source, f"torch legacy protocol version {version!r}; this reader knows 1001"
            )
        safe_load(f, source)  # system info (endianness, type sizes): not needed for plain data
        obj = safe_load(f, source)
        keys = safe_load(f, source)
    if keys:
        raise WeightsInFileError(source, f"{WEIGHTS_MESSAGE} (it stores {len(keys)} storages)")
    return obj


def read_torch_file(path: str | os.PathLike[str]) -> Any:
    """The object a ``torch.save`` file holds, read without torch and without running code.

    Raises:
        ImportFormatError: missing, truncated, corrupt, or not a ``torch.save`` file.
        WeightsInFileError: the file stores tensors.
        UnsafePickleError: its pickle asks to call something outside the allow-list.
    """
    path = Path(path)
    if container_kind(path) == "zip":
        return _read_zip(path)
    return _read_legacy(path)
