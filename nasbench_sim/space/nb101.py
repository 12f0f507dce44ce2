"""The NAS-Bench-101 cell: a DAG of at most 7 vertices and 9 edges with an op on each vertex.

Vertex 0 is the cell input, the last vertex its output; every vertex between carries one of
:data:`OPS`. A cell is the **pruned** graph, as NAS-Bench-101 stores it: vertices not on an
input-to-output path are dropped (:meth:`NB101Cell.from_spec`), and a graph whose input does not
reach its output is not a cell.

:func:`graph_hash` is NAS-Bench-101's isomorphism-invariant fingerprint, computed the same way
(so that it equals the ``module_hash`` of the benchmark's files): each vertex starts from the
MD5 of ``(out-degree, in-degree, label)`` (labels: input ``-1``, output ``-2``, ops their index
in :data:`OPS`); then, once per vertex, every vertex's hash becomes the MD5 of its sorted
in-neighbour hashes, ``|``, its sorted out-neighbour hashes, ``|``, its own hash; the
fingerprint is the MD5 of the sorted final hashes.

The string form joins the row-major adjacency bits and the op labels with ``|``, the two
fields of a NAS-Bench-101 record::

    >>> cell = NB101Cell.from_str("0110000100000100000|input,conv3x3-bn-relu,maxpool3x3,output")
    Traceback (most recent call last):
    ...
    nasbench_sim.errors.CellParseError: 19 adjacency bits are not a square matrix
    >>> cell = NB101Cell.from_str("0110000100010000|input,conv3x3-bn-relu,maxpool3x3,output")
    >>> cell.n_vertices, cell.n_edges
    (4, 4)
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from nasbench_sim.errors import CellParseError

__all__ = [
    "INPUT",
    "MAX_EDGES",
    "MAX_VERTICES",
    "OPS",
    "OUTPUT",
    "NB101Cell",
    "graph_hash",
    "prune",
]

OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
"""The ops a vertex between input and output may carry, in NAS-Bench-101's label order."""
INPUT = "input"
OUTPUT = "output"
MAX_VERTICES = 7
MAX_EDGES = 9


def graph_hash(matrix: np.ndarray, labels: Sequence[int]) -> str:
    """NAS-Bench-101's fingerprint of a labelled DAG (equal for isomorphic graphs).

    Args:
        matrix: ``(n, n)`` 0/1 adjacency, ``matrix[i, j] = 1`` for an edge ``i -> j``.
        labels: ``n`` integer labels (input ``-1``, output ``-2``, ops their index in
            :data:`OPS`).
    """
    rows = np.asarray(matrix).astype(bool).tolist()
    n = len(rows)
    succs = [[w for w in range(n) if rows[v][w]] for v in range(n)]
    preds = [[w for w in range(n) if rows[w][v]] for v in range(n)]
    md5 = hashlib.md5
    # str() of the tuple (out-degree, in-degree, label), as NAS-Bench-101 hashes it
    hashes = [
        md5(f"({len(succs[v])}, {len(preds[v])}, {int(labels[v])})".encode()).hexdigest()
        for v in range(n)
    ]
    for _ in range(n):
        hashes = [
            md5(
                (
                    "".join(sorted([hashes[w] for w in preds[v]]))
                    + "|"
                    + "".join(sorted([hashes[w] for w in succs[v]]))
                    + "|"
                    + hashes[v]
                ).encode()
            ).hexdigest()
            for v in range(n)
        ]
    return md5(str(sorted(hashes)).encode()).hexdigest()


def _reach(m: np.ndarray, start: int, forward: bool) -> set[int]:
    seen, todo = {start}, [start]
    while todo:
        v = todo.pop()
        nxt = np.nonzero(m[v] if forward else m[:, v])[0].tolist()
        for w in nxt:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def prune(matrix: np.ndarray, ops: Sequence[str]) -> tuple[np.ndarray, list[str]] | None:
    """Drop the vertices that are not on an input-to-output path, as NAS-Bench-101 does.

    Returns:
        The pruned matrix and ops, or ``None`` when the input does not reach the output.
    """
    m = np.asarray(matrix).astype(np.int8)
    n = m.shape[0]
    keep = _reach(m, 0, True) & _reach(m, n - 1, False)
    if 0 not in keep or n - 1 not in keep or (n > 1 and len(keep) < 2):
        return None
    idx = sorted(keep)
    return m[np.ix_(idx, idx)], [ops[i] for i in idx]


def _check_raw(matrix: np.ndarray, ops: Sequence[str]) -> None:
    """Shape, triangularity and labels of an unpruned spec (raises ``CellParseError``)."""
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise CellParseError(f"the adjacency must be a square matrix, got shape {matrix.shape}")
    n = matrix.shape[0]
    if n < 2 or n > MAX_VERTICES:
        raise CellParseError(f"a cell has 2..{MAX_VERTICES} vertices, got {n}")
    if len(ops) != n:
        raise CellParseError(f"{len(ops)} ops for {n} vertices; give one op per vertex")
    if not np.isin(matrix, (0, 1)).all():
        raise CellParseError("the adjacency must hold 0/1 entries only")
    if np.tril(matrix).any():
        raise CellParseError("the adjacency must be upper triangular (edges go i -> j, i < j)")
    if ops[0] != INPUT or ops[-1] != OUTPUT:
        raise CellParseError(f"the first op must be {INPUT!r} and the last {OUTPUT!r}")
    for k, op in enumerate(ops[1:-1], start=1):
        if op not in OPS:
            raise CellParseError(f"vertex {k} has op {op!r}; allowed ops: {', '.join(OPS)}")


@dataclass(frozen=True)
class NB101Cell:
    """A pruned NAS-Bench-101 cell, validated on creation.

    Attributes:
        matrix: the adjacency as a tuple of 0/1 rows (upper triangular).
        ops: one label per vertex: ``input``, ops of :data:`OPS`, ``output``.
        hash: NAS-Bench-101's graph hash (see :func:`graph_hash`).
    """

    matrix: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]
    hash: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        m = np.array(self.matrix, dtype=np.int64)
        _check_raw(m, self.ops)
        pruned = prune(m, self.ops)
        if pruned is None:
            raise CellParseError("the input does not reach the output: not a cell")
        if pruned[0].shape != m.shape:
            raise CellParseError(
                "the graph has vertices off every input-to-output path; prune it first "
                "(NB101Cell.from_spec does)"
            )
        if int(m.sum()) > MAX_EDGES:
            raise CellParseError(f"{int(m.sum())} edges; a cell has at most {MAX_EDGES}")
        labels = [-1, *(OPS.index(op) for op in self.ops[1:-1]), -2]
        object.__setattr__(self, "hash", graph_hash(m, labels))

    @classmethod
    def trusted(
        cls, matrix: tuple[tuple[int, ...], ...], ops: tuple[str, ...], digest: str
    ) -> NB101Cell:
        """A cell read back from a table, with its stored hash: no validation, no hashing
        (the table was validated when it was written and carries checksums)."""
        cell = object.__new__(cls)
        object.__setattr__(cell, "matrix", matrix)
        object.__setattr__(cell, "ops", ops)
        object.__setattr__(cell, "hash", digest)
        return cell

    @classmethod
    def from_spec(
        cls, matrix: Sequence[Sequence[int]] | np.ndarray, ops: Sequence[str]
    ) -> NB101Cell:
        """Validate a spec and prune it as NAS-Bench-101 does.

        Raises:
            CellParseError: not square, not upper triangular, bad ops, the input does not
                reach the output, or more than 9 edges after pruning.
        """
        m = np.asarray(matrix)
        _check_raw(m, list(ops))
        pruned = prune(m, list(ops))
        if pruned is None:
            raise CellParseError("the input does not reach the output: not a cell")
        pm, pops = pruned
        return cls(tuple(tuple(int(x) for x in row) for row in pm), tuple(pops))

    @classmethod
    def from_str(cls, text: str) -> NB101Cell:
        """Parse ``"<row-major adjacency bits>|<op>,<op>,..."`` (pruned on the way)."""
        if not isinstance(text, str) or text.count("|") != 1:
            raise CellParseError(f"expected '<adjacency bits>|<ops>', got {text!r}")
        bits, ops = text.strip().split("|")
        n = math.isqrt(len(bits))
        if n * n != len(bits) or set(bits) - {"0", "1"}:
            raise CellParseError(f"{len(bits)} adjacency bits are not a square matrix")
        m = np.array([int(b) for b in bits], dtype=np.int64).reshape(n, n)
        return cls.from_spec(m, [o.strip() for o in ops.split(",")])

    @property
    def n_vertices(self) -> int:
        return len(self.ops)

    @property
    def n_edges(self) -> int:
        return int(sum(map(sum, self.matrix)))

    def array(self) -> np.ndarray:
        """The adjacency as an int8 array."""
        return np.array(self.matrix, dtype=np.int8)

    def __str__(self) -> str:
        return "".join(str(x) for row in self.matrix for x in row) + "|" + ",".join(self.ops)
