"""The part shared by the NATS-Bench and NAS-Bench-201 importers: selections, output paths,
and a collector that turns per-architecture conversions into one table per selection."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nasbench_sim.importers.accumulate import TableAccumulator
from nasbench_sim.importers.errors import ImportFormatError
from nasbench_sim.importers.records import (
    DEFAULT_SPLITS,
    ArchRecord,
    Selection,
    make_selection,
)
from nasbench_sim.importers.report import ImportReport, write_imported

__all__ = ["Collector", "out_paths", "selections"]


def _names(value: str | int | Sequence[str | int]) -> list[str]:
    if isinstance(value, (str, int)):
        return [s.strip() for s in str(value).split(",") if s.strip()]
    return [str(v) for v in value]


def selections(
    datasets: str | Sequence[str],
    budgets: str | int | Sequence[str | int],
    *,
    valid_split: str | None = None,
    test_split: str | None = None,
) -> list[Selection]:
    """Every (dataset, budget) pair asked for, with the default splits unless overridden
    (``valid_split="none"`` leaves the validation curves NaN).

    Raises:
        ImportFormatError: an unknown dataset name.
    """
    names = _names(datasets)
    if names == ["all"]:
        names = list(DEFAULT_SPLITS)
    for d in names:
        if d not in DEFAULT_SPLITS:
            raise ImportFormatError(
                "--dataset",
                f"unknown dataset {d!r}; choose from {', '.join(DEFAULT_SPLITS)} or all",
            )
    kw: dict[str, Any] = {}
    if valid_split is not None:
        kw["valid_split"] = None if valid_split == "none" else valid_split
    if test_split is not None:
        kw["test_split"] = test_split
    return [make_selection(d, b, **kw) for d in names for b in _names(budgets)]


def out_paths(out: str | os.PathLike[str], sels: Sequence[Selection]) -> list[Path]:
    """One output path per selection: ``out`` itself for one; for several, ``out`` with
    ``{dataset}`` and ``{epochs}`` filled in, or ``STEM_<dataset>_<epochs>.h5`` beside it."""
    text = str(out)
    if "{" in text:
        paths = [Path(text.format(dataset=s.dataset, epochs=s.budget)) for s in sels]
    elif len(sels) == 1:
        paths = [Path(text)]
    else:
        p = Path(text)
        paths = [p.with_name(f"{p.stem}_{s.dataset}_{s.budget}{p.suffix or '.h5'}") for s in sels]
    if len(set(paths)) != len(paths):
        raise ImportFormatError("--out", f"{text} names the same file for several tables")
    return paths


class Collector:
    """Feeds conversions of many architectures into one accumulator per selection.

    Args:
        sels: the tables being built.
        n_rows: architectures that may arrive.
    """

    def __init__(self, sels: Sequence[Selection], n_rows: int = 15625) -> None:
        self.accumulators = [TableAccumulator(s, n_rows) for s in sels]
        self.budgets: set[str] = set()
        self.datasets: set[str] = set()
        self.without = [0] * len(sels)
        self.skipped: list[str] = []
        self.seen = 0

    def reserve(self, n_rows: int) -> None:
        """Size the tables for ``n_rows`` architectures (before the first one arrives)."""
        for acc in self.accumulators:
            acc.reserve(n_rows)

    def take(
        self,
        records: Sequence[ArchRecord | None],
        budgets: set[str],
        datasets: set[str],
        source: str,
    ) -> None:
        """One architecture's conversion, as
        :func:`~nasbench_sim.importers.records.convert_arch` returns it."""
        self.seen += 1
        self.budgets |= budgets
        self.datasets |= datasets
        for k, (acc, rec) in enumerate(zip(self.accumulators, records, strict=True)):
            if rec is None:
                self.without[k] += 1
            else:
                acc.add(rec, source)

    def finish(
        self,
        outs: Sequence[Path],
        *,
        fmt: str,
        source: Mapping[str, Any],
        started: float,
    ) -> list[ImportReport]:
        """Write every table; fail naming what the source holds when one would be empty."""
        for acc in self.accumulators:
            sel = acc.selection
            if acc.n_added == 0:
                raise ImportFormatError(
                    source.get("path", "?"),
                    f"no architecture has {sel.dataset} results at budget {sel.budget}; the "
                    f"source holds budgets {sorted(self.budgets)} and datasets "
                    f"{sorted(self.datasets)}",
                )
        reports = []
        for k, (acc, out) in enumerate(zip(self.accumulators, outs, strict=True)):
            notes = []
            if self.without[k]:
                notes.append(
                    f"{self.without[k]} of {self.seen} architectures have no "
                    f"{acc.selection.dataset} run at this budget (no row)"
                )
            if self.skipped:
                notes.append(f"{len(self.skipped)} unreadable files skipped: {self.skipped[:5]}")
            reports.append(
                write_imported(acc, out, fmt=fmt, source=source, started=started, notes=notes)
            )
        return reports
