"""The local multi-process backend of the build driver: chunks trained by worker processes.

On a CPU the fastest way to use several cores is one training run per core, each on one
thread (PyTorch's intra-op threading is inefficient for the small tensors of a cell network),
and fixing the thread count of every training run also fixes its numerics: a table comes out
bitwise the same whether its chunks were trained by one process or by many, here or as Ray
tasks (:mod:`~nasbench_sim.generate.ray_backend`). This process stays the only writer of the
parts directory, committing each chunk as its worker returns it.

Workers are started with the ``spawn`` method (a fresh interpreter: no inherited OpenMP or
torch state) and each loads the dataset once per chunk from the protocol (the MNIST-1D
generator is memoised per process).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

import numpy as np

from nasbench_sim.generate.chunks import ChunkResult
from nasbench_sim.generate.protocol import Protocol

__all__ = ["train_chunks_local"]


def _init_worker() -> None:
    """Make a worker die with the driver: on Linux, ask the kernel to send it SIGTERM when its
    parent exits (a killed driver otherwise leaves workers training orphaned chunks). Ctrl-C
    reaches every process of the terminal's group: the driver handles it and stops the
    workers, so a worker ignores it rather than print a traceback between two chunks."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):  # pragma: no cover - other C libraries
            pass


_PR_SET_PDEATHSIG = 1


def _chunk_task(
    protocol: Protocol,
    cells: np.ndarray,
    device: str,
    trainer: str,
    data_dir: str | None,
    threads: int,
    grad_sum: str | None,
) -> ChunkResult:
    from nasbench_sim.generate.worker import train_chunk

    return train_chunk(
        protocol, cells, protocol.seeds, device, trainer=trainer, data_dir=data_dir,
        threads=threads, grad_sum=grad_sum,
    )  # fmt: skip


def train_chunks_local(
    protocol: Protocol,
    chunks: dict[int, np.ndarray],
    device: str,
    commit: Callable[[int, ChunkResult], None],
    *,
    workers: int,
    trainer: str,
    threads: int,
    data_dir: str | os.PathLike[str] | None = None,
    grad_sum: str | None = None,
) -> None:
    """Train ``chunks`` (chunk id → cell indices) in ``workers`` processes; ``commit`` each
    result in this process as it arrives.

    A failing chunk, or an interrupt, cancels the chunks not yet started, stops the workers
    and re-raises; every chunk committed before stays committed (resume with ``--resume``).
    """
    ctx = multiprocessing.get_context("spawn")
    data_dir_s = None if data_dir is None else str(data_dir)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker)
    try:
        pending: dict[Future[ChunkResult], int] = {
            pool.submit(
                _chunk_task, protocol, cells, device, trainer, data_dir_s, threads, grad_sum
            ): cid
            for cid, cells in chunks.items()
        }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                cid = pending.pop(fut)
                commit(cid, fut.result())
    except BaseException:
        procs = list((getattr(pool, "_processes", None) or {}).values())  # shutdown clears it
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(timeout=10)
        pool.shutdown(wait=True)  # its queues' semaphores released now, not leaked at exit
        raise
    pool.shutdown(wait=True)
