"""Helpers the benchmark scripts share (imported as ``_bench_util``: the scripts run with
``benchmarks/`` on ``sys.path``)."""

from __future__ import annotations

import resource
import time
from collections.abc import Iterable
from pathlib import Path

__all__ = ["cached_tfrecord", "peak_rss_mb"]


def peak_rss_mb() -> float:
    """This process's peak resident memory. ``VmHWM`` where Linux has it: unlike ``ru_maxrss``
    it starts afresh at ``exec``, so the parent's pages copied by ``fork`` do not count."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def cached_tfrecord(path: Path, rows: Iterable[bytes], n_records: int) -> Path:
    """``path``, written from ``rows`` unless a file is already there (generating a large
    synthetic file takes minutes; a rerun reuses it)."""
    from nasbench_sim.importers.tfrecord import write_tfrecord

    if path.is_file():
        print(f"reusing {path} ({path.stat().st_size / 1e6:,.0f} MB)")
        return path
    t0 = time.perf_counter()
    write_tfrecord(path, rows)
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:,.0f} MB, {n_records:,} records) in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    return path
