"""The build driver: train cells chunk by chunk into a resumable, shardable table.

Work is a deterministic list of cells cut into chunks of ``chunk_size``; shard ``i`` of ``n``
takes the chunks with ``chunk_id % n == i``. Each trained chunk is committed atomically as its
own file under ``OUT.parts/`` (:mod:`~nasbench_sim.generate.chunks`), so a killed build loses
at most the chunk in flight and ``resume=True`` continues where it stopped. At the end the
chunks are assembled into one table at ``OUT`` (written atomically by
:func:`~nasbench_sim.table.write_table`) and the parts directory is removed.

The work itself, :func:`~nasbench_sim.generate.worker.train_chunk`, lives in
:mod:`~nasbench_sim.generate.worker` (re-exported here).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbench_sim.errors import CellParseError
from nasbench_sim.generate.assemble import assemble_parts
from nasbench_sim.generate.chunks import (
    ChunkResult,
    chunk_path,
    parts_dir,
    read_manifest,
    remove_stale_temps,
    write_chunk,
    write_manifest,
)
from nasbench_sim.generate.errors import BuildError, GenerateError
from nasbench_sim.generate.protocol import Protocol
from nasbench_sim.generate.ray_backend import FaultOnce, RayOptions
from nasbench_sim.generate.worker import TRAINERS, resolve_device, train_chunk
from nasbench_sim.space import get_space
from nasbench_sim.table import write_table

if TYPE_CHECKING:
    pass

__all__ = [
    "BACKENDS",
    "TRAINERS",
    "BuildProgress",
    "build_table",
    "parse_shard",
    "resolve_cells",
    "resolve_device",
    "train_chunk",
]

BACKENDS: tuple[str, ...] = ("local", "ray")


@dataclass(frozen=True)
class BuildProgress:
    """One progress event of :func:`build_table`, sent after each chunk of the shard.

    Attributes:
        chunk_id: the chunk just finished (or found already committed).
        skipped: True when the chunk was already committed by an earlier run.
        chunks_done, chunks_total: chunks of this shard finished / in all.
        cells_done, cells_total: cells of this shard finished / in all.
        chunk_cells: cells in this chunk.
        model_steps: optimiser steps summed over the chunk's models and seeds (0 if skipped).
        chunk_wall_s: seconds spent on this chunk (0 if skipped).
    """

    chunk_id: int
    skipped: bool
    chunks_done: int
    chunks_total: int
    cells_done: int
    cells_total: int
    chunk_cells: int
    model_steps: int
    chunk_wall_s: float


def resolve_cells(cells: str | int | Sequence[int] | np.ndarray, cells_seed: int = 0) -> np.ndarray:
    """The sorted cell indices a build trains.

    Args:
        cells: ``"all"`` (15,625 cells), ``"classes"`` (one representative per equivalence
            class, 6,466), an int ``n`` (``n`` class representatives drawn with
            ``cells_seed``), or explicit cell indices.
        cells_seed: seed of the draw for an int ``cells``.

    Raises:
        GenerateError: anything else, an index out of range or listed twice.
    """
    space = get_space("nb201")
    if isinstance(cells, str):
        if cells == "all":
            return np.arange(space.size, dtype=np.int64)
        if cells == "classes":
            return np.asarray(space.representatives(), dtype=np.int64)
        raise GenerateError(f"cells must be 'all', 'classes', a number or indices, got {cells!r}")
    reps = np.asarray(space.representatives(), dtype=np.int64)
    if isinstance(cells, (int, np.integer)) and not isinstance(cells, bool):
        n = int(cells)
        if not 1 <= n <= reps.shape[0]:
            raise GenerateError(f"cells={n}: a number of cells must be in 1..{reps.shape[0]}")
        rng = np.random.default_rng(cells_seed)
        return np.sort(rng.choice(reps, size=n, replace=False))
    arr = np.asarray(cells)
    if arr.ndim != 1 or arr.shape[0] == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise GenerateError("explicit cells must be a non-empty 1-D sequence of integer indices")
    if arr.min() < 0 or arr.max() >= space.size:
        raise GenerateError(f"cell indices must be in 0..{space.size - 1}")
    if np.unique(arr).shape[0] != arr.shape[0]:
        raise GenerateError("explicit cells list an index twice")
    return np.sort(arr.astype(np.int64))


def parse_shard(shard: str | tuple[int, int]) -> tuple[int, int]:
    """``"i/n"`` or ``(i, n)`` with ``0 <= i < n``."""
    try:
        if isinstance(shard, str):
            a, b = shard.split("/")
            i, n = int(a), int(b)
        else:
            i, n = int(shard[0]), int(shard[1])
    except (ValueError, TypeError, IndexError):
        raise GenerateError(f"shard must be 'i/n' (e.g. 0/4), got {shard!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise GenerateError(f"shard {i}/{n}: need n >= 1 and 0 <= i < n")
    return i, n


def build_table(
    protocol: Protocol,
    out: str | os.PathLike[str],
    *,
    cells: str | int | Sequence[int] | np.ndarray = "classes",
    seeds: Sequence[int] | None = None,
    device: str | Any = "cpu",
    chunk_size: int = 64,
    shard: str | tuple[int, int] = (0, 1),
    resume: bool = False,
    trainer: str = "batched",
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = False,
    keep_parts: bool = False,
    cells_seed: int = 0,
    progress: Callable[[BuildProgress], None] | None = None,
    backend: str = "local",
    ray_options: RayOptions | None = None,
    _fault: FaultOnce | None = None,
) -> Path:
    """Train ``cells`` under ``protocol`` and write the table ``out``.

    Args:
        protocol: the training protocol (written into the table).
        out: the table file to write; work in progress lives in ``OUT.parts/``.
        cells: see :func:`resolve_cells`.
        seeds: training seeds (default: ``protocol.seeds``; given, they replace them).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a ``torch.device``.
        chunk_size: cells per chunk (the batched trainer trains a chunk as one network).
        shard: ``(i, n)`` or ``"i/n"``: train only chunks with ``chunk_id % n == i``.
        resume: continue a build whose ``OUT.parts/`` exists, skipping committed chunks.
        trainer: ``"batched"`` or ``"reference"``.
        data_dir, download: where file-based datasets live; allow torchvision to download.
        keep_parts: keep ``OUT.parts/`` after assembling (default: remove it).
        cells_seed: seed of the draw when ``cells`` is a number.
        progress: called with a :class:`BuildProgress` after every chunk.
        backend: ``"local"`` (train chunks one after another in this process, default) or
            ``"ray"`` (one Ray task per chunk on a local or remote Ray cluster; this process
            stays the only writer; see :mod:`~nasbench_sim.generate.ray_backend`).
        ray_options: cluster address and per-task resources for ``backend="ray"``.
        _fault: test hook of the Ray backend (kill the first attempt at one chunk).

    Returns:
        ``out`` as a :class:`~pathlib.Path`.

    Raises:
        BuildError: ``OUT.parts/`` exists without ``resume``, or its manifest describes another
            build; ``out`` exists already; the shard gets no chunk.
        GenerateError: bad cells, shard, chunk size, trainer or device.

    Example:
        >>> p = Protocol(dataset="digits", channels=2, cells_per_stage=1, epochs=1,
        ...              train_subset=64, eval_subset=64, latency_batch_size=8, latency_repeats=1,
        ...              timing_cells_per_chunk=0)
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = build_table(p, pathlib.Path(d) / "t.h5", cells=[5, 600], chunk_size=1)
        ...     from nasbench_sim.table import read_table
        ...     read_table(path).metrics["valid_acc"].shape
        (2, 1, 1)
    """
    started = time.perf_counter()
    if seeds is not None:
        protocol = dataclasses.replace(protocol, seeds=tuple(int(s) for s in seeds))
    if trainer not in TRAINERS:
        raise GenerateError(f"unknown trainer {trainer!r}; valid trainers: {', '.join(TRAINERS)}")
    if backend not in BACKENDS:
        raise GenerateError(f"unknown backend {backend!r}; valid backends: {', '.join(BACKENDS)}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise GenerateError(f"chunk_size must be an integer >= 1, got {chunk_size!r}")
    try:
        cell_arr = resolve_cells(cells, cells_seed)
    except CellParseError as exc:  # pragma: no cover - resolve_cells checks ranges itself
        raise GenerateError(str(exc)) from None
    shard_i, shard_n = parse_shard(shard)
    dev = resolve_device(device)
    out = Path(out)
    plan = [cell_arr[a : a + chunk_size] for a in range(0, cell_arr.shape[0], chunk_size)]
    mine = [c for c in range(len(plan)) if c % shard_n == shard_i]
    if not mine:
        raise BuildError(
            f"shard {shard_i}/{shard_n} gets no chunk: the build has only {len(plan)} chunk(s); "
            "use fewer shards or a smaller chunk size"
        )
    manifest = {
        "space": "nb201",
        "protocol": protocol.to_dict(),
        "cells": cell_arr.tolist(),
        "chunk_size": chunk_size,
        "n_chunks": len(plan),
        "shard": [shard_i, shard_n],
        "trainer": trainer,
    }
    parts = parts_dir(out)
    if parts.exists():
        if not resume:
            raise BuildError(
                f"{parts} exists (an unfinished build?): pass --resume (resume=True) to "
                "continue it, or remove that directory to start over"
            )
        _check_manifest(parts, manifest)
        remove_stale_temps(parts)
    else:
        if out.exists():
            raise BuildError(f"{out} exists already; remove it or choose another --out")
        parts.mkdir(parents=True)
        write_manifest(parts, manifest)

    cells_total = sum(len(plan[c]) for c in mine)
    state = {"n_done": 0, "cells_done": 0}

    def report(cid: int, skipped: bool, steps: int = 0, wall: float = 0.0) -> None:
        state["n_done"] += 1
        state["cells_done"] += len(plan[cid])
        if progress is not None:
            progress(
                BuildProgress(
                    cid,
                    skipped,
                    state["n_done"],
                    len(mine),
                    state["cells_done"],
                    cells_total,
                    len(plan[cid]),
                    steps,
                    wall,
                )
            )

    def commit(cid: int, result: ChunkResult) -> None:
        write_chunk(chunk_path(parts, cid), result)
        report(cid, False, int(result.info["model_steps"]), float(result.info["wall_s"]))

    todo = []
    for cid in mine:
        if chunk_path(parts, cid).exists():
            report(cid, True)
        else:
            todo.append(cid)
    if backend == "ray" and todo:
        from nasbench_sim.generate.ray_backend import train_chunks_ray

        failed = train_chunks_ray(
            protocol,
            {cid: plan[cid] for cid in todo},
            str(dev),
            commit,
            trainer=trainer,
            data_dir=data_dir,
            download=download,
            options=ray_options,
            fault=_fault,
        )
        if failed:
            detail = "; ".join(f"chunk {c}: {e}" for c, e in sorted(failed.items()))
            raise BuildError(
                f"{len(failed)} chunk(s) failed after every retry ({detail}); the other "
                f"chunks are committed in {parts}: fix the cause and rerun with --resume"
            )
    elif todo:
        from nasbench_sim.generate.datasets import dataset_for

        data = dataset_for(protocol, dev, data_dir, download)
        for cid in todo:
            commit(
                cid,
                train_chunk(protocol, plan[cid], protocol.seeds, dev, trainer=trainer, data=data),
            )
    table = assemble_parts(parts, {"build_wall_s_last_run": time.perf_counter() - started})
    write_table(out, table)
    if not keep_parts:
        shutil.rmtree(parts)
    return out


def _check_manifest(parts: Path, want: dict[str, Any]) -> None:
    have = read_manifest(parts)
    diff = [k for k in want if have.get(k) != want[k]]
    if diff:
        raise BuildError(
            f"{parts} belongs to a different build (differs in: {', '.join(diff)}); resume with "
            "the same protocol, cells, chunk size, shard and trainer, or remove the directory"
        )
