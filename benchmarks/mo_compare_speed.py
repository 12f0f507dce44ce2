"""Wall time of a multi-objective comparison: strategies x seeds, scored against the exact
front, on a synthetic table of the default table's size (no default table exists yet).

Prints the wall time of the replays and scoring (:func:`analysis.compare_mo.compare_mo`), of
writing the outputs (:func:`analysis.compare_mo.write_mo_comparison`: plots, runs.h5, CSVs),
the total against the target (2 minutes on 2 cores for 5 strategies x 50 seeds), and each
strategy's mean seconds per run (CPU time of one process) and mean final hypervolume regret.

    python benchmarks/mo_compare_speed.py                      # the 5 default strategies
    python benchmarks/mo_compare_speed.py --strategies mo_parego --seeds 10
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from analysis.compare_mo import compare_mo, write_mo_comparison
from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.strategies import DEFAULT_MO_STRATEGIES
from nasbench_sim.table import make_synthetic_table

TARGET_S = 120.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--strategies", default=",".join(DEFAULT_MO_STRATEGIES))
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--objectives", default="valid_acc,latency_s")
    ap.add_argument("--budget", default="150x")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=20, help="curve length of the synthetic table")
    args = ap.parse_args()
    names = [s for s in args.strategies.split(",") if s]
    bench = TabularBenchmark(make_synthetic_table(0, n_epochs=args.epochs), origin="synthetic:0")
    t0 = time.perf_counter()
    comp = compare_mo(
        bench, names, range(args.seeds), args.budget, args.objectives, n_jobs=args.jobs
    )
    t_runs = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        write_mo_comparison(comp, Path(tmp) / "out")
        t_write = time.perf_counter() - t1
    total = t_runs + t_write
    print(
        f"table: synthetic, {bench.table.n_cells} rows x {bench.n_seeds} seeds x {args.epochs} "
        f"epochs; objectives {args.objectives}; budget {args.budget}; {args.jobs} process(es)"
    )
    print(f"{len(names)} strategies x {args.seeds} seeds: replays and scoring {t_runs:.1f} s, "
          f"plots and files {t_write:.1f} s, total {total:.1f} s   target: < {TARGET_S:.0f} s "
          f"({'ok' if total < TARGET_S else 'OVER'}; the target is for 5 x 50)")  # fmt: skip
    final = comp.replays.final
    for name, group in final.groupby("strategy", sort=False):
        print(
            f"  {name:<16} {group['wall_time_s'].mean():6.2f} s per run (replay only)   mean "
            f"hypervolume regret {group['final_regret'].mean():.4f}, IGD {group['igd'].mean():.4f}"
        )


if __name__ == "__main__":
    main()
