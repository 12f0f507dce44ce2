"""Query latency and throughput of TabularBenchmark.

Prints: table load time (and the part of it that validates the table, which a load does
once), single-query median/p99 latency (µs), and vectorised query_many throughput (cells/s),
each next to its target from the core-library issue.

    python benchmarks/query_speed.py                 # synthetic table of the default's size
    python benchmarks/query_speed.py --table T.h5
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from nasbench_sim.bench import Benchmark
from nasbench_sim.space import Cell
from nasbench_sim.table import make_synthetic_table, write_table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--table", type=Path, default=None, help="table file (default: synthetic)")
    ap.add_argument("--queries", type=int, default=50_000)
    ap.add_argument("--batch", type=int, default=1_000_000)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.table
        if path is None:
            path = write_table(Path(tmp) / "synthetic.h5", make_synthetic_table(0, n_epochs=200))
            label = "synthetic, 6466 rows x 3 seeds x 200 epochs"
        else:
            label = str(path)
        size_mb = os.path.getsize(path) / 1e6
        loads = []
        for _ in range(5):
            t0 = time.perf_counter()
            bench = Benchmark.load(path)
            loads.append(time.perf_counter() - t0)
    print(f"table: {label} ({size_mb:.1f} MB)")
    print(f"load time (median of 5): {statistics.median(loads) * 1e3:.1f} ms   target: < 1000 ms")
    checks = []
    for _ in range(5):
        t0 = time.perf_counter()
        bench.table.validate()
        checks.append(time.perf_counter() - t0)
    print(
        f"  of which validating the table (once per load): {statistics.median(checks) * 1e3:.1f} ms"
    )

    rng = np.random.default_rng(0)
    cells = [Cell.from_index(int(i)) for i in rng.integers(0, 15625, 1000)]
    epochs = rng.integers(1, bench.n_epochs + 1, 1000).tolist()
    lat = np.empty(args.queries)
    for k in range(args.queries):
        c, e = cells[k % 1000], epochs[k % 1000]
        t0 = time.perf_counter()
        bench.query(c, e)
        lat[k] = time.perf_counter() - t0
    print(
        f"single query: median {np.median(lat) * 1e6:.2f} µs, "
        f"p99 {np.percentile(lat, 99) * 1e6:.2f} µs"
        "   target: median <= 20 µs"
    )

    idx = rng.integers(0, 15625, args.batch)
    bench.query_many(idx[:1000])
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        bench.query_many(idx)
        times.append(time.perf_counter() - t0)
    rate = args.batch / statistics.median(times)
    print(f"query_many: {rate / 1e6:.2f} M cells/s (batch {args.batch:,})   target: >= 1 M cells/s")


if __name__ == "__main__":
    main()
