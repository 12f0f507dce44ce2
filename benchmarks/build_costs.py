"""What a build in progress measures about its own costs, and what finishing it will take.

Prints, from the committed chunks of a build (default: the default table's):

* the training-time model's cross-validated error (MAPE) on the step times the build measured,
  and the spread of measured latency per FLOP (1st / 50th / 99th percentile, relative to the
  median): how much the machine's load entered the wall-clock costs;
* the clock time with at least one chunk training (``build_elapsed_s``), beside the wall
  time summed over chunks;
* the size of the table file of the committed rows, and of all rows at that rate;
* the CPU projection that ``nasbench-sim info`` shows, and an out-of-sample check of it (fit
  on every other committed chunk, with a speed factor per kind of machine, predict the rest);
* with ``--recost-rows N``: ``recost`` of the first N rows (``--timed M`` of them timed) into a
  temporary file, its seconds per row and the refitted model's error;
* with ``--spos-cells K``: one epoch of the SPOS super-network at the table's protocol and
  the scoring of K cells drawn at random from the table's rows, seconds per epoch and per
  cell, projected to every class.

How well the build tells cells apart so far: ``benchmarks/build_tau.py``.

Measurements share the machine with whatever else runs (the build itself, when it does);
run it on a machine at rest for figures of the machine.

    python benchmarks/build_costs.py                       # the committed chunks only
    python benchmarks/build_costs.py --recost-rows 40 --timed 10 --spos-cells 8
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from nasbench_sim.generate.assemble import assemble_parts
from nasbench_sim.generate.chunks import parts_dir, read_manifest
from nasbench_sim.generate.projection import chunk_costs, fit_with_machines, project_build
from nasbench_sim.table import TableData, write_table

DEFAULT = Path(__file__).resolve().parents[1] / "data" / "nb201_mnist1d.h5"


def _holdout(out: Path) -> float:
    """MAPE of the projection's model (coefficients and a speed factor per kind of machine)
    fitted on every other chunk that records its CPU time and tested on the rest: both halves
    hold chunks of every kind, so the factors are tested, not only the coefficients."""
    costs = chunk_costs(out)
    if costs is None or len(costs.cpu_s) < 4:
        return float("nan")
    timed = sorted(costs.cpu_s)
    x = np.vstack([costs.row(c) for c in timed])
    y = np.array([costs.cpu_s[c] for c in timed])
    kinds = np.array([costs.machine.get(c, "") for c in timed])
    coef, factor = fit_with_machines(x[::2], y[::2], kinds[::2].tolist())
    pred = (x[1::2] @ coef) * np.array([factor.get(k, 1.0) for k in kinds[1::2]])
    return float(np.mean(np.abs(pred - y[1::2]) / y[1::2]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--table", type=Path, default=DEFAULT, help="the build's output path")
    p.add_argument("--recost-rows", type=int, default=0)
    p.add_argument("--timed", type=int, default=10)
    p.add_argument("--spos-cells", type=int, default=0)
    args = p.parse_args()

    table = assemble_parts(parts_dir(args.table), allow_partial=True)
    prov = table.provenance
    print(f"committed rows: {table.n_cells}")
    print(
        f"timing model at build: cross-validated MAPE {100 * prov['timing_model_cv_mape']:.1f} % "
        f"on {prov['timing_model_n_measured']} cells timed alone"
    )
    ratio = table.cost["latency_s"] / table.cost["flops"]
    q = np.percentile(ratio, [1, 50, 99]) / np.median(ratio)
    print(f"latency per FLOP, 1st / 50th / 99th percentile over the median: {q.round(2).tolist()}")
    proj = project_build(args.table)
    if proj is not None:
        print(
            f"CPU: {proj.cpu_h_done:.2f} core-hours in {proj.chunks_done} chunks, "
            f"{proj.cpu_h_total:.1f} projected; in-sample error {100 * proj.fit_mape:.1f} %, "
            f"out-of-sample (fit on every other chunk) {100 * _holdout(args.table):.1f} %"
        )
    busy = table.provenance.get("build_elapsed_s")  # assembled by this version: recorded
    if isinstance(busy, (int, float)):
        print(
            f"elapsed with a chunk training: {busy / 3600:.1f} h (summed over chunks "
            f"{prov['train_wall_s'] / 3600:.1f} h)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        size = write_table(Path(tmp) / "partial.h5", table).stat().st_size / 1e6
        total = len(read_manifest(parts_dir(args.table))["cells"])
        print(
            f"table file of the committed rows: {size:.2f} MB, so about "
            f"{size * total / table.n_cells:.1f} MB for all {total:,} rows"
        )
        if args.recost_rows:
            _recost(table, Path(tmp), args.recost_rows, args.timed)
        if args.spos_cells:
            _spos(table, Path(tmp), args.spos_cells)


def _first_rows(table: TableData, n: int) -> TableData:
    return dataclasses.replace(
        table,
        arch_index=table.arch_index[:n],
        metrics={k: v[:n] for k, v in table.metrics.items()},
        cost={k: v[:n] for k, v in table.cost.items()},
    )


def _recost(table: TableData, tmp: Path, rows: int, timed: int) -> None:
    from nasbench_sim.generate.recost import recost_table

    small = write_table(tmp / "rows.h5", _first_rows(table, rows))
    report = recost_table(small, tmp / "recost.h5", timed_cells=timed)
    print(
        f"recost of {report.rows} rows ({report.timed} timed): {report.seconds:.1f} s, "
        f"{report.seconds / report.rows:.3f} s per row; timing-model MAPE "
        f"{100 * (report.cv_mape_after or float('nan')):.1f} % (at build, on these rows' "
        f"table: {100 * (report.cv_mape_before or float('nan')):.1f} %)"
    )


def _spos(table: TableData, tmp: Path, cells: int) -> None:
    from nasbench_sim.oneshot.run import run_oneshot

    path = write_table(tmp / "spos.h5", table)
    t0 = time.perf_counter()
    # a seeded random sample: the table's first rows are mostly `none` and skip edges, cheap
    sample = np.random.default_rng(0).choice(table.arch_index, size=cells, replace=False)
    rec = run_oneshot(path, "spos", overrides={"epochs": 1}, cells=sample)
    wall = time.perf_counter() - t0
    train, score = float(rec.cost["train_wall_s"]), float(rec.cost["eval_wall_s"])
    epochs = int(table.protocol["epochs"])
    per_cell = score / cells
    print(
        f"SPOS at the table's protocol: one super-network epoch {train:.1f} s, scoring "
        f"{per_cell:.3f} s per cell ({wall:.1f} s in all); {epochs} epochs and every one of "
        f"6,466 classes would take about {(epochs * train + 6466 * per_cell) / 60:.0f} min"
    )


if __name__ == "__main__":
    main()
