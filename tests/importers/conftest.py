"""Fixture files in every published layout, written by the tests themselves.

The real files are gigabytes behind manual downloads; these are small files with the same
containers and key layout (see ``nasbench_sim.importers.synthetic``): a NATS-Bench ``-simple``
directory, its single-file variant, NAS-Bench-201 ``.pth`` files in both torch containers, an
HW-NAS-Bench pickle. Every fixture includes an architecture without seed 999 and a split
(``cifar10-valid``'s ``ori-test``) evaluated only after the last epoch.
"""

from __future__ import annotations

import bz2
import pickle
from pathlib import Path
from typing import Any

import pytest

from nasbench_sim.importers import synthetic as syn

# Benchmark indices (not ours: the benchmark's index order is a permutation of ours).
INDICES = tuple(range(0, 48))
SPEC = syn.SyntheticSpec(budgets=("12", "200"))


def load_entry(path: Path) -> dict[str, Any]:
    """The source truth of one per-architecture file, read with plain pickle (our own file)."""
    return pickle.loads(bz2.decompress(path.read_bytes()))


@pytest.fixture(scope="session")
def nats_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nats") / "NATS-tss-v1_0-3ffb9-simple"
    return syn.write_nats_dir(root, INDICES, spec=SPEC, seed=0)


@pytest.fixture(scope="session")
def nats_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("natsfile") / "NATS-tss-v1_0-3ffb9.pickle.pbz2"
    return syn.write_nats_file(path, INDICES, spec=SPEC, seed=0)


@pytest.fixture(scope="session")
def hw_pickle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return syn.write_hwnas_pickle(tmp_path_factory.mktemp("hw") / "HW-NAS-Bench-v1_0.pickle")
