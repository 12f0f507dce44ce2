"""What checksums cost a table's load time, and what they catch.

Writes a synthetic table of the default table's size (6,466 rows x 3 seeds x E epochs x 6
metrics, plus costs) three ways and times loading each (median of ``--repeats``):

* ``none``: no checksum (the layout of tables from before checksums), range checks only;
* ``fletcher32``: HDF5's Fletcher-32 filter on every dataset, verified by HDF5 while reading
  (what :func:`nasbench_sim.table.write_table` writes);
* ``sha256``: the same file as ``none`` plus a SHA-256 digest per dataset, verified after
  reading (the alternative considered; implemented here only).

Then it overwrites 200 KB in the middle of each file and says how the damage is reported.
The choice between the two checksum methods rests on these figures (target: load < 500 ms).

    python benchmarks/table_checksum.py                 # E = 12 and 20
    python benchmarks/table_checksum.py --epochs 12,20,200 --repeats 9
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.errors import TableError
from nasbench_sim.table import TableData, make_synthetic_table, read_table, write_table

TARGET_MS = 500.0


def _arrays(table: TableData) -> dict[str, np.ndarray]:
    """The datasets a reader loads, by path, in their on-disk dtype."""
    out = {"arch/index": table.arch_index.astype(np.int64), "seeds": table.seeds}
    out.update({f"metrics/{k}": np.asarray(v, np.float32) for k, v in table.metrics.items()})
    out.update({f"cost/{k}": np.asarray(v, np.float64) for k, v in table.cost.items()})
    return out


def _digest(arr: np.ndarray) -> str:
    little = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return hashlib.sha256(np.ascontiguousarray(little).tobytes()).hexdigest()


def _write_sha256(path: Path, table: TableData) -> None:
    write_table(path, table, checksums=False)
    with h5py.File(path, "a") as f:
        for name, arr in _arrays(table).items():
            f[name].attrs["sha256"] = _digest(arr)


def _load_sha256(path: Path) -> TableData:
    """What a content-hash reader costs: read_table, then a digest of every array read."""
    table = read_table(path)
    with h5py.File(path, "r") as f:
        stored = {name: str(f[name].attrs["sha256"]) for name in _arrays(table)}
    for name, arr in _arrays(table).items():
        if _digest(arr) != stored[name]:
            raise TableError(f"{path}: dataset {name} does not match its SHA-256 digest")
    return table


def _verify_sha256(path: Path) -> TableData:
    """The digests checked before the range checks (so the verdict names the detector)."""
    with h5py.File(path, "r") as f:
        for name in f["metrics"]:
            arr = np.asarray(f["metrics"][name][...])
            if _digest(arr) != str(f["metrics"][name].attrs["sha256"]):
                raise TableError(f"{path}: dataset metrics/{name} does not match its SHA-256")
    return read_table(path)


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm the page cache: every method then reads from memory alike
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def _as_bench(load: Callable[[Path], TableData], path: Path) -> TabularBenchmark:
    return TabularBenchmark(load(path))


def _overwrite(path: Path, out: Path) -> Path:
    """A copy of ``path`` with 200 KB of random bytes written over the middle of the file."""
    shutil.copy(path, out)
    size = out.stat().st_size
    with open(out, "r+b") as f:
        f.seek(size // 2 - 100_000)
        f.write(np.random.default_rng(0).bytes(200_000))
    return out


def _bit_flip(path: Path, out: Path) -> Path:
    """A copy of ``path`` with the lowest mantissa bit of one stored valid_acc value flipped:
    a value still in range, which only a checksum can catch."""
    shutil.copy(path, out)
    with h5py.File(out, "r") as f:
        dset = f["metrics/valid_acc"]
        info = dset.id.get_chunk_info(0) if dset.chunks else None
        offset = info.byte_offset if info is not None else dset.id.get_offset()
    with open(out, "r+b") as f:  # little-endian float32: the first byte is the lowest
        f.seek(offset + 4 * 17)
        byte = f.read(1)[0]
        f.seek(offset + 4 * 17)
        f.write(bytes([byte ^ 1]))
    return out


def _verdict(reader: Callable[[Path], object], path: Path) -> str:
    try:
        reader(path)
    except TableError as exc:
        return "TableError: " + str(exc).split(": ", 1)[1][:80]
    return "NOT DETECTED: loads and serves the damaged value(s)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", default="12,20", help="comma-separated curve lengths")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for epochs in [int(e) for e in args.epochs.split(",")]:
            table = make_synthetic_table(0, n_epochs=epochs)
            files = {m: tmp / f"{m}_{epochs}.h5" for m in ("none", "fletcher32", "sha256")}
            write_table(files["none"], table, checksums=False)
            write_table(files["fletcher32"], table)
            _write_sha256(files["sha256"], table)
            loaders: dict[str, Callable[[Path], TableData]] = {
                "none": read_table,
                "fletcher32": read_table,
                "sha256": _load_sha256,
            }
            verifiers = {**loaders, "sha256": _verify_sha256}
            print(f"table: synthetic, {table.n_cells} rows x {table.n_seeds} seeds x {epochs} "
                  f"epochs x {len(table.metrics)} metrics")  # fmt: skip
            for method, path in files.items():
                load = loaders[method]
                ms = _median_ms(functools.partial(load, path), args.repeats)
                bench_ms = _median_ms(functools.partial(_as_bench, load, path), args.repeats)
                print(
                    f"  {method:<11} {os.path.getsize(path) / 1e6:6.1f} MB  read and verify "
                    f"{ms:6.1f} ms, with a TabularBenchmark built {bench_ms:6.1f} ms  "
                    f"{'ok' if bench_ms < TARGET_MS else 'OVER'} (target < {TARGET_MS:.0f} ms)"
                )
                for what, damage in (("200 KB overwritten", _overwrite), ("bit flip", _bit_flip)):
                    damaged = damage(path, tmp / f"damaged_{path.name}")
                    print(f"  {'':<11} {what}: {_verdict(verifiers[method], damaged)}")


if __name__ == "__main__":
    main()
