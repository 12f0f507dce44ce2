"""Is SPOS's one-shot scoring sound? Train the super-network on one fixed path instead of a
random path a step, then score that cell exactly as SPOS scores every cell (inherited weights,
batch-norm recalibrated, validation split): its one-shot accuracy should come near the cell's
stand-alone accuracy in the table. If it does, low one-shot accuracies of the real
(uniformly sampled) super-network come from weight sharing, not from the scoring.

    python benchmarks/oneshot_fixed_path.py                    # the default table's best cell
    python benchmarks/oneshot_fixed_path.py --cell 11106 --threads 2

Measured 2026-12-02 on the default table (seed 0, 2 threads, scored on the first 1,000
validation samples as the figures script scores SPOS): the best cell, 11106, one-shot 0.966
trained alone, 0.248 trained as SPOS trains (a uniform random path a step, side by side in the
same run), stand-alone 0.981 (docs/oneshot.md, "What to expect"). Trains two super-networks
on the table's protocol: about a minute on two cores.
"""

from __future__ import annotations

import argparse
from unittest import mock

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--table", default=None, help="table file (default: the shipped table)")
    ap.add_argument("--cell", type=int, default=None, help="NB201 index (default: the best)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-subset", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    import torch

    import nasbench_sim.oneshot.train as train
    from nasbench_sim.bench import TabularBenchmark
    from nasbench_sim.bench.default_table import default_table_path
    from nasbench_sim.errors import NasBenchSimError
    from nasbench_sim.oneshot import run_oneshot, standalone_accuracy
    from nasbench_sim.space import Cell

    torch.set_num_threads(args.threads)
    table = args.table or str(default_table_path())
    try:
        bench = TabularBenchmark.from_file(table)
    except NasBenchSimError as exc:
        raise SystemExit(f"error: {exc}") from None
    if args.cell is None:
        cells = bench.distinct_cells
        cell = int(cells[np.nanargmax(standalone_accuracy(bench, cells))])
    elif not 0 <= args.cell < bench.space.size:
        raise SystemExit(f"error: --cell {args.cell}; allowed: 0..{bench.space.size - 1}")
    else:
        cell = args.cell
    truth = float(standalone_accuracy(bench, np.array([cell]))[0])
    if not np.isfinite(truth):
        raise SystemExit(f"error: {table} has no row for cell {cell} or its class")
    ops = np.array(Cell.from_index(cell).ops)
    kw = {"seed": args.seed, "cells": [cell], "write": False,
          "overrides": {"eval_subset": args.eval_subset}}  # fmt: skip
    shared = run_oneshot(table, "spos", **kw)  # SPOS as it runs: a random path a step
    # every step (and every per-epoch diagnostic) samples this one path
    with mock.patch.object(train, "sample_paths", lambda rng, n: np.tile(ops, (n, 1))):
        alone = run_oneshot(table, "spos", **kw)
    print(
        f"cell {cell} {Cell.from_index(cell).ops}, {alone.cost['steps']} steps: one-shot valid "
        f"acc {alone.valid_acc[0]:.3f} trained on this path alone, {shared.valid_acc[0]:.3f} "
        f"trained as SPOS (uniform paths); stand-alone {truth:.3f} (table mean over seeds)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
