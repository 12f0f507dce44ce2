"""benchmarks/oneshot_fixed_path.py on a tiny real table: the super-network trained on one
path scores that path, next to SPOS's uniformly trained one, against the table."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import nasbench_sim.oneshot.train as train
from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.oneshot import standalone_accuracy
from nasbench_sim.space import Cell
from nasbench_sim.table import read_table
from tests.scripts import load_script


def test_fixed_path_against_uniform_paths(
    built_table: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = TabularBenchmark.from_file(built_table)
    cells = bench.distinct_cells
    truth = standalone_accuracy(bench, cells)
    best = int(cells[np.nanargmax(truth)])
    trained: list[np.ndarray] = []  # the paths drawn
    draw = train.sample_paths
    monkeypatch.setattr(
        train, "sample_paths", lambda rng, n: trained.append(p := draw(rng, n)) or p
    )
    script = load_script("oneshot_fixed_path")
    assert script.main(["--table", str(built_table), "--threads", "1", "--eval-subset", "100"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    m = re.search(r"acc ([\d.]+) trained on this path alone, ([\d.]+) trained as SPOS.*"
                  r"stand-alone ([\d.]+)", line)  # fmt: skip
    assert m is not None and line.startswith(f"cell {best} {Cell.from_index(best).ops}")
    alone, shared, standalone = map(float, m.groups())
    assert 0 <= alone <= 1 and 0 <= shared <= 1
    assert standalone == pytest.approx(np.nanmax(truth), abs=5e-4)
    # the first super-network drew random paths from the (spied) sampler, once a step and
    # once an epoch for its diagnostic; the second never asked it: the fixed path stood in
    steps = int(re.search(r", (\d+) steps:", line).group(1))  # type: ignore[union-attr]
    epochs = int(read_table(built_table).protocol["epochs"])
    assert len(trained) == steps + epochs
    assert len({tuple(p) for p in np.concatenate(trained)}) > 1


def test_bad_input_ends_in_one_error_line(tmp_path: Path) -> None:
    script = load_script("oneshot_fixed_path")
    with pytest.raises(SystemExit, match=r"^error: .*nope\.h5: no such table file"):
        script.main(["--table", str(tmp_path / "nope.h5")])
    with pytest.raises(SystemExit, match=r"^error: --cell 15625; allowed: 0\.\.15624"):
        script.main(["--cell", "15625"])
