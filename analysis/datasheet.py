"""A table's datasheet: what was trained, how, on what, how well it discriminates, and the
command that rebuilds it, as ``README.md`` + ``datasheet.json`` + two PNG plots.

The discrimination criteria are those a default table must meet (Kendall τ between training
seeds >= 0.6, the floor for a table built on two CPU cores within a day; 0.7 is the aim; best
mean test accuracy >= 0.95, validation/test correlation >= 0.95, >= 3 seeds, every cell
queryable); the datasheet reports each as measured, pass or fail, with the reliability of the
seed mean (see :mod:`nasbench_sim.bench.discrimination`) and the build's CPU time.
The README's text is rendered by :mod:`analysis.datasheet_readme`.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.datasheet_readme import readme_text
from nasbench_sim.atomic import OutputFolderError, atomic_dir, check_output_dir
from nasbench_sim.bench import TabularBenchmark
from nasbench_sim.bench.discrimination import DISCRIMINATION_KEYS
from nasbench_sim.checks import is_int
from nasbench_sim.search.mo import ExactFront, exact_front
from nasbench_sim.table import read_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CRITERIA", "DATASHEET_FILES", "accuracy_hist_figure", "write_datasheet"]

DATASHEET_FILES: tuple[str, ...] = (
    "README.md",
    "datasheet.json",
    "accuracy_hist.png",
    "cost_pareto.png",
)
"""What :func:`write_datasheet` writes (``cost_pareto.png`` when the table has costs)."""

CRITERIA: tuple[tuple[str, str, float], ...] = (
    ("seed_kendall_tau", ">=", 0.6),
    ("best_test_acc", ">=", 0.95),
    ("valid_test_pearson", ">=", 0.95),
    ("n_seeds", ">=", 3),
    ("cells_covered", ">=", 15625),
)
"""``(statistic, comparison, threshold)`` a default table must meet."""


def table_fronts(bench: TabularBenchmark) -> dict[str, ExactFront]:
    """The exact Pareto front of accuracy (validation, reported as test accuracy) against each
    cost the table records (the timing model's measurements excepted), by cost name."""
    out = {}
    for key, values in bench.table.cost.items():
        if key == "train_time_measured_s" or np.isfinite(np.asarray(values, float)).sum() < 2:
            continue
        out[key] = exact_front(bench, f"valid_acc,{key}")
    return out


def _front_record(bench: TabularBenchmark, front: ExactFront) -> dict[str, Any]:
    """A front for ``datasheet.json``: its size, hypervolume and cells (most accurate first)."""
    cost = front.objectives.names[1]
    rows = front.front_rows
    cells = [str(bench.space.from_index(int(i))) for i in bench.table.arch_index[rows]]
    return {
        "cells": int(rows.size),
        "hypervolume": front.hypervolume,
        "members": [
            {"arch": a, "test_acc": float(v[0]), cost: float(v[1])}
            for a, v in zip(cells, front.values[rows], strict=True)
        ],
    }


def fronts_figure_of_costs(fronts: dict[str, ExactFront], title: str) -> Figure:
    """One panel per cost: every cell, and the exact front of test accuracy against it."""
    from matplotlib.figure import Figure

    from analysis.mo_plots import front_axes

    n = len(fronts)
    ncol = min(n, 2)
    nrow = -(-n // ncol)
    fig = Figure(figsize=(6.5, 2.9 * nrow + 0.6), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False)
    for ax, front in zip(axes.flat, fronts.values(), strict=False):
        front_axes(ax, front, 1, 0)
        n_front = front.front_rows.size
        ax.set_title(f"{n_front} cell{'s' * (n_front != 1)} on the front", fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, frameon=False, markerscale=2)
    fig.suptitle(title)
    return fig


_RC: dict[Any, Any] = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False}


def accuracy_hist_figure(valid: np.ndarray, test: np.ndarray, title: str) -> Figure:
    """Histogram of every row's final validation and test accuracy (seed means).

    Validation is drawn filled and test as an outline on top, so that where the two overlap
    each keeps the colour of its legend entry (two translucent fills would blend into a third
    colour that matches neither).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 3.4), layout="constrained")
    ax = fig.subplots()
    both = np.concatenate([valid, test])
    bins = np.linspace(np.nanmin(both), np.nanmax(both), 50).tolist()
    ax.hist(valid[np.isfinite(valid)], bins=bins, histtype="stepfilled", color="#9ecae1",
            label="validation")  # fmt: skip
    ax.hist(test[np.isfinite(test)], bins=bins, histtype="step", color="C1", lw=1.3,
            label="test")  # fmt: skip
    for q, ls in ((np.nanmedian(test), "--"), (np.nanmax(test), ":")):
        ax.axvline(q, color="0.3", ls=ls, lw=1)
    ax.set_xlabel("final accuracy, mean over training seeds")
    ax.set_ylabel("table rows (cells)")
    ax.set_title(f"{title}\nAccuracy of every row (dashed: median, dotted: best test)")
    ax.legend(frameon=False)
    return fig


def _plots(
    bench: TabularBenchmark, out: Path, title: str, fronts: dict[str, ExactFront]
) -> list[str]:
    import matplotlib

    test = bench.test_mean[:, -1, 1]
    valid = bench.search_mean[:, -1, 3]
    names = []
    with matplotlib.rc_context(_RC):
        fig = accuracy_hist_figure(valid, test, title)
        fig.savefig(out / "accuracy_hist.png", dpi=200)
        names.append("accuracy_hist.png")

        if fronts:
            fig = fronts_figure_of_costs(fronts, f"{title}: exact Pareto fronts of accuracy "
                                         "against each cost")  # fmt: skip
            fig.savefig(out / "cost_pareto.png", dpi=200)
            names.append("cost_pareto.png")
    return names


def _cells_arg(bench: TabularBenchmark) -> tuple[str, int | None, str]:
    """The ``--cells`` value and, for a draw, the ``--cells-seed`` that select the table's
    rows, and a note when none does."""
    rows = np.asarray(bench.table.arch_index)
    prov = bench.table.provenance
    planned = prov.get("planned") if prov.get("partial") else None
    if isinstance(planned, dict) and is_int(planned.get("cells")):
        return _planned_cells(bench, planned)
    if rows.size == bench.space.size:
        return "all", None, ""
    reps = np.sort(bench.space.representatives())
    if rows.size == reps.size and np.array_equal(np.sort(rows), reps):
        return "classes", None, ""
    seed = prov.get("cells_seed")
    if is_int(seed):  # a build's draw, if its rows are the whole draw (not one shard of it)
        from nasbench_sim.generate.plan import resolve_cells

        if np.array_equal(np.sort(resolve_cells(int(rows.size), int(seed))), np.sort(rows)):
            return str(rows.size), int(seed), ""
    if is_int(seed) and not prov.get("merged_from"):
        note = (
            f"The table holds {rows.size} cells of a draw with `--cells-seed {seed}`, not the "
            "whole draw (one shard of a build?): rebuild with that build's `--cells` and `--shard`"
        )
    elif prov.get("merged_from"):
        note = (
            f"The table merges {len(prov['merged_from'])} pieces whose cells no single draw "
            "gives: rebuild each piece (their provenance is under `shards`) and merge them"
        )
    else:
        note = (
            f"The table holds {rows.size} sampled cells: `--cells {rows.size}` draws that many "
            "class representatives with `--cells-seed`, which this table does not record (0 by "
            "default)"
        )
    return str(rows.size), None, note


def write_datasheet(
    table_path: str | os.PathLike[str], out: str | os.PathLike[str] | None = None
) -> Path:
    """Write ``README.md``, ``datasheet.json``, ``accuracy_hist.png`` and ``cost_pareto.png``
    describing the table at ``table_path`` into the folder ``out``, as a whole (a temporary
    folder swapped in at the end); return the README's path.

    With ``out=None`` they go beside the table, into its own folder (a shipped table's
    ``data/README.md``): written into a temporary folder first, then moved in file by file,
    replacing only those files (a stale ``cost_pareto.png`` is removed when the table has no
    costs); nothing else in the folder is touched.

    Raises:
        TableError: ``table_path`` is not a valid table.
        OutputFolderError: ``out`` holds files a datasheet does not write.
    """
    path = Path(table_path)
    if out is not None:
        check_output_dir(out, DATASHEET_FILES)  # before any work
    bench = TabularBenchmark(read_table(path))
    if out is not None:
        with atomic_dir(out, DATASHEET_FILES) as folder:
            _write(bench, path, folder)
        return Path(out) / "README.md"
    beside = path.resolve().parent
    _check_beside(beside / "README.md", path.name)
    with tempfile.TemporaryDirectory(prefix=".datasheet.", dir=beside) as tmp:
        _write(bench, path, Path(tmp))
        for name in DATASHEET_FILES:
            if (Path(tmp) / name).exists():
                os.replace(Path(tmp) / name, beside / name)
            elif (beside / name).exists():
                (beside / name).unlink()
    return beside / "README.md"


def _check_beside(readme: Path, table_name: str) -> None:
    """Refuse to replace a ``README.md`` beside the table that is not this table's datasheet
    (a user's notes, another table's datasheet)."""
    if not readme.exists():
        return
    with open(readme, encoding="utf-8", errors="replace") as f:
        first = f.readline().rstrip("\n")
    if first != f"# Datasheet: `{table_name}`":
        raise OutputFolderError(
            f"{readme} is not the datasheet of {table_name} (its first line is {first[:60]!r}); "
            "--beside replaces only a previous datasheet of the same table: move that file, "
            "or write the datasheet elsewhere with --out DIR"
        )


def _write(bench: TabularBenchmark, path: Path, out_dir: Path) -> None:
    """The datasheet of ``bench`` (read from ``path``) into the folder ``out_dir``."""
    info = bench.info()
    stats = _stats(bench, info)
    fronts = table_fronts(bench)
    data = {
        "table": str(path),
        "stats": stats,
        "criteria": _criteria(stats),
        "cost": {
            k: {
                "min": float(np.nanmin(v)),
                "median": float(np.nanmedian(v)),
                "max": float(np.nanmax(v)),
            }
            for k, v in bench.table.cost.items()
            if np.isfinite(np.asarray(v, dtype=np.float64)).any()
        },
        "protocol": dict(bench.table.protocol),
        "provenance": dict(bench.table.provenance),
        "rebuild": _rebuild(bench, path),
        "plots": _plots(bench, out_dir, f"{path.name} ({info['dataset']})", fronts),
        "fronts": {k: _front_record(bench, f) for k, f in fronts.items()},
        "created": _dt.datetime.now(_dt.UTC).isoformat(),
    }
    (out_dir / "datasheet.json").write_text(json.dumps(data, indent=2, default=str))
    readme = out_dir / "README.md"
    readme.write_text(readme_text(path, info, data))


def _stats(bench: TabularBenchmark, info: dict[str, Any]) -> dict[str, Any]:
    test = bench.test_mean[:, -1, 1]
    return {
        **{k: info[k] for k in ("space", "dataset", "rows", "cells_covered", "epochs")},
        "n_seeds": len(info["seeds"]),
        "best_test_acc": info["best_test_acc"],
        "median_test_acc": info["median_test_acc"],
        "test_acc_quantiles": {
            f"{q:g}": float(np.nanquantile(test, q)) for q in (0.05, 0.25, 0.5, 0.75, 0.95)
        },
        **{k: info[k] for k in DISCRIMINATION_KEYS},
        "synthetic": info["synthetic"],
    }


def _criteria(stats: dict[str, Any]) -> list[dict[str, Any]]:
    checks = []
    for key, op, threshold in CRITERIA:
        value = stats.get(key)
        ok = value is not None and float(value) >= threshold
        checks.append({"statistic": key, "value": value, "needs": f"{op} {threshold:g}", "ok": ok})
    return checks


def _planned_cells(bench: TabularBenchmark, planned: dict[str, Any]) -> tuple[str, int | None, str]:
    """:func:`_cells_arg` of a table assembled from a build that was still running: the
    ``--cells`` of the whole build, and a note that says so (of one shard: how far it was)."""
    rows = np.asarray(bench.table.arch_index)
    prov = bench.table.provenance
    n = int(planned.get("build_cells", planned["cells"]))
    seed = prov.get("cells_seed")
    reps = bench.space.representatives()
    if n == bench.space.size:
        cells, cells_seed = "all", None
    elif n == reps.size and not is_int(seed) and np.isin(rows, reps).all():
        cells, cells_seed = "classes", None
    else:
        cells, cells_seed = str(n), int(seed) if is_int(seed) else None
    shard = _split_shard(prov)
    of = f"shard {shard} of a build" if shard else "a build"
    note = (
        f"This table was assembled from {prov.get('n_chunks', '?')} of the "
        f"{planned.get('chunks', '?')} chunks of {of} still running: {rows.size:,} of its "
        f"{int(planned['cells']):,} cells. The command is the whole "
        f"{'shard' if shard else 'build'}'s; run it with `--resume` beside the build's parts "
        "directory to finish it"
    )
    if cells_seed is None and cells not in ("all", "classes"):
        note += ", with the build's own cells (this table does not record how they were drawn)"
    return cells, cells_seed, note


def _split_shard(prov: Mapping[str, Any]) -> str:
    """``"i/n"`` of a table built as one of several shards, else ``""``."""
    shard = prov.get("shard")
    if isinstance(shard, list | tuple) and len(shard) == 2 and is_int(shard[1]) and shard[1] > 1:
        return f"{shard[0]}/{shard[1]}"
    return ""


def _rebuild(bench: TabularBenchmark, path: Path) -> dict[str, Any]:
    """The ``build`` command that retrains the table's protocol, where it has one."""
    from nasbench_sim.generate.errors import GenerateError
    from nasbench_sim.generate.protocol import Protocol, build_command

    cells, cells_seed, cells_note = _cells_arg(bench)
    command = ""
    rest: dict[str, Any] = {}
    if bench.table.protocol and "generator" not in bench.table.protocol:
        try:
            proto = Protocol.from_dict(bench.table.protocol)
            command, rest = build_command(proto, cells, path.name)
        except (GenerateError, TypeError):
            pass
    from nasbench_sim.generate.assemble import depends_on_chunk
    from nasbench_sim.generate.grad_sum import recorded_grad_sum

    numerics = bench.table.provenance.get("numerics")
    chunk_size = bench.table.provenance.get("chunk_size")
    if command and cells_seed is not None:
        command += f" --cells-seed {cells_seed}"
    shard = _split_shard(bench.table.provenance)
    if command and shard and bench.table.provenance.get("partial"):
        command += f" --shard {shard}"  # --resume needs it
    if command and is_int(chunk_size):
        command += f" --chunk-size {chunk_size}"
    grouped = bool(command) and depends_on_chunk(numerics)
    if command and isinstance(numerics, dict) and numerics.get("trainer"):
        command += f" --trainer {numerics['trainer']}"
        if recorded_grad_sum(numerics) is not None:
            command += f" --grad-sum {recorded_grad_sum(numerics)}"
        if numerics.get("device") == "cpu" and numerics.get("threads"):
            command += f" --threads {numerics['threads']}"
        elif numerics.get("device") == "cuda":
            command += " --device cuda"
    return {
        "command": command,
        "python_only_fields": rest,
        "note": cells_note,
        "numerics": numerics if isinstance(numerics, dict) else None,
        "grouped": grouped,  # the curves depend on the chunks: the command's cells and size
        "chunk_size": chunk_size if is_int(chunk_size) else None,
        "mixed_hardware": bool(bench.table.provenance.get("mixed_hardware")),
    }
