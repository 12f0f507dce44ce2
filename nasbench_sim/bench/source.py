"""Where a benchmark's numbers come from: :class:`Source`, said in every report made from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Source"]


@dataclass(frozen=True)
class Source:
    """Where a benchmark's numbers come from.

    Attributes:
        kind: ``"table"`` (trained cells read from a table) or ``"surrogate"`` (predicted).
        synthetic: the numbers derive from a synthetic table, not from training.
        origin: the file or spec it was opened from (``"synthetic:0"``, a path), or
            ``"memory"``.
        detail: what it holds, e.g. ``"6466 rows"`` or ``"xgb fitted on 20% of 6466 rows"``.
        in_progress: a table of the chunks a running build has committed so far.
        fitted_on: for a surrogate, the source of the benchmark it was fitted on.
        reads: what queries without a repeat read, where it is not the run seed's draw (a
            view of :meth:`Benchmark.with_default_repeat`), e.g. ``"the mean of 3 repeats"``.

    Example:
        >>> Source("table", True, "synthetic:0", "6466 rows").describe()
        'SYNTHETIC table synthetic:0 (6466 rows)'
    """

    kind: Literal["table", "surrogate"]
    synthetic: bool
    origin: str = "memory"
    detail: str = ""
    in_progress: bool = False
    fitted_on: Source | None = None
    reads: str = ""

    def describe(self) -> str:
        """One line for a report header."""
        head = "SURROGATE" if self.kind == "surrogate" else "table"
        text = f"{'SYNTHETIC ' if self.synthetic else ''}{head} {self.origin}"
        progress = "build in progress" if self.in_progress else ""
        reads = f"queries read {self.reads}" if self.reads else ""
        notes = [n for n in (progress, self.detail, reads) if n]
        return f"{text} ({'; '.join(notes)})" if notes else text
