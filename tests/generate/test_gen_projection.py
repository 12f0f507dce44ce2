"""The CPU projection of a build in progress, from its committed chunks."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.generate import Protocol, build_table, parts_dir
from nasbench_sim.generate.chunks import chunk_path, read_chunk
from nasbench_sim.generate.projection import MIN_CHUNKS, project_build
from nasbench_sim.units import duration

CELLS = [0, 7, 55, 1234, 3001, 5555, 9000, 12000, 14000]


@pytest.fixture()
def parts(tmp_path: Path, tiny: Protocol) -> Path:
    out = build_table(tiny, tmp_path / "t.h5", cells=CELLS, seeds=[0], chunk_size=1,
                      keep_parts=True)  # fmt: skip
    return out


def test_committed_chunks_are_counted_and_the_rest_projected(
    parts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nasbench_sim.cli import main

    folder = parts_dir(parts)
    cpu = [read_chunk(chunk_path(folder, c)).info["cpu_s"] for c in range(len(CELLS))]
    whole = project_build(parts, cores=2)
    assert whole is not None and whole.chunks_done == len(CELLS)
    assert whole.cpu_h_done == pytest.approx(sum(cpu) / 3600)
    assert whole.cpu_h_total == pytest.approx(whole.cpu_h_done) and whole.hours_left == 0
    for c in (7, 8):  # two chunks not trained yet
        chunk_path(folder, c).unlink()
    part = project_build(parts, cores=2)
    assert part is not None and part.chunks_done == len(CELLS) - 2
    assert part.cpu_h_done == pytest.approx(sum(cpu[:7]) / 3600)
    assert part.cpu_h_total > part.cpu_h_done  # the missing chunks are projected, not zero
    assert part.hours_left == pytest.approx((part.cpu_h_total - part.cpu_h_done) / 2)
    assert np.isfinite(part.fit_mape) and part.fit_mape >= 0
    assert set(part.as_dict()) >= {"cpu_h_done", "cpu_h_projected_total", "hours_left_at_full_use"}
    parts.unlink()  # the table is not assembled yet: `info` reads the committed chunks
    assert main(["info", "--table", str(parts)]) == 0
    out = capsys.readouterr().out
    assert "BUILD IN PROGRESS" in out and "7 of 9 chunks" in out
    assert f"CPU: {duration(3600 * part.cpu_h_done, 'core-')} so far" in out
    assert re.search(r"^ *created: not yet$", out, re.M)  # no table written yet


def test_a_linear_cost_is_projected_exactly(parts: Path) -> None:
    """Chunks whose CPU time is exactly linear in cells and op counts: the fit recovers it and
    the projected total is the hand-computed sum, also for a chunk that records none."""
    import dataclasses

    from nasbench_sim.generate.chunks import write_chunk
    from nasbench_sim.space import NB201Space

    folder = parts_dir(parts)
    ops = NB201Space().ops_matrix(np.array(sorted(CELLS)))
    weights = np.array([5.0, 0.5, 2.0, 7.0, 3.0])  # per cell, skip, conv1x1, conv3x3, pool
    cost = [float(weights @ [1, *((o == k).sum() for k in (1, 2, 3, 4))]) for o in ops]
    for c in range(len(CELLS)):
        chunk = read_chunk(chunk_path(folder, c))
        info = {**chunk.info, "cpu_s": cost[c]}
        if c == 3:
            info.pop("cpu_s")  # an older chunk: done, at its predicted cost
        write_chunk(chunk_path(folder, c), dataclasses.replace(chunk, info=info))
    chunk_path(folder, 8).unlink()
    p = project_build(parts, cores=4)
    assert p is not None and p.chunks_done == 8 and p.fit_mape == pytest.approx(0, abs=1e-9)
    assert p.cpu_h_total == pytest.approx(sum(cost) / 3600)
    assert p.cpu_h_done == pytest.approx(sum(cost[:8]) / 3600)
    assert p.hours_left == pytest.approx(cost[8] / 3600 / 4)


def test_no_projection_without_enough_chunks_or_a_build(parts: Path, tmp_path: Path) -> None:
    folder = parts_dir(parts)
    for c in range(len(CELLS) - MIN_CHUNKS + 1):
        chunk_path(folder, c).unlink()
    assert project_build(parts) is None  # MIN_CHUNKS - 1 left
    assert project_build(tmp_path / "nothing.h5") is None


def test_chunk_costs_read_each_chunks_info_and_count_its_ops(parts: Path) -> None:
    from nasbench_sim.generate import BuildError
    from nasbench_sim.generate.chunks import read_chunk_info
    from nasbench_sim.generate.projection import chunk_costs, fit_cost_model
    from nasbench_sim.space import NB201Space

    folder = parts_dir(parts)
    for c in range(len(CELLS)):
        assert read_chunk_info(chunk_path(folder, c)) == read_chunk(chunk_path(folder, c)).info
    chunk_path(folder, 4).unlink()
    costs = chunk_costs(parts)
    assert costs is not None and costs.ids == list(range(len(CELLS)))
    assert costs.committed == [c for c in range(len(CELLS)) if c != 4]
    assert sorted(costs.cpu_s) == costs.committed
    ops = NB201Space().ops_matrix(np.array(sorted(CELLS)))[2]  # chunk 2 holds one cell
    by_hand = [1, *((ops == k).sum() for k in (1, 2, 3, 4))]
    np.testing.assert_array_equal(costs.row(2), by_hand)
    assert costs.features.shape == (len(CELLS), 5) and costs.features[:, 1:].sum(axis=1).max() <= 6
    x = costs.features[:, [0, 3]]
    np.testing.assert_allclose(fit_cost_model(x, x @ [2.0, 0.5]), [2.0, 0.5], atol=1e-9)
    assert (fit_cost_model(x, -x[:, 0]) >= 0).all()  # non-negative even against the data
    chunk_path(folder, 0).write_bytes(b"not a chunk")
    with pytest.raises(BuildError, match="cannot read chunk file"):
        read_chunk_info(chunk_path(folder, 0))


def test_a_build_continued_on_a_slower_machine_is_projected_at_its_speed(parts: Path) -> None:
    """Chunks of two kinds of machine, the second twice as slow and the latest: each kind
    gets its factor on the shared fit (exact here), and the chunk not yet trained is projected
    at the second kind's speed."""
    import dataclasses

    from nasbench_sim.generate.chunks import write_chunk
    from nasbench_sim.space import NB201Space

    folder = parts_dir(parts)
    ops = NB201Space().ops_matrix(np.array(sorted(CELLS)))
    weights = np.array([5.0, 0.5, 2.0, 7.0, 3.0])
    base = [float(weights @ [1, *((o == k).sum() for k in (1, 2, 3, 4))]) for o in ops]
    slow = {5, 6, 7, 8}  # trained on the second machine, after the others
    cost = [b * (2.0 if c in slow else 1.0) for c, b in enumerate(base)]
    for c in range(len(CELLS)):
        chunk = read_chunk(chunk_path(folder, c))
        numerics = {**chunk.info["numerics"], "cpu_capability": "B" if c in slow else "A"}
        info = {**chunk.info, "cpu_s": cost[c], "numerics": numerics, "finished": 1000.0 + c}
        write_chunk(chunk_path(folder, c), dataclasses.replace(chunk, info=info))
    chunk_path(folder, 8).unlink()
    p = project_build(parts, cores=1)
    assert p is not None and p.machine_factor == pytest.approx(2.0, rel=1e-6)
    assert p.fit_mape == pytest.approx(0, abs=1e-6)
    assert p.cpu_h_total == pytest.approx(sum(cost) / 3600, rel=1e-6)  # chunk 8 at 2x
    assert p.as_dict()["machine_factor"] == pytest.approx(2.0)


def test_elapsed_counts_overlapping_chunks_once_and_gaps_not_at_all() -> None:
    from nasbench_sim.generate.projection import elapsed_s

    chunks = [  # two workers side by side, then a pause, then one chunk alone
        {"finished": 110.0, "wall_s": 10.0},  # 100-110
        {"finished": 115.0, "wall_s": 10.0},  # 105-115
        {"finished": 112.0, "wall_s": 1.0},  # 111-112, inside
        {"finished": 1020.0, "wall_s": 20.0},  # 1000-1020
    ]
    assert elapsed_s(chunks) == pytest.approx(15.0 + 20.0)
    assert elapsed_s(chunks[::-1]) == pytest.approx(35.0)  # any order
    assert elapsed_s([]) == 0.0
    assert elapsed_s([*chunks, {"wall_s": 3.0}]) is None  # a chunk without its end time


def test_an_assembled_table_records_the_builds_elapsed_time(parts: Path) -> None:
    from nasbench_sim.generate.assemble import assemble_parts
    from nasbench_sim.generate.projection import elapsed_s

    folder = parts_dir(parts)
    infos = [read_chunk(chunk_path(folder, c)).info for c in range(len(CELLS))]
    prov = assemble_parts(folder).provenance
    assert prov["build_elapsed_s"] == pytest.approx(elapsed_s(infos))
    assert 0 < prov["build_elapsed_s"] <= prov["train_wall_s"] + 1e-3  # clock stamps: ~1e-7 s
