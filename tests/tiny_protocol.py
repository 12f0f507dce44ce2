"""Shared by the torch tests (generator, one-shot): a tiny protocol and a one-thread guard.

A plain module, not a conftest, so that any conftest can import it whichever test folders a
run selects. One torch thread is fast and bitwise reproducible on a busy 2-core machine
(multi-threaded tiny convolutions are slower).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

torch = pytest.importorskip("torch")

from nasbench_sim.generate import Protocol  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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
"""A protocol that trains a cell in well under a second."""
