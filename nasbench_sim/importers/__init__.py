"""Importers: published benchmarks into this project's table format, safely and fast.

=========  ==========================================================  =========================
format     source                                                      function
=========  ==========================================================  =========================
``nats``   NATS-Bench topology space: the ``-simple`` directory or     :func:`import_nats`
           the single ``.pickle.pbz2``
``nb201``  NAS-Bench-201 ``.pth`` v1.0 / v1.1 (read without torch)     :func:`import_nb201`
``hwnas``  HW-NAS-Bench pickle: hardware costs added to a NB201 table  :func:`add_hw_costs`
``csv``    per-architecture CSV (``parquet``: Parquet)                 :func:`import_csv`
``nb101``  NAS-Bench-101 ``nasbench_only108.tfrecord`` /               :func:`import_nb101`
           ``nasbench_full.tfrecord`` (read without TensorFlow), or
           NASLib's ``nasbench_only108.pkl``
=========  ==========================================================  =========================

Every pickle is read with an allow-list unpickler (:mod:`.safe_pickle`): a file that asks to run
code, or stores weights, is refused. The mapping of splits, epochs, seeds, times and units is in
``docs/import.md``; each table's provenance names its source, version and checksum.

Example:
    >>> reports = import_benchmark(  # doctest: +SKIP
    ...     "nats", "NATS-tss-v1_0-3ffb9-simple", "nats_c100.h5", dataset="cifar100", epochs=200
    ... )
    >>> bench = Benchmark.load("nats_c100.h5")  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nasbench_sim.errors import RegistryError
from nasbench_sim.importers.csv_table import import_csv
from nasbench_sim.importers.errors import ImportFormatError, UnsafePickleError, WeightsInFileError
from nasbench_sim.importers.family import selections
from nasbench_sim.importers.hwnas import CostImportReport, add_hw_costs
from nasbench_sim.importers.nats import import_nats
from nasbench_sim.importers.nb101_import import import_nb101
from nasbench_sim.importers.nb201 import import_nb201
from nasbench_sim.importers.records import DEFAULT_SPLITS, Selection, make_selection
from nasbench_sim.importers.report import ImportReport

__all__ = [
    "DEFAULT_SPLITS",
    "FORMATS",
    "CostImportReport",
    "ImportFormatError",
    "ImportReport",
    "Selection",
    "UnsafePickleError",
    "WeightsInFileError",
    "add_hw_costs",
    "import_benchmark",
    "import_csv",
    "import_nats",
    "import_nb101",
    "import_nb201",
    "make_selection",
    "selections",
]

Report = ImportReport | CostImportReport

_SELECTION = ("dataset", "epochs", "valid_split", "test_split")


def _options(fn: Callable[..., Any], skip: int, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The keyword options of ``fn`` after its first ``skip`` positional parameters."""
    return tuple(list(inspect.signature(fn).parameters)[skip:]) + extra


def _family(fn: Callable[..., list[ImportReport]]) -> Callable[..., list[Report]]:
    def run(
        src: Any,
        out: Any,
        *,
        dataset: str = "cifar10-valid",
        epochs: str | int = "200",
        valid_split: str | None = None,
        test_split: str | None = None,
        **kw: Any,
    ) -> list[Report]:
        sels = selections(dataset, epochs, valid_split=valid_split, test_split=test_split)
        return list(fn(src, out, sels, **kw))

    return run


def _hwnas(src: Any, out: Any, *, table: Any = None, **kw: Any) -> list[Report]:
    if table is None:
        raise ImportFormatError(
            src, "HW-NAS-Bench adds costs to a table: give table=T.h5 (--table)"
        )
    return [add_hw_costs(src, table, out, **kw)]


def _csv(src: Any, out: Any, **kw: Any) -> list[Report]:
    return [import_csv(src, out, **kw)]


def _nb101(src: Any, out: Any, **kw: Any) -> list[Report]:
    return list(import_nb101(src, out, **kw))


FORMATS: dict[str, tuple[Callable[..., list[Report]], tuple[str, ...]]] = {
    "nats": (_family(import_nats), _options(import_nats, 3, _SELECTION)),
    "nb201": (_family(import_nb201), _options(import_nb201, 3, _SELECTION)),
    "hwnas": (_hwnas, ("table", *_options(add_hw_costs, 3))),
    "csv": (_csv, _options(import_csv, 2)),
    "parquet": (_csv, _options(import_csv, 2)),
    "nb101": (_nb101, _options(import_nb101, 2)),
}
"""Format name -> (importer, the options it takes); see :func:`import_benchmark`."""


def import_benchmark(
    fmt: str, src: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any
) -> list[Report]:
    """Import ``src`` in format ``fmt`` into table file(s) at ``out``.

    ``nats`` and ``nb201`` take ``dataset`` (a name, a comma list or ``all``; default
    ``cifar10-valid``), ``epochs`` (``12``, ``200`` or both; default ``200``),
    ``valid_split``/``test_split`` overrides and the options of :func:`import_nats` /
    :func:`import_nb201`; ``hwnas`` takes ``table`` and those of :func:`add_hw_costs`;
    ``csv``/``parquet`` those of :func:`import_csv`; ``nb101`` those of
    :func:`import_nb101` (``check_crc``, ``check_hashes``).

    Raises:
        RegistryError: an unknown format, listing the known ones.
        ImportFormatError: an option the format does not take, or anything wrong with the
            source (naming the file and the problem).
    """
    try:
        fn, allowed = FORMATS[fmt]
    except KeyError:
        raise RegistryError(
            f"unknown import format {fmt!r}; known formats: {', '.join(FORMATS)}"
        ) from None
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ImportFormatError(
            src,
            f"format {fmt!r} takes no option {', '.join(unknown)}; it takes {', '.join(allowed)}",
        )
    if not Path(src).exists():
        raise ImportFormatError(src, "no such file or directory")
    return fn(src, out, **options)
