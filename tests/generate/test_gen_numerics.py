"""A table's numbers do not depend on how its build was parallelised: one process or several,
bitwise; and tables trained with different numerics are never merged."""

from __future__ import annotations

import dataclasses
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


def test_cuda_training_runs_with_deterministic_kernels_and_restores_the_settings() -> None:
    # The flags are process-wide torch settings, so they can be checked without a GPU.
    import torch

    from nasbench_sim.generate.worker import deterministic_cuda

    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    before = (
        torch.are_deterministic_algorithms_enabled(),
        cudnn.deterministic, cudnn.benchmark, cudnn.allow_tf32, matmul.allow_tf32,
    )  # fmt: skip
    cudnn.benchmark = True  # a user's setting that a build must not keep, nor lose
    try:
        with deterministic_cuda(torch.device("cpu")):
            assert cudnn.benchmark and not cudnn.deterministic
        with deterministic_cuda(torch.device("cuda")):
            assert torch.are_deterministic_algorithms_enabled()
            assert cudnn.deterministic and not cudnn.benchmark
            assert not cudnn.allow_tf32 and not matmul.allow_tf32
        assert cudnn.benchmark and not cudnn.deterministic
        assert torch.are_deterministic_algorithms_enabled() == before[0]
        assert (cudnn.allow_tf32, matmul.allow_tf32) == before[3:]
    finally:
        torch.use_deterministic_algorithms(before[0])
        cudnn.deterministic, cudnn.benchmark, cudnn.allow_tf32, matmul.allow_tf32 = before[1:]


def test_cuda_numerics_name_the_determinism_and_leave_cpu_numerics_as_built() -> None:
    from nasbench_sim.generate.worker import numerics

    cuda = numerics("batched", "cuda", "float32")
    assert cuda["deterministic"] is True and cuda["tf32"] is False and "gpu" in cuda
    assert "threads" not in cuda
    cpu = numerics("matmul_stacked", "cpu", "float32", 1)
    assert set(cpu) == {"trainer", "device", "dtype", "torch", "threads", "cpu_capability"}
