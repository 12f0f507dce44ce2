"""A second space plugs in through the SearchSpace protocol without touching table, benchmark
or simulator code: register it, write a table for it, query it, charge it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasbench_sim.bench import Benchmark, SimulatedBenchmark
from nasbench_sim.errors import CellParseError
from nasbench_sim.space import SPACES, GraphTensors, SearchSpace
from nasbench_sim.table import COST_METRICS, METRICS, TableData, write_table


class PairSpace(SearchSpace):
    """Two slots, three ops each; the two slots commute, so (a, b) ~ (b, a)."""

    name = "pairs"
    size = 9

    def parse(self, text: str) -> tuple[int, int]:
        try:
            a, b = (int(t) for t in text.split("-"))
        except ValueError:
            raise CellParseError(f"bad pair {text!r}") from None
        return self.from_index(a * 3 + b)

    def from_index(self, index: int) -> tuple[int, int]:
        if not 0 <= index < 9:
            raise CellParseError(f"index {index} outside 0..8")
        return (index // 3, index % 3)

    def to_index(self, arch: Any) -> int:
        if not (isinstance(arch, tuple) and len(arch) == 2):
            raise CellParseError(f"not a pair: {arch!r}")
        return arch[0] * 3 + arch[1]

    def mutate(self, arch: Any, rng: np.random.Generator) -> tuple[int, int]:
        nb = self.neighbours(arch)
        return nb[int(rng.integers(len(nb)))]

    def neighbours(self, arch: Any) -> list[tuple[int, int]]:
        a, b = arch
        return [(x, b) for x in range(3) if x != a] + [(a, y) for y in range(3) if y != b]

    def class_ids(self) -> np.ndarray:
        keys = [tuple(sorted(self.from_index(i))) for i in range(9)]
        order = {k: n for n, k in enumerate(dict.fromkeys(keys))}
        return np.array([order[k] for k in keys], dtype=np.int64)

    def representatives(self) -> np.ndarray:
        ids = self.class_ids()
        return np.array([int(np.flatnonzero(ids == c)[0]) for c in range(ids.max() + 1)])

    @property
    def encodings(self) -> tuple[str, ...]:
        return ("onehot",)

    def encode(self, archs: Sequence[Any] | np.ndarray, kind: str = "onehot") -> np.ndarray:
        idx = self.to_indices(archs)
        out = np.zeros((idx.size, 6), dtype=np.float32)
        out[np.arange(idx.size), idx // 3] = 1
        out[np.arange(idx.size), 3 + idx % 3] = 1
        return out

    def graph(self, archs: Sequence[Any] | np.ndarray) -> GraphTensors:
        x = self.encode(archs).reshape(-1, 2, 3)
        adj = np.zeros((x.shape[0], 2, 2), dtype=np.float32)
        adj[:, 0, 1] = 1
        return GraphTensors(x, adj, ("op0", "op1", "op2"))


@pytest.fixture()
def pairs_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SPACES, "pairs", PairSpace)


def test_second_space_end_to_end(pairs_registered: None, tmp_path: Path) -> None:
    space = PairSpace()
    reps = space.representatives()
    assert space.n_classes == 6
    n, s, e = reps.size, 2, 3
    acc = np.linspace(0.2, 0.9, n)[:, None, None] * np.ones((n, s, e), dtype=np.float32)
    table = TableData(
        space="pairs",
        dataset="toy",
        arch_index=reps.astype(np.int64),
        seeds=np.arange(s),
        metrics={m: acc.astype(np.float32) for m in METRICS},
        cost={c: np.arange(1, n + 1, dtype=np.float64) for c in COST_METRICS},
    )
    bench = Benchmark.load(write_table(tmp_path / "pairs.h5", table))
    assert bench.space.name == "pairs"
    # (2, 1) is not stored; it answers through its class row (1, 2)
    assert bench.query((2, 1), repeat=0).valid_acc == bench.query((1, 2), repeat=0).valid_acc
    assert bench.query("2-1", repeat=0).index == 7
    sim = SimulatedBenchmark(bench)
    sim.query((0, 0), epochs=2)
    sim.query((0, 0), epochs=3)
    assert sim.elapsed == pytest.approx(bench.query((0, 0)).train_time)  # 2 + 1 epochs
    assert bench.query_many(np.arange(9)).valid_acc.shape == (9,)
