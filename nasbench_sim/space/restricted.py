""":class:`RestrictedSpace`: a space whose searches stay inside a set of cells.

A table may cover only some cells of its space (a ``build --cells N`` table, an imported table
of a few thousand architectures). A benchmark over such a table hands strategies this view
(:attr:`nasbench_sim.bench.Benchmark.search_space`): sampling draws among the covered cells,
a mutation moves to a covered neighbour, and the neighbourhood lists covered cells only, so a
strategy written against :class:`~nasbench_sim.space.SearchSpace` never proposes a cell the
table cannot answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench_sim.errors import CellParseError
from nasbench_sim.space.base import Decision, GraphTensors, SearchSpace

__all__ = ["RestrictedSpace"]


class RestrictedSpace(SearchSpace):
    """The cells ``cells`` of ``parent``, as a space for searches.

    Identity (indices, strings, ``size``, equivalence classes) and encodings are the
    parent's; what changes is what a search may propose: :meth:`sample` draws uniformly among
    ``cells``; :meth:`neighbours` keeps the covered ones; :meth:`mutate` moves to a uniformly
    drawn covered neighbour and, when no neighbour is covered, to a uniformly drawn covered
    cell (a restart). Attributes the parent has beyond the protocol (``ops``, ``edges``,
    ``ops_matrix``...) are reachable through the view.

    Args:
        parent: the whole space.
        cells: indices of the cells searches may propose (at least one).

    Example:
        >>> import numpy as np
        >>> from nasbench_sim.space import NB201Space
        >>> sub = RestrictedSpace(NB201Space(), np.arange(0, 15625, 5))
        >>> cell = sub.sample(np.random.default_rng(1))
        >>> all(sub.contains(n.index) for n in sub.neighbours(cell))
        True
    """

    def __init__(self, parent: SearchSpace, cells: np.ndarray) -> None:
        idx = np.unique(np.asarray(cells, dtype=np.int64))
        if idx.size == 0:
            raise CellParseError("a restricted space needs at least one cell")
        if idx[0] < 0 or idx[-1] >= parent.size:
            raise CellParseError(f"cell indices must lie in 0..{parent.size - 1}")
        self.parent = parent
        self.name = parent.name
        self.size = parent.size
        self.features = parent.features
        self._cells = idx
        self._cells.flags.writeable = False
        self._member = np.zeros(parent.size, dtype=bool)
        self._member[idx] = True

    def __getattr__(self, name: str) -> Any:  # ops, edges, ops_matrix... of the parent
        if name.startswith("_") or name == "parent":
            raise AttributeError(name)
        return getattr(self.parent, name)

    def __repr__(self) -> str:
        return f"RestrictedSpace({self.name!r}, {self._cells.size} of {self.size} cells)"

    # -- what a search may propose ----------------------------------------------------------
    @property
    def unrestricted(self) -> SearchSpace:
        return self.parent

    def candidates(self) -> np.ndarray:
        return self._cells

    @property
    def n_candidates(self) -> int:
        return int(self._cells.size)

    def contains(self, index: int) -> bool:
        return 0 <= index < self.size and bool(self._member[index])

    def sample(self, rng: np.random.Generator) -> Any:
        return self.parent.from_index(int(self._cells[rng.integers(self._cells.size)]))

    def sample_indices(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self._cells[rng.integers(self._cells.size, size=n)]

    def neighbours(self, arch: Any) -> list[Any]:
        return [a for a in self.parent.neighbours(arch) if self._member[self.parent.to_index(a)]]

    def mutate(self, arch: Any, rng: np.random.Generator) -> Any:
        near = self.neighbours(arch)
        if near:
            return near[int(rng.integers(len(near)))]
        here = self.parent.to_index(self.parent.coerce(arch))
        others = self._cells[self._cells != here]
        pool = others if others.size else self._cells
        return self.parent.from_index(int(pool[rng.integers(pool.size)]))

    # -- identity, classes and encodings: the parent's --------------------------------------
    def parse(self, text: str) -> Any:
        return self.parent.parse(text)

    def from_index(self, index: int) -> Any:
        return self.parent.from_index(index)

    def to_index(self, arch: Any) -> int:
        return self.parent.to_index(arch)

    def strings(self, index: np.ndarray) -> list[str]:
        return self.parent.strings(index)

    def decisions(self) -> tuple[Decision, ...]:
        return self.parent.decisions()

    def from_decisions(self, values: Sequence[int]) -> Any:
        return self.parent.from_decisions(values)

    def to_decisions(self, arch: Any) -> tuple[int, ...]:
        return self.parent.to_decisions(arch)

    def class_ids(self) -> np.ndarray:
        return self.parent.class_ids()

    def representatives(self) -> np.ndarray:
        return self.parent.representatives()

    def encode(self, archs: Sequence[Any] | np.ndarray, kind: str = "onehot") -> np.ndarray:
        return self.parent.encode(archs, kind)

    def graph(self, archs: Sequence[Any] | np.ndarray) -> GraphTensors:
        return self.parent.graph(archs)

    @property
    def encodings(self) -> tuple[str, ...]:
        return self.parent.encodings

    def describe(self) -> dict[str, Any]:
        return {**self.parent.describe(), "candidates": self.n_candidates}
