"""Import time and peak memory of the NATS-Bench importer on 15,625 realistic synthetic files.

Writes (once; reused while the spec is unchanged) a NATS-Bench-style ``-simple`` directory of
``--n`` per-architecture ``.pickle.pbz2`` files in the published key layout (2 budgets x 4
datasets x up to 3 seeds, per-epoch curves over 12 and 200 epochs, ~160 kB compressed each;
made-up numbers, see ``nasbench_sim.importers.synthetic``), then imports one table
(``cifar10-valid`` at 200 epochs) in a fresh process and prints: wall time, architectures per
second, peak RSS of the importing process and of the largest worker, and the load time of
the table written. ``--single N`` also times the single-file variant holding N architectures.

    python benchmarks/import_speed.py                      # 15,625 architectures, all cores
    python benchmarks/import_speed.py --n 2000 --jobs 2 --workdir /tmp/nats-bench
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bench_util import peak_rss_mb

_SIMPLE = "NATS-tss-v1_0-synth-simple"


def _generate(workdir: Path, n: int, jobs: int) -> Path:
    from nasbench_sim.importers.synthetic import SyntheticSpec, write_nats_dir

    folder = workdir / _SIMPLE
    stamp = folder / "spec.json"
    spec = SyntheticSpec()
    want = {"n": n, "spec": repr(spec)}
    if stamp.is_file() and json.loads(stamp.read_text()) == want:
        print(f"reusing {n:,} synthetic architecture files in {folder}")
        return folder
    t0 = time.perf_counter()
    write_nats_dir(folder, range(n), spec=spec, n_jobs=jobs)
    stamp.write_text(json.dumps(want))
    size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    print(
        f"wrote {n:,} synthetic architecture files ({size:,.0f} MB, "
        f"{1e3 * size / n:.0f} kB each) in {time.perf_counter() - t0:.0f} s"
    )
    return folder


def _child(src: str, out: str, jobs: int) -> None:
    """Runs in a fresh interpreter: import, then report time and peak memory as JSON."""
    from nasbench_sim.importers import import_benchmark

    t0 = time.perf_counter()
    (report,) = import_benchmark(
        "nats", src, out, dataset="cifar10-valid", epochs=200, n_jobs=jobs, sha256=False
    )
    wall = time.perf_counter() - t0
    kb = 1024  # ru_maxrss is in kB on Linux
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * kb / 1e6
    print(
        json.dumps(
            {
                "wall_s": wall,
                "rows": report.rows,
                "main_rss_mb": peak_rss_mb(),
                "worker_rss_mb": workers,
            }
        )
    )


def _measure(src: Path, out: Path, jobs: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--_child", str(src), str(out), str(jobs)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _load_time(path: Path) -> float:
    from nasbench_sim.bench import Benchmark

    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        Benchmark.load(path)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _single(workdir: Path, n: int, tmp: Path) -> None:
    from nasbench_sim.importers.synthetic import write_nats_file

    src = workdir / f"NATS-tss-v1_0-synth-{n}.pickle.pbz2"
    if not src.is_file():
        write_nats_file(src, range(n))
    r = _measure(src, tmp / "single.h5", 1)
    print(
        f"single file, {n:,} architectures ({src.stat().st_size / 1e6:.0f} MB): "
        f"{r['wall_s']:.1f} s, peak RSS {r['main_rss_mb']:,.0f} MB "
        f"({r['main_rss_mb'] / n:.1f} MB per architecture, the interpreter included)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=15625, help="architectures (default 15,625)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "nbs-import")
    ap.add_argument("--single", type=int, default=0, help="also time a single file of N archs")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    src = _generate(args.workdir, args.n, args.jobs)
    with tempfile.TemporaryDirectory() as tmp:
        if args.single:  # first: this process is still small when the child forks
            _single(args.workdir, args.single, Path(tmp))
        out = Path(tmp) / "imported.h5"
        r = _measure(src, out, args.jobs)
        print(
            f"import of {r['rows']:,} architectures (cifar10-valid, 200 epochs) with "
            f"{args.jobs} worker(s) on {os.cpu_count()} cores: {r['wall_s']:.1f} s "
            f"({r['rows'] / r['wall_s']:.0f} architectures/s)"
        )
        print(
            f"peak RSS: importing process {r['main_rss_mb']:,.0f} MB, "
            f"largest worker {r['worker_rss_mb']:,.0f} MB"
        )
        print(
            f"table written: {out.stat().st_size / 1e6:,.0f} MB; Benchmark.load "
            f"{_load_time(out) * 1e3:,.0f} ms (median of 3)"
        )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--_child":
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
