"""The Ray backend of the build driver: one Ray task per chunk, the driver the single writer.

Each pending chunk becomes one Ray task running the pure
:func:`~nasbench_sim.generate.worker.train_chunk` on one GPU (or a fraction of one, or CPUs).
Results come back to the driver as tasks finish, and the driver commits each chunk atomically
with :func:`~nasbench_sim.generate.chunks.write_chunk`, so the parts directory has exactly one
writer whatever the size of the cluster. Ray retries a failed task (an exception, or a worker
or node that died) up to ``max_retries`` times; a chunk that still fails is reported and left
for ``--resume``, while every other chunk is committed. A restarted driver skips the chunks
already on disk (the build driver filters them before calling in here).

Ray is optional (``pip install -e ".[ray]"``) and imported only here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_sim.generate.chunks import ChunkResult
from nasbench_sim.generate.errors import MissingTrainingDependency
from nasbench_sim.generate.protocol import Protocol

__all__ = ["RayOptions", "train_chunks_ray"]


@dataclass(frozen=True)
class RayOptions:
    """How the build uses Ray.

    Attributes:
        address: ``None`` starts a local Ray instance on this machine (every local GPU and
            CPU); ``"auto"`` joins the cluster of ``ray start --head`` on this machine;
            ``"HOST:PORT"`` (or ``ray://HOST:10001``) joins a remote cluster.
        gpus_per_task: GPUs one chunk task needs (``None``: 1 when the device is CUDA, else
            0). A fraction such as ``0.5`` packs two tasks per GPU.
        cpus_per_task: CPUs one chunk task needs.
        max_retries: times Ray re-runs a task whose worker died or that raised.
        num_cpus: CPUs of a local instance (``None``: all); ignored when joining a cluster.
    """

    address: str | None = None
    gpus_per_task: float | None = None
    cpus_per_task: float = 1.0
    max_retries: int = 3
    num_cpus: int | None = None


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingTrainingDependency("ray") from None
    return ray


def _chunk_task(
    protocol: Protocol,
    cells: np.ndarray,
    seeds: Sequence[int],
    device: str,
    trainer: str,
    data_dir: str | None,
    chunk_id: int,
    threads: int,
    grad_sum: str | None = None,
) -> ChunkResult:
    """What one Ray task runs (module level, so Ray can ship it by reference; looked up when
    the tasks are submitted). ``chunk_id`` names the chunk in Ray's logs and errors."""
    del chunk_id
    from nasbench_sim.generate.datasets import dataset_for
    from nasbench_sim.generate.worker import train_chunk

    data = dataset_for(protocol, device, data_dir)
    return train_chunk(
        protocol, cells, seeds, device, trainer=trainer, data=data, threads=threads,
        grad_sum=grad_sum,
    )  # fmt: skip


def train_chunks_ray(
    protocol: Protocol,
    chunks: dict[int, np.ndarray],
    device: str,
    commit: Callable[[int, ChunkResult], None],
    *,
    trainer: str = "batched",
    data_dir: str | os.PathLike[str] | None = None,
    options: RayOptions | None = None,
    threads: int = 1,
    grad_sum: str | None = None,
) -> dict[int, str]:
    """Train ``chunks`` (chunk id → cell indices) as Ray tasks; ``commit`` each result.

    Returns:
        chunk id → error text of the chunks that failed after every retry (empty when all
        succeeded).
    """
    ray = _ray()
    opts = options or RayOptions()
    started_here = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if opts.address is None:
            kwargs["num_cpus"] = opts.num_cpus
        else:
            kwargs["address"] = opts.address
        ray.init(**kwargs)
        started_here = True
    try:
        gpus = opts.gpus_per_task
        if gpus is None:
            gpus = 1.0 if str(device).startswith("cuda") else 0.0
        # Inside a task Ray sets CUDA_VISIBLE_DEVICES to the GPU(s) it was given.
        task_device = "cuda" if str(device).startswith("cuda") else str(device)
        remote = ray.remote(_chunk_task).options(
            num_gpus=gpus,
            num_cpus=opts.cpus_per_task,
            max_retries=opts.max_retries,
            retry_exceptions=True,
        )
        data_dir_s = None if data_dir is None else str(data_dir)
        pending = {
            remote.remote(
                protocol,
                cells,
                protocol.seeds,
                task_device,
                trainer,
                data_dir_s,
                cid,
                threads,
                grad_sum,
            ): cid
            for cid, cells in chunks.items()
        }
        failed: dict[int, str] = {}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                cid = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as exc:  # retries exhausted: leave it for --resume
                    failed[cid] = f"{type(exc).__name__}: {exc}".splitlines()[0]
                    continue
                commit(cid, result)
        return failed
    finally:
        if started_here:
            ray.shutdown()
