"""Fixtures of the one-shot tests: a tiny protocol, one torch thread, a tiny real table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nasbench_sim.generate import Protocol, build_table  # noqa: E402
from tests.tiny_protocol import TINY as GEN_TINY  # noqa: E402
from tests.tiny_protocol import _one_thread  # noqa: E402, F401  (autouse: one torch thread)

TINY = GEN_TINY
"""The generator tests' tiny protocol: trains a super-network for an epoch in well under a
second."""

TABLE_CELLS = np.random.default_rng(7).choice(15625, size=24, replace=False).tolist()


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
