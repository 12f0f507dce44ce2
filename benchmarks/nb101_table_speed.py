"""Import, load and query speed of a NAS-Bench-101 table made from a realistic synthetic file.

1. Writes (once; reused while the settings are unchanged) a file in the layout of
   ``nasbench_only108.tfrecord``: ``--graphs`` graphs (default 423,624, as NAS-Bench-101) x 3
   repeats at 108 epochs, each record ``[hash, 108, adjacency bits, ops, base64(ModelMetrics)]``
   (about 370 bytes, as the real file's 499 MB over 1.27 M records). The first ``--real``
   graphs (default 5,000) are distinct valid cells under their NAS-Bench-101 hashes; the others
   repeat those specs under distinct made-up hashes (what costs time is the bytes to parse and
   the table's size). The made-up hashes do not match their specs, so this file is imported
   with ``--hashes none``; what the default hash sample costs is measured in step 4.
2. Imports it in a fresh process, as ``nasbench-sim import nb101 FILE --out T.h5 --hashes
   none`` does (CRC checks off: the default above 64 MiB): wall time and peak RSS.
3. Loads the table (``nasbench_sim.open``) in five fresh processes: wall time of the call, and
   of the whole process.
4. Answers queries by graph in one of them: by hash string, by a prebuilt cell object (its hash
   computed when it was made), by row index, and by string form (parsed and hashed at every
   query); and times NAS-Bench-101's hash on the real cells (what ``--hashes`` checks cost).

    python benchmarks/nb101_table_speed.py
    python benchmarks/nb101_table_speed.py --graphs 50000 --workdir /tmp/nb101-bench
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from _bench_util import cached_tfrecord, peak_rss_mb

QUERIES = 20_000


def _rows(n_graphs: int, n_real: int) -> Iterator[bytes]:
    from nasbench_sim.importers.nb101 import encode_row
    from nasbench_sim.importers.synthetic_nb101 import random_cells, synthetic_runs

    cells = random_cells(n_real, seed=0)
    runs = list(synthetic_runs(cells, (108,), seed=0))  # 3 repeats per cell
    for g in range(n_graphs):
        cell = cells[g % n_real]
        h = cell.hash if g < n_real else hashlib.md5(f"made-up {g}".encode()).hexdigest()
        for r in range(3):
            _, epochs, _, metrics = runs[3 * (g % n_real) + r]
            yield encode_row(h, epochs, str(cell), metrics)


def _generate(workdir: Path, n_graphs: int, n_real: int) -> Path:
    path = workdir / f"nasbench_only108_synthetic_{n_graphs}_{n_real}.tfrecord"
    return cached_tfrecord(path, _rows(n_graphs, n_real), 3 * n_graphs)


def _child_import(src: str, out: str) -> dict[str, float]:
    from nasbench_sim.importers import import_nb101

    t0 = time.perf_counter()
    report = import_nb101(src, out, check_hashes="none")[0]
    return {"wall_s": time.perf_counter() - t0, "rows": report.rows, "rss_mb": peak_rss_mb()}


def _per_call_us(fn: object, items: list) -> float:
    t0 = time.perf_counter()
    for item in items:
        fn(item)  # type: ignore[operator]
    return (time.perf_counter() - t0) / len(items) * 1e6


def _child_load(table: str, queries: bool, n_real: int) -> dict[str, float]:
    import numpy as np

    import nasbench_sim
    from nasbench_sim.space.nb101 import OPS, graph_hash

    t0 = time.perf_counter()
    bench = nasbench_sim.open(table)
    out = {"load_s": time.perf_counter() - t0, "rows": bench.space.size}
    if not queries:
        return out
    rng = np.random.default_rng(0)
    space = bench.space
    rows = rng.integers(space.size, size=QUERIES).tolist()
    hashes = [space.from_index(r).hash for r in rows]
    real = [space.from_index(r) for r in rng.integers(n_real, size=QUERIES).tolist()]
    texts = [str(c) for c in real[:2000]]
    bench.query(hashes[0])  # warm
    out["by_hash_us"] = _per_call_us(bench.query, hashes)
    out["by_cell_us"] = _per_call_us(bench.query, real)
    out["by_index_us"] = _per_call_us(bench.query, rows)
    out["by_string_us"] = _per_call_us(bench.query, texts)
    labels = [[-1, *(OPS.index(o) for o in c.ops[1:-1]), -2] for c in real[:2000]]
    arrays = [c.array() for c in real[:2000]]
    t0 = time.perf_counter()
    for m, lab in zip(arrays, labels, strict=True):
        graph_hash(m, lab)
    out["hash_us"] = (time.perf_counter() - t0) / len(arrays) * 1e6
    return out


def _run_child(*args: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    t0 = time.perf_counter()
    cmd = [sys.executable, __file__, "--_child", *args]
    text = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    result: dict[str, float] = json.loads(text.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - t0
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--graphs", type=int, default=423_624)
    ap.add_argument("--real", type=int, default=5000, help="graphs under their real hashes")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "nb101-bench")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    src = _generate(args.workdir, args.graphs, args.real)
    table = args.workdir / f"nb101_{args.graphs}.h5"
    r = _run_child("import", str(src), str(table))
    print(
        f"import ({3 * args.graphs:,} records, CRC checks off, --hashes none): "
        f"{r['wall_s']:.1f} s, peak RSS {r['rss_mb']:,.0f} MB; table "
        f"{table.stat().st_size / 1e6:,.0f} MB"
    )
    loads = [_run_child("load", str(table), str(int(k == 0)), str(args.real)) for k in range(5)]
    print(
        "load (nasbench_sim.open, 5 fresh processes): "
        + ", ".join(f"{x['load_s']:.3f} s" for x in loads)
        + f"; median {statistics.median(x['load_s'] for x in loads):.3f} s (whole processes, "
        "Python start and imports included: "
        + ", ".join(f"{x['process_s']:.1f} s" for x in loads)
        + ")"
    )
    q = loads[0]
    print(
        f"query by graph ({QUERIES:,} random queries each, mean per query): by hash "
        f"{q['by_hash_us']:.1f} us, by cell object {q['by_cell_us']:.1f} us, by row index "
        f"{q['by_index_us']:.1f} us; by string form (parsed and hashed) {q['by_string_us']:.0f} us"
    )
    sample_s = 1000 * q["hash_us"] / 1e6
    print(
        f"NAS-Bench-101 hash: {q['hash_us']:.0f} us per graph: the default sample of 1,000 "
        f"graphs adds {sample_s:.2f} s to an import, --hashes all about "
        f"{args.graphs * q['hash_us'] / 1e6:.0f} s for {args.graphs:,} graphs"
    )


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--_child":
        kind = sys.argv[2]
        if kind == "import":
            res = _child_import(sys.argv[3], sys.argv[4])
        else:
            res = _child_load(sys.argv[3], sys.argv[4] == "1", int(sys.argv[5]))
        print(json.dumps(res))
    else:
        main()
