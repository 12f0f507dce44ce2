"""The search-space protocol every space implements.

Benchmark, search and predictor code only talk to a space through this interface, so a second
space (for example a NAS-Bench-101-style space with ops on nodes and an isomorphism-invariant
graph hash) plugs in by subclassing :class:`SearchSpace` and registering it; nothing else
changes.

Architectures are hashable value objects with a string form. Every architecture has an integer
index in ``0 .. size-1``; vectorised code (tables, ``query_many``, encodings of many cells)
works on index arrays.

Two kinds of space exist. A space of a fixed, enumerable size (NAS-Bench-201's 15,625 cells)
is the same object for every table. A space whose cells are **the graphs a table holds**
(NAS-Bench-101: 423,624 graphs nobody enumerates) is made from the table's ``arch/*``
datasets: :meth:`SearchSpace.table_arrays` says what to store for it, and
:meth:`SearchSpace.for_table` builds it back from them (:attr:`SearchSpace.table_defined`).

Strategies that need more than the protocol ask for it through :attr:`SearchSpace.features`:
``"decisions"`` (a cell is a vector of categorical choices: :meth:`SearchSpace.decisions`) and
``"edge_ops"`` (NAS-Bench-201's layout: one op chosen on each of a fixed set of edges).
"""

from __future__ import annotations

import abc
from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

__all__ = ["FEATURES", "Arch", "Decision", "GraphTensors", "SearchSpace"]

FEATURES: dict[str, str] = {
    "decisions": "cells written as a vector of categorical choices (SearchSpace.decisions)",
    "edge_ops": "NAS-Bench-201's layout: one op chosen on each of a fixed set of edges",
}
"""What a space may offer beyond the protocol, by name, and what it means."""

Decision = tuple[str, tuple[str, ...]]
"""One categorical choice of a cell: its name and the labels of its choices."""

Arch = Hashable
"""An architecture of some space: hashable, immutable, with ``str()`` giving its canonical text."""


class GraphTensors:
    """Node features and adjacency of one or many architectures, for graph networks.

    Attributes:
        features: float32 array ``(n_nodes, n_features)`` or ``(batch, n_nodes, n_features)``.
        adjacency: float32 array ``(n_nodes, n_nodes)`` or ``(batch, n_nodes, n_nodes)``;
            ``adjacency[i, j] = 1`` when node ``i`` feeds node ``j``.
        feature_names: what each feature column means.
    """

    __slots__ = ("adjacency", "feature_names", "features")

    def __init__(
        self, features: np.ndarray, adjacency: np.ndarray, feature_names: tuple[str, ...]
    ) -> None:
        self.features = features
        self.adjacency = adjacency
        self.feature_names = feature_names


class SearchSpace(abc.ABC):
    """A finite, enumerable architecture space.

    Subclasses set :attr:`name` and :attr:`size` and implement the abstract methods. All
    stochastic methods take the caller's ``np.random.Generator``; the space holds no RNG.
    """

    name: str
    size: int
    features: frozenset[str] = frozenset()
    """What the space offers beyond the protocol (keys of :data:`FEATURES`)."""
    table_defined: ClassVar[bool] = False
    """True when the space's cells are the graphs of a table (see :meth:`for_table`)."""

    # -- identity -------------------------------------------------------------------------
    @abc.abstractmethod
    def parse(self, text: str) -> Any:
        """Parse the space's string form into an architecture (raises ``CellParseError``)."""

    @abc.abstractmethod
    def from_index(self, index: int) -> Any:
        """The architecture with this integer index (``0 <= index < size``)."""

    @abc.abstractmethod
    def to_index(self, arch: Any) -> int:
        """The integer index of an architecture of this space."""

    def coerce(self, arch: Any) -> Any:
        """Accept an architecture, its string form or its integer index; return the object."""
        if isinstance(arch, str):
            return self.parse(arch)
        if isinstance(arch, (int, np.integer)):
            return self.from_index(int(arch))
        self.to_index(arch)  # validates type
        return arch

    def to_indices(self, archs: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Index array of many architectures (integers pass through after a range check)."""
        if isinstance(archs, np.ndarray) and archs.dtype.kind in "iu":
            idx = archs.astype(np.int64, copy=False)
        else:
            idx = np.fromiter(
                (self.to_index(self.coerce(a)) for a in archs), dtype=np.int64, count=len(archs)
            )
        if idx.size and (idx.min() < 0 or idx.max() >= self.size):
            from nasbench_sim.errors import CellParseError

            raise CellParseError(f"indices must lie in 0..{self.size - 1}")
        return idx

    def strings(self, index: np.ndarray) -> list[str]:
        """The string forms of the cells ``index`` (what a table stores as ``arch/string``)."""
        return [str(self.from_index(int(i))) for i in np.asarray(index)]

    # -- spaces made from a table's graphs ------------------------------------------------
    def table_arrays(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """Datasets a table stores under ``arch/`` (besides ``index``, ``string`` and
        ``class_id``) to rebuild this space with :meth:`for_table`; none for a fixed space."""
        return {}

    def for_table(self, arrays: Mapping[str, np.ndarray]) -> SearchSpace:
        """The space of a table whose extra ``arch/`` datasets are ``arrays`` (this space
        itself for a fixed space).

        Raises:
            CellParseError: the datasets do not describe cells of this space.
        """
        return self

    # -- cells as categorical choices -----------------------------------------------------
    def decisions(self) -> tuple[Decision, ...]:
        """The categorical choices that write a cell (``"decisions"`` in :attr:`features`).

        Raises:
            UnsupportedSpaceError: the space has no such form.
        """
        from nasbench_sim.errors import UnsupportedSpaceError

        raise UnsupportedSpaceError(
            f"the space {self.name!r} does not write its cells as categorical choices"
        )

    def from_decisions(self, values: Sequence[int]) -> Any:
        """The cell the choices ``values`` (one index per :meth:`decisions` entry) write.

        Raises:
            CellParseError: the choices do not make a valid cell.
            CellNotInTableError: a valid cell the space does not hold.
        """
        from nasbench_sim.errors import UnsupportedSpaceError

        raise UnsupportedSpaceError(
            f"the space {self.name!r} does not write its cells as categorical choices"
        )

    def to_decisions(self, arch: Any) -> tuple[int, ...]:
        """Choices that write ``arch`` (one of them, when several do)."""
        from nasbench_sim.errors import UnsupportedSpaceError

        raise UnsupportedSpaceError(
            f"the space {self.name!r} does not write its cells as categorical choices"
        )

    # -- the cells a search may propose -----------------------------------------------------
    @property
    def unrestricted(self) -> SearchSpace:
        """The whole space this one is part of (itself, unless it is a :meth:`restrict` view)."""
        return self

    def candidates(self) -> np.ndarray:
        """Sorted int64 indices of the cells a search may propose (all ``0 .. size-1`` here;
        fewer in a :meth:`restrict` view)."""
        cells: np.ndarray | None = self.__dict__.get("_all_cells")
        if cells is None:
            cells = np.arange(self.size, dtype=np.int64)
            cells.flags.writeable = False
            self.__dict__["_all_cells"] = cells
        return cells

    @property
    def n_candidates(self) -> int:
        """How many cells a search may propose."""
        return self.size

    def contains(self, index: int) -> bool:
        """Whether a search may propose the cell with this index."""
        return 0 <= index < self.size

    def restrict(self, cells: np.ndarray) -> SearchSpace:
        """A view of this space in which searches draw, mutate and step only among ``cells``
        (indices), e.g. the cells a partial table covers. Indices, strings, encodings and
        equivalence classes are those of this space.

        Example:
            >>> import numpy as np
            >>> from nasbench_sim.space import get_space
            >>> sub = get_space("nb201").restrict(np.array([3, 8, 20]))
            >>> sub.n_candidates, sub.sample(np.random.default_rng(0)).index in (3, 8, 20)
            (3, True)
        """
        from nasbench_sim.space.restricted import RestrictedSpace

        return RestrictedSpace(self.unrestricted, cells)

    # -- enumeration and sampling -----------------------------------------------------------
    def enumerate(self) -> Iterator[Any]:
        """Every architecture, in index order."""
        for i in range(self.size):
            yield self.from_index(i)

    def sample(self, rng: np.random.Generator) -> Any:
        """One architecture drawn uniformly at random."""
        return self.from_index(int(rng.integers(self.size)))

    def sample_indices(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` architecture indices drawn uniformly with replacement."""
        return rng.integers(self.size, size=n, dtype=np.int64)

    @abc.abstractmethod
    def mutate(self, arch: Any, rng: np.random.Generator) -> Any:
        """A random neighbour: the architecture with one decision changed."""

    @abc.abstractmethod
    def neighbours(self, arch: Any) -> list[Any]:
        """All architectures that differ from ``arch`` in exactly one decision."""

    # -- equivalence classes ----------------------------------------------------------------
    @abc.abstractmethod
    def class_ids(self) -> np.ndarray:
        """Read-only int64 array ``(size,)``: the functional-equivalence class of each index."""

    @abc.abstractmethod
    def representatives(self) -> np.ndarray:
        """Read-only int64 array ``(n_classes,)``: the canonical index of each class."""

    @property
    def n_classes(self) -> int:
        """Number of functionally distinct architectures."""
        return int(self.representatives().shape[0])

    def class_of(self, arch: Any) -> int:
        """Class id of one architecture."""
        return int(self.class_ids()[self.to_index(self.coerce(arch))])

    def canonical(self, arch: Any) -> Any:
        """The canonical representative of ``arch``'s equivalence class."""
        return self.from_index(int(self.representatives()[self.class_of(arch)]))

    # -- encodings --------------------------------------------------------------------------
    @abc.abstractmethod
    def encode(self, archs: Sequence[Any] | np.ndarray, kind: str = "onehot") -> np.ndarray:
        """Feature matrix ``(len(archs), n_features)`` for vector encodings (``onehot``,
        ``path``...)."""

    @abc.abstractmethod
    def graph(self, archs: Sequence[Any] | np.ndarray) -> GraphTensors:
        """Batched graph tensors (node features and adjacency) for graph networks."""

    @property
    @abc.abstractmethod
    def encodings(self) -> tuple[str, ...]:
        """Names accepted by :meth:`encode`."""

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary of the space."""
        return {"name": self.name, "cells": self.size, "classes": self.n_classes}
