"""Replay speed of search strategies: simulated queries per wall-clock second.

For each strategy, runs ``--seeds`` searches at the ``compare`` default budget in this process
(one core) and prints queries/s, milliseconds per run, and the strategy's own share of the time
(ask + tell). Then times the whole default ``compare`` job (all default strategies x 100 seeds
on all cores, plots included) against its 60-second target.

    python benchmarks/replay_speed.py                      # synthetic table of the default's size
    python benchmarks/replay_speed.py --table T.h5 --strategies all
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time

import nasbench_sim
from nasbench_sim.search.experiment import parse_budget
from nasbench_sim.strategies import DEFAULT_STRATEGIES, run, select_strategies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--table", default="synthetic", help="table path or synthetic[:SEED]")
    ap.add_argument("--strategies", default=",".join(DEFAULT_STRATEGIES), help="names or 'all'")
    ap.add_argument("--budget", default="150x")
    ap.add_argument("--seeds", type=int, default=10, help="runs per strategy for the timing")
    ap.add_argument("--skip-compare", action="store_true", help="skip the end-to-end timing")
    args = ap.parse_args()

    bench = nasbench_sim.open(args.table)
    budget = parse_budget(args.budget, bench)
    names = select_strategies(args.strategies, args.table).names
    print(f"{bench.source.describe()}, budget {args.budget}")
    print(f"{'strategy':<20}{'queries/run':>12}{'queries/s':>12}{'ms/run':>10}{'strategy %':>12}")
    for name in names:
        n_q = 0
        strat_s = 0.0
        t0 = time.perf_counter()
        for seed in range(args.seeds):
            r = run(name, bench, budget, seed)
            n_q += len(r.log)
            strat_s += r.meta["strategy_time_s"]
        wall = time.perf_counter() - t0
        print(
            f"{name:<20}{n_q / args.seeds:>12.0f}{n_q / wall:>12,.0f}"
            f"{1000 * wall / args.seeds:>10.1f}{100 * strat_s / wall:>11.0f}%"
        )
    if args.skip_compare:
        return
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "nasbench_sim", "compare", "--table", args.table, "--out", out]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        wall = time.perf_counter() - t0
    print(
        f"\n`nasbench-sim compare --table {args.table}` (defaults, 100 seeds, all cores, "
        f"plots): {wall:.1f} s wall (target <= 60 s)"
    )


if __name__ == "__main__":
    main()
