"""NAS-Bench-201 ``.pth`` files (``NAS-Bench-201-v1_0-e61699.pth``, ``-v1_1-096897.pth``).

A ``torch.save`` of one dict: ``meta_archs`` (the 15,625 strings in the benchmark's index
order), ``arch2infos`` (index -> ``{'less': ArchResults state, 'full': ...}``: 12 and 200
epochs) and ``evaluated_indexes``. Read without torch from either container (see
:mod:`nasbench_sim.importers.torch_file`); the records inside are NATS-Bench's, so the
conversion is shared with :mod:`nasbench_sim.importers.nats`.

v1.0 holds 12-epoch (``less``) results for ``cifar10-valid`` only; v1.1's per-epoch training
times are constants per run (flagged ``pseudo`` in the provenance). The file's objects are
the memory floor of this import (the original API needs several times more).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from nasbench_sim.importers.errors import ImportFormatError
from nasbench_sim.importers.family import Collector, out_paths
from nasbench_sim.importers.nats import Progress, import_arch2infos
from nasbench_sim.importers.records import Selection
from nasbench_sim.importers.report import SYNTHETIC_KEY, ImportReport, describe_source
from nasbench_sim.importers.torch_file import read_torch_file

__all__ = ["import_nb201"]

BENCHMARK = "NAS-Bench-201"


def import_nb201(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    sels: Sequence[Selection],
    *,
    progress: Progress | None = None,
    total: Callable[[int], None] | None = None,
    sha256: bool = True,
) -> list[ImportReport]:
    """Import a NAS-Bench-201 ``.pth`` into one table per selection.

    Args:
        src: the ``.pth`` file.
        out: the output path (with ``{dataset}``/``{epochs}`` for several selections).
        sels: the (dataset, budget) tables to write; budgets ``12`` (``less``) and ``200``
            (``full``).
        progress: called with the number of architectures just converted.
        total: called once with the number of architectures to expect.
        sha256: record the file's SHA-256 in the provenance.
    """
    started = time.perf_counter()
    src = Path(src)
    outs = out_paths(out, sels)
    if src.is_dir():
        raise ImportFormatError(
            src, "a directory; the NAS-Bench-201 importer reads the single .pth file"
        )
    data = read_torch_file(src)
    if not isinstance(data, Mapping) or "arch2infos" not in data:
        raise ImportFormatError(src, "a torch file, but not NAS-Bench-201's (no 'arch2infos')")
    if total:
        total(len(data["arch2infos"]))
    synthetic = bool(data.get(SYNTHETIC_KEY))
    collector = Collector(sels)
    import_arch2infos(data, str(src), sels, collector, progress)
    del data
    source = {**describe_source(src, BENCHMARK, sha256=sha256), "synthetic": synthetic}
    return collector.finish(outs, fmt="nb201", source=source, started=started)
