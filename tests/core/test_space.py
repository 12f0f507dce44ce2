from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nasbench_sim.errors import CellParseError, RegistryError
from nasbench_sim.space import OPS, Cell, NB201Space, get_space, nb201_unique_key

SPACE = NB201Space()
EXAMPLE = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)
cells = st.tuples(*[st.integers(0, 4)] * 6).map(Cell)


def test_published_counts() -> None:
    assert SPACE.size == 15625
    assert SPACE.n_classes == 6466  # NAS-Bench-201's number of unique architectures
    reps = SPACE.representatives()
    assert np.array_equal(SPACE.class_ids()[reps], np.arange(6466))


def test_example_string_round_trip() -> None:
    cell = Cell.from_str(EXAMPLE)
    assert cell.to_str() == EXAMPLE
    assert Cell.from_index(cell.index) == cell
    assert cell.op_names == (
        "nor_conv_3x3",
        "nor_conv_3x3",
        "avg_pool_3x3",
        "skip_connect",
        "nor_conv_3x3",
        "skip_connect",
    )


def test_every_index_round_trips() -> None:
    for i in range(SPACE.size):
        c = Cell.from_index(i)
        assert c.index == i
        assert Cell.from_str(str(c)) == c


@given(cells)
def test_string_round_trip_property(cell: Cell) -> None:
    assert Cell.from_str(cell.to_str()) == cell
    assert SPACE.parse(str(cell)).index == cell.index


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv'"),
        ("|none~0|+|none~0|none~1|", "3 node groups"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "expected 0"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "2 incoming"),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "start and end"),
        ("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", "malformed token"),
    ],
)
def test_bad_strings_raise_typed_errors(text: str, fragment: str) -> None:
    with pytest.raises(CellParseError, match=fragment):
        Cell.from_str(text)


def test_unknown_op_error_lists_allowed_ops_and_points() -> None:
    text = EXAMPLE.replace("avg_pool_3x3", "max_pool_3x3")
    with pytest.raises(CellParseError) as info:
        Cell.from_str(text)
    msg = str(info.value)
    for op in OPS:
        assert op in msg
    assert info.value.position == text.index("max_pool_3x3")
    assert msg.splitlines()[-1].index("^") - 2 == info.value.position


@pytest.mark.parametrize("bad", [-1, 15625, 3.0, True, "7"])
def test_bad_index(bad: object) -> None:
    with pytest.raises(CellParseError):
        Cell.from_index(bad)  # type: ignore[arg-type]


def test_bad_op_vector() -> None:
    with pytest.raises(CellParseError, match="exactly 6"):
        Cell((0, 1))
    with pytest.raises(CellParseError, match="allowed ids"):
        Cell((0, 1, 2, 3, 4, 5))


def test_registry_lists_names() -> None:
    with pytest.raises(RegistryError, match="nb101, nb201"):
        get_space("nb301")


# -- equivalence classes --------------------------------------------------------------------
def _cell_function(cell: Cell, x: np.ndarray, fns: list) -> np.ndarray:
    """Evaluate a cell with concrete ops: none = 0, skip = identity, others = fixed random
    nonlinear maps; nodes sum their inputs, as in NAS-Bench-201."""
    nodes = [x]
    k = 0
    for target in (1, 2, 3):
        total = np.zeros_like(x)
        for source in range(target):
            total = total + fns[cell.ops[k]](nodes[source])
            k += 1
        nodes.append(total)
    return nodes[3]


def test_equivalent_cells_compute_the_same_function() -> None:
    rng = np.random.default_rng(0)
    mats = [rng.normal(size=(4, 4)) for _ in range(3)]
    fns = [
        lambda v: np.zeros_like(v),
        lambda v: v,
        lambda v: np.tanh(v @ mats[0]),
        lambda v: np.tanh(v @ mats[1]),
        lambda v: np.sin(v @ mats[2]),
    ]
    x = rng.normal(size=(3, 4))
    outputs: dict[int, np.ndarray] = {}
    distinct = set()
    for cell in SPACE.enumerate():
        y = _cell_function(cell, x, fns)
        cid = SPACE.class_of(cell)
        if cid in outputs:
            np.testing.assert_allclose(y, outputs[cid], atol=1e-9, err_msg=str(cell))
        else:
            outputs[cid] = y
        distinct.add(np.round(y, 8).tobytes())
    # Classes are at most as many as distinct functions plus NB201's '#+#' quirk allows.
    assert len(distinct) <= SPACE.n_classes


@given(cells)
def test_class_is_key(cell: Cell) -> None:
    rep = SPACE.canonical(cell)
    assert nb201_unique_key(rep.ops) == nb201_unique_key(cell.ops)
    assert rep.index <= cell.index
    assert SPACE.class_of(rep) == SPACE.class_of(cell)


@given(cells, cells)
def test_same_key_same_class(a: Cell, b: Cell) -> None:
    assert (SPACE.class_of(a) == SPACE.class_of(b)) == (
        nb201_unique_key(a.ops) == nb201_unique_key(b.ops)
    )


def test_known_equivalences() -> None:
    # Output reachable only through 'none': all such cells compute zero -> one class.
    dead = [c for c in SPACE.enumerate() if c.ops[3] == 0 and c.ops[4] == 0 and c.ops[5] == 0]
    assert len({SPACE.class_of(c) for c in dead}) == 1
    # A none edge into node 3 means the op of a dangling edge does not matter.
    a = Cell.from_names(("nor_conv_3x3", "none", "none", "skip_connect", "none", "none"))
    b = Cell.from_names(("avg_pool_3x3", "none", "none", "skip_connect", "none", "none"))
    assert SPACE.class_of(a) == SPACE.class_of(b)
    # Summands are unordered: conv on 0->3 plus skip via node 1, or the mirror.
    c = Cell.from_names(("skip_connect", "none", "none", "nor_conv_3x3", "skip_connect", "none"))
    d = Cell.from_names(("nor_conv_3x3", "none", "none", "skip_connect", "skip_connect", "none"))
    assert SPACE.class_of(c) == SPACE.class_of(d)
    # Different ops on a live path are different functions.
    e = Cell.from_names(("none", "none", "none", "nor_conv_1x1", "none", "none"))
    f = Cell.from_names(("none", "none", "none", "nor_conv_3x3", "none", "none"))
    assert SPACE.class_of(e) != SPACE.class_of(f)


# -- local moves and sampling ---------------------------------------------------------------
@given(cells, st.integers(0, 2**32 - 1))
def test_mutation_changes_exactly_one_edge(cell: Cell, seed: int) -> None:
    m = SPACE.mutate(cell, np.random.default_rng(seed))
    assert isinstance(m, Cell)
    assert sum(a != b for a, b in zip(cell.ops, m.ops, strict=True)) == 1


@given(cells)
def test_neighbours(cell: Cell) -> None:
    nb = SPACE.neighbours(cell)
    assert len(nb) == 24 == len(set(nb))
    assert cell not in nb
    assert all(sum(a != b for a, b in zip(cell.ops, n.ops, strict=True)) == 1 for n in nb)


def test_sampling_is_seeded_and_uniform() -> None:
    a = [SPACE.sample(np.random.default_rng(3)).index for _ in range(3)]
    assert len(set(a)) == 1
    idx = SPACE.sample_indices(np.random.default_rng(0), 200_000)
    counts = np.bincount(idx, minlength=SPACE.size)
    assert counts.min() > 0 and abs(counts.mean() - 200_000 / 15625) < 1e-9
    assert np.array_equal(idx, SPACE.sample_indices(np.random.default_rng(0), 200_000))


# -- encodings ------------------------------------------------------------------------------
def test_onehot_encoding() -> None:
    x = SPACE.encode(np.arange(SPACE.size), "onehot")
    assert x.shape == (15625, 30)
    assert np.all(x.reshape(-1, 6, 5).sum(axis=2) == 1)
    assert len({r.tobytes() for r in x}) == 15625
    assert len(SPACE.feature_names("onehot")) == 30


def test_path_encoding_counts_live_paths() -> None:
    all_conv = Cell.from_names(("nor_conv_3x3",) * 6)
    p = SPACE.encode([all_conv], "path")[0]
    assert p.shape == (84,) and p.sum() == 4  # four input->output routes
    names = SPACE.feature_names("path")
    assert p[names.index("nor_conv_3x3>nor_conv_3x3")] == 2
    dead = Cell.from_names(("nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3", "none", "none", "none"))
    assert SPACE.encode([dead], "path").sum() == 0
    assert SPACE.encode([Cell.from_str(EXAMPLE)], "path").sum() == 4


def test_graph_tensors() -> None:
    g = SPACE.graph([0, 15624, Cell.from_str(EXAMPLE)])
    assert g.features.shape == (3, 8, 7) and g.adjacency.shape == (3, 8, 8)
    assert np.all(g.features.sum(axis=2) == 1)
    adj = g.adjacency[0]
    assert np.all(np.triu(adj, 1) == adj)  # a DAG in topological order
    assert adj[0].sum() == 3  # input feeds edges 0->1, 0->2, 0->3
    assert adj[:, 7].sum() == 3  # three edges end at the output node
    assert g.features[2, 1 + 2, 2 + OPS.index("avg_pool_3x3")] == 1


def test_bad_encoding_name() -> None:
    with pytest.raises(CellParseError, match="onehot"):
        SPACE.encode([0], "adjacency")


def test_coerce_accepts_strings_indices_cells() -> None:
    c = Cell.from_str(EXAMPLE)
    assert SPACE.coerce(EXAMPLE) == SPACE.coerce(c.index) == SPACE.coerce(c) == c
    with pytest.raises(CellParseError):
        SPACE.coerce(3.5)
    assert list(itertools.islice(SPACE.enumerate(), 2)) == [Cell.from_index(0), Cell.from_index(1)]
