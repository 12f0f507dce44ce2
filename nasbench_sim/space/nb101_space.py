""":class:`NB101Space`: the NAS-Bench-101 graphs of a table behind the :class:`SearchSpace`
protocol.

NAS-Bench-101 has 423,624 unique cell graphs; enumerating them is not needed: the space's
architectures are the graphs a table holds, indexed by their row, and any valid graph maps to
its row through NAS-Bench-101's isomorphism-invariant hash (so isomorphic spellings of a graph
are one architecture). A valid graph the table lacks is reported as such
(:class:`~nasbench_sim.errors.CellNotInTableError`). A table stores the graphs as three
``arch/`` datasets (see :meth:`NB101Space.table_arrays` and ``docs/table_schema.md``), and the
space is rebuilt from them without hashing anything again.

Mutation follows NAS-Bench-101's evolution and Real et al.: the cell, padded back to 7
vertices with unconnected ones, flips each possible edge with probability ``1/7`` and
resamples each interior op with probability ``1/5``; retried until the pruned result is a valid
cell, differs from the parent and is in the space. In a table that holds only some graphs
such a mutant may not exist after ``max_tries`` draws; the move then goes to a uniformly drawn
graph of the table one edit away, or, when there is none, to a uniformly drawn graph of the
table (a restart), as :class:`~nasbench_sim.space.RestrictedSpace` does.
:meth:`NB101Space.neighbours` lists every graph of the table one edge flip or one op change
away.

As categorical choices (:meth:`NB101Space.decisions`), a cell is the 21 upper-triangular edge
bits of a 7-vertex spec and the op of each of its 5 interior vertices; the spec is pruned, so
several choice vectors write the same graph, and many write none (the input does not reach the
output, or more than 9 edges remain).

Encodings (after BANANAS): ``adjacency`` (alias ``onehot``), the 21 upper-triangular bits of
the 7-vertex adjacency (output kept last) and a one-hot op per interior vertex (36 features);
``path``, one bit per op sequence along an input-to-output path (364 possible sequences of 0
to 5 ops).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nasbench_sim.checks import is_int
from nasbench_sim.errors import CellNotInTableError, CellParseError
from nasbench_sim.space.base import Decision, GraphTensors, SearchSpace
from nasbench_sim.space.nb101 import INPUT, MAX_EDGES, MAX_VERTICES, OPS, OUTPUT, NB101Cell

__all__ = ["ABSENT", "NB101Space", "cell_arrays", "graph_neighbours", "pad"]

ABSENT = -3
"""The ``arch/ops`` label of a vertex slot a (pruned) cell does not use."""
_LABEL = {INPUT: -1, OUTPUT: -2, **{op: k for k, op in enumerate(OPS)}}
_NAME = {v: k for k, v in _LABEL.items()}
_HASH_RE = re.compile(r"^[0-9a-f]{32}$")

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


def cell_arrays(cells: Sequence[NB101Cell]) -> dict[str, np.ndarray]:
    """The ``arch/`` datasets of ``cells``: ``hash`` (32-byte ASCII), ``matrix`` (int8
    ``(n, 7, 7)``, the pruned adjacency in the top-left corner) and ``ops`` (int8 ``(n, 7)``:
    input ``-1``, output ``-2``, ops their index in :data:`OPS`, :data:`ABSENT` after the
    last vertex)."""
    n = len(cells)
    matrix = np.zeros((n, MAX_VERTICES, MAX_VERTICES), dtype=np.int8)
    labels = np.full((n, MAX_VERTICES), ABSENT, dtype=np.int8)
    for r, cell in enumerate(cells):
        k = cell.n_vertices
        matrix[r, :k, :k] = cell.array()
        labels[r, :k] = [_LABEL[op] for op in cell.ops]
    hashes = np.array([c.hash.encode("ascii") for c in cells], dtype="S32")
    return {"hash": hashes, "matrix": matrix, "ops": labels}


def graph_neighbours(cell: NB101Cell) -> list[NB101Cell]:
    """Every valid graph one edge flip or one op change away from ``cell`` (of the padded
    7-vertex spec), each graph once, ``cell`` itself excluded; whether a table holds them or
    not."""
    m0, ops0 = pad(cell)
    seen = {cell.hash}
    out = []
    moves: list[tuple[int, int | str]] = [(int(i), int(j)) for i, j in zip(*_TRIU, strict=True)]
    moves += [(v, o) for v in range(1, MAX_VERTICES - 1) for o in OPS if o != ops0[v]]
    for a, b in moves:  # an edge flip (a, b) or an op change (vertex a gets op b)
        m, ops = m0.copy(), list(ops0)
        if isinstance(b, str):
            ops[a] = b
        else:
            m[a, b] ^= 1
        try:
            near = NB101Cell.from_spec(m, ops)
        except CellParseError:
            continue
        if near.hash not in seen:
            seen.add(near.hash)
            out.append(near)
    return out


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
        >>> space.to_index(chain), space.size, space.coerce(chain.hash) == chain
        (0, 1, True)
    """

    name = "nb101"
    ops = OPS
    features = frozenset({"decisions"})
    table_defined = True

    def __init__(self, cells: Sequence[NB101Cell] = ()) -> None:
        self._set_arrays(cell_arrays(list(cells)))

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> NB101Space:
        """The space of a table's ``arch/hash``, ``arch/matrix`` and ``arch/ops`` (see
        :func:`cell_arrays`); the hashes are trusted, not recomputed.

        Raises:
            CellParseError: missing or misshapen datasets, or a hash listed twice.
        """
        space = cls.__new__(cls)
        space._set_arrays(arrays)
        return space

    def _set_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        missing = [k for k in ("hash", "matrix", "ops") if k not in arrays]
        if missing:
            raise CellParseError(
                f"a NAS-Bench-101 table needs the datasets arch/hash, arch/matrix and arch/ops; "
                f"missing: {', '.join('arch/' + k for k in missing)}"
            )
        hashes = np.asarray(arrays["hash"]).astype("S32", copy=False)
        matrix = np.asarray(arrays["matrix"], dtype=np.int8)
        labels = np.asarray(arrays["ops"], dtype=np.int8)
        n = hashes.shape[0]
        if matrix.shape != (n, MAX_VERTICES, MAX_VERTICES) or labels.shape != (n, MAX_VERTICES):
            raise CellParseError(
                f"arch/matrix {matrix.shape} and arch/ops {labels.shape} must be shaped "
                f"({n}, {MAX_VERTICES}, {MAX_VERTICES}) and ({n}, {MAX_VERTICES})"
            )
        self._hashes, self._matrix, self._labels = hashes, matrix, labels
        self._row = dict(zip(hashes.tolist(), range(n), strict=True))  # ASCII bytes -> row
        if len(self._row) != n:
            raise CellParseError("two cells of the space share a graph hash (isomorphic graphs)")
        # a row's matrix and ops as tuples, cached by their bytes (few distinct ones)
        self._matrix_of: dict[bytes, tuple[tuple[int, ...], ...]] = {}
        self._ops_of: dict[bytes, tuple[str, ...]] = {}
        self.size = n
        self._ids = np.arange(n, dtype=np.int64)
        self._ids.flags.writeable = False

    # -- a table's datasets -----------------------------------------------------------------
    def table_arrays(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """``arch/hash``, ``arch/matrix`` and ``arch/ops`` of the rows ``index`` (see
        :func:`cell_arrays`)."""
        idx = np.asarray(index, dtype=np.int64)
        return {"hash": self._hashes[idx], "matrix": self._matrix[idx], "ops": self._labels[idx]}

    def for_table(self, arrays: Mapping[str, np.ndarray]) -> NB101Space:
        return NB101Space.from_arrays(arrays)

    def strings(self, index: np.ndarray) -> list[str]:
        out = []
        idx = np.asarray(index, dtype=np.int64)
        widths = (self._labels[idx] != ABSENT).sum(axis=1).tolist()
        for i, k in zip(idx.tolist(), widths, strict=True):
            bits = "".join(map(str, self._matrix[i, :k, :k].ravel().tolist()))
            out.append(bits + "|" + ",".join(_NAME[v] for v in self._labels[i, :k].tolist()))
        return out

    # -- identity -------------------------------------------------------------------------
    def parse(self, text: str) -> NB101Cell:
        """A cell from its string form (``"<adjacency bits>|<ops>"``) or its graph hash."""
        if isinstance(text, str) and _HASH_RE.match(text.strip()):
            row = self._row.get(text.strip().encode("ascii"))
            if row is None:
                raise CellNotInTableError(
                    f"no graph of this table ({self.size} graphs) has the hash {text.strip()}"
                )
            return self.from_index(row)
        return NB101Cell.from_str(text)

    def from_index(self, index: int) -> NB101Cell:
        if not is_int(index):
            raise CellParseError(f"an index must be an integer, got {index!r}")
        if not 0 <= index < self.size:
            raise CellParseError(f"index {index} is outside 0..{self.size - 1}")
        i = int(index)
        mcode, ocode = self._matrix[i].tobytes(), self._labels[i].tobytes()
        matrix = self._matrix_of.get(mcode)
        ops = self._ops_of.get(ocode)
        if matrix is None or ops is None:
            k = int((self._labels[i] != ABSENT).sum())
            matrix = self._matrix_of.setdefault(
                mcode, tuple(map(tuple, self._matrix[i, :k, :k].tolist()))
            )
            ops = self._ops_of.setdefault(
                ocode, tuple(_NAME[v] for v in self._labels[i, :k].tolist())
            )
        return NB101Cell.trusted(matrix, ops, self._hashes[i].decode("ascii"))

    def coerce(self, arch: Any) -> Any:
        if isinstance(arch, NB101Cell):  # membership is to_index's to check (said there)
            return arch
        return super().coerce(arch)

    def to_index(self, arch: Any) -> int:
        if not isinstance(arch, NB101Cell):
            raise CellParseError(
                f"expected a NAS-Bench-101 cell, its string form, its hash or an index, got "
                f"{type(arch).__name__}"
            )
        row = self._row.get(arch.hash.encode("ascii"))
        if row is None:
            raise CellNotInTableError(
                f"{arch} is a valid NAS-Bench-101 graph (hash {arch.hash}) but not one of the "
                f"{self.size} graphs of this table"
            )
        return row

    def holds(self, arch: NB101Cell) -> bool:
        """Whether the table holds this graph (any spelling of it)."""
        return arch.hash.encode("ascii") in self._row

    # -- moves ----------------------------------------------------------------------------
    def _candidate(self, m: np.ndarray, ops: list[str]) -> NB101Cell | None:
        try:
            cell = NB101Cell.from_spec(m, ops)
        except CellParseError:
            return None
        return cell if self.holds(cell) else None

    def mutate(self, arch: Any, rng: np.random.Generator, max_tries: int = 200) -> NB101Cell:
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
        near = self.neighbours(arch)  # a partial table: one edit away, else a restart
        if near:
            return near[int(rng.integers(len(near)))]
        if self.size < 2:
            raise CellParseError(f"no mutation of {arch}: the table holds no other graph")
        here = self.to_index(arch)
        other = int(rng.integers(self.size - 1))
        return self.from_index(other + (other >= here))

    def neighbours(self, arch: Any) -> list[NB101Cell]:
        return [c for c in graph_neighbours(self.coerce(arch)) if self.holds(c)]

    # -- cells as choices: 21 edge bits and 5 ops -----------------------------------------
    def decisions(self) -> tuple[Decision, ...]:
        """``edge_<i>_<j>`` (``"0"``/``"1"``) for each of the 21 vertex pairs of a 7-vertex
        spec, then ``op_<v>`` (one of :data:`OPS`) for the interior vertices 1..5."""
        edges = tuple((f"edge_{i}_{j}", ("0", "1")) for i, j in zip(*_TRIU, strict=True))
        return edges + tuple((f"op_{v}", OPS) for v in range(1, MAX_VERTICES - 1))

    def from_decisions(self, values: Sequence[int]) -> NB101Cell:
        n_slots = len(_TRIU[0])
        if len(values) != n_slots + MAX_VERTICES - 2:
            raise CellParseError(
                f"{len(values)} choices; a NAS-Bench-101 cell takes {n_slots} edge bits and "
                f"{MAX_VERTICES - 2} ops"
            )
        bits = np.asarray(values[:n_slots], dtype=np.int8)
        m = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.int8)
        m[_TRIU] = bits
        ops = [INPUT, *(OPS[int(v)] for v in values[n_slots:]), OUTPUT]
        cell = NB101Cell.from_spec(m, ops)
        self.to_index(cell)  # absent from the table: CellNotInTableError
        return cell

    def to_decisions(self, arch: Any) -> tuple[int, ...]:
        m, ops = pad(self.coerce(arch))
        return tuple(int(b) for b in m[_TRIU]) + tuple(OPS.index(o) for o in ops[1:-1])

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
        return [self.from_index(int(i)) for i in self.to_indices(archs)]

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
        if self.size:
            head: dict[str, Any] = super().describe()
        else:  # the registered space, before a table gives it its graphs
            text = "the graphs of a table (423,624 in NAS-Bench-101)"
            head = {"name": self.name, "cells": text, "classes": "one per graph"}
        return {**head, "max_vertices": MAX_VERTICES, "max_edges": MAX_EDGES}
