"""How well a short training ranks cells: what multi-fidelity search relies on.

For every epoch e of a table, Kendall's τ-b over all cells between the validation accuracy
after e epochs and the final validation accuracy, two ways:

* other seed: seed s after e epochs against seed s' ≠ s at the end (averaged over the ordered
  pairs of seeds), what a search that stops a training early learns about the cell's result
  under a fresh seed; its last row is the seed-to-seed τ of the final accuracies, the ceiling;
* same seed: seed s after e epochs against seed s at the end (optimistic: it shares the
  run's noise).

    python benchmarks/fidelity_rank.py                  # the default table
    python benchmarks/fidelity_rank.py --table T.h5     # any table with per-epoch curves
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
from scipy.stats import kendalltau

import nasbench_sim
from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.errors import NasBenchSimError


def fidelity_taus(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """τ-b per epoch (other seed, same seed) of a (cells, seeds, epochs) accuracy array."""
    _, seeds, epochs = valid.shape
    if seeds < 2:
        raise ValueError(f"the table has {seeds} seed(s); the other-seed τ needs at least 2")
    pairs = list(itertools.permutations(range(seeds), 2))
    other, same = np.empty(epochs), np.empty(epochs)
    for e in range(epochs):
        other[e] = np.mean([_tau(valid[:, s, e], valid[:, t, -1]) for s, t in pairs])
        same[e] = np.mean([_tau(valid[:, s, e], valid[:, s, -1]) for s in range(seeds)])
    return other, same


def _tau(x: np.ndarray, y: np.ndarray) -> float:
    keep = np.isfinite(x) & np.isfinite(y)
    return float(kendalltau(x[keep], y[keep]).statistic)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", default=None, help="an HDF5 table (default: the shipped one)")
    args = parser.parse_args(argv)
    try:
        bench = nasbench_sim.open(args.table)
    except NasBenchSimError as exc:
        raise SystemExit(f"error: {exc}") from None
    if not isinstance(bench, TabularBenchmark):
        raise SystemExit(f"{args.table} is not a table of trained curves (a surrogate?)")
    table = bench.table
    if "valid_acc" not in table.metrics:
        raise SystemExit(f"the table has no valid_acc curves (it has {sorted(table.metrics)})")
    valid = np.asarray(table.metrics["valid_acc"], dtype=float)
    other, same = fidelity_taus(valid)
    print(
        f"{table.n_cells} cells, {valid.shape[1]} seeds; Kendall τ-b against the final "
        "validation accuracy"
    )
    print(f"{'epoch':>5}  {'other seed':>10}  {'same seed':>9}")
    for e, (o, s) in enumerate(zip(other, same, strict=True)):
        print(f"{int(table.epoch_axis[e]):>5}  {o:>10.3f}  {s:>9.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
