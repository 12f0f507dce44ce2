"""The datasheet of a table, and the build command that rebuilds its protocol."""

from __future__ import annotations

import dataclasses
import json
import shlex
from pathlib import Path

import numpy as np
import pytest

from analysis.datasheet import CRITERIA, write_datasheet
from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.cli import build_parser, main
from nasbench_sim.cli.generate import protocol_from_args
from nasbench_sim.generate.protocol import Protocol, build_command
from nasbench_sim.table import make_synthetic_table, read_table, write_table

PROTO = Protocol(
    dataset="digits", channels=4, cells_per_stage=1, epochs=4, batch_size=64, lr=0.05,
    seeds=(0, 1), train_subset=384, label_smoothing=0.1,
)  # fmt: skip


@pytest.mark.parametrize(
    "proto",
    [
        PROTO,
        Protocol(),
        dataclasses.replace(PROTO, eval_subset=99),
        dataclasses.replace(PROTO, lr=1e-05, dtype="float64", base_seed=7, train_subset=None),
    ],
)
def test_the_build_command_parses_back_to_the_same_protocol(proto: Protocol) -> None:
    cmd, rest = build_command(proto, cells=300, out="-odd name.h5")
    args = build_parser().parse_args(shlex.split(cmd)[1:])
    assert args.cells == "300" and args.out == "-odd name.h5"
    assert protocol_from_args(args) == proto and rest == {}


def test_fields_without_a_flag_are_reported() -> None:
    _, rest = build_command(dataclasses.replace(PROTO, momentum=0.8, timing_steps=9))
    assert rest == {"momentum": 0.8, "timing_steps": 9}


def _table(tmp_path: Path, protocol: dict | None = None) -> Path:
    t = make_synthetic_table(0, n_seeds=2, n_epochs=4)
    if protocol is not None:
        prov = {"devices": ["NVIDIA H100"], "cpu_s": 7200.0, "hardware": {"cpu_count": 2}}
        t = dataclasses.replace(t, protocol=protocol, provenance=prov)
    return write_table(tmp_path / "t.h5", t)


def test_datasheet_of_a_generated_table(tmp_path: Path) -> None:
    path = _table(tmp_path, PROTO.to_dict())
    readme = write_datasheet(path, tmp_path / "ds")
    data = json.loads((readme.parent / "datasheet.json").read_text())
    d = TabularBenchmark(read_table(path)).discrimination()
    assert data["stats"]["seed_kendall_tau"] == pytest.approx(d["seed_kendall_tau"])
    assert [c["statistic"] for c in data["criteria"]] == [c[0] for c in CRITERIA]
    by = {c["statistic"]: c for c in data["criteria"]}
    assert by["n_seeds"]["value"] == 2 and not by["n_seeds"]["ok"]
    assert by["cells_covered"]["ok"]
    r = d["seed_pearson"]  # two seeds: the Spearman-Brown reliability of their mean
    assert data["stats"]["seed_mean_reliability"] == pytest.approx(2 * r / (1 + r))
    for png in data["plots"]:
        assert (readme.parent / png).read_bytes()[:4] == b"\x89PNG"
    assert set(data["plots"]) == {"accuracy_hist.png", "cost_pareto.png"}
    text = readme.read_text()
    assert "| n_seeds | 2 | >= 3 | FAIL |" in text and "NVIDIA H100" in text
    assert "2.0 core-hours, 60.0 minutes on 2 cores at full use" in text
    assert f"mean of 2 seeds (Spearman-Brown) is {r * 2 / (1 + r):.4g}" in text
    # the README's rebuild command trains the same protocol
    cmd = text.split("```bash\n")[1].split("\n```")[0]
    args = build_parser().parse_args(shlex.split(cmd)[1:])
    assert protocol_from_args(args) == PROTO and args.cells == "classes"
    q = list(data["stats"]["test_acc_quantiles"].values())
    assert q == sorted(q) and np.isfinite(q).all()


def test_the_rebuild_command_carries_the_builds_numerics(tmp_path: Path) -> None:
    numerics = {"trainer": "matmul_stacked", "device": "cpu", "threads": 1, "torch": "2.13.0",
                "dtype": "float32", "cpu_capability": "AVX512"}  # fmt: skip
    t = make_synthetic_table(0, n_seeds=2, n_epochs=4)
    prov = {"numerics": numerics, "chunk_size": 16}
    t = dataclasses.replace(t, protocol=PROTO.to_dict(), provenance=prov)
    text = write_datasheet(write_table(tmp_path / "t.h5", t), tmp_path / "ds").read_text()
    cmd = text.split("```bash\n")[1].split("\n```")[0]
    args = build_parser().parse_args(shlex.split(cmd)[1:])
    assert protocol_from_args(args) == PROTO
    assert (args.trainer, args.threads, args.chunk_size) == ("matmul_stacked", 1, 16)
    assert args.grad_sum == "autograd"  # numerics without grad_sum: built before it existed
    assert "bit for bit, need the build's numerics (cpu_capability AVX512, device cpu" in text
    assert "and its chunks (this command's cells and `--chunk-size`)" in text
    # the ordered gradient sum: a cell's curves do not depend on its chunk
    ordered = {**numerics, "grad_sum": "ordered"}
    t = dataclasses.replace(t, provenance={"numerics": ordered, "chunk_size": 16})
    text = write_datasheet(write_table(tmp_path / "o.h5", t), tmp_path / "do").read_text()
    cmd = text.split("```bash\n")[1].split("\n```")[0]
    assert build_parser().parse_args(shlex.split(cmd)[1:]).grad_sum == "ordered"
    assert "its chunks" not in text
    # a trainer that trains cell by cell: its chunks do not matter, and the note says none
    numerics = {**numerics, "trainer": "matmul"}
    t = dataclasses.replace(t, provenance={"numerics": numerics, "chunk_size": 16})
    text = write_datasheet(write_table(tmp_path / "m.h5", t), tmp_path / "dm").read_text()
    assert "trainer matmul): another trainer" in text and "its chunks" not in text
    # a stacked table that does not record its chunk size (built before tables did) says so
    numerics = {**numerics, "trainer": "matmul_stacked"}
    t = dataclasses.replace(t, provenance={"numerics": numerics})
    text = write_datasheet(write_table(tmp_path / "s.h5", t), tmp_path / "dn").read_text()
    assert "and its chunks (cells and chunk size, which this table does not record)" in text


def test_datasheet_cli_and_a_table_without_a_protocol(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _table(tmp_path)
    assert main(["datasheet", str(path), "--out", str(tmp_path / "ds")]) == 0
    out = capsys.readouterr().out
    assert "not met: n_seeds" in out
    text = (tmp_path / "ds" / "README.md").read_text()
    assert "SYNTHETIC" in text and "records no generator protocol" in text
    assert main(["datasheet", str(tmp_path / "nope.h5"), "--out", str(tmp_path)]) == 2
    assert "no such table file" in capsys.readouterr().err
    # a build in progress is named as such, and the help offers only what the command takes
    (tmp_path / "wip.h5.parts").mkdir()
    assert main(["datasheet", "--table", str(tmp_path / "wip.h5"), "--out", str(tmp_path)]) == 2
    assert "wip.h5 is a build in progress, not yet a table" in capsys.readouterr().err
    parts = str(tmp_path / "wip.h5.parts")
    assert main(["datasheet", "--table", parts, "--out", str(tmp_path)]) == 2
    assert "wip.h5.parts is a build in progress" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["datasheet", "--help"])
    helptext = " ".join(capsys.readouterr().out.split())
    assert "a finished table file (.h5)" in helptext and "synthetic" not in helptext


def test_datasheet_of_sampled_cells_and_of_an_empty_protocol(tmp_path: Path) -> None:
    t = make_synthetic_table(0, n_seeds=2, n_epochs=4, cells=500)
    path = write_table(tmp_path / "s.h5", dataclasses.replace(t, protocol=PROTO.to_dict()))
    text = write_datasheet(path, tmp_path / "a").read_text()
    assert "--cells 500" in text and "holds 500 sampled cells" in text
    path = write_table(tmp_path / "e.h5", dataclasses.replace(t, protocol={}))
    text = write_datasheet(path, tmp_path / "b").read_text()
    assert "records no generator protocol" in text and "```bash" not in text


def test_discrimination_of_a_partly_missing_table_warns_nothing() -> None:
    import warnings

    t = make_synthetic_table(0, n_seeds=2, n_epochs=4)
    metrics = {k: np.array(a, copy=True) for k, a in t.metrics.items()}
    metrics["valid_acc"][:100, 1, :] = np.nan  # one finite seed on some rows
    metrics["valid_acc"][:, 0, -1] = 0.5  # a constant seed: tau undefined
    bench = TabularBenchmark(dataclasses.replace(t, metrics=metrics))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = bench.discrimination()
    assert d["seed_kendall_tau"] is None and d["seed_std_valid"] is not None
    json.dumps(d, allow_nan=False)


def test_the_datasheet_lists_the_exact_fronts_of_accuracy_against_every_cost(
    tmp_path: Path,
) -> None:
    from nasbench_sim.search.mo.pareto import nondominated_mask

    readme = write_datasheet(_table(tmp_path), tmp_path / "ds")
    data = json.loads((readme.parent / "datasheet.json").read_text())
    assert set(data["fronts"]) == {"params", "flops", "latency_s", "train_time_s"}
    for cost, front in data["fronts"].items():
        pts = np.array([[-m["test_acc"], m[cost]] for m in front["members"]])
        assert front["cells"] == len(pts) >= 1 and nondominated_mask(pts).all()
        accs = [m["test_acc"] for m in front["members"]]
        assert accs == sorted(accs, reverse=True) and 0 < front["hypervolume"] <= 1.1**2
    assert "## Pareto fronts" in readme.read_text()


def test_a_datasheet_beside_its_table_replaces_only_its_own_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _table(tmp_path, PROTO.to_dict())
    (tmp_path / "LICENSE").write_text("keep me")
    (tmp_path / "cost_pareto.png").write_text("stale")
    before = path.read_bytes()
    assert main(["datasheet", "--table", str(path), "--beside"]) == 0
    assert f"wrote {tmp_path}/: README.md" in capsys.readouterr().out
    assert (tmp_path / "LICENSE").read_text() == "keep me" and path.read_bytes() == before
    assert (tmp_path / "README.md").read_text().startswith("# Datasheet: `t.h5`")
    assert (tmp_path / "cost_pareto.png").read_bytes()[:4] == b"\x89PNG"  # replaced
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".datasheet.")]
    assert main(["datasheet", "--table", str(path), "--beside", "--out", str(tmp_path / "x")]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert main(["datasheet", "--table", str(path), "--beside"]) == 0  # its own: replaced
    other = tmp_path / "other"
    other.mkdir()
    (other / "README.md").write_text("# My experiment notes\n")
    moved = other / "t.h5"
    moved.write_bytes(before)
    assert main(["datasheet", "--table", str(moved), "--beside"]) == 2
    assert "is not the datasheet of t.h5" in capsys.readouterr().err
    assert (other / "README.md").read_text() == "# My experiment notes\n"
    assert sorted(p.name for p in other.iterdir()) == ["README.md", "t.h5"]


def test_a_datasheet_beside_a_table_without_costs_removes_its_stale_cost_plot(
    tmp_path: Path,
) -> None:
    path = _table(tmp_path, PROTO.to_dict())
    (tmp_path / "LICENSE").write_text("keep me")
    write_datasheet(path, None)
    assert (tmp_path / "cost_pareto.png").exists()
    t = read_table(path)
    unknown = {k: np.full(t.n_cells, np.nan) for k in t.cost}  # an import that has no costs
    write_table(path, dataclasses.replace(t, cost=unknown))
    readme = write_datasheet(path, None)
    data = json.loads((readme.parent / "datasheet.json").read_text())
    assert "cost_pareto.png" not in data["plots"]
    assert not (tmp_path / "cost_pareto.png").exists()  # not left to describe another table
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["LICENSE", "README.md", "accuracy_hist.png", "datasheet.json", "t.h5"]
    )


def test_the_rebuild_command_draws_the_same_sampled_cells(tmp_path: Path) -> None:
    """A build of a drawn sample records its --cells-seed, and the rebuild command carries
    it (before, it said --cells N only, which draws other cells); pieces of other draws,
    merged, get a note instead."""
    pytest.importorskip("torch")
    from nasbench_sim.generate import build_table, merge_tables, resolve_cells
    from tests.tiny_protocol import TINY

    kw = {"chunk_size": 3, "trainer": "reference"}  # trains cell by cell: pieces merge
    a = build_table(TINY, tmp_path / "a.h5", cells=3, cells_seed=7, **kw)
    text = write_datasheet(a, tmp_path / "da").read_text()
    cmd = text.split("```bash\n")[1].split("\n```")[0]
    args = build_parser().parse_args(shlex.split(cmd)[1:])
    assert (args.cells, args.cells_seed) == ("3", 7) and "sampled cells" not in text
    drawn = np.sort(resolve_cells(int(args.cells), args.cells_seed))
    assert np.array_equal(drawn, read_table(a).arch_index)
    shard = build_table(TINY, tmp_path / "s.h5", cells=4, cells_seed=7, shard="0/2", **kw)
    text = write_datasheet(shard, tmp_path / "ds").read_text()  # half a draw: no --cells-seed
    assert "--cells-seed 7`, not the whole draw" in text and "--cells-seed 7 " not in text
    b = build_table(TINY, tmp_path / "b.h5", cells=[42, 43, 44], **kw)
    merged = merge_tables([a, b], tmp_path / "m.h5")
    text = write_datasheet(merged, tmp_path / "dm").read_text()
    assert "merges 2 pieces whose cells no single draw gives" in text


def test_the_build_section_reads_as_sentences_not_records(tmp_path: Path) -> None:
    """The Build section of a re-measured table merged from two machines: no raw dict or
    list; the protocol is a table of fields; the creation time is readable."""
    t = make_synthetic_table(0, n_seeds=2, n_epochs=4)
    prov = {
        "trainer": "matmul_stacked",
        "devices": ["x86_64", "NVIDIA H100"],
        "hosts": ["a", "b"],
        "hardware": [
            {"machine": "x86_64", "processor": "", "cpu_count": 2},
            {"machine": "x86_64", "processor": "EPYC", "cpu_count": 16},
        ],
        "cpu_s": 7200.0,
        "train_wall_s": 5400.0,
        "model_steps": 2101248,
        "timing_model_method": "a linear model",
        "timing_model_n_measured": 400,
        "timing_model_cv_mape": 0.078,
        "costs_at_build": {"timing_model_cv_mape": 0.666},
        "costs_remeasured": {
            "when": "2026-12-01T03:01:26.7+00:00",
            "host": "a",
            "processor": "x86_64",
            "cpu_count": 2,
            "threads": 1,
            "latency_repeats": 15,
            "timed_cells": 400,
            "seconds": 1700.0,
        },
        "software": {"torch": "2.13.0", "numpy": "2.4"},
    }
    t = dataclasses.replace(t, protocol=PROTO.to_dict(), provenance=prov)
    text = write_datasheet(write_table(tmp_path / "t.h5", t), tmp_path / "ds").read_text()
    build = text.split("## Build\n")[1].split("## Rebuild")[0]
    assert "{" not in build and "[" not in build, build
    assert (
        "- trainer `matmul_stacked`; device(s) NVIDIA H100; assembled on x86_64, 2 CPUs; "
        "EPYC, 16 CPUs; host(s) a, b" in build
    )
    assert "- training wall time summed over chunks: 90.0 minutes" in build
    assert "- optimiser steps over all models and seeds: 2,101,248" in build
    assert "fitted on 400 measured rows; cross-validated error 7.8% (a linear model)" in build
    assert (
        "re-measured 2026-12-01 03:01 UTC on a (x86_64, 2 CPUs, 1 thread(s)): latency the "
        "median of 15 forward passes per row, the steps of 400 rows timed, in 28.3 minutes; "
        "the model's error at build was 66.6%" in build
    )
    assert "- software: numpy 2.4, torch 2.13.0" in build  # sorted, as HDF5 stores them
    # pieces that ran other software; a partial assembly; a protocol value holding a "|"
    prov = {**prov, "software": [{"torch": "2.13.0"}, {"torch": "2.12.0"}], "partial": True}
    odd = {**PROTO.to_dict(), "note": "a|b"}
    t = dataclasses.replace(t, protocol=odd, provenance=prov)
    text = write_datasheet(write_table(tmp_path / "p.h5", t), tmp_path / "dp").read_text()
    assert "- software (the pieces differ): torch 2.13.0; torch 2.12.0" in text
    assert "- **partial**: assembled from the chunks committed so far" in text
    assert '| `note` | `"a\\|b"` |' in text
    assert "| `data_sizes` |" in text and "| `lr` | `0.05` |" in text
    assert "Table created 20" in text and " UTC." in text.split("\n\n")[1]


def test_a_table_of_a_build_still_running_gets_the_whole_builds_command(tmp_path: Path) -> None:
    """A table assembled from part of a build's chunks (``Benchmark.load`` of a build that
    is still running): the rebuild command is the whole build's, with a note saying how far
    it was (before, it was a command that drew another random sample of the same size)."""
    pytest.importorskip("torch")
    from nasbench_sim.generate import build_table
    from nasbench_sim.generate.assemble import assemble_parts
    from nasbench_sim.generate.chunks import chunk_path, parts_dir
    from tests.tiny_protocol import TINY

    out = build_table(TINY, tmp_path / "b.h5", cells=4, cells_seed=7, chunk_size=2,
                      trainer="reference", keep_parts=True)  # fmt: skip
    chunk_path(parts_dir(out), 1).unlink()
    partial = assemble_parts(parts_dir(out), allow_partial=True)
    assert partial.provenance["planned"] == {"chunks": 2, "cells": 4, "build_cells": 4}
    text = write_datasheet(write_table(tmp_path / "p.h5", partial), tmp_path / "dp").read_text()
    cmd = text.split("```bash\n")[1].split("\n```")[0]
    args = build_parser().parse_args(shlex.split(cmd)[1:])
    assert (args.cells, args.cells_seed, args.chunk_size) == ("4", 7, 2)
    assert "assembled from 1 of the 2 chunks of a build still running: 2 of its 4 cells" in text
    assert "run it with `--resume`" in text and "sampled cells" not in text
    assert "- **partial**: assembled from the chunks committed so far (1 of 2 chunks)" in text
    # shard 1 of 2 of a build of every class, still running: `--cells classes --shard 1/2`
    prov = {k: v for k, v in partial.provenance.items() if k != "cells_seed"}
    classes = TabularBenchmark(partial).space.representatives().size
    prov.update(planned={"chunks": 203, "cells": 3248, "build_cells": classes}, shard=[1, 2])
    t = dataclasses.replace(partial, provenance=prov)
    text = write_datasheet(write_table(tmp_path / "c.h5", t), tmp_path / "dc").read_text()
    cmd = text.split("```bash\n")[1].split("\n```")[0]
    args = build_parser().parse_args(shlex.split(cmd)[1:])
    assert (args.cells, args.shard) == ("classes", "1/2")
    assert "1 of the 203 chunks of shard 1/2 of a build still running: 2 of its 3,248 cells" in text
    assert "The command is the whole shard's" in text
