"""What an import did (:class:`ImportReport`), the source's description for the provenance,
and the last step every NB201-family import shares: provenance, protocol, atomic write."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasbench_sim.importers.accumulate import TableAccumulator
from nasbench_sim.table import write_table

__all__ = ["SYNTHETIC_KEY", "ImportReport", "describe_source", "file_sha256", "write_imported"]

SYNTHETIC_KEY = "nasbench_sim_synthetic"
"""A top-level key that marks files written by :mod:`nasbench_sim.importers.synthetic`; the
published files never carry it. Tables imported from such files are marked synthetic."""

_VERSION = re.compile(r"(v\d+_\d+)-([0-9a-fA-F]{5,})")


@dataclass(frozen=True)
class ImportReport:
    """The outcome of importing one (dataset, budget) table.

    Attributes:
        out: the table file written.
        format: the importer's name.
        source: the file or folder read.
        dataset: the dataset of the table.
        epochs: its number of epochs.
        rows: architectures it holds.
        seeds: the real seed labels of its repeats.
        missing_runs: seed label -> rows without that run (left NaN, never filled).
        epoch_coverage: metric -> which epochs hold values.
        times: ``per-epoch``, ``pseudo`` (constants written by the authors) or ``absent``.
        warnings: what a user should know before using the table.
        seconds: wall time of the import.
    """

    out: Path
    format: str
    source: str
    dataset: str
    epochs: int
    rows: int
    seeds: tuple[int, ...]
    missing_runs: Mapping[str, int]
    epoch_coverage: Mapping[str, str]
    times: str
    warnings: tuple[str, ...]
    seconds: float

    def lines(self) -> list[str]:
        """A short human-readable summary."""
        miss = ", ".join(f"seed {s}: {n} rows" for s, n in self.missing_runs.items()) or "none"
        out = [
            f"wrote {self.out}: {self.dataset}, {self.epochs} epochs, {self.rows} rows, "
            f"seeds {list(self.seeds)} ({self.seconds:.1f} s)",
            f"  missing runs (NaN, not filled): {miss}",
            "  curves: "
            + "; ".join(f"{m} {c}" for m, c in self.epoch_coverage.items() if c != "every epoch")
            if any(c != "every epoch" for c in self.epoch_coverage.values())
            else "  curves: every metric at every epoch",
            f"  training times: {self.times}",
        ]
        out += [f"  warning: {w}" for w in self.warnings]
        return out


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def describe_source(
    path: str | os.PathLike[str], benchmark: str, *, sha256: bool
) -> dict[str, Any]:
    """The provenance's description of a source: path, version and checksum from the file
    name (``NATS-tss-v1_0-3ffb9``: version ``v1_0``, checksum ``3ffb9``), and the SHA-256 of a
    single file when asked."""
    p = Path(path)
    m = _VERSION.search(p.name)
    out: dict[str, Any] = {
        "benchmark": benchmark,
        "path": str(p.resolve()),
        "name": p.name,
        "kind": "directory" if p.is_dir() else "file",
        "version": m.group(1) if m else None,
        "checksum_in_name": m.group(2) if m else None,
    }
    if sha256 and p.is_file():
        out["sha256"] = file_sha256(p)
    return out


def synthetic_mark(source: Mapping[str, Any]) -> dict[str, Any]:
    """The provenance entries of a table read from a synthetic fixture file (else none)."""
    if not source.get("synthetic"):
        return {}
    return {
        "synthetic": True,
        "note": "SYNTHETIC: imported from a file written by nasbench_sim.importers.synthetic; "
        "made-up numbers in a published layout, not a benchmark result",
    }


def _warnings(table_facts: Mapping[str, Any], valid_split: str | None) -> list[str]:
    out = []
    if valid_split is None:
        out.append(
            "this dataset has no validation split: valid_* are NaN and a search sees nothing; "
            "search on cifar10-valid, or pass a validation split knowingly (--valid-split)"
        )
    cov = table_facts["epoch_coverage"]
    if cov.get("valid_acc", "").startswith("last epoch only"):
        out.append(
            "validation accuracy exists only after the last epoch: multi-fidelity "
            "strategies see NaN before it"
        )
    if table_facts["times"]["kind"] == "pseudo":
        out.append("the per-epoch training times are constants (pseudo times), see provenance")
    return out


def write_imported(
    acc: TableAccumulator,
    out: str | os.PathLike[str],
    *,
    fmt: str,
    source: Mapping[str, Any],
    started: float,
    notes: Sequence[str] = (),
) -> ImportReport:
    """Build the table of ``acc``, attach protocol and provenance, write it atomically."""
    sel = acc.selection
    table, facts = acc.build()
    warnings = _warnings(facts, sel.valid_split) + list(notes)
    splits = {"train": "train", "valid": sel.valid_split, "test": sel.test_split}
    protocol = {
        "source_benchmark": source.get("benchmark"),
        "dataset": sel.dataset,
        "epochs": table.n_epochs,
        "budget": sel.budget,
        "splits": splits,
        **facts["network"],
    }
    provenance = {
        **synthetic_mark(source),
        "imported": True,
        "importer": fmt,
        "source": dict(source),
        "selection": {"dataset": sel.dataset, "budget": sel.budget, "splits": splits},
        "units": {
            "accuracy": "fraction (the source stores percent; divided by 100)",
            "params": "count (the source stores millions)",
            "flops": "FLOPs of one forward pass of one sample (the source stores millions)",
            "latency_s": "seconds, mean of the source's latency measurements",
            "train_time_s": "seconds per epoch, mean over the epochs and runs of the cell",
            "valid_eval_time_s": "seconds per evaluation of the validation split",
        },
        "times": facts["times"],
        "missing_runs": facts["missing_runs"],
        "epoch_coverage": facts["epoch_coverage"],
        "warnings": warnings,
    }
    table = dataclasses.replace(table, protocol=protocol, provenance=provenance)
    path = write_table(out, table)
    return ImportReport(
        out=path,
        format=fmt,
        source=str(source.get("path")),
        dataset=sel.dataset,
        epochs=table.n_epochs,
        rows=table.n_cells,
        seeds=tuple(int(s) for s in table.seeds),
        missing_runs=facts["missing_runs"],
        epoch_coverage=facts["epoch_coverage"],
        times=facts["times"]["kind"],
        warnings=tuple(warnings),
        seconds=time.perf_counter() - started,
    )
