"""Build driver: round trip through the table format, shards + merge, resume rules, errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.generate import (
    BuildError,
    BuildProgress,
    DatasetError,
    GenerateError,
    Protocol,
    build_table,
    merge_tables,
    parts_dir,
    resolve_cells,
    train_chunk,
)
from nasbench_sim.generate.chunks import chunk_path, read_chunk
from nasbench_sim.space import Cell, get_space
from nasbench_sim.table import METRICS, read_table, write_table

CELLS = [0, 7, 1234, 5555, 9000]


def _assert_same_training(a, b) -> None:
    """Equal rows, curves and deterministic costs (timings are measurements and vary)."""
    np.testing.assert_array_equal(a.arch_index, b.arch_index)
    np.testing.assert_array_equal(a.seeds, b.seeds)
    for name in METRICS:
        np.testing.assert_allclose(a.metrics[name], b.metrics[name], rtol=1e-6, atol=1e-6)
    for name in ("params", "flops"):
        np.testing.assert_array_equal(a.cost[name], b.cost[name])


def test_build_round_trip_and_query(tmp_path: Path, tiny: Protocol) -> None:
    events: list[BuildProgress] = []
    out = build_table(
        tiny, tmp_path / "t.h5", cells=CELLS, seeds=[0, 1], chunk_size=2, progress=events.append
    )
    assert not parts_dir(out).exists()  # cleaned up after assembly
    t = read_table(out)
    assert t.arch_index.tolist() == sorted(CELLS)
    assert t.metrics["valid_acc"].shape == (5, 2, 2)
    for name in METRICS:
        assert np.isfinite(t.metrics[name]).all()
    assert ((t.metrics["valid_acc"] >= 0) & (t.metrics["valid_acc"] <= 1)).all()
    assert not np.array_equal(t.metrics["train_loss"][:, 0], t.metrics["train_loss"][:, 1])
    # the protocol is recorded in full, with the data facts
    proto = Protocol.from_dict(t.protocol)
    assert proto == dataclasses.replace(tiny, seeds=(0, 1))
    assert t.protocol["splits"] == {"train": 96, "valid": 64, "test": 64}
    # costs: params are exact, FLOPs positive, timings positive and modelled
    from nasbench_sim.generate.costs import count_params
    from nasbench_sim.generate.datasets import dataset_for
    from nasbench_sim.generate.train_reference import reference_model

    data = dataset_for(tiny, "cpu")
    for row, idx in enumerate(t.arch_index):
        net = reference_model(tiny, Cell.from_index(int(idx)), 0, data, "cpu")
        assert t.cost["params"][row] == count_params(net)
    assert (t.cost["flops"] > 0).all() and (t.cost["latency_s"] > 0).all()
    assert (t.cost["train_time_s"] > 0).all()
    measured = np.isfinite(t.cost["train_time_measured_s"])
    assert measured.sum() == 3  # one timed cell in each of the 3 chunks
    assert "timing_model_method" in t.provenance and "devices" in t.provenance
    assert t.provenance["model_steps"] == 5 * 2 * 2 * 3  # cells x seeds x epochs x steps
    # progress: one event per chunk, cumulative counts
    assert [e.chunk_id for e in events] == [0, 1, 2]
    assert [e.cells_done for e in events] == [2, 4, 5] and events[-1].cells_total == 5
    assert not any(e.skipped for e in events) and all(e.model_steps > 0 for e in events)
    # and the benchmark API reads it
    bench = TabularBenchmark(t)
    r = bench.query(Cell.from_index(1234), epochs=2, repeat=1)
    row = t.arch_index.tolist().index(1234)
    assert r.valid_acc == pytest.approx(float(t.metrics["valid_acc"][row, 1, 1]))


def test_shards_merge_to_the_full_build(tmp_path: Path, tiny: Protocol) -> None:
    full = read_table(build_table(tiny, tmp_path / "full.h5", cells=CELLS, chunk_size=2))
    shards = [
        build_table(tiny, tmp_path / f"s{i}.h5", cells=CELLS, chunk_size=2, shard=f"{i}/2")
        for i in range(2)
    ]
    assert read_table(shards[0]).arch_index.tolist() == [0, 7, 9000]  # chunks 0 and 2
    assert read_table(shards[1]).arch_index.tolist() == [1234, 5555]
    merged = read_table(merge_tables(shards[::-1], tmp_path / "merged.h5"))
    _assert_same_training(full, merged)
    assert merged.protocol == full.protocol
    assert merged.provenance["merged_from"] == [str(s) for s in shards[::-1]]
    # what the pieces ran on, for the datasheet: the trainer, devices, hosts, software
    prov = merged.provenance
    assert prov["trainer"] == "batched" and prov["devices"] == full.provenance["devices"]
    assert prov["hosts"] == full.provenance["hosts"] and "torch" in prov["software"]
    assert np.isfinite(merged.cost["train_time_s"]).all()
    # overlapping shards, or shards of different protocols, are refused
    with pytest.raises(BuildError, match="in both"):
        merge_tables([shards[0], tmp_path / "full.h5"], tmp_path / "bad.h5")
    other = dataclasses.replace(tiny, lr=0.05)
    odd = build_table(other, tmp_path / "odd.h5", cells=[42], chunk_size=1)
    with pytest.raises(BuildError, match=r"protocol differs .*'lr'"):
        merge_tables([shards[0], odd], tmp_path / "bad.h5")
    # the chunk size is recorded; a grouped trainer's pieces with other chunk sizes are refused
    assert full.provenance["chunk_size"] == merged.provenance["chunk_size"] == 2
    alone = build_table(tiny, tmp_path / "one.h5", cells=[42], chunk_size=1)
    with pytest.raises(BuildError, match=r"chunk_size 1, .* chunk_size 2: with the batched"):
        merge_tables([shards[0], alone], tmp_path / "bad.h5")
    # ... and so are pieces of another plan (other cells), even with the same chunk size
    assert full.provenance["plan"] == merged.provenance["plan"]
    other_plan = build_table(tiny, tmp_path / "two.h5", cells=[42, 43], chunk_size=2)
    with pytest.raises(BuildError, match=r"plan [0-9a-f]{12}\.\.\., chunk_size 2, .*only pieces"):
        merge_tables([shards[0], other_plan], tmp_path / "bad.h5")
    # a trainer that trains cell by cell merges pieces of any chunk size
    ref = [
        build_table(tiny, tmp_path / f"r{i}.h5", cells=cells, chunk_size=size, trainer="reference")
        for i, (cells, size) in enumerate((([42], 1), ([0, 7, 9000], 2)))
    ]
    assert read_table(merge_tables(ref, tmp_path / "r.h5")).arch_index.tolist() == [0, 7, 42, 9000]


def test_a_stacked_build_records_its_stack_size() -> None:
    """As its chunks record it; by today's rule for chunks from before they recorded it; a
    build whose chunks were stacked differently is refused."""
    from nasbench_sim.generate.assemble import _stacks

    proto = Protocol(dataset="mnist1d", batch_size=64).to_dict()  # today's rule: 16
    old = {
        "trainer": "matmul_stacked",
        "protocol": proto,
        "numerics": {"trainer": "matmul_stacked"},
    }
    assert _stacks(old, [{}, {}]) == {"stack_size": 16}
    assert _stacks(old, [{"stack_size": 8}] * 2) == {"stack_size": 8}
    with pytest.raises(BuildError, match=r"stack sizes \[8, 16\]"):
        _stacks(old, [{"stack_size": 8}, {}])
    assert _stacks({**old, "trainer": "matmul"}, [{}]) == {}
    # with the ordered gradient sum the stack does not matter: mixed sizes are no error
    ordered = {**old, "numerics": {"trainer": "matmul_stacked", "grad_sum": "ordered"}}
    assert _stacks(ordered, [{"stack_size": 8}, {}]) == {}
    assert _stacks(ordered, [{"stack_size": 8}]) == {"stack_size": 8}


def test_pieces_that_do_not_record_their_plan_are_refused(tmp_path: Path, tiny: Protocol) -> None:
    """Two pieces of a grouped trainer assembled before tables recorded their plan could come
    from any plans: refused, with what to do instead."""
    pieces = []
    for i, cells in enumerate(([0, 7], [42, 43])):
        t = read_table(build_table(tiny, tmp_path / f"p{i}.h5", cells=cells, chunk_size=2))
        prov = {k: v for k, v in t.provenance.items() if k != "plan"}
        pieces.append(write_table(tmp_path / f"old{i}.h5", dataclasses.replace(t, provenance=prov)))
    with pytest.raises(BuildError, match=r"plan unrecorded.*merge its parts directory instead"):
        merge_tables(pieces, tmp_path / "m.h5")


def test_reference_and_batched_builds_agree(tmp_path: Path, tiny: Protocol) -> None:
    a = read_table(build_table(tiny, tmp_path / "b.h5", cells=CELLS[:3], chunk_size=3))
    b = read_table(
        build_table(tiny, tmp_path / "r.h5", cells=CELLS[:3], chunk_size=3, trainer="reference")
    )
    for name in METRICS:  # float32: rounding only (see test_gen_equivalence)
        np.testing.assert_allclose(a.metrics[name], b.metrics[name], atol=1e-4)
    assert a.provenance["trainer"] == "batched" and b.provenance["trainer"] == "reference"


def test_resume_rules(tmp_path: Path, tiny: Protocol) -> None:
    out = tmp_path / "t.h5"
    parts = parts_dir(out)
    parts.mkdir()
    with pytest.raises(BuildError, match="--resume"):
        build_table(tiny, out, cells=[1, 2], chunk_size=1)
    parts.rmdir()
    # a build that stops after its chunks are committed (keep_parts) can be resumed...
    build_table(tiny, out, cells=[1, 2], chunk_size=1, keep_parts=True)
    assert chunk_path(parts, 0).exists() and chunk_path(parts, 1).exists()
    out.unlink()
    events: list[BuildProgress] = []
    build_table(tiny, out, cells=[1, 2], chunk_size=1, resume=True, progress=events.append)
    assert [e.skipped for e in events] == [True, True]
    assert [e.chunks_resumed for e in events] == [2, 2]  # known from the first event
    assert read_table(out).n_cells == 2
    # ...but not with another protocol, cell list or chunk size
    build_table(tiny, tmp_path / "u.h5", cells=[1, 2], chunk_size=1, keep_parts=True)
    (tmp_path / "u.h5").unlink()
    said = {  # the message names what differs, started → asked
        "cells": "cells (others, as many)",
        "chunk_size": "chunk_size (1 → 2)",
        "seeds": "protocol (seeds: [0] → [4])",
        "shard": "shard ([0, 1] → [1, 2])",
    }
    for kw in ({"cells": [1, 3]}, {"chunk_size": 2}, {"seeds": [4]}, {"shard": "1/2"}):
        args = {"cells": [1, 2], "chunk_size": 1, **kw}
        with pytest.raises(BuildError, match="different build") as err:
            build_table(tiny, tmp_path / "u.h5", resume=True, **args)  # type: ignore[arg-type]
        assert said[next(iter(kw))] in str(err.value), str(err.value)
    manifest = json.loads((parts_dir(tmp_path / "u.h5") / "manifest.json").read_text())
    assert manifest["cells"] == [1, 2] and manifest["protocol"]["dataset"] == "digits"
    # an existing finished table is never overwritten by a fresh build
    with pytest.raises(BuildError, match="exists already"):
        build_table(tiny, out, cells=[1, 2], chunk_size=1)


def test_a_build_failing_before_any_chunk_leaves_nothing_behind(
    tmp_path: Path, tiny: Protocol
) -> None:
    """A missing dataset fails before the parts directory exists; a failure while training
    the first chunk removes the directory this build created; a later, different build to
    the same file then starts cleanly."""
    out = tmp_path / "b.h5"
    cifar = dataclasses.replace(tiny, dataset="cifar10")
    with pytest.raises(DatasetError, match="data_dir"):
        build_table(cifar, out, cells=[1, 2], chunk_size=1)
    assert not parts_dir(out).exists()
    with pytest.raises(GenerateError, match="1-D"):  # fails inside the first chunk
        build_table(tiny, out, cells=[1, 2], chunk_size=1, trainer="matmul")
    assert not parts_dir(out).exists()
    build_table(tiny, out, cells=[1, 2], chunk_size=1)
    assert read_table(out).n_cells == 2


def test_a_stale_build_is_discarded_with_restart(tmp_path: Path, tiny: Protocol) -> None:
    out = tmp_path / "t.h5"
    build_table(tiny, out, cells=[1, 2], chunk_size=1, keep_parts=True)
    out.unlink()
    for resume in (False, True):  # both refusals say how to discard the old build
        with pytest.raises(BuildError, match=r"--restart.*rm -r") as err:
            build_table(tiny, out, cells=[1, 3], chunk_size=1, resume=resume)
        assert "2 committed chunk(s)" in str(err.value)
    build_table(tiny, out, cells=[1, 3], chunk_size=1, restart=True)
    np.testing.assert_array_equal(read_table(out).arch_index, [1, 3])


def test_train_chunk_is_a_pure_function(tiny: Protocol) -> None:
    a = train_chunk(tiny, [3, 77], (0,), "cpu")
    b = train_chunk(tiny, [3, 77], (0,), "cpu")
    assert a.arch_index.tolist() == [3, 77] and a.metrics["test_acc"].shape == (2, 1, 2)
    for name in METRICS:
        np.testing.assert_array_equal(a.metrics[name], b.metrics[name])
    np.testing.assert_array_equal(a.cost["flops"], b.cost["flops"])


def test_chunk_files_are_plain_numpy(tmp_path: Path, tiny: Protocol) -> None:
    build_table(tiny, tmp_path / "t.h5", cells=[10, 20], chunk_size=2, keep_parts=True)
    path = chunk_path(parts_dir(tmp_path / "t.h5"), 0)
    with np.load(path) as z:
        assert z["metric__valid_acc"].shape == (2, 1, 2)
    assert read_chunk(path).info["trainer"] == "batched"
    # a complete parts directory merges like its table
    merged = read_table(merge_tables([parts_dir(tmp_path / "t.h5")], tmp_path / "m.h5"))
    _assert_same_training(merged, read_table(tmp_path / "t.h5"))


def test_resolve_cells() -> None:
    space = get_space("nb201")
    assert resolve_cells("all").shape == (15625,)
    classes = resolve_cells("classes")
    assert classes.shape == (6466,)
    sample = resolve_cells(20, cells_seed=3)
    assert np.isin(sample, classes).all() and np.all(np.diff(sample) > 0)
    np.testing.assert_array_equal(sample, resolve_cells(20, cells_seed=3))
    assert not np.array_equal(sample, resolve_cells(20, cells_seed=4))
    assert resolve_cells([9, 3]).tolist() == [3, 9]
    assert space.size == 15625


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"cells": "some"}, "'all', 'classes'"),
        ({"cells": 0}, r"1\.\.6466"),
        ({"cells": [1, 1]}, "twice"),
        ({"cells": [15625]}, r"0\.\.15624"),
        ({"shard": "2/2"}, "0 <= i < n"),
        ({"shard": "a/b"}, "i/n"),
        ({"shard": "3/4"}, "gets no chunk"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"trainer": "fast"}, "valid trainers: batched, reference"),
        ({"device": "cuda:0"}, "CUDA is not available|unknown device"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_build_arguments(tmp_path: Path, tiny: Protocol, kwargs: dict, words: str) -> None:
    import torch

    if kwargs.get("device") == "cuda:0" and torch.cuda.is_available():
        pytest.skip("CUDA present")
    args = {"cells": [1, 2], "chunk_size": 1, **kwargs}
    with pytest.raises(GenerateError, match=words):
        build_table(tiny, tmp_path / "t.h5", **args)
    assert not parts_dir(tmp_path / "t.h5").exists()  # nothing half-started


def test_merge_errors(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="at least one"):
        merge_tables([], tmp_path / "m.h5")
    (tmp_path / "p").mkdir()
    with pytest.raises(BuildError, match="manifest"):
        merge_tables([tmp_path / "p"], tmp_path / "m.h5")


def test_a_draw_started_before_builds_recorded_its_seed_resumes(
    tmp_path: Path, tiny: Protocol
) -> None:
    """A build of a drawn sample whose manifest predates ``cells_seed`` resumes (its cell
    list decides); a new one records the seed in the manifest and the table."""
    out = tmp_path / "t.h5"
    build_table(tiny, out, cells=2, cells_seed=5, chunk_size=1, keep_parts=True)
    manifest_path = parts_dir(out) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["cells_seed"] == 5 and read_table(out).provenance["cells_seed"] == 5
    del manifest["cells_seed"]  # as an older version wrote it
    manifest_path.write_text(json.dumps(manifest))
    out.unlink()
    t = read_table(build_table(tiny, out, cells=2, cells_seed=5, chunk_size=1, resume=True))
    assert t.n_cells == 2 and "cells_seed" not in t.provenance
