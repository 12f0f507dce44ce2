"""The unit of work of a build: train one chunk of cells with every seed and measure their
costs, wherever it runs (this process, or a Ray task on another machine).

:func:`train_chunk` is a pure function of its arguments, so a distributed backend can map it
over workers and commit its results with :func:`~nasbench_sim.generate.chunks.write_chunk`.
torch is imported only when it runs.
"""

from __future__ import annotations

import contextlib
import os
import platform
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbench_sim.checks import require_int
from nasbench_sim.generate.chunks import ChunkResult
from nasbench_sim.generate.errors import GenerateError, MissingTrainingDependency
from nasbench_sim.generate.grad_sum import resolve_grad_sum
from nasbench_sim.generate.hardware import cpu_name, cpuinfo
from nasbench_sim.generate.protocol import Protocol

if TYPE_CHECKING:
    import torch

    from nasbench_sim.generate.datasets import Dataset

__all__ = ["TRAINERS", "deterministic_cuda", "numerics", "resolve_device", "train_chunk"]

TRAINERS: tuple[str, ...] = ("batched", "reference", "matmul", "matmul_stacked")


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise MissingTrainingDependency("torch") from None
    return torch


def resolve_device(device: str | Any) -> torch.device:
    """``torch.device`` of ``device``; a typed error for an unknown or unavailable device."""
    torch = _torch()
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise GenerateError(f"unknown device {device!r} ({exc}); use cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise GenerateError(f"device {device!r} requested but CUDA is not available here")
    if dev.type not in ("cpu", "cuda"):
        raise GenerateError(f"device {device!r} is not supported; use cpu, cuda or cuda:N")
    return dev


def train_chunk(
    protocol: Protocol,
    cell_indices: Sequence[int] | np.ndarray,
    seeds: Sequence[int],
    device: str | torch.device,
    *,
    trainer: str = "batched",
    data: Dataset | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    threads: int | None = 1,
    grad_sum: str | None = None,
) -> ChunkResult:
    """Train ``cell_indices`` with every seed and measure their costs (pure: same arguments,
    same curves; only the timings vary).

    Args:
        protocol: the training protocol.
        cell_indices: nb201 indices of the chunk's cells.
        seeds: training seeds.
        device: torch device.
        trainer: ``"batched"`` (all cells as one grouped network per seed),
            ``"reference"`` (one at a time), ``"matmul"`` (one at a time as matrix
            products: the fast path on CPUs, 1-D data only) or ``"matmul_stacked"``
            (runs of consecutive cells stacked per seed, ``stack_size(protocol)`` at a time,
            see :mod:`~nasbench_sim.generate.train_matmul`: the fast path on CPUs at batch
            sizes below 256, 1-D data only).
        data: the protocol's dataset on ``device`` (loaded here when ``None``).
        data_dir: where file-based datasets live (when ``data`` is ``None``).
        threads: torch CPU threads of each training run (part of its numerics: the same
            chunk trained with another thread count may differ in the last bits, which
            float32 training amplifies); ``None`` leaves the process's setting alone.
        grad_sum: for the matmul trainers, the order a cell node's gradients are added in
            (:mod:`~nasbench_sim.generate.grad_sum`; default ``"ordered"``, part of the
            numerics); leave it ``None`` for the others.
    """
    if trainer not in TRAINERS:
        raise GenerateError(f"unknown trainer {trainer!r}; valid trainers: {', '.join(TRAINERS)}")
    grad_sum = resolve_grad_sum(trainer, grad_sum)
    torch = _torch()
    start = time.perf_counter()
    cpu_start = time.process_time()
    dev = resolve_device(device)
    threads_before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(require_int("threads", threads, 1, GenerateError, numpy=False))
    try:
        with deterministic_cuda(dev):
            return _train_chunk(
                torch, protocol, np.asarray(cell_indices, dtype=np.int64), seeds, dev, trainer,
                grad_sum, data, data_dir, start, cpu_start,
            )  # fmt: skip
    finally:
        torch.set_num_threads(threads_before)


@contextlib.contextmanager
def deterministic_cuda(dev: torch.device) -> Iterator[None]:
    """On CUDA, train with deterministic kernels and without TF32, restoring torch's
    settings afterwards (a no-op on a CPU). ``CUBLAS_WORKSPACE_CONFIG`` is set if unset and
    left set, since cuBLAS reads it only when it starts.

    Without this, two builds of the same cells on one GPU differ: cuDNN picks kernels whose
    reductions run in a varying order, and float32 SGD amplifies the last-bit differences
    (measured on an H200, 128 cells, 3 epochs: valid accuracy up to 0.32 apart).
    """
    if dev.type != "cuda":
        yield
        return
    torch = _torch()
    # cuBLAS needs a fixed workspace for deterministic results. It reads this when it starts
    # (at a build's first matrix product, inside this context), so it stays set.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    before = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        cudnn.deterministic, cudnn.benchmark, cudnn.allow_tf32, matmul.allow_tf32,
    )  # fmt: skip
    torch.use_deterministic_algorithms(True)
    cudnn.deterministic, cudnn.benchmark, cudnn.allow_tf32, matmul.allow_tf32 = (
        True, False, False, False,
    )  # fmt: skip
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        cudnn.deterministic, cudnn.benchmark, cudnn.allow_tf32, matmul.allow_tf32 = before[2:]


def numerics(
    trainer: str,
    device: Any,
    dtype: str,
    threads: int | None = None,
    grad_sum: str | None = None,
) -> dict[str, Any]:
    """What fixes the floating-point results of a training run besides the protocol: two
    tables can be merged only when these agree. ``grad_sum`` (a matmul trainer's; default
    ``"ordered"``) is recorded when ``"ordered"``: numerics without it are autograd's order,
    as every table built before the choice existed."""
    torch = _torch()
    dev = torch.device(device)
    out: dict[str, Any] = {
        "trainer": trainer,
        "device": dev.type,
        "dtype": dtype,
        "torch": str(torch.__version__).split("+")[0],
    }
    if resolve_grad_sum(trainer, grad_sum) == "ordered":
        out["grad_sum"] = "ordered"
    if dev.type == "cuda":
        # deterministic_cuda: deterministic kernels, no TF32; results also depend on the GPU.
        out["deterministic"] = True
        out["tf32"] = False
        out["gpu"] = str(torch.cuda.get_device_name(dev)) if torch.cuda.is_available() else None
        out["cuda"] = torch.version.cuda
        out["cudnn"] = torch.backends.cudnn.version() if torch.cuda.is_available() else None
    if dev.type == "cpu":
        out["threads"] = int(threads if threads is not None else torch.get_num_threads())
        out["cpu_capability"] = str(torch.backends.cpu.get_cpu_capability())
        vendor = cpuinfo("vendor_id")
        if vendor:
            out["cpu_vendor"] = vendor
    return out


def _train_chunk(
    torch: Any,
    protocol: Protocol,
    idx: np.ndarray,
    seeds: Sequence[int],
    dev: Any,
    trainer: str,
    grad_sum: str | None,
    data: Dataset | None,
    data_dir: str | os.PathLike[str] | None,
    start: float,
    cpu_start: float,
) -> ChunkResult:
    from nasbench_sim.generate._loop import steps_per_epoch
    from nasbench_sim.generate.costs import (
        count_flops,
        count_params,
        measure_latency,
        time_train_steps,
    )
    from nasbench_sim.generate.datasets import dataset_for
    from nasbench_sim.generate.train_batched import train_batched
    from nasbench_sim.generate.train_matmul import stack_size, train_matmul, train_matmul_stacked
    from nasbench_sim.generate.train_reference import reference_model, train_reference
    from nasbench_sim.space import Cell

    data = data if data is not None else dataset_for(protocol, dev, data_dir)
    cells = [Cell.from_index(int(i)) for i in idx]
    k, s, e = len(cells), len(seeds), protocol.epochs
    metrics: dict[str, np.ndarray] = {}
    model_steps = 0
    ordered = grad_sum == "ordered"
    for j, seed in enumerate(seeds):
        if trainer == "batched":
            results = [train_batched(protocol, cells, int(seed), data, dev)]
        elif trainer == "matmul_stacked":
            m = stack_size(protocol)
            results = [
                train_matmul_stacked(protocol, cells[a : a + m], int(seed), data, dev, ordered)
                for a in range(0, k, m)
            ]
        elif trainer == "matmul":
            results = [train_matmul(protocol, c, int(seed), data, dev, ordered) for c in cells]
        else:
            results = [train_reference(protocol, c, int(seed), data, dev) for c in cells]
        for name in results[0].metrics:
            block = np.concatenate([r.metrics[name] for r in results])
            metrics.setdefault(name, np.full((k, s, e), np.nan, dtype=np.float32))[:, j] = block
        model_steps += sum(r.steps * r.metrics["valid_acc"].shape[0] for r in results)
    train_wall = time.perf_counter() - start

    cost = {n: np.zeros(k) for n in ("params", "flops", "latency_s")}
    cost["train_time_measured_s"] = np.full(k, np.nan)
    for j, cell in enumerate(cells):
        model = reference_model(protocol, cell, int(seeds[0]), data, dev)
        cost["params"][j] = count_params(model)
        cost["flops"][j] = count_flops(model, data.input_shape)
        cost["latency_s"][j] = measure_latency(model, data.input_shape, protocol)
    n_time = min(protocol.timing_cells_per_chunk, k)
    timed = np.random.default_rng([protocol.base_seed, *idx.tolist()]).choice(
        k, n_time, replace=False
    )
    spe = steps_per_epoch(protocol, int(data.train_y.shape[0]))
    for j in sorted(int(t) for t in timed):
        model = reference_model(protocol, cells[j], int(seeds[0]), data, dev)
        cost["train_time_measured_s"][j] = time_train_steps(model, data, protocol) * spe

    info = {
        "device": str(dev),
        "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else cpu_name(),
        "host": platform.node(),
        "pid": os.getpid(),
        "trainer": trainer,
        "train_wall_s": train_wall,
        "wall_s": time.perf_counter() - start,
        "cpu_s": time.process_time() - cpu_start,
        "numerics": numerics(trainer, dev, protocol.dtype, torch.get_num_threads(), grad_sum),
        **({"stack_size": stack_size(protocol)} if trainer == "matmul_stacked" else {}),
        "model_steps": model_steps,
        "splits": data.sizes,
        "input_shape": list(data.input_shape),
        "n_classes": data.n_classes,
        "software": {"torch": str(torch.__version__)},
        "finished": time.time(),
    }
    return ChunkResult(
        arch_index=idx,
        seeds=np.asarray(seeds, dtype=np.int64),
        metrics=metrics,
        cost=cost,
        info=info,
    )
