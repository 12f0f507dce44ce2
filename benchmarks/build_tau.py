"""How well a build in progress tells cells apart, and what its finished table should reach.

Prints, from the committed chunks of a build (default: the default table's):

* Kendall τ between seeds (τ-b, the mean over seed pairs: the figure ``nasbench-sim info``
  and the datasheet give, whose floor is 0.6) and the spread of the cells' seed-mean
  validation accuracy, over all committed rows and over ``--blocks`` consecutive blocks of
  them (they come in cell-index order, so the blocks show how τ depends on where in the
  space the rows lie);

with ``--pilot FILE``, a pilot table at the same protocol (``benchmarks/protocol_pilot.py``:
random classes from the whole space; the default table's is ``data/pilot/``):

* the pilot's τ over its rows inside the committed index range and above it, and over all
  its rows with a bootstrap 90 % interval;
* a projection of τ over every class of the build: τ-a between seeds 0 and 1 over the
  committed rows as they are plus the pilot's rows above the committed range, each of those
  weighted to stand for (classes left) / (pilot rows above) classes, with a bootstrap over
  those pilot rows (pairs of copies of one pilot row are left out);
* the rows both tables trained: how many have other accuracy curves (a cell trained with
  other chunk-mates; docs/generator.md, "A cell's stack-mates"), and by how much their final
  validation accuracy differs, against the difference between two seeds of the same cells.

    python benchmarks/build_tau.py
    python benchmarks/build_tau.py --blocks 8 --pilot data/pilot/protocol_pilot_k200.h5

Every figure is "at N committed classes": they move as the build grows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from nasbench_sim.bench.discrimination import discrimination
from nasbench_sim.bench.tau_projection import ProjectedTau
from nasbench_sim.generate.assemble import assemble_parts
from nasbench_sim.generate.chunks import parts_dir, read_manifest
from nasbench_sim.table import TableData, read_table

DEFAULT = Path(__file__).resolve().parents[1] / "data" / "nb201_mnist1d.h5"
IGNORED = {"seeds", "timing_cells_per_chunk", "timing_steps", "latency_repeats"}
"""Protocol fields that do not change what a cell's training gives."""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--table", type=Path, default=DEFAULT, help="the build's output path")
    p.add_argument("--blocks", type=int, default=4, help="blocks of rows for τ (default: 4)")
    p.add_argument("--pilot", type=Path, help="a pilot table of random classes, same protocol")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    args = p.parse_args()
    table = assemble_parts(parts_dir(args.table), allow_partial=True)
    total = len(read_manifest(parts_dir(args.table))["cells"])
    print(f"at {table.n_cells:,} of {total:,} classes committed")
    _blocks(table, max(1, min(args.blocks, table.n_cells)))
    if args.pilot is not None:
        _pilot(table, read_table(args.pilot), total, args.resamples)


def _tau(table: TableData, rows: slice | np.ndarray = slice(None)) -> tuple[float, float]:
    """Seed Kendall τ-b (the mean over seed pairs, as a table's datasheet gives it) and the
    s.d. over cells of the seed-mean final validation accuracy, over ``rows`` (repeats
    allowed)."""
    valid = table.metrics["valid_acc"][rows, :, -1]
    mean = np.nanmean(valid, axis=1)
    tau = discrimination(valid, mean, mean)["seed_kendall_tau"]
    return float("nan") if tau is None else tau, float(np.nanstd(mean))


def _blocks(table: TableData, n: int) -> None:
    tau, spread = _tau(table)
    print(f"seed τ over the {table.n_cells} committed rows: {tau:.3f} (cell s.d. {spread:.3f})")
    for rows in np.array_split(np.arange(table.n_cells), n):
        tau, spread = _tau(table, rows)
        first, last = table.arch_index[rows[0]], table.arch_index[rows[-1]]
        print(
            f"  rows {rows[0]}-{rows[-1]} (cells {first}-{last}): τ {tau:.3f}, "
            f"cell s.d. {spread:.3f}"
        )


def _pilot(table: TableData, pilot: TableData, total: int, resamples: int) -> None:
    keys = {
        k
        for k in set(table.protocol) | set(pilot.protocol)
        if table.protocol.get(k) != pilot.protocol.get(k)
    } - IGNORED
    if keys:
        print(f"pilot: its protocol differs from the build's in {sorted(keys)}: not comparable")
        return
    top = int(table.arch_index.max())
    above = np.flatnonzero(pilot.arch_index > top)
    for name, rows in (("inside", np.flatnonzero(pilot.arch_index <= top)), ("above", above)):
        if len(rows) > 2:
            tau, spread = _tau(pilot, rows)
            print(f"pilot, {len(rows)} rows {name} cells 0-{top}: τ {tau:.3f}, s.d. {spread:.3f}")
    rng = np.random.default_rng(0)
    n = pilot.n_cells
    boot = [_tau(pilot, rng.integers(0, n, n))[0] for _ in range(resamples)]
    low, high = np.nanpercentile(boot, [5, 95])
    print(f"pilot, all {n} rows: τ {_tau(pilot)[0]:.3f}, bootstrap 90 % [{low:.3f}, {high:.3f}]")
    if {0, 1} <= set(table.seeds.tolist()) & set(pilot.seeds.tolist()) and len(above) > 2:
        _projected_tau(table, pilot, above, total, resamples)
    _both_trained(table, pilot)


def _projected_tau(
    table: TableData, pilot: TableData, above: np.ndarray, total: int, resamples: int
) -> None:
    """τ-a(seed 0, seed 1) over the committed rows and the pilot's rows above them
    (:class:`~nasbench_sim.bench.tau_projection.ProjectedTau`)."""
    left = total - table.n_cells
    seeds_t, seeds_p = list(table.seeds), list(pilot.seeds)
    built = table.metrics["valid_acc"][:, [seeds_t.index(0), seeds_t.index(1)], -1]
    drawn = pilot.metrics["valid_acc"][above][:, [seeds_p.index(0), seeds_p.index(1)], -1]
    est = ProjectedTau(built, drawn, left).interval(resamples)
    print(
        f"projected τ-a(seed 0, seed 1) over all {total:,} classes: {est.tau:.3f}, "
        f"bootstrap 90 % [{est.low:.3f}, {est.high:.3f}] ({len(built):,} committed rows, and "
        f"{len(drawn)} pilot rows standing for the {left:,} classes left; the committed rows "
        f"alone: τ-a {est.committed_tau:.3f})"
    )


def _both_trained(table: TableData, pilot: TableData) -> None:
    """The rows both tables trained, with the seeds both have: equal accuracy curves (the
    same weights give the same accuracies; a loss's last bits depend on how many models
    trained together), or how far apart."""
    if table.provenance.get("numerics") != pilot.provenance.get("numerics"):
        print("pilot and build were trained with other numerics: their rows are not compared")
        return
    both, mine, theirs = np.intersect1d(table.arch_index, pilot.arch_index, return_indices=True)
    seeds = [int(s) for s in pilot.seeds if s in table.seeds]
    if not len(both) or not seeds:
        return
    cols_t = [list(table.seeds).index(s) for s in seeds]
    cols_p = [list(pilot.seeds).index(s) for s in seeds]
    same = np.ones(len(both), dtype=bool)
    for name in ("train_acc", "valid_acc"):
        a = table.metrics[name][mine][:, cols_t]
        b = pilot.metrics[name][theirs][:, cols_p]
        same &= [np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b, strict=True)]
    print(
        f"pilot rows the build also trained (seeds {seeds}): {len(both)}; with other "
        f"accuracy curves: {int((~same).sum())} {both[~same].tolist()}"
    )
    if (~same).any() and len(seeds) > 1:
        va = table.metrics["valid_acc"][mine][~same][:, cols_t, -1]
        vb = pilot.metrics["valid_acc"][theirs][~same][:, cols_p, -1]
        gap, seed_gap = np.abs(va - vb), np.abs(va[:, 0] - va[:, 1])
        print(
            f"  their final validation accuracy, build vs pilot: median |diff| "
            f"{np.nanmedian(gap):.4f}, max {np.nanmax(gap):.4f}; between seeds "
            f"{seeds[0]} and {seeds[1]} of the build, same cells: median "
            f"{np.nanmedian(seed_gap):.4f}, max {np.nanmax(seed_gap):.4f}"
        )


if __name__ == "__main__":
    main()
