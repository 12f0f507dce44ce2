"""One way to open a benchmark from what a user types: :func:`open`.

The command line, ``benchmarks/`` and users' scripts all open benchmarks here, so a spec means
the same everywhere (``--table SPEC`` on the command line).
"""

from __future__ import annotations

import os
from pathlib import Path

from nasbench_sim.bench import Benchmark, SurrogateBenchmark, TabularBenchmark, default_table_path
from nasbench_sim.errors import TableError
from nasbench_sim.table import make_synthetic_table

__all__ = ["SYNTHETIC", "Spec", "open", "parse_synthetic", "source_file"]

SYNTHETIC = "synthetic"
"""The spec of a synthetic table made in memory (``synthetic`` or ``synthetic:SEED``)."""

Spec = str | os.PathLike[str] | None
"""What :func:`open` takes."""


def parse_synthetic(spec: Spec) -> int | None:
    """The seed of a ``synthetic[:SEED]`` spec, or ``None`` for any other spec.

    Raises:
        TableError: ``synthetic:`` followed by something that is not a whole number >= 0.

    Example:
        >>> parse_synthetic("synthetic:3"), parse_synthetic("synthetic"), parse_synthetic("T.h5")
        (3, 0, None)
    """
    if not isinstance(spec, str) or not (spec == SYNTHETIC or spec.startswith(SYNTHETIC + ":")):
        return None
    text = spec.partition(":")[2]
    if not text:
        return 0
    if not text.isdigit():
        raise TableError(
            f"{spec!r}: the seed after 'synthetic:' must be a whole number >= 0, e.g. synthetic:3"
        )
    return int(text)


def source_file(spec: Spec) -> Path | None:
    """The file behind a spec: the default table's path for ``None``, the path itself for a
    file, ``None`` for a synthetic table."""
    if spec is None:
        return default_table_path()
    if parse_synthetic(spec) is not None:
        return None
    return Path(spec)


def open(spec: Spec = None, *, run_seed: int = 0) -> Benchmark:
    """Open a benchmark.

    Args:
        spec: ``None`` (the default table shipped in ``data/``), ``"synthetic"`` or
            ``"synthetic:SEED"`` (a clearly labelled synthetic table made in memory), the path
            of a table file (``.h5``), of a saved surrogate (``.npz``, from
            ``nasbench-sim surrogate fit``), or of a build in progress (the ``--out`` of a
            ``nasbench-sim build`` still running: the chunks it has committed so far).
        run_seed: seed of the benchmark's common-random-number draw of repeats.

    Raises:
        TableError: a missing file, a file that is not a table, or a bad synthetic seed.
        SurrogateFileError: an ``.npz`` that is not a surrogate.

    Example:
        >>> import nasbench_sim
        >>> bench = nasbench_sim.open("synthetic:1")
        >>> bench.source.describe()
        'SYNTHETIC table synthetic:1 (6466 rows)'
    """
    seed = parse_synthetic(spec)
    if seed is not None:
        table = make_synthetic_table(seed)
        return TabularBenchmark(table, run_seed=run_seed, origin=f"{SYNTHETIC}:{seed}")
    if spec is None:
        return TabularBenchmark.from_file(None, run_seed=run_seed)
    path = Path(spec)
    if path.suffix == ".npz" and path.is_file():
        return SurrogateBenchmark.load(path, run_seed=run_seed)
    if not path.exists():
        partial = _build_in_progress(path, run_seed)
        if partial is not None:
            return partial
        raise TableError(
            f"{path}: no such table file (nor a build in progress); give a table (.h5), a "
            "surrogate (.npz), or 'synthetic[:SEED]'"
        )
    return TabularBenchmark.from_file(path, run_seed=run_seed)


def _build_in_progress(path: Path, run_seed: int) -> Benchmark | None:
    """The committed chunks of a build writing to ``path``, or ``None`` without any."""
    from nasbench_sim.generate.assemble import assemble_parts
    from nasbench_sim.generate.chunks import build_status, parts_dir

    status = build_status(path)
    if status is None or status["chunks_done"] == 0:
        return None
    table = assemble_parts(parts_dir(path), allow_partial=True)
    return TabularBenchmark(table, run_seed=run_seed, origin=str(path), in_progress=True)
