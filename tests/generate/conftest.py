"""Fixtures of the generator tests: the tiny protocol and one torch thread
(see :mod:`tests.tiny_protocol`)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from nasbench_sim.generate import Protocol
from tests.tiny_protocol import TINY, _one_thread  # noqa: F401  (autouse fixture)


@pytest.fixture()
def tiny() -> Protocol:
    return TINY
