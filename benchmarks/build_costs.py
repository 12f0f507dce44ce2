"""What a build in progress measures about its own costs, and what finishing it will take.

Prints, from the committed chunks of a build (default: the default table's):

* the training-time model's cross-validated error (MAPE) on the step times the build measured,
  and the spread of measured latency per FLOP (1st / 50th / 99th percentile, relative to the
  median): how much the machine's load entered the wall-clock costs;
* the size of the table file of the committed rows, and of all rows at that rate;
* the CPU projection that ``nasbench-sim info`` shows, and an out-of-sample check of it (fit
  on the first half of the committed chunks, predict the second half);
* Kendall τ between seeds (and the spread of the cells' seed-mean validation accuracy) over
  ``--blocks`` consecutive blocks of the committed rows, which come in cell-index order: how
  the discrimination of the part built so far depends on where in the space it lies;
* with ``--pilot FILE``, a pilot table at the same protocol (``benchmarks/protocol_pilot.py``,
  random classes from the whole space): its τ over its rows inside the committed index range
  and above it, and over all its rows with a bootstrap 90 % interval, the estimate of the
  finished table's τ (its rows that the build has also trained are compared too: same
  curves, or how many differ);
* with ``--recost-rows N``: ``recost`` of the first N rows (``--timed M`` of them timed) into a
  temporary file, its seconds per row and the refitted model's error;
* with ``--spos-cells K``: one epoch of the SPOS super-network at the table's protocol and
  the scoring of K cells, seconds per epoch and per cell, projected to every class.

Measurements share the machine with whatever else runs (the build itself, when it does);
run it on a machine at rest for figures of the machine.

    python benchmarks/build_costs.py                       # the committed chunks only
    python benchmarks/build_costs.py --recost-rows 40 --timed 10 --spos-cells 8
    python benchmarks/build_costs.py --pilot data/pilot/protocol_pilot_k200.h5
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from nasbench_sim.bench.discrimination import discrimination
from nasbench_sim.generate.assemble import assemble_parts
from nasbench_sim.generate.chunks import parts_dir, read_manifest
from nasbench_sim.generate.projection import chunk_costs, fit_cost_model, project_build
from nasbench_sim.table import read_table, write_table

DEFAULT = Path(__file__).resolve().parents[1] / "data" / "nb201_mnist1d.h5"


def _holdout(out: Path) -> float:
    """MAPE of the projection's model fitted on the first half of the chunks that record their
    CPU time and tested on the second half."""
    costs = chunk_costs(out)
    if costs is None:
        return float("nan")
    timed = sorted(costs.cpu_s)
    x = np.vstack([costs.row(c) for c in timed])
    y = np.array([costs.cpu_s[c] for c in timed])
    half = len(y) // 2
    coef = fit_cost_model(x[:half], y[:half])
    return float(np.mean(np.abs(x[half:] @ coef - y[half:]) / y[half:]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--table", type=Path, default=DEFAULT, help="the build's output path")
    p.add_argument("--recost-rows", type=int, default=0)
    p.add_argument("--timed", type=int, default=10)
    p.add_argument("--spos-cells", type=int, default=0)
    p.add_argument("--blocks", type=int, default=4, help="blocks of rows for τ (default: 4)")
    p.add_argument("--pilot", type=Path, help="a pilot table of random classes, same protocol")
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
            f"out-of-sample (first half -> second half) {100 * _holdout(args.table):.1f} %"
        )
    total = len(read_manifest(parts_dir(args.table))["cells"])
    _blocks(table, args.blocks)
    if args.pilot is not None:
        _pilot(table, read_table(args.pilot), total)
    with tempfile.TemporaryDirectory() as tmp:
        size = write_table(Path(tmp) / "partial.h5", table).stat().st_size / 1e6
        print(
            f"table file of the committed rows: {size:.2f} MB, so about "
            f"{size * total / table.n_cells:.1f} MB for all {total:,} rows"
        )
        if args.recost_rows:
            _recost(table, Path(tmp), args.recost_rows, args.timed)
        if args.spos_cells:
            _spos(table, Path(tmp), args.spos_cells)


def _rows(table, rows):  # type: ignore[no-untyped-def]
    """The table restricted to ``rows`` (a slice or an index array)."""
    return dataclasses.replace(
        table,
        arch_index=table.arch_index[rows],
        metrics={k: v[rows] for k, v in table.metrics.items()},
        cost={k: v[rows] for k, v in table.cost.items()},
    )


def _tau(table, rows=slice(None)) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Seed Kendall τ (the mean over seed pairs, as a table's datasheet gives it) and the s.d.
    over cells of the seed-mean final validation accuracy, over ``rows`` (repeats allowed)."""
    valid = table.metrics["valid_acc"][rows, :, -1]
    mean = np.nanmean(valid, axis=1)
    tau = discrimination(valid, mean, mean)["seed_kendall_tau"]
    return float("nan") if tau is None else tau, float(np.nanstd(mean))


def _blocks(table, n: int) -> None:  # type: ignore[no-untyped-def]
    tau, spread = _tau(table)
    print(f"seed τ over the {table.n_cells} committed rows: {tau:.3f} (cell s.d. {spread:.3f})")
    for rows in np.array_split(np.arange(table.n_cells), n):
        tau, spread = _tau(table, rows)
        first, last = table.arch_index[rows[0]], table.arch_index[rows[-1]]
        print(
            f"  rows {rows[0]}-{rows[-1]} (cells {first}-{last}): τ {tau:.3f}, "
            f"cell s.d. {spread:.3f}"
        )


def _pilot(table, pilot, total: int) -> None:  # type: ignore[no-untyped-def]
    """The pilot's τ inside / above the committed index range, over all of it with a
    bootstrap interval, and its agreement with the build on the rows both trained."""
    from scipy import stats

    keys = {
        k
        for k in set(table.protocol) | set(pilot.protocol)
        if table.protocol.get(k) != pilot.protocol.get(k)
    } - {"seeds", "timing_cells_per_chunk", "timing_steps", "latency_repeats"}
    if keys:
        print(f"pilot: its protocol differs from the build's in {sorted(keys)}: not comparable")
        return
    top = int(table.arch_index.max())
    inside = np.flatnonzero(pilot.arch_index <= top)
    above = np.flatnonzero(pilot.arch_index > top)
    for name, rows in (("inside", inside), ("above", above)):
        if len(rows) > 2:
            tau, spread = _tau(pilot, rows)
            print(
                f"pilot, {len(rows)} rows {name} cells 0-{top}: τ {tau:.3f}, cell s.d. {spread:.3f}"
            )
    valid = pilot.metrics["valid_acc"][:, :, -1]

    def tau_of(idx: np.ndarray) -> float:
        return _tau(pilot, idx.astype(np.int64))[0]

    boot = stats.bootstrap(
        (np.arange(len(valid)),), tau_of, vectorized=False, n_resamples=1000,
        confidence_level=0.9, method="percentile", rng=np.random.default_rng(0),
    )  # fmt: skip
    low, high = boot.confidence_interval
    tau = tau_of(np.arange(len(valid)))
    print(f"pilot, all {len(valid)} rows: τ {tau:.3f}, bootstrap 90 % [{low:.3f}, {high:.3f}]")
    _projected_tau(table, pilot, above, total)
    both, mine, theirs = np.intersect1d(table.arch_index, pilot.arch_index, return_indices=True)
    seeds = [int(s) for s in pilot.seeds if s in table.seeds]
    if not len(both) or not seeds:
        return
    cols_t = [list(table.seeds).index(s) for s in seeds]
    cols_p = [list(pilot.seeds).index(s) for s in seeds]
    # accuracies, not losses: the same weights give the same accuracies, while a loss's last
    # bits depend on how many models were trained together
    differ = np.zeros(len(both), dtype=bool)
    for name in ("train_acc", "valid_acc"):
        a = table.metrics[name][mine][:, cols_t]
        b = pilot.metrics[name][theirs][:, cols_p]
        differ |= ~np.all(a == b, axis=(1, 2))
    print(
        f"pilot rows the build also trained (seeds {seeds}): {len(both)}; with other "
        f"accuracy curves: {int(differ.sum())} {both[differ].tolist()}"
    )
    if differ.any():
        va = table.metrics["valid_acc"][mine][differ][:, cols_t, -1]
        vb = pilot.metrics["valid_acc"][theirs][differ][:, cols_p, -1]
        gap = np.abs(va - vb)
        seed_gap = np.abs(va[:, :1] - va[:, 1:]) if len(seeds) > 1 else np.full(1, np.nan)
        print(
            f"  their final validation accuracy, build vs pilot: median |diff| "
            f"{np.median(gap):.4f}, max {gap.max():.4f}; between two seeds of the build, "
            f"same cells: median {np.median(seed_gap):.4f}, max {seed_gap.max():.4f}"
        )


def _weighted_tau(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Kendall τ-a over all pairs, each pair weighted by the product of its rows' weights: a
    row of weight w stands for w rows of the population."""
    s = np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :])
    ww = w[:, None] * w[None, :]
    np.fill_diagonal(ww, 0.0)
    return float((s * ww).sum() / ww.sum())


def _projected_tau(table, pilot, above: np.ndarray, total: int) -> None:  # type: ignore[no-untyped-def]
    """τ between seeds 0 and 1 over every class of the build, projected: the committed rows
    as they are, the classes not yet trained represented by the pilot's rows above the
    committed range, each weighted by (classes left) / (pilot rows above); a bootstrap over
    those pilot rows gives the interval."""
    if 0 not in table.seeds or 1 not in table.seeds or len(above) < 3:
        return
    left = total - table.n_cells
    cols = [list(table.seeds).index(0), list(table.seeds).index(1)]
    pcols = [list(pilot.seeds).index(0), list(pilot.seeds).index(1)]
    built = table.metrics["valid_acc"][:, cols, -1].astype(np.float64)
    drawn = pilot.metrics["valid_acc"][above][:, pcols, -1].astype(np.float64)
    w = np.concatenate([np.ones(len(built)), np.full(len(drawn), left / len(drawn))])

    def tau(rows: np.ndarray) -> float:
        both = np.concatenate([built, drawn[rows]])
        return _weighted_tau(both[:, 0], both[:, 1], w)

    rng = np.random.default_rng(0)
    boot = [tau(rng.integers(0, len(drawn), len(drawn))) for _ in range(200)]
    low, high = np.percentile(boot, [5, 95])
    print(
        f"projected τ(seed 0, seed 1) over all {table.n_cells + left:,} classes: "
        f"{tau(np.arange(len(drawn))):.3f}, bootstrap 90 % [{low:.3f}, {high:.3f}] (the "
        f"{table.n_cells} committed rows, and {len(drawn)} pilot rows standing for the "
        f"{left:,} classes left; the committed rows alone: "
        f"{_weighted_tau(built[:, 0], built[:, 1], np.ones(len(built))):.3f})"
    )


def _recost(table, tmp: Path, rows: int, timed: int) -> None:  # type: ignore[no-untyped-def]
    from nasbench_sim.generate.recost import recost_table

    small = write_table(tmp / "rows.h5", _rows(table, slice(rows)))
    report = recost_table(small, tmp / "recost.h5", timed_cells=timed)
    print(
        f"recost of {report.rows} rows ({report.timed} timed): {report.seconds:.1f} s, "
        f"{report.seconds / report.rows:.3f} s per row; timing-model MAPE "
        f"{100 * (report.cv_mape_after or float('nan')):.1f} % (at build, on these rows' "
        f"table: {100 * (report.cv_mape_before or float('nan')):.1f} %)"
    )


def _spos(table, tmp: Path, cells: int) -> None:  # type: ignore[no-untyped-def]
    from nasbench_sim.oneshot.run import run_oneshot

    path = write_table(tmp / "spos.h5", table)
    t0 = time.perf_counter()
    rec = run_oneshot(path, "spos", overrides={"epochs": 1}, cells=table.arch_index[:cells])
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
