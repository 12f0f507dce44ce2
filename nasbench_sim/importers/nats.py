"""NATS-Bench, topology search space (``tss``): the per-architecture directory and the single
file.

* ``NATS-tss-v1_0-3ffb9-simple/``: ``meta.pickle.pbz2`` (``meta_archs``: the 15,625
  architecture strings in the benchmark's index order) and one ``NNNNNN.pickle.pbz2`` per
  architecture (budget -> ArchResults state). Streamed through a process pool: each worker
  reads a few files, returns compact arrays, and holds nothing else.
* ``NATS-tss-v1_0-3ffb9.pickle.pbz2``: one pickle of ``meta_archs``, ``arch2infos`` (index ->
  budget -> ArchResults state) and ``evaluated_indexes``. Unpickled as it is decompressed; each
  architecture is released as soon as it is converted (the pickle's objects are the memory
  floor: the directory is the light way).

Every pickle is read with the allow-list unpickler.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasbench_sim.importers.errors import ImportFormatError, WeightsInFileError
from nasbench_sim.importers.family import Collector, out_paths
from nasbench_sim.importers.records import ArchRecord, Selection, convert_arch
from nasbench_sim.importers.report import SYNTHETIC_KEY, ImportReport, describe_source
from nasbench_sim.importers.safe_pickle import WEIGHTS_MESSAGE, load_bz2_pickle

__all__ = ["EXT", "META", "import_arch2infos", "import_nats", "meta_archs"]

META = "meta.pickle.pbz2"
EXT = ".pickle.pbz2"
BENCHMARK = "NATS-Bench topology search space (tss)"

Progress = Callable[[int], None]


def meta_archs(data: Any, source: str) -> list[str]:
    """The architecture strings of a meta dict (or of a single-file benchmark)."""
    archs = data.get("meta_archs") if isinstance(data, Mapping) else None
    if not isinstance(archs, (list, tuple)) or not all(isinstance(a, str) for a in archs):
        raise ImportFormatError(source, "no 'meta_archs' list of architecture strings")
    return list(archs)


def _arch_files(src: Path) -> list[tuple[int, Path]]:
    files = []
    for p in src.iterdir():
        stem = p.name[: -len(EXT)] if p.name.endswith(EXT) else ""
        if stem.isdigit():
            files.append((int(stem), p))
        elif p.name.upper().endswith("-FULL.PTH"):
            raise WeightsInFileError(p, WEIGHTS_MESSAGE)
    return sorted(files)


@dataclass
class _Chunk:
    results: list[tuple[list[ArchRecord | None], set[str], set[str], str]] = field(
        default_factory=list
    )
    skipped: list[str] = field(default_factory=list)


def _convert_files(
    items: Sequence[tuple[str, str]], sels: Sequence[Selection], skip_corrupt: bool
) -> _Chunk:
    """Worker: read and convert a few per-architecture files."""
    chunk = _Chunk()
    for path, arch in items:
        try:
            data = load_bz2_pickle(path)
            records, budgets, datasets = convert_arch(data, arch, sels, path)
        except WeightsInFileError:
            raise
        except ImportFormatError as exc:
            if not skip_corrupt:
                raise
            chunk.skipped.append(f"{Path(path).name}: {exc.problem}")
            continue
        chunk.results.append((records, budgets, datasets, path))
    return chunk


def _chunks(items: Sequence[tuple[str, str]], size: int) -> Iterator[Sequence[tuple[str, str]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _stream(
    items: Sequence[tuple[str, str]],
    sels: Sequence[Selection],
    collector: Collector,
    *,
    n_jobs: int,
    skip_corrupt: bool,
    progress: Progress | None,
    chunk_size: int = 16,
) -> None:
    """Convert every file; at most ``2 * n_jobs`` chunks in flight."""

    def merge(chunk: _Chunk, n: int) -> None:
        for records, budgets, datasets, path in chunk.results:
            collector.take(records, budgets, datasets, path)
        collector.skipped += chunk.skipped
        if progress:
            progress(n)

    if n_jobs <= 1:
        for part in _chunks(items, chunk_size):
            merge(_convert_files(part, sels, skip_corrupt), len(part))
        return
    with cf.ProcessPoolExecutor(n_jobs) as pool:
        pending: dict[cf.Future[_Chunk], int] = {}
        for part in _chunks(items, chunk_size):
            if len(pending) >= 2 * n_jobs:
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    merge(fut.result(), pending.pop(fut))
            pending[pool.submit(_convert_files, part, sels, skip_corrupt)] = len(part)
        for fut in cf.as_completed(list(pending)):
            merge(fut.result(), pending.pop(fut))


def _import_dir(src: Path, sels: Sequence[Selection], collector: Collector, **kw: Any) -> bool:
    """Stream the directory into ``collector``; whether its meta marks it synthetic."""
    meta_path = src / META
    if not meta_path.is_file():
        raise ImportFormatError(src, f"no {META}: not a NATS-Bench -simple directory")
    meta = load_bz2_pickle(meta_path)
    archs = meta_archs(meta, str(meta_path))
    files = _arch_files(src)
    if not files:
        raise ImportFormatError(src, f"no NNNNNN{EXT} architecture files")
    bad = [i for i, _ in files if i >= len(archs)]
    if bad:
        raise ImportFormatError(
            src, f"file index {bad[0]:06d} beyond the {len(archs)} archs of {META}"
        )
    collector.reserve(len(files))
    _stream([(str(p), archs[i]) for i, p in files], sels, collector, **kw)
    return bool(meta.get(SYNTHETIC_KEY))


def import_arch2infos(
    data: Any,
    source: str,
    sels: Sequence[Selection],
    collector: Collector,
    progress: Progress | None,
) -> None:
    """Convert a loaded ``{'meta_archs', 'arch2infos'}`` dict, releasing each architecture
    as soon as it is converted (NATS-Bench's single file, NAS-Bench-201's ``.pth``)."""
    archs = meta_archs(data, source)
    infos = data.get("arch2infos")
    if not isinstance(infos, dict):
        raise ImportFormatError(source, "no 'arch2infos' dict (index -> results)")
    collector.reserve(len(infos))
    for idx in sorted(infos):
        if not isinstance(idx, int) or not 0 <= idx < len(archs):
            raise ImportFormatError(source, f"arch2infos key {idx!r} is not an index of meta_archs")
        records, budgets, datasets = convert_arch(infos.pop(idx), archs[idx], sels, source)
        collector.take(records, budgets, datasets, f"{source} [{idx}]")
        if progress:
            progress(1)


def import_nats(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    sels: Sequence[Selection],
    *,
    n_jobs: int = 1,
    progress: Progress | None = None,
    total: Callable[[int], None] | None = None,
    skip_corrupt: bool = False,
    sha256: bool = True,
) -> list[ImportReport]:
    """Import NATS-Bench's topology space into one table per selection.

    Args:
        src: the ``-simple`` directory or the single ``.pickle.pbz2`` file.
        out: the output path (with ``{dataset}``/``{epochs}`` for several selections).
        sels: the (dataset, budget) tables to write.
        n_jobs: worker processes for a directory.
        progress: called with the number of architectures just converted.
        total: called once with the number of architectures to expect.
        skip_corrupt: skip (and report) unreadable per-architecture files instead of failing.
        sha256: record the SHA-256 of a single-file source in the provenance.
    """
    started = time.perf_counter()
    src = Path(src)
    outs = out_paths(out, sels)
    collector = Collector(sels)
    if src.is_dir():
        if total:
            total(sum(1 for p in src.iterdir() if p.name.endswith(EXT)) - 1)
        synthetic = _import_dir(
            src, sels, collector, n_jobs=n_jobs, skip_corrupt=skip_corrupt, progress=progress
        )
    elif src.is_file():
        data = load_bz2_pickle(src, stream=True)
        synthetic = isinstance(data, Mapping) and bool(data.get(SYNTHETIC_KEY))
        if total and isinstance(data, Mapping) and isinstance(data.get("arch2infos"), dict):
            total(len(data["arch2infos"]))
        import_arch2infos(data, str(src), sels, collector, progress)
        del data
    else:
        raise ImportFormatError(src, "no such file or directory")
    source = {**describe_source(src, BENCHMARK, sha256=sha256), "synthetic": synthetic}
    return collector.finish(outs, fmt="nats", source=source, started=started)
