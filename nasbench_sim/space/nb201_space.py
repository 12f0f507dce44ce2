""":class:`NB201Space`: the NAS-Bench-201 cell space behind the :class:`SearchSpace` protocol."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench_sim.errors import CellParseError
from nasbench_sim.space.base import Decision, GraphTensors, SearchSpace
from nasbench_sim.space.nb201 import EDGES, N_EDGES, N_OPS, OPS, Cell, _classes, _ops_matrix

__all__ = ["NB201Space"]

# Input -> output routes through the DAG, as edge lists (used by the path encoding).
_ROUTES: tuple[tuple[int, ...], ...] = ((3,), (0, 4), (1, 5), (0, 2, 5))
_N_LIVE = N_OPS - 1  # ops other than ``none``; a path through ``none`` carries nothing
_PATH_OFFSET = {1: 0, 2: _N_LIVE, 3: _N_LIVE + _N_LIVE**2}
_N_PATH = _N_LIVE + _N_LIVE**2 + _N_LIVE**3  # 84


def _path_names() -> tuple[str, ...]:
    live = OPS[1:]
    names = [a for a in live]
    names += [f"{a}>{b}" for a in live for b in live]
    names += [f"{a}>{b}>{c}" for a in live for b in live for c in live]
    return tuple(names)


class NB201Space(SearchSpace):
    """NAS-Bench-201's space of 15,625 cells in 6,466 functional-equivalence classes.

    Encodings:
        ``onehot``: 30 binary features, one per (edge, op).
        ``path``: 84 counts, one per op sequence along an input-to-output path of length 1, 2
        or 3 (paths through ``none`` are dropped: they contribute nothing), after BANANAS.
        :meth:`graph`: the cell as an op-on-node DAG of 8 nodes (input, one node per edge,
        output) with one-hot node types, as graph-network predictors use it.

    Example:
        >>> import numpy as np
        >>> space = NB201Space()
        >>> cell = space.sample(np.random.default_rng(0))
        >>> len(space.neighbours(cell))
        24
    """

    name = "nb201"
    size = N_OPS**N_EDGES
    ops = OPS
    edges = EDGES
    features = frozenset({"decisions", "edge_ops"})

    def parse(self, text: str) -> Cell:
        return Cell.from_str(text)

    def from_index(self, index: int) -> Cell:
        return Cell.from_index(index)

    def to_index(self, arch: Any) -> int:
        if not isinstance(arch, Cell):
            raise CellParseError(
                f"expected a nb201 Cell, its string form or an index, got {type(arch).__name__}"
            )
        return arch.index

    # -- cells as choices: one op per edge ---------------------------------------------------
    def decisions(self) -> tuple[Decision, ...]:
        """One choice per edge (``edge_<from>_<to>``) among :data:`OPS`."""
        return tuple((f"edge_{s}_{t}", OPS) for s, t in EDGES)

    def from_decisions(self, values: Sequence[int]) -> Cell:
        return Cell(tuple(int(v) for v in values))

    def to_decisions(self, arch: Any) -> tuple[int, ...]:
        return tuple(int(o) for o in self.coerce(arch).ops)

    def ops_matrix(self, indices: np.ndarray | None = None) -> np.ndarray:
        """int8 op ids ``(n, 6)`` of the given indices (all cells when ``None``)."""
        m = _ops_matrix()
        return m if indices is None else m[np.asarray(indices, dtype=np.int64)]

    # -- local moves ------------------------------------------------------------------------
    def mutate(self, arch: Any, rng: np.random.Generator) -> Cell:
        cell = self.coerce(arch)
        edge = int(rng.integers(N_EDGES))
        op = int(rng.integers(N_OPS - 1))
        if op >= cell.ops[edge]:
            op += 1
        return cell.with_op(edge, op)

    def neighbours(self, arch: Any) -> list[Cell]:
        cell = self.coerce(arch)
        return [
            cell.with_op(e, o) for e in range(N_EDGES) for o in range(N_OPS) if o != cell.ops[e]
        ]

    # -- classes ----------------------------------------------------------------------------
    def class_ids(self) -> np.ndarray:
        return _classes()[0]

    def representatives(self) -> np.ndarray:
        return _classes()[1]

    # -- encodings --------------------------------------------------------------------------
    @property
    def encodings(self) -> tuple[str, ...]:
        return ("onehot", "path")

    def feature_names(self, kind: str = "onehot") -> tuple[str, ...]:
        if kind == "onehot":
            return tuple(f"e{s}{t}:{op}" for s, t in EDGES for op in OPS)
        if kind == "path":
            return _path_names()
        raise CellParseError(f"unknown encoding {kind!r}; allowed: {', '.join(self.encodings)}")

    def encode(self, archs: Sequence[Any] | np.ndarray, kind: str = "onehot") -> np.ndarray:
        ops = self.ops_matrix(self.to_indices(archs)).astype(np.int64)
        n = ops.shape[0]
        if kind == "onehot":
            out = np.zeros((n, N_EDGES * N_OPS), dtype=np.float32)
            cols = np.arange(N_EDGES) * N_OPS + ops
            np.put_along_axis(out, cols, 1.0, axis=1)
            return out
        if kind == "path":
            out = np.zeros((n, _N_PATH), dtype=np.float32)
            rows = np.arange(n)
            for route in _ROUTES:
                r = ops[:, route]
                live = (r != 0).all(axis=1)
                code = np.zeros(n, dtype=np.int64)
                for j in range(len(route)):
                    code = code * _N_LIVE + (r[:, j] - 1)
                np.add.at(out, (rows[live], _PATH_OFFSET[len(route)] + code[live]), 1.0)
            return out
        raise CellParseError(f"unknown encoding {kind!r}; allowed: {', '.join(self.encodings)}")

    def graph(self, archs: Sequence[Any] | np.ndarray) -> GraphTensors:
        """Op-on-node DAG: node 0 input, nodes 1..6 the edges' ops, node 7 output.

        Features are one-hot over ``("input", "output", *OPS)``; ``adjacency[b, i, j] = 1``
        when node ``i`` feeds node ``j``.
        """
        ops = self.ops_matrix(self.to_indices(archs)).astype(np.int64)
        n = ops.shape[0]
        n_nodes = N_EDGES + 2
        feats = np.zeros((n, n_nodes, 2 + N_OPS), dtype=np.float32)
        feats[:, 0, 0] = 1.0
        feats[:, -1, 1] = 1.0
        for k in range(N_EDGES):
            feats[np.arange(n), k + 1, 2 + ops[:, k]] = 1.0
        adj = np.zeros((n_nodes, n_nodes), dtype=np.float32)
        for k, (src, dst) in enumerate(EDGES):
            if src == 0:
                adj[0, k + 1] = 1.0
            for j, (src2, _dst2) in enumerate(EDGES):
                if src2 == dst:
                    adj[k + 1, j + 1] = 1.0
            if dst == 3:
                adj[k + 1, -1] = 1.0
        adjacency = np.broadcast_to(adj, (n, n_nodes, n_nodes)).copy()
        return GraphTensors(feats, adjacency, ("input", "output", *OPS))
