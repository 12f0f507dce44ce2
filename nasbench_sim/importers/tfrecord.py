"""TFRecord files read and written without TensorFlow.

A TFRecord file is a sequence of records, each framed as::

    uint64 length (little endian) | uint32 masked CRC-32C of those 8 bytes
    length bytes of data          | uint32 masked CRC-32C of the data

with ``masked(c) = ((c >> 15) | (c << 17)) + 0xA282EAD8 (mod 2**32)``. CRC-32C (Castagnoli)
checks run vectorised across a batch of records with numpy (one table lookup per byte
position for the whole batch), so checking every record of a large file stays cheap.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.tfrecord"
    >>> _ = write_tfrecord(path, [b"hello", b"", b"world"])
    >>> list(iter_tfrecord(path))
    [b'hello', b'', b'world']
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.importers.errors import ImportFormatError

__all__ = ["crc32c", "crc32c_many", "iter_tfrecord", "masked_crc", "write_tfrecord"]

_POLY = 0x82F63B78  # CRC-32C, reflected


def _table() -> np.ndarray:
    t = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        t = np.where(t & 1, (t >> 1) ^ np.uint32(_POLY), t >> 1).astype(np.uint32)
    return t


_TABLE = _table()
_TABLE_LIST = _TABLE.tolist()


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data`` (one record; see :func:`crc32c_many` for many)."""
    crc = 0xFFFFFFFF
    table = _TABLE_LIST
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


_SMALL = 256
"""Records up to this length share a padded batch whatever their lengths."""
_FEW = 32
"""A group of fewer records is checked one record at a time (cheaper than a numpy step per
byte for a handful of records)."""


def _crc_sorted(records: list[bytes]) -> np.ndarray:
    """CRC-32C of ``records`` sorted longest first, one numpy step per byte position across
    the records still that long (padding: at most the longest length per record)."""
    n = len(records)
    lens = np.fromiter((len(r) for r in records), dtype=np.int64, count=n)
    width = int(lens[0])
    # byte i of every record in row i: contiguous per byte position
    buf = np.zeros((max(width, 1), n), dtype=np.uint8)
    flat = np.frombuffer(b"".join(records), dtype=np.uint8)
    cols = np.repeat(np.arange(n), lens)
    rows = np.arange(flat.size) - np.repeat(np.cumsum(lens) - lens, lens)
    buf[rows, cols] = flat
    crc = np.full(n, 0xFFFFFFFF, dtype=np.uint32)
    active = np.searchsorted(-lens, -np.arange(width), side="left")  # records longer than i
    for i in range(width):
        k = int(active[i])
        c = crc[:k]
        crc[:k] = _TABLE[(c ^ buf[i, :k]) & 0xFF] ^ (c >> np.uint32(8))
    return crc ^ np.uint32(0xFFFFFFFF)


def crc32c_many(records: Sequence[bytes]) -> np.ndarray:
    """CRC-32C of every record, vectorised across records (uint32 array).

    Records are grouped by length (longest first; a group holds records at least half as long
    as its first, or all records up to 256 bytes), so the padded buffer stays within about
    twice the bytes given plus 256 per record, whatever the mix of lengths; a group of fewer
    than 32 records is checked record by record.
    """
    n = len(records)
    out = np.empty(n, dtype=np.uint32)
    if n == 0:
        return out
    lengths = np.fromiter((len(r) for r in records), dtype=np.int64, count=n)
    order = np.argsort(-lengths, kind="stable")
    lens = lengths[order]
    start = 0
    while start < n:
        floor = 0 if lens[start] <= _SMALL else (int(lens[start]) + 1) // 2
        stop = start + int(np.searchsorted(-lens[start:], -floor, side="right"))
        group = order[start:stop]
        if stop - start < _FEW:
            out[group] = [crc32c(records[int(j)]) for j in group]
        else:
            out[group] = _crc_sorted([records[int(j)] for j in group])
        start = stop
    return out


def masked_crc(crc: int | np.ndarray) -> int | np.ndarray:
    """TFRecord's masking of a CRC (works on ints and uint32 arrays)."""
    if isinstance(crc, np.ndarray):
        c = crc.astype(np.uint64)
        return ((((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF).astype(np.uint32)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def _write_batch(f: Any, batch: list[bytes]) -> None:
    heads = [struct.pack("<Q", len(d)) for d in batch]
    head_crc = np.asarray(masked_crc(crc32c_many(heads)))
    data_crc = np.asarray(masked_crc(crc32c_many(batch)))
    for head, hc, data, dc in zip(heads, head_crc.tolist(), batch, data_crc.tolist(), strict=True):
        f.write(head + struct.pack("<I", hc) + data + struct.pack("<I", dc))


def write_tfrecord(
    path: str | os.PathLike[str], records: Iterable[bytes], *, batch: int = 4096
) -> Path:
    """Write ``records`` as a TFRecord file (with CRCs, computed ``batch`` records at a time)."""
    path = Path(path)
    pending: list[bytes] = []
    with path.open("wb") as f:
        for data in records:
            pending.append(data)
            if len(pending) >= batch:
                _write_batch(f, pending)
                pending = []
        if pending:
            _write_batch(f, pending)
    return path


def _verify(batch: list[tuple[int, int, bytes, int, int]], source: str) -> None:
    """Check the length and data CRCs of a batch: (record, offset, data, length crc, data crc)."""
    heads = [struct.pack("<Q", len(d)) for _, _, d, _, _ in batch]
    got_len = masked_crc(crc32c_many(heads))
    got_data = masked_crc(crc32c_many([d for _, _, d, _, _ in batch]))
    want_len = np.array([b[3] for b in batch], dtype=np.uint32)
    want_data = np.array([b[4] for b in batch], dtype=np.uint32)
    for what, got, want in (("length", got_len, want_len), ("data", got_data, want_data)):
        bad = np.nonzero(np.asarray(got) != want)[0]
        if bad.size:
            rec, offset = batch[int(bad[0])][:2]
            raise ImportFormatError(
                source, f"record {rec} at byte {offset}: {what} CRC mismatch (corrupt file)"
            )


def iter_tfrecord(
    path: str | os.PathLike[str], *, check_crc: bool = True, batch: int = 4096
) -> Iterator[bytes]:
    """The records of a TFRecord file, streamed.

    Args:
        path: the file.
        check_crc: verify both CRCs of every record (in batches, before they are yielded).
        batch: records per CRC batch.

    Raises:
        ImportFormatError: missing file, truncated record, CRC mismatch, impossible length.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise ImportFormatError(source, "no such file")
    size = path.stat().st_size
    pending: list[tuple[int, int, bytes, int, int]] = []
    with path.open("rb") as f:
        rec = 0
        while True:
            offset = f.tell()
            head = f.read(12)
            if not head:
                break
            if len(head) < 12:
                raise ImportFormatError(source, f"record {rec} at byte {offset}: truncated header")
            (length,) = struct.unpack("<Q", head[:8])
            if length > size - offset - 16:
                raise ImportFormatError(
                    source,
                    f"record {rec} at byte {offset}: declares {length} bytes, the file has "
                    f"{max(size - offset - 16, 0)} left (truncated or not a TFRecord file)",
                )
            data = f.read(length)
            tail = f.read(4)
            if len(data) < length or len(tail) < 4:
                raise ImportFormatError(source, f"record {rec} at byte {offset}: truncated")
            if check_crc:
                len_crc = struct.unpack("<I", head[8:])[0]
                pending.append((rec, offset, data, len_crc, struct.unpack("<I", tail)[0]))
                if len(pending) >= batch:
                    _verify(pending, source)
                    yield from (p[2] for p in pending)
                    pending = []
            else:
                yield data
            rec += 1
    if pending:
        _verify(pending, source)
        yield from (p[2] for p in pending)
