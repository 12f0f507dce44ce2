""":class:`NB101Space`: the NAS-Bench-101 graphs of a table behind the :class:`SearchSpace`
protocol.

NAS-Bench-101 has 423,624 unique cell graphs; enumerating them is not needed: the space's
architectures are the graphs a table holds, indexed by their row, and any valid graph maps to
its row through NAS-Bench-101's isomorphism-invariant hash (so isomorphic spellings of a graph
are one architecture). A valid graph the table lacks is reported as such.

Mutation follows NAS-Bench-101's evolution and Real et al.: the cell, padded back to 7
vertices with unconnected ones, flips each possible edge with probability ``1/7`` and
resamples each interior op with probability ``1/5``; retried until the pruned result is a valid
cell, differs from the parent and is in the space. :meth:`NB101Space.neighbours` lists every
graph one edge flip or one op change away.

Encodings (after BANANAS): ``adjacency`` (alias ``onehot``), the 21 upper-triangular bits of
the 7-vertex adjacency (output kept last) and a one-hot op per interior vertex (36 features);
``path``, one bit per op sequence along an input-to-output path (364 possible sequences of 0
to 5 ops).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench_sim.errors import CellNotInTableError, CellParseError
from nasbench_sim.space.base import GraphTensors, SearchSpace
from nasbench_sim.space.nb101 import INPUT, MAX_VERTICES, OPS, OUTPUT, NB101Cell

__all__ = ["NB101Space", "pad"]

_N_PATHS = sum(len(OPS) ** k for k in range(MAX_VERTICES - 1))  # 364
_PATH_BASE = [sum(len(OPS) ** j for j in range(k)) for k in range(MAX_VERTICES - 1)]
_TRIU = np.triu_indices(MAX_VERTICES, k=1)
_NODE_TYPES = (INPUT, *OPS, OUTPUT)


def pad(cell: NB101Cell) -> tuple[np.ndarray, list[str]]:
    """The 7-vertex spec of a pruned cell: unconnected vertices inserted before the output
    (their op: the first of :data:`OPS`)."""
    n = cell.n_vertices
    m = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.int8)
    src = cell.array()
    keep = [*range(n - 1), MAX_VERTICES - 1]
    m[np.ix_(keep, keep)] = src
    ops = [*cell.ops[:-1], *[OPS[0]] * (MAX_VERTICES - n), OUTPUT]
    return m, ops


def _paths(cell: NB101Cell) -> list[tuple[str, ...]]:
    """Op sequences along every input-to-output path."""
    m = cell.array()
    n = cell.n_vertices
    out: list[tuple[str, ...]] = []

    def walk(v: int, ops: tuple[str, ...]) -> None:
        if v == n - 1:
            out.append(ops)
            return
        for w in np.nonzero(m[v])[0].tolist():
            walk(w, ops if w == n - 1 else (*ops, cell.ops[w]))

    walk(0, ())
    return out


class NB101Space(SearchSpace):
    """The NAS-Bench-101 graphs of a table.

    Args:
        cells: the table's graphs, in row order (their hashes must be distinct).

    Example:
        >>> chain = NB101Cell.from_str("0100001000010000|input,conv3x3-bn-relu,maxpool3x3,output")
        >>> space = NB101Space([chain])
        >>> space.to_index(chain), space.size
        (0, 1)
    """

    name = "nb101"
    ops = OPS

    def __init__(self, cells: Sequence[NB101Cell] = ()) -> None:
        self._cells = tuple(cells)
        self._row = {c.hash: i for i, c in enumerate(self._cells)}
        if len(self._row) != len(self._cells):
            raise CellParseError("two cells of the space share a graph hash (isomorphic graphs)")
        self.size = len(self._cells)
        self._ids = np.arange(self.size, dtype=np.int64)
        self._ids.flags.writeable = False

    # -- identity -------------------------------------------------------------------------
    def parse(self, text: str) -> NB101Cell:
        return NB101Cell.from_str(text)

    def from_index(self, index: int) -> NB101Cell:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise CellParseError(f"an index must be an integer, got {index!r}")
        if not 0 <= index < self.size:
            raise CellParseError(f"index {index} is outside 0..{self.size - 1}")
        return self._cells[int(index)]

    def to_index(self, arch: Any) -> int:
        if not isinstance(arch, NB101Cell):
            raise CellParseError(f"not a NAS-Bench-101 cell: {arch!r}")
        row = self._row.get(arch.hash)
        if row is None:
            raise CellNotInTableError(
                f"{arch} is a valid NAS-Bench-101 graph (hash {arch.hash}) but not one of the "
                f"{self.size} graphs of this table"
            )
        return row

    def contains(self, arch: NB101Cell) -> bool:
        """Whether the space (the table) holds this graph."""
        return arch.hash in self._row

    # -- moves ----------------------------------------------------------------------------
    def _candidate(self, m: np.ndarray, ops: list[str]) -> NB101Cell | None:
        try:
            cell = NB101Cell.from_spec(m, ops)
        except CellParseError:
            return None
        return cell if self.contains(cell) else None

    def mutate(self, arch: Any, rng: np.random.Generator, max_tries: int = 1000) -> NB101Cell:
        arch = self.coerce(arch)
        m0, ops0 = pad(arch)
        n_slots = len(_TRIU[0])
        for _ in range(max_tries):
            m, ops = m0.copy(), list(ops0)
            flip = rng.random(n_slots) < 1.0 / MAX_VERTICES
            m[_TRIU[0][flip], _TRIU[1][flip]] ^= 1
            for v in range(1, MAX_VERTICES - 1):
                if rng.random() < 1.0 / (MAX_VERTICES - 2):
                    ops[v] = str(rng.choice([o for o in OPS if o != ops[v]]))
            cell = self._candidate(m, ops)
            if cell is not None and cell.hash != arch.hash:
                return cell
        raise CellParseError(f"no mutation of {arch} in this space after {max_tries} tries")

    def neighbours(self, arch: Any) -> list[NB101Cell]:
        arch = self.coerce(arch)
        m0, ops0 = pad(arch)
        seen = {arch.hash}
        out = []
        moves: list[tuple[int, int | str]] = [(int(i), int(j)) for i, j in zip(*_TRIU, strict=True)]
        moves += [(v, o) for v in range(1, MAX_VERTICES - 1) for o in OPS if o != ops0[v]]
        for a, b in moves:  # an edge flip (a, b) or an op change (vertex a gets op b)
            m, ops = m0.copy(), list(ops0)
            if isinstance(b, str):
                ops[a] = b
            else:
                m[a, b] ^= 1
            cell = self._candidate(m, ops)
            if cell is not None and cell.hash not in seen:
                seen.add(cell.hash)
                out.append(cell)
        return out

    # -- classes: each graph of the table is its own class --------------------------------
    def class_ids(self) -> np.ndarray:
        return self._ids

    def representatives(self) -> np.ndarray:
        return self._ids

    # -- encodings ------------------------------------------------------------------------
    @property
    def encodings(self) -> tuple[str, ...]:
        return ("adjacency", "onehot", "path")

    def _cells_of(self, archs: Sequence[Any] | np.ndarray) -> list[NB101Cell]:
        return [self._cells[int(i)] for i in self.to_indices(archs)]

    def encode(self, archs: Sequence[Any] | np.ndarray, kind: str = "onehot") -> np.ndarray:
        cells = self._cells_of(archs)
        if kind in ("adjacency", "onehot"):
            out = np.zeros((len(cells), len(_TRIU[0]) + (MAX_VERTICES - 2) * len(OPS)), np.float32)
            for r, cell in enumerate(cells):
                m, ops = pad(cell)
                out[r, : len(_TRIU[0])] = m[_TRIU]
                live = cell.n_vertices - 2  # padded vertices carry no op
                for v in range(1, 1 + live):
                    out[r, len(_TRIU[0]) + (v - 1) * len(OPS) + OPS.index(ops[v])] = 1.0
            return out
        if kind == "path":
            out = np.zeros((len(cells), _N_PATHS), dtype=np.float32)
            for r, cell in enumerate(cells):
                for path in _paths(cell):
                    code = sum(OPS.index(o) * len(OPS) ** k for k, o in enumerate(path))
                    out[r, _PATH_BASE[len(path)] + code] = 1.0
            return out
        raise CellParseError(f"unknown encoding {kind!r}; allowed: {', '.join(self.encodings)}")

    def graph(self, archs: Sequence[Any] | np.ndarray) -> GraphTensors:
        cells = self._cells_of(archs)
        feats = np.zeros((len(cells), MAX_VERTICES, len(_NODE_TYPES)), dtype=np.float32)
        adj = np.zeros((len(cells), MAX_VERTICES, MAX_VERTICES), dtype=np.float32)
        for r, cell in enumerate(cells):
            m, ops = pad(cell)
            adj[r] = m
            live = [*range(cell.n_vertices - 1), MAX_VERTICES - 1]
            for v in live:
                feats[r, v, _NODE_TYPES.index(ops[v])] = 1.0
        return GraphTensors(feats, adj, _NODE_TYPES)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "max_vertices": MAX_VERTICES, "max_edges": 9}
