"""The NAS-Bench-101 cell and space: validation, pruning, graph hash, moves, encodings."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench_sim.errors import CellNotInTableError, CellParseError
from nasbench_sim.importers.synthetic_nb101 import random_cells
from nasbench_sim.space.nb101 import MAX_EDGES, MAX_VERTICES, OPS, NB101Cell, graph_hash, prune
from nasbench_sim.space.nb101_space import NB101Space, pad

C3, C1, MP = OPS


def permuted(m: np.ndarray, labels: list[int], perm: list[int]) -> tuple[np.ndarray, list[int]]:
    """Vertex v of the original becomes vertex perm[v]."""
    n = len(labels)
    pm = np.zeros_like(m)
    for i in range(n):
        for j in range(n):
            pm[perm[i], perm[j]] = m[i, j]
    pl = [0] * n
    for v in range(n):
        pl[perm[v]] = labels[v]
    return pm, pl


def test_the_known_facts_of_the_space() -> None:
    assert OPS == ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
    assert MAX_VERTICES == 7 and MAX_EDGES == 9
    cells = random_cells(30)
    space = NB101Space(cells)
    assert space.encode([0, 1], "adjacency").shape == (2, 21 + 5 * 3)
    assert space.encode([0], "path").shape == (1, 1 + 3 + 9 + 27 + 81 + 243)  # 364
    assert all(c.n_edges <= 9 and c.n_vertices <= 7 for c in cells)


def test_hash_equals_nas_bench_101s_published_hash() -> None:
    """The first graph of NAS-Bench-101's hash iterator, as its files give it (ops, matrix,
    8,555,530 parameters): our hash is NAS-Bench-101's, so tables key graphs as it does, also
    under a permutation of the vertices between input and output."""
    matrix = np.array(
        [[0, 1, 0, 0, 1, 1, 0],
         [0, 0, 1, 0, 0, 0, 0],
         [0, 0, 0, 1, 0, 0, 1],
         [0, 0, 0, 0, 0, 1, 0],
         [0, 0, 0, 0, 0, 1, 0],
         [0, 0, 0, 0, 0, 0, 1],
         [0, 0, 0, 0, 0, 0, 0]]
    )  # fmt: skip
    ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "conv3x3-bn-relu", "conv3x3-bn-relu",
           "conv1x1-bn-relu", "output"]  # fmt: skip
    published = "00005c142e6f48ac74fdcf73e3439874"
    assert NB101Cell(tuple(map(tuple, matrix.tolist())), tuple(ops)).hash == published
    order = [0, 4, 1, 2, 3, 5, 6]  # another topological order of the same graph
    perm = matrix[np.ix_(order, order)]
    assert NB101Cell(tuple(map(tuple, perm.tolist())), tuple(ops[i] for i in order)).hash == (
        published
    )


def test_hash_is_invariant_under_vertex_permutation() -> None:
    rng = np.random.default_rng(1)
    for _ in range(300):  # any directed graph, any labels (as NAS-Bench-101's own test)
        n = int(rng.integers(3, 12))
        m = rng.integers(0, 2, (n, n))
        labels = rng.integers(0, 5, n).tolist()
        perm = rng.permutation(n).tolist()
        assert graph_hash(m, labels) == graph_hash(*permuted(m, labels, perm))
    for cell in random_cells(40, seed=2):  # cells: interior vertices reordered
        n = cell.n_vertices
        inner = (rng.permutation(n - 2) + 1).tolist()
        perm = [0, *inner, n - 1]
        m, _ = permuted(cell.array(), list(range(n)), perm)
        ops = [""] * n
        for v in range(n):
            ops[perm[v]] = cell.ops[v]
        if np.tril(m).any():  # the permutation broke the topological order
            continue
        assert NB101Cell(tuple(map(tuple, m.tolist())), tuple(ops)).hash == cell.hash


def test_hash_tells_tricky_non_isomorphic_graphs_apart() -> None:
    chain = np.eye(5, k=1, dtype=int)
    assert graph_hash(chain, [-1, 1, 0, 0, -2]) != graph_hash(chain, [-1, 0, 0, 1, -2])
    skip = np.array([[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]])
    assert graph_hash(skip, [-1, 1, 0, -2]) != graph_hash(skip, [-1, 0, 1, -2])
    diamond = np.array([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]])
    assert graph_hash(diamond, [-1, 1, 2, -2]) == graph_hash(diamond, [-1, 2, 1, -2])
    g = np.array(
        [
            [0, 1, 1, 1, 1, 0, 0],
            [0, 0, 1, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0],
        ]
    )
    assert graph_hash(g, [-1, 1, 0, 0, 0, 0, -2]) != graph_hash(g, [-1, 0, 0, 0, 1, 0, -2])


def test_pruning_drops_dangling_vertices() -> None:
    m = np.zeros((7, 7), dtype=int)
    m[0, 1] = m[1, 6] = 1  # the path input -> 1 -> output
    m[0, 2] = 1  # 2 is reached but leads nowhere
    m[3, 6] = 1  # 3 leads to the output but is never reached
    m[4, 5] = 1  # 4 -> 5 floats
    ops = ["input", C3, C1, MP, C3, C1, "output"]
    cell = NB101Cell.from_spec(m, ops)
    assert cell.ops == ("input", C3, "output") and cell.matrix == ((0, 1, 0), (0, 0, 1), (0, 0, 0))
    assert prune(np.array([[0, 0], [0, 0]]), ["input", "output"]) is None
    direct = NB101Cell.from_spec([[0, 1], [0, 0]], ["input", "output"])
    assert direct.n_vertices == 2 and str(NB101Cell.from_str(str(direct))) == str(direct)
    with pytest.raises(CellParseError, match="vertices off every input-to-output path"):
        NB101Cell(tuple(map(tuple, m.tolist())), tuple(ops))


@pytest.mark.parametrize(
    ("matrix", "ops", "fragment"),
    [
        ([[0, 0], [0, 0]], ["input", "output"], "does not reach the output"),
        ([[0, 1], [1, 0]], ["input", "output"], "upper triangular"),
        ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"], "allowed ops"),
        ([[0, 1], [0, 0]], ["output", "input"], "first op must be"),
        (np.triu(np.ones((8, 8), int), 1), ["input", *[C3] * 6, "output"], "2..7 vertices"),
        (np.triu(np.ones((7, 7), int), 1), ["input", *[C3] * 5, "output"], "at most 9"),
        ([[0, 2], [0, 0]], ["input", "output"], "0/1 entries"),
    ],
)
def test_invalid_specs_say_what_is_wrong(matrix, ops, fragment) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CellParseError, match=fragment):
        NB101Cell.from_spec(matrix, ops)


def test_string_form_round_trips() -> None:
    for cell in random_cells(20, seed=3):
        back = NB101Cell.from_str(str(cell))
        assert back == cell and back.hash == cell.hash
    with pytest.raises(CellParseError, match="adjacency bits"):
        NB101Cell.from_str("01010|input,output")


def test_space_maps_any_spelling_to_its_row_and_names_absent_graphs() -> None:
    cells = random_cells(50, seed=4)
    space = NB101Space(cells[:40])
    for i, cell in enumerate(cells[:40]):
        m, ops = pad(cell)  # another spelling of the same graph
        assert space.to_index(NB101Cell.from_spec(m, ops)) == i
        assert space.coerce(str(cell)) == cell and space.coerce(i) == cell
    with pytest.raises(
        CellNotInTableError, match=r"valid NAS-Bench-101 graph .* not one of the 40"
    ):
        space.to_index(cells[45])
    with pytest.raises(CellParseError, match="share a graph hash"):
        NB101Space([cells[0], cells[0]])


def test_mutation_and_neighbours() -> None:
    cells = random_cells(400, seed=5)
    space = NB101Space(cells)
    a = space.mutate(cells[0], np.random.default_rng(7))
    b = space.mutate(cells[0], np.random.default_rng(7))
    assert a == b and a.hash != cells[0].hash and space.holds(a)
    for cell in cells[:25]:
        nbrs = space.neighbours(cell)
        hashes = [n.hash for n in nbrs]
        assert len(set(hashes)) == len(hashes) and cell.hash not in hashes
        assert all(space.holds(n) for n in nbrs)
    chain = NB101Cell.from_str("0100001000010000|input,conv3x3-bn-relu,maxpool3x3,output")
    one_op = NB101Cell.from_str("0100001000010000|input,conv1x1-bn-relu,maxpool3x3,output")
    with_skip = NB101Cell.from_str("0101001000010000|input,conv3x3-bn-relu,maxpool3x3,output")
    far = NB101Cell.from_str("0100001000010000|input,conv1x1-bn-relu,conv1x1-bn-relu,output")
    small = NB101Space([chain, one_op, with_skip, far])
    assert {str(n) for n in small.neighbours(chain)} == {str(one_op), str(with_skip)}


def test_path_encoding_counts_paths_by_ops() -> None:
    cell = NB101Cell.from_spec(
        [[0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C3, MP, "output"]
    )
    space = NB101Space([cell])
    path = space.encode([0], "path")[0]
    # paths: input->output (no op), input->conv3x3->output, input->maxpool->output
    assert path.sum() == 3 and path[0] == 1 and path[1 + OPS.index(C3)] == 1
    adj = space.encode([0], "adjacency")[0]
    assert adj[:21].sum() == cell.n_edges and adj[21:].sum() == 2
    g = space.graph([0])
    assert g.adjacency.shape == (1, 7, 7) and g.features[0].sum() == cell.n_vertices


def test_cells_as_choices_round_trip_and_say_what_is_wrong() -> None:
    cells = random_cells(60, seed=8)
    space = NB101Space(cells[:50])
    decisions = space.decisions()
    assert len(decisions) == 21 + 5
    assert all(choices == ("0", "1") for _, choices in decisions[:21])
    assert all(choices == OPS for _, choices in decisions[21:])
    for cell in cells[:50]:
        assert space.from_decisions(space.to_decisions(cell)) == cell
    with pytest.raises(CellNotInTableError):
        space.from_decisions(space.to_decisions(cells[55]))  # valid, not in this table
    with pytest.raises(CellParseError, match="does not reach the output"):
        space.from_decisions([0] * 26)
    with pytest.raises(CellParseError, match="at most 9"):
        space.from_decisions([1] * 21 + [0] * 5)
    from nasbench_sim.space import NB201Space

    nb201 = NB201Space()
    cell = nb201.sample(np.random.default_rng(0))
    assert nb201.from_decisions(nb201.to_decisions(cell)) == cell
    assert [name for name, _ in nb201.decisions()][:2] == ["edge_0_1", "edge_0_2"]


def test_the_space_rebuilds_from_a_tables_arrays_without_rehashing() -> None:
    cells = random_cells(40, seed=9)
    space = NB101Space(cells)
    arrays = space.table_arrays(np.arange(space.size))
    assert arrays["matrix"].shape == (40, 7, 7) and arrays["ops"].shape == (40, 7)
    again = space.for_table(arrays)
    assert [again.from_index(i) for i in range(40)] == cells
    assert [again.from_index(i).hash for i in range(40)] == [c.hash for c in cells]
    assert again.strings(np.arange(40)) == [str(c) for c in cells]
    assert again.coerce(cells[3].hash) == cells[3]
    with pytest.raises(CellParseError, match="arch/matrix"):
        NB101Space.from_arrays({"hash": arrays["hash"], "ops": arrays["ops"]})


def test_mutation_in_a_partial_table_falls_back_to_a_neighbour_or_a_restart() -> None:
    chain = NB101Cell.from_str("0100001000010000|input,conv3x3-bn-relu,maxpool3x3,output")
    one_op = NB101Cell.from_str("0100001000010000|input,conv1x1-bn-relu,maxpool3x3,output")
    far = NB101Cell.from_str("0100001000010000|input,conv1x1-bn-relu,conv1x1-bn-relu,output")
    space = NB101Space([chain, one_op, far])
    for seed in range(10):
        rng = np.random.default_rng(seed)
        child = space.mutate(far, rng, max_tries=5)
        assert space.holds(child) and child != far
        assert child == space.mutate(far, np.random.default_rng(seed), max_tries=5)
    alone = NB101Space([chain])
    with pytest.raises(CellParseError, match="no other graph"):
        alone.mutate(chain, np.random.default_rng(0), max_tries=5)
