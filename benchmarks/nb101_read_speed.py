"""Read time and peak memory of NAS-Bench-101's TFRecord reader on a realistic synthetic file.

Writes (once; reused while the settings are unchanged) a file in the layout of
``nasbench_only108.tfrecord``: ``--graphs`` graphs (default 423,624, as NAS-Bench-101) x 3
repeats at 108 epochs, each record ``[hash, 108, adjacency bits, ops, base64(ModelMetrics)]``
with evaluations at the start, halfway and end (about 380 bytes a record, as the real file's
499 MB over 1.27 M records). The specs cycle through 5,000 random valid cells under distinct
made-up hashes (the reader trusts the file's hash; the bytes to parse are what matters). Then
reads it in a fresh process, with and without the CRC checks, and prints wall time, records
per second and peak RSS.

    python benchmarks/nb101_read_speed.py
    python benchmarks/nb101_read_speed.py --graphs 50000 --workdir /tmp/nb101-bench
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from _bench_util import cached_tfrecord, peak_rss_mb


def _rows(n_graphs: int) -> Iterator[bytes]:
    from nasbench_sim.importers.nb101 import encode_row
    from nasbench_sim.importers.synthetic_nb101 import random_cells, synthetic_runs

    cells = random_cells(5000, seed=0)
    runs = list(synthetic_runs(cells, (108,), seed=0))  # 3 repeats per cell
    for g in range(n_graphs):
        fake = hashlib.md5(str(g).encode()).hexdigest()
        for r in range(3):
            cell, epochs, _, metrics = runs[3 * (g % len(cells)) + r]
            yield encode_row(fake, epochs, str(cell), metrics)


def _generate(workdir: Path, n_graphs: int) -> Path:
    path = workdir / f"nasbench_only108_synthetic_{n_graphs}.tfrecord"
    return cached_tfrecord(path, _rows(n_graphs), 3 * n_graphs)


def _child(path: str, check: bool) -> None:
    from nasbench_sim.importers.nb101 import read_nb101_tfrecord

    t0 = time.perf_counter()
    data = read_nb101_tfrecord(path, check_crc=check)
    wall = time.perf_counter() - t0
    records = int((data.values[:, :, :, 1, 2] == data.values[:, :, :, 1, 2]).sum())
    print(json.dumps({"wall_s": wall, "graphs": data.n_graphs, "records": records,
                      "rss_mb": peak_rss_mb()}))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--graphs", type=int, default=423_624)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "nb101-bench")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = _generate(args.workdir, args.graphs)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for check in (True, False):
        cmd = [sys.executable, __file__, "--_child", str(path), str(int(check))]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"read {r['records']:,} records ({r['graphs']:,} graphs), CRC checks "
            f"{'on' if check else 'off'}: {r['wall_s']:.1f} s "
            f"({r['records'] / r['wall_s']:,.0f} records/s), peak RSS {r['rss_mb']:,.0f} MB"
        )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--_child":
        _child(sys.argv[2], sys.argv[3] == "1")
    else:
        main()
