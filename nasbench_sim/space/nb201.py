"""The NAS-Bench-201 cell space: 4 nodes, 6 edges, 5 ops, 15,625 cells, 6,466 classes.

Node 0 is the cell input, node 3 its output. Edge ``k`` carries an op from a source node to a
target node, in NAS-Bench-201's string order::

    k:      0      1      2      3      4      5
    edge: 0->1   0->2   1->2   0->3   1->3   2->3

A cell's integer index is its op ids read as a base-5 number, edge 0 most significant, with ops
numbered as in :data:`OPS`; index 0 is the all-``none`` cell, index 15,624 all ``avg_pool_3x3``.

Example:
    >>> cell = Cell.from_str("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    ...                      "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
    >>> Cell.from_index(cell.index) == cell
    True
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from nasbench_sim.checks import is_int
from nasbench_sim.errors import CellParseError

__all__ = ["EDGES", "N_EDGES", "N_OPS", "OPS", "Cell", "nb201_unique_key"]

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
N_OPS = len(OPS)
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
"""``(source, target)`` of each edge, in string order."""
N_EDGES = len(EDGES)
_OP_ID = {name: i for i, name in enumerate(OPS)}
_POW = tuple(N_OPS ** (N_EDGES - 1 - k) for k in range(N_EDGES))
_TOKEN = re.compile(r"([^|~+]*)~([^|~+]*)")


@dataclass(frozen=True, slots=True)
class Cell:
    """A NAS-Bench-201 cell: one op id per edge, validated on creation.

    Attributes:
        ops: six op ids (indices into :data:`OPS`), one per edge in :data:`EDGES` order.
    """

    ops: tuple[int, ...]

    def __post_init__(self) -> None:
        ops = self.ops
        if not isinstance(ops, tuple) or len(ops) != N_EDGES:
            raise CellParseError(f"a cell needs exactly {N_EDGES} op ids, got {ops!r}")
        for k, o in enumerate(ops):
            if not is_int(o) or not 0 <= o < N_OPS:
                raise CellParseError(
                    f"edge {k} has op id {o!r}; allowed ids are 0..{N_OPS - 1} for {list(OPS)}"
                )
        if any(isinstance(o, np.integer) for o in ops):
            object.__setattr__(self, "ops", tuple(int(o) for o in ops))

    # -- constructors -----------------------------------------------------------------------
    @classmethod
    def from_index(cls, index: int) -> Cell:
        """The cell with this index in ``0 .. 15,624``."""
        if not is_int(index):
            raise CellParseError(f"a cell index must be an integer, got {index!r}")
        if not 0 <= index < N_OPS**N_EDGES:
            raise CellParseError(f"cell index {index} is outside 0..{N_OPS**N_EDGES - 1}")
        i = int(index)
        return cls(tuple((i // p) % N_OPS for p in _POW))

    @classmethod
    def from_names(cls, names: tuple[str, ...] | list[str]) -> Cell:
        """Build from six op names in edge order."""
        if len(names) != N_EDGES:
            raise CellParseError(f"a cell needs exactly {N_EDGES} op names, got {len(names)}")
        ids = []
        for k, name in enumerate(names):
            if name not in _OP_ID:
                raise CellParseError(
                    f"edge {k} has unknown op {name!r}; allowed ops: {', '.join(OPS)}"
                )
            ids.append(_OP_ID[name])
        return cls(tuple(ids))

    @classmethod
    def from_str(cls, text: str) -> Cell:
        """Parse NAS-Bench-201's string form ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.

        Raises:
            CellParseError: pointing at the offending token, listing the allowed ops.
        """
        if not isinstance(text, str):
            raise CellParseError(f"a cell string must be str, got {type(text).__name__}")
        s = text.strip()
        nodes = s.split("+")
        if len(nodes) != 3:
            raise CellParseError(
                f"expected 3 node groups joined by '+', found {len(nodes)}; "
                "form: |op~0|+|op~0|op~1|+|op~0|op~1|op~2|",
                s,
                None,
            )
        ids: list[int] = []
        offset = 0
        for target, group in enumerate(nodes, start=1):
            if not (group.startswith("|") and group.endswith("|")) or len(group) < 2:
                raise CellParseError(f"node {target} group must start and end with '|'", s, offset)
            tokens = group[1:-1].split("|")
            if len(tokens) != target:
                raise CellParseError(
                    f"node {target} must have {target} incoming edge(s), found {len(tokens)}",
                    s,
                    offset,
                )
            pos = offset + 1
            for source, token in enumerate(tokens):
                m = _TOKEN.fullmatch(token)
                if m is None:
                    raise CellParseError(f"malformed token {token!r}; expected 'op~source'", s, pos)
                name, src = m.group(1), m.group(2)
                if name not in _OP_ID:
                    raise CellParseError(
                        f"unknown op {name!r}; allowed ops: {', '.join(OPS)}", s, pos
                    )
                if src != str(source):
                    raise CellParseError(
                        f"edge into node {target} lists source {src!r}, expected {source}",
                        s,
                        pos + len(name) + 1,
                    )
                ids.append(_OP_ID[name])
                pos += len(token) + 1
            offset += len(group) + 1
        return cls(tuple(ids))

    # -- views ------------------------------------------------------------------------------
    @property
    def index(self) -> int:
        """Integer index in ``0 .. 15,624``."""
        o = self.ops
        return o[0] * 3125 + o[1] * 625 + o[2] * 125 + o[3] * 25 + o[4] * 5 + o[5]

    @property
    def op_names(self) -> tuple[str, ...]:
        return tuple(OPS[o] for o in self.ops)

    def to_str(self) -> str:
        """NAS-Bench-201's string form."""
        n = self.op_names
        return f"|{n[0]}~0|+|{n[1]}~0|{n[2]}~1|+|{n[3]}~0|{n[4]}~1|{n[5]}~2|"

    def with_op(self, edge: int, op: int) -> Cell:
        """A copy with edge ``edge`` set to op id ``op``."""
        ops = list(self.ops)
        ops[edge] = op
        return Cell(tuple(ops))

    def __str__(self) -> str:
        return self.to_str()

    def __repr__(self) -> str:
        return f"Cell('{self.to_str()}')"


def nb201_unique_key(ops: tuple[int, ...]) -> str:
    """NAS-Bench-201's functional-equivalence key of a cell (its ``to_unique_str`` with zeros
    considered).

    The rules, applied node by node: an edge whose op is ``none`` or whose source node is
    exactly zero contributes the zero term ``#``; ``skip_connect`` contributes its source's
    key unchanged; any other op contributes ``(source)@op``; a node's key is its terms sorted
    and joined with ``+``. Following NAS-Bench-201 to the letter, only a node whose key is the
    single term ``#`` counts as zero downstream (a node summing several zero terms, ``#+#``,
    does not); this is what gives its published count of 6,466 unique cells.
    """
    keys = ["0"]
    k = 0
    for target in (1, 2, 3):
        terms = []
        for source in range(target):
            op = ops[k]
            k += 1
            if op == 0 or keys[source] == "#":
                terms.append("#")
            elif op == 1:
                terms.append(keys[source])
            else:
                terms.append(f"({keys[source]})@{OPS[op]}")
        keys.append("+".join(sorted(terms)))
    return keys[3]


@functools.cache
def _classes() -> tuple[np.ndarray, np.ndarray]:
    """(class id per index, representative index per class); classes numbered by their
    smallest member, which is the representative."""
    class_of: dict[str, int] = {}
    ids = np.empty(N_OPS**N_EDGES, dtype=np.int64)
    reps: list[int] = []
    for i in range(N_OPS**N_EDGES):
        key = nb201_unique_key(Cell.from_index(i).ops)
        cid = class_of.get(key)
        if cid is None:
            cid = class_of[key] = len(reps)
            reps.append(i)
        ids[i] = cid
    rep_arr = np.asarray(reps, dtype=np.int64)
    ids.setflags(write=False)
    rep_arr.setflags(write=False)
    return ids, rep_arr


@functools.cache
def _ops_matrix() -> np.ndarray:
    idx = np.arange(N_OPS**N_EDGES)
    m = np.stack([(idx // p) % N_OPS for p in _POW], axis=1).astype(np.int8)
    m.setflags(write=False)
    return m
