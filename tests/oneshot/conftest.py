"""Fixtures of the one-shot tests: a tiny protocol, one torch thread, a tiny real table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nasbench_sim.generate import Protocol, build_table  # noqa: E402

TINY = Protocol(
    dataset="digits",
    channels=4,
    cells_per_stage=1,
    epochs=2,
    batch_size=32,
    train_subset=96,
    eval_subset=64,
    latency_batch_size=8,
    latency_repeats=1,
    timing_cells_per_chunk=1,
    timing_steps=1,
)
"""Trains a super-network for an epoch in well under a second."""

TABLE_CELLS = np.random.default_rng(7).choice(15625, size=24, replace=False).tolist()


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture()
def tiny() -> Protocol:
    return TINY


@pytest.fixture(scope="session")
def built_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 24-cell table on digits (read-only: copy it before adding groups)."""
    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("oneshot") / "tiny_real.h5"
    return build_table(TINY, path, cells=TABLE_CELLS, chunk_size=24)


@pytest.fixture()
def table_copy(built_table: Path, tmp_path: Path) -> Path:
    import shutil

    out = tmp_path / "table.h5"
    shutil.copyfile(built_table, out)
    return out
