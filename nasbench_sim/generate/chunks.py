"""The on-disk state of a build: ``OUT.parts/`` with a manifest and one file per chunk.

::

    OUT.parts/
        manifest.json          # format, space, protocol, cells, chunk size, shard, trainer
        chunk-000000.npz       # one committed chunk: its cells' metrics and costs
        chunk-000003.npz
        ...

Every file is committed atomically: written to a temporary file in the same directory,
flushed and ``fsync``-ed, then renamed over its final name with :func:`os.replace` (and the
directory ``fsync``-ed). A chunk file therefore either exists complete or not at all; a crash
leaves at most a ``.tmp`` file, which a resumed build deletes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from nasbench_sim.atomic import atomic_path
from nasbench_sim.generate.errors import BuildError

__all__ = [
    "PARTS_FORMAT",
    "ChunkResult",
    "atomic_write",
    "build_status",
    "chunk_path",
    "parts_dir",
    "read_chunk",
    "read_chunk_info",
    "read_manifest",
    "write_chunk",
    "write_manifest",
]

PARTS_FORMAT = "nasbench-sim-parts"
PARTS_VERSION = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True, eq=False)
class ChunkResult:
    """What training one chunk of cells produced.

    Attributes:
        arch_index: int64 ``(k,)`` space indices of the chunk's cells.
        seeds: int64 ``(n_seeds,)`` training seeds.
        metrics: name -> float32 ``(k, n_seeds, n_epochs)``.
        cost: ``params``, ``flops``, ``latency_s`` and ``train_time_measured_s`` (NaN for cells
            not timed alone), float64 ``(k,)``.
        info: JSON-able facts: device, host, wall seconds, model steps, trainer, data sizes.
    """

    arch_index: np.ndarray
    seeds: np.ndarray
    metrics: Mapping[str, np.ndarray]
    cost: Mapping[str, np.ndarray]
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n_cells(self) -> int:
        return int(self.arch_index.shape[0])


def parts_dir(out: str | os.PathLike[str]) -> Path:
    """The sidecar directory of a build writing ``out``."""
    out = Path(out)
    return out.with_name(out.name + ".parts")


def chunk_path(parts: Path, chunk_id: int) -> Path:
    return parts / f"chunk-{chunk_id:06d}.npz"


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` atomically (see :func:`nasbench_sim.atomic.atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write(f)


def write_manifest(parts: Path, manifest: Mapping[str, Any]) -> None:
    body = json.dumps({"format": PARTS_FORMAT, "version": PARTS_VERSION, **manifest}, indent=1)

    def write(f: IO[bytes]) -> None:
        f.write(body.encode())

    atomic_write(parts / MANIFEST, write)


def read_manifest(parts: Path) -> dict[str, Any]:
    """The manifest of a parts directory.

    Raises:
        BuildError: no manifest, not JSON, or not a nasbench-sim parts manifest.
    """
    path = parts / MANIFEST
    if not path.exists():
        raise BuildError(f"{parts}: no {MANIFEST}; not a build's parts directory")
    try:
        d = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise BuildError(f"{path}: not JSON ({exc})") from None
    if d.get("format") != PARTS_FORMAT or d.get("version") != PARTS_VERSION:
        raise BuildError(f"{path}: not a {PARTS_FORMAT} v{PARTS_VERSION} manifest")
    return dict(d)


def write_chunk(path: Path, result: ChunkResult) -> None:
    """Commit one chunk atomically (``.npz``; readable with plain numpy)."""
    arrays: dict[str, np.ndarray] = {
        "arch_index": np.asarray(result.arch_index, dtype=np.int64),
        "seeds": np.asarray(result.seeds, dtype=np.int64),
        "info": np.array(json.dumps(dict(result.info), default=str)),
    }
    for name, arr in result.metrics.items():
        arrays[f"metric__{name}"] = np.asarray(arr, dtype=np.float32)
    for name, arr in result.cost.items():
        arrays[f"cost__{name}"] = np.asarray(arr, dtype=np.float64)
    atomic_write(path, lambda f: np.savez(f, **arrays))  # type: ignore[arg-type]


def read_chunk(path: Path) -> ChunkResult:
    """Read a committed chunk file.

    Raises:
        BuildError: the file is missing or unreadable.
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = list(z.keys())
            return ChunkResult(
                arch_index=z["arch_index"],
                seeds=z["seeds"],
                metrics={k[8:]: z[k] for k in keys if k.startswith("metric__")},
                cost={k[6:]: z[k] for k in keys if k.startswith("cost__")},
                info=json.loads(str(z["info"])),
            )
    except (OSError, ValueError, KeyError) as exc:
        raise BuildError(f"{path}: cannot read chunk file ({exc})") from None


def read_chunk_info(path: Path) -> dict[str, Any]:
    """The ``info`` of a committed chunk file alone (a fraction of :func:`read_chunk`'s cost).

    Raises:
        BuildError: the file is missing or unreadable.
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            info = json.loads(str(z["info"]))
    except (OSError, ValueError, KeyError) as exc:
        raise BuildError(f"{path}: cannot read chunk file ({exc})") from None
    if not isinstance(info, dict):
        raise BuildError(f"{path}: cannot read chunk file (its info is not a JSON object)")
    return info


def remove_stale_temps(parts: Path) -> int:
    """Delete temporary files a crash left behind; return how many."""
    n = 0
    for p in parts.glob(".*.tmp"):
        p.unlink(missing_ok=True)
        n += 1
    return n


def build_status(out: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Progress of the build writing ``out`` (``None`` when no build is in progress there).

    Reads only the manifest and the names of committed chunk files, so it is safe while the
    build runs: a chunk is either committed (renamed into place) or invisible.
    """
    parts = parts_dir(out)
    if not (parts / MANIFEST).exists():
        return None
    manifest = read_manifest(parts)
    shard_i, shard_n = manifest["shard"]
    ids = [c for c in range(manifest["n_chunks"]) if c % shard_n == shard_i]
    size, cells = int(manifest["chunk_size"]), manifest["cells"]
    done = [c for c in ids if chunk_path(parts, c).exists()]
    n_cells = [len(cells[c * size : (c + 1) * size]) for c in ids]
    return {
        "parts": str(parts),
        "dataset": manifest["protocol"].get("dataset"),
        "shard": f"{shard_i}/{shard_n}",
        "chunks_done": len(done),
        "chunks_total": len(ids),
        "cells_done": sum(len(cells[c * size : (c + 1) * size]) for c in done),
        "cells_total": sum(n_cells),
        "trainer": manifest.get("trainer"),
    }
