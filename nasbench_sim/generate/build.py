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
from typing import Any

import numpy as np

from nasbench_sim.checks import require_int
from nasbench_sim.generate.assemble import assemble_parts
from nasbench_sim.generate.chunks import (
    ChunkResult,
    chunk_path,
    parts_dir,
    write_chunk,
)
from nasbench_sim.generate.errors import BuildError, GenerateError
from nasbench_sim.generate.grad_sum import resolve_grad_sum
from nasbench_sim.generate.plan import parse_shard, plan_chunks, resolve_cells
from nasbench_sim.generate.protocol import Protocol
from nasbench_sim.generate.ray_backend import RayOptions
from nasbench_sim.generate.resume import open_parts
from nasbench_sim.generate.stacking import stack_size
from nasbench_sim.generate.worker import (
    TRAINERS,
    numerics,
    resolve_device,
    train_chunk,
)
from nasbench_sim.table import write_table

__all__ = [
    "BACKENDS",
    "TRAINERS",
    "BuildProgress",
    "auto_trainer",
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
        chunks_resumed: chunks of this shard an earlier run had committed when this one
            began (they come first, as ``skipped`` events).
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
    chunks_resumed: int = 0


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
    trainer: str = "auto",
    data_dir: str | os.PathLike[str] | None = None,
    keep_parts: bool = False,
    restart: bool = False,
    cells_seed: int = 0,
    progress: Callable[[BuildProgress], None] | None = None,
    backend: str = "local",
    ray_options: RayOptions | None = None,
    workers: int = 1,
    threads: int = 1,
    grad_sum: str | None = None,
    mixed_hardware: bool = False,
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
        trainer: ``"auto"`` (default: :func:`auto_trainer`), or one of
            :data:`~nasbench_sim.generate.worker.TRAINERS` (see
            :func:`~nasbench_sim.generate.worker.train_chunk`).
        data_dir: where file-based datasets live (torchvision's layout; never downloaded).
        keep_parts: keep ``OUT.parts/`` after assembling (default: remove it).
        restart: discard an existing ``OUT.parts/`` (an unfinished or failed build) first.
        cells_seed: seed of the draw when ``cells`` is a number.
        progress: called with a :class:`BuildProgress` after every chunk.
        backend: ``"local"`` (train chunks one after another in this process, default) or
            ``"ray"`` (one Ray task per chunk on a local or remote Ray cluster; this process
            stays the only writer; see :mod:`~nasbench_sim.generate.ray_backend`).
        ray_options: cluster address and per-task resources for ``backend="ray"``.
        workers: processes of the local backend training chunks side by side (1: in this
            process). On a CPU use one per core.
        threads: torch CPU threads of every training run. Part of the table's numerics
            (recorded in its provenance; merge refuses tables whose numerics differ): with the
            same value, every backend and worker count gives bitwise the same table.
        grad_sum: for the matmul trainers, the order a cell node's gradients are added in
            (:mod:`~nasbench_sim.generate.grad_sum`): ``"ordered"`` (default; a cell's numbers
            do not depend on its chunk) or ``"autograd"`` (tables built before the choice
            existed). Part of the numerics.
        mixed_hardware: let ``resume`` continue a build started on a machine of another
            kind (another CPU instruction set or GPU model: the
            :data:`~nasbench_sim.generate.hardware.HARDWARE_FIELDS` of the numerics), every
            other part of the numerics the same. Torch rounds differently on another
            instruction set, so such a build's chunks are not bitwise what the first machine
            would have given: the table records which cells each machine trained (provenance
            ``mixed_hardware``), and ``benchmarks/hardware_effect.py`` measures the change
            next to a seed's. Off by default: a build stays on one kind of machine.

    Returns:
        ``out`` as a :class:`~pathlib.Path`.

    A build that fails before committing any chunk removes the ``OUT.parts/`` it created, so
    nothing stale is left behind; one that fails later keeps its committed chunks for
    ``resume``.

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
    dev = resolve_device(device)
    picked = auto_trainer(protocol, dev) if trainer == "auto" else trainer
    _check_options(picked, backend, chunk_size, workers, threads)
    try:
        grad_sum = resolve_grad_sum(picked, grad_sum)
    except GenerateError as exc:
        if trainer != "auto":
            raise
        raise GenerateError(f"{exc} (trainer 'auto' picked {picked!r} here)") from None
    trainer = picked
    out = Path(out)
    plan, mine, manifest = plan_chunks(protocol, cells, cells_seed, chunk_size, shard, trainer)
    manifest["numerics"] = numerics(trainer, dev, protocol.dtype, threads, grad_sum)
    data = None
    if backend == "local":  # fail on missing data before any state is written
        from nasbench_sim.generate.datasets import dataset_for

        data = dataset_for(protocol, dev, data_dir)
    parts = parts_dir(out)
    if restart and parts.exists():
        shutil.rmtree(parts)
    created = open_parts(parts, out, manifest, resume, mixed_hardware)
    done = {cid for cid in mine if chunk_path(parts, cid).exists()}
    progress_of = _Progress(plan, mine, progress, resumed=len(done))
    committed: list[int] = []

    def commit(cid: int, result: ChunkResult) -> None:
        result = _check_chunk_numerics(cid, result, manifest["numerics"])
        write_chunk(chunk_path(parts, cid), result)
        committed.append(cid)
        progress_of(cid, False, int(result.info["model_steps"]), float(result.info["wall_s"]))

    todo = [cid for cid in mine if cid not in done]
    for cid in mine:  # committed ones first, so that a log can say so at once
        if cid in done:
            progress_of(cid, True)
    try:
        _train(
            protocol, {cid: plan[cid] for cid in todo}, dev, commit, backend=backend,
            trainer=trainer, data=data, data_dir=data_dir, workers=workers,
            threads=threads, ray_options=ray_options, parts=parts, grad_sum=grad_sum,
        )  # fmt: skip
    except BaseException:
        # nothing of value: leave no stale build behind. The disk decides, not `committed`:
        # an interrupt between a chunk's rename and its bookkeeping must not delete it
        if created and not committed and not any(parts.glob("chunk-*.npz")):
            shutil.rmtree(parts, ignore_errors=True)
        raise
    table = assemble_parts(parts, {"build_wall_s_last_run": time.perf_counter() - started})
    write_table(out, table)
    if not keep_parts:
        shutil.rmtree(parts)
    return out


def auto_trainer(protocol: Protocol, device: str | Any) -> str:
    """The trainer ``"auto"`` picks: on a CPU with 1-D data the matmul fast path, stacked
    where stacking pays (:func:`~nasbench_sim.generate.stacking.stack_size`); else the
    grouped network (``"batched"``, the GPU path).

    Example:
        >>> auto_trainer(Protocol(dataset="mnist1d", batch_size=64), "cpu")
        'matmul_stacked'
        >>> auto_trainer(Protocol(dataset="mnist1d", batch_size=256), "cpu")
        'matmul'
        >>> auto_trainer(Protocol(dataset="digits"), "cpu")
        'batched'
    """
    on_cpu = str(device).split(":")[0] == "cpu"
    if not (on_cpu and protocol.dataset in ("mnist1d",)):
        return "batched"
    return "matmul_stacked" if stack_size(protocol) > 1 else "matmul"


def _check_chunk_numerics(cid: int, result: ChunkResult, want: dict[str, Any]) -> ChunkResult:
    """Refuse a chunk trained with other numerics than the build's (a Ray worker on another
    CPU or GPU model, or another torch) before it is committed, rather than at assembly; one
    that records none is given the build's, so that assembly credits it to this machine."""
    got = result.info.get("numerics")
    if got is None:  # a backend that records none: this build's, as checked here
        return dataclasses.replace(result, info={**result.info, "numerics": dict(want)})
    if got != want:
        raise BuildError(
            f"chunk {cid} was trained on {result.info.get('host', 'a worker')} with numerics "
            f"{got}, but this build's are {want}: its numbers would not be comparable. One "
            "build needs one kind of machine (CPU instruction set and vendor or GPU model, torch "
            "version) at a time; `--resume --mixed-hardware` continues it on another kind"
        )
    return result


def _check_options(trainer: str, backend: str, chunk_size: int, workers: int, threads: int) -> None:
    if trainer not in TRAINERS:
        raise GenerateError(f"unknown trainer {trainer!r}; valid trainers: {', '.join(TRAINERS)}")
    if backend not in BACKENDS:
        raise GenerateError(f"unknown backend {backend!r}; valid backends: {', '.join(BACKENDS)}")
    for name, value in (("chunk_size", chunk_size), ("workers", workers), ("threads", threads)):
        require_int(name, value, 1, GenerateError, numpy=False)


class _Progress:
    """Sends a :class:`BuildProgress` per finished (or skipped) chunk to ``callback``."""

    def __init__(
        self,
        plan: list[np.ndarray],
        mine: list[int],
        callback: Callable[[BuildProgress], None] | None,
        resumed: int = 0,
    ) -> None:
        self.plan, self.n_mine, self.callback = plan, len(mine), callback
        self.cells_total = sum(len(plan[c]) for c in mine)
        self.n_done = self.cells_done = 0
        self.n_resumed = resumed  # chunks committed by earlier runs, reported first

    def __call__(self, cid: int, skipped: bool, steps: int = 0, wall: float = 0.0) -> None:
        self.n_done += 1
        self.cells_done += len(self.plan[cid])
        if self.callback is not None:
            self.callback(
                BuildProgress(
                    cid, skipped, self.n_done, self.n_mine, self.cells_done, self.cells_total,
                    len(self.plan[cid]), steps, wall, self.n_resumed,
                )
            )  # fmt: skip


def _train(
    protocol: Protocol,
    todo: dict[int, np.ndarray],
    dev: Any,
    commit: Callable[[int, ChunkResult], None],
    *,
    backend: str,
    trainer: str,
    data: Any,
    data_dir: str | os.PathLike[str] | None,
    workers: int,
    threads: int,
    ray_options: RayOptions | None,
    parts: Path,
    grad_sum: str | None,
) -> None:
    """Train the chunks of ``todo`` on the chosen backend, committing each as it finishes."""
    if not todo:
        return
    if backend == "ray":
        from nasbench_sim.generate.ray_backend import train_chunks_ray

        failed = train_chunks_ray(
            protocol, todo, str(dev), commit, trainer=trainer, data_dir=data_dir,
            options=ray_options, threads=threads, grad_sum=grad_sum,
        )  # fmt: skip
        if failed:
            detail = "; ".join(f"chunk {c}: {e}" for c, e in sorted(failed.items()))
            raise BuildError(
                f"{len(failed)} chunk(s) failed after every retry ({detail}); the other "
                f"chunks are committed in {parts}: fix the cause and rerun with --resume"
            )
    elif workers > 1:
        from nasbench_sim.generate.local_pool import train_chunks_local

        train_chunks_local(
            protocol, todo, str(dev), commit, workers=workers, trainer=trainer,
            threads=threads, data_dir=data_dir, grad_sum=grad_sum,
        )  # fmt: skip
    else:
        for cid, cells in todo.items():
            result = train_chunk(
                protocol, cells, protocol.seeds, dev, trainer=trainer, data=data,
                threads=threads, grad_sum=grad_sum,
            )  # fmt: skip
            commit(cid, result)
