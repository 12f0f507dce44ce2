"""A table's numbers do not depend on how its build was parallelised: one process or several,
bitwise; and tables trained with different numerics are never merged."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.generate import BuildError, Protocol, build_table, merge_tables
from nasbench_sim.table import METRICS, read_table

CELLS = [11, 222, 3333, 5555, 8888, 12000]


@pytest.fixture(scope="module")
def protocol() -> Protocol:
    from tests.tiny_protocol import TINY

    return dataclasses.replace(
        TINY, dataset="mnist1d", epochs=2, train_subset=64, timing_cells_per_chunk=0,
        seeds=(0, 1),
    )  # fmt: skip


@pytest.mark.parametrize("trainer", ["matmul", "matmul_stacked", "batched"])
def test_two_worker_processes_build_the_same_table_bitwise(
    protocol: Protocol, trainer: str, tmp_path: Path
) -> None:
    one = read_table(
        build_table(protocol, tmp_path / "one.h5", cells=CELLS, chunk_size=2, trainer=trainer)
    )
    two = read_table(
        build_table(
            protocol, tmp_path / "two.h5", cells=CELLS, chunk_size=2, trainer=trainer, workers=2
        )
    )
    np.testing.assert_array_equal(one.arch_index, two.arch_index)
    for name in METRICS:
        np.testing.assert_array_equal(one.metrics[name], two.metrics[name])
    assert one.provenance["numerics"] == two.provenance["numerics"]
    assert one.provenance["numerics"]["threads"] == 1
    assert one.provenance["numerics"]["trainer"] == trainer
    assert two.provenance["cpu_s"] > 0


def test_merge_refuses_shards_trained_with_different_numerics(
    protocol: Protocol, tmp_path: Path
) -> None:
    a = build_table(
        protocol, tmp_path / "a.h5", cells=CELLS, chunk_size=3, shard="0/2", trainer="matmul"
    )
    b = build_table(
        protocol, tmp_path / "b.h5", cells=CELLS, chunk_size=3, shard="1/2", trainer="reference"
    )
    with pytest.raises(BuildError, match="numerics"):
        merge_tables([a, b], tmp_path / "m.h5")
    c = build_table(
        protocol, tmp_path / "c.h5", cells=CELLS, chunk_size=3, shard="1/2", trainer="matmul"
    )
    merged = read_table(merge_tables([a, c], tmp_path / "m.h5"))
    assert merged.n_cells == len(CELLS)
    assert merged.provenance["numerics"]["trainer"] == "matmul"


def test_resume_refuses_other_numerics(protocol: Protocol, tmp_path: Path) -> None:
    out = tmp_path / "t.h5"
    build_table(protocol, out, cells=CELLS, chunk_size=2, keep_parts=True, trainer="matmul")
    out.unlink()
    with pytest.raises(BuildError, match="numerics"):
        build_table(
            protocol, out, cells=CELLS, chunk_size=2, resume=True, trainer="matmul", threads=2
        )


def _torch_settings() -> tuple[bool, ...]:
    import torch

    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    return (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        cudnn.deterministic, cudnn.benchmark, cudnn.allow_tf32, matmul.allow_tf32,
    )  # fmt: skip


@pytest.fixture()
def torch_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Restore torch's process-wide settings and the environment after the test."""
    import torch

    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    before = _torch_settings()
    yield
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    torch.use_deterministic_algorithms(before[0], warn_only=before[1])
    cudnn.deterministic, cudnn.benchmark, cudnn.allow_tf32, matmul.allow_tf32 = before[2:]


def test_cuda_training_runs_with_deterministic_kernels_and_restores_the_settings(
    torch_settings: None,
) -> None:
    # The flags are process-wide torch settings, so they can be checked without a GPU.
    import os

    import torch

    from nasbench_sim.generate.worker import deterministic_cuda

    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    torch.use_deterministic_algorithms(False, warn_only=True)  # a user's settings, which a
    cudnn.benchmark = True  # build must neither keep nor lose
    mine = _torch_settings()
    with deterministic_cuda(torch.device("cpu")):
        assert _torch_settings() == mine and "CUBLAS_WORKSPACE_CONFIG" not in os.environ
    with deterministic_cuda(torch.device("cuda")):
        assert torch.are_deterministic_algorithms_enabled()
        assert not torch.is_deterministic_algorithms_warn_only_enabled()
        assert cudnn.deterministic and not cudnn.benchmark
        assert not cudnn.allow_tf32 and not matmul.allow_tf32
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert _torch_settings() == mine
    with pytest.raises(RuntimeError, match="in training"), deterministic_cuda(torch.device("cuda")):
        raise RuntimeError("in training")
    assert _torch_settings() == mine  # restored on an error too


def test_every_chunk_is_trained_inside_deterministic_cuda(
    protocol: Protocol, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contextlib

    from nasbench_sim.generate import worker

    entered = []

    @contextlib.contextmanager
    def recording(dev: object) -> Iterator[None]:
        entered.append(str(dev))
        yield

    monkeypatch.setattr(worker, "deterministic_cuda", recording)
    result = worker.train_chunk(protocol, CELLS[:1], [0], "cpu", trainer="matmul")
    assert entered == ["cpu"] and result.metrics["valid_acc"].shape[0] == 1


def test_cuda_numerics_name_the_determinism_and_leave_cpu_numerics_as_built() -> None:
    from nasbench_sim.generate.worker import numerics

    cuda = numerics("batched", "cuda", "float32")
    assert cuda["deterministic"] is True and cuda["tf32"] is False
    assert {"gpu", "cuda", "cudnn"} <= set(cuda) and "threads" not in cuda
    cpu = numerics("matmul_stacked", "cpu", "float32", 1, "autograd")  # the default table's
    base = {"trainer", "device", "dtype", "torch", "threads", "cpu_capability"}
    assert set(cpu) - {"cpu_vendor"} == base  # the vendor where /proc/cpuinfo names it
    assert numerics("matmul_stacked", "cpu", "float32", 1) == {**cpu, "grad_sum": "ordered"}


def test_a_chunk_with_other_numerics_is_refused_before_it_is_committed(
    protocol: Protocol, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker on another kind of machine (here: one that reports another CPU instruction
    set) stops the build at its first chunk, and commits nothing of it."""
    from nasbench_sim.generate import build as build_mod

    real = build_mod.train_chunk

    def elsewhere(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)  # type: ignore[arg-type]
        numerics = {**result.info["numerics"], "cpu_capability": "ANOTHER"}
        return dataclasses.replace(result, info={**result.info, "numerics": numerics})

    monkeypatch.setattr(build_mod, "train_chunk", elsewhere)
    out = tmp_path / "t.h5"
    with pytest.raises(BuildError, match=r"chunk 0 was trained on .* with numerics"):
        build_table(protocol, out, cells=CELLS[:2], chunk_size=1, trainer="matmul")
    assert not out.exists() and not list(tmp_path.glob("t.h5.parts/chunk-*"))
