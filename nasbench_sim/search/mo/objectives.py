"""Objectives of a multi-objective search: which recorded metrics and costs, in which direction.

An objective is any per-epoch metric a search may see (``valid_acc``, ``valid_loss``,
``train_acc``, ``train_loss``) or any per-cell cost the table records (``params``, ``flops``,
``latency_s``, ``train_time_s``, and whatever an importer added, such as a per-device latency or
energy). Accuracies are maximised by default, everything else minimised; ``name:max`` or
``name:min`` says otherwise.

Two paths, as for single-objective regret:

* the **search path** (:meth:`ObjectiveSet.search_values`): what a strategy sees after a query,
  i.e. the validation metric of the repeat it was served at the epoch it trained to, and the
  cell's costs;
* the **analysis path** (:meth:`ObjectiveSet.reported`): how a cell is scored, i.e. the
  matching test metric (``valid_acc`` is reported as ``test_acc``, ``valid_loss`` as
  ``test_loss``), mean over repeats, at the last epoch, and the same costs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from nasbench_sim.bench.results import Result
from nasbench_sim.errors import NasBenchSimError

__all__ = [
    "METRIC_OBJECTIVES",
    "Objective",
    "ObjectiveError",
    "ObjectiveSet",
    "row_of_cells",
]

METRIC_OBJECTIVES: dict[str, str] = {
    "valid_acc": "test_acc",
    "valid_loss": "test_loss",
    "train_acc": "train_acc",
    "train_loss": "train_loss",
}
"""Per-epoch metrics a search may optimise, and the metric each is reported as."""

_UNITS: dict[str, str] = {
    "test_acc": "test accuracy (fraction)",
    "test_loss": "test loss (cross-entropy)",
    "train_acc": "training accuracy (fraction)",
    "train_loss": "training loss (cross-entropy)",
    "params": "parameters (count)",
    "flops": "FLOPs (per sample)",
    "latency_s": "inference latency (s per batch)",
    "train_time_s": "training time (s per epoch)",
}
_RESULT_COST = {"params": "params", "flops": "flops", "latency_s": "latency"}


class ObjectiveError(NasBenchSimError, ValueError):
    """An objective that is unknown, repeated, or not recorded by the table."""


@dataclass(frozen=True)
class Objective:
    """One objective: a recorded metric or cost and its direction.

    Attributes:
        name: the metric (search-path name, e.g. ``valid_acc``) or cost (e.g. ``latency_s``).
        direction: ``"max"`` or ``"min"``.
    """

    name: str
    direction: Literal["max", "min"]

    @property
    def is_metric(self) -> bool:
        return self.name in METRIC_OBJECTIVES

    @property
    def reported_name(self) -> str:
        """The name on the analysis path (``test_acc`` for ``valid_acc``; costs unchanged)."""
        return METRIC_OBJECTIVES.get(self.name, self.name)

    @property
    def label(self) -> str:
        """Axis label of the reported objective with its unit; the direction is added only
        where it is not the usual one (accuracies maximised, everything else minimised)."""
        text = _UNITS.get(self.reported_name, f"{self.reported_name} (as recorded)")
        usual = "max" if self.name.endswith("_acc") else "min"
        if self.direction != usual:
            text += ", maximised" if self.direction == "max" else ", minimised"
        return text


def _parse_one(token: str) -> Objective:
    name, _, direction = token.strip().partition(":")
    name = name.strip()
    if name.startswith("test_"):
        raise ObjectiveError(
            f"objective {name!r}: a search never sees test metrics; optimise "
            f"{name.replace('test_', 'valid_')!r} (it is reported on {name} by the analysis path)"
        )
    if not direction:
        direction = "max" if name.endswith("_acc") else "min"
    if direction not in ("max", "min"):
        raise ObjectiveError(f"objective {token!r}: the direction must be 'max' or 'min'")
    return Objective(name, direction)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ObjectiveSet:
    """Two or more objectives, with the cost lookups a :class:`Result` does not carry.

    Attributes:
        objectives: the objectives, in order (the first two are a plot's axes).
        extra_costs: cost name -> value per space index (``NaN`` where the table holds no
            row): the costs a :class:`Result` lacks (``train_time_s`` per epoch and any cost
            an importer added). Filled by :meth:`bind`.

    Example:
        >>> objs = ObjectiveSet.parse("valid_acc,latency_s")
        >>> [(o.name, o.direction) for o in objs.objectives]
        [('valid_acc', 'max'), ('latency_s', 'min')]
    """

    objectives: tuple[Objective, ...]
    extra_costs: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [o.name for o in self.objectives]
        if len(names) < 2:
            raise ObjectiveError(f"a multi-objective search needs two or more objectives: {names}")
        if len(set(names)) != len(names):
            raise ObjectiveError(f"an objective is listed twice: {names}")

    @classmethod
    def parse(cls, spec: str | Sequence[str] | ObjectiveSet) -> ObjectiveSet:
        """``"valid_acc,latency_s"``, ``"valid_acc:max,params:min"`` or a list of such tokens."""
        if isinstance(spec, ObjectiveSet):
            return spec
        tokens = spec.split(",") if isinstance(spec, str) else list(spec)
        return cls(tuple(_parse_one(t) for t in tokens if t.strip()))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.objectives)

    @property
    def signs(self) -> np.ndarray:
        """``+1`` for a minimised, ``-1`` for a maximised objective: ``losses = signs * values``."""
        return np.array([1.0 if o.direction == "min" else -1.0 for o in self.objectives])

    def bind(self, bench: Any) -> ObjectiveSet:
        """Check every objective against ``bench`` (a table-backed benchmark) and attach the
        cost lookups the search path needs.

        Raises:
            ObjectiveError: naming the objective and the metrics and costs that are allowed.
        """
        table = getattr(bench, "table", None)
        if table is None:
            raise ObjectiveError(
                "multi-objective scoring needs a table-backed benchmark (its exact front); "
                f"got {type(bench).__name__}"
            )
        known = sorted(METRIC_OBJECTIVES) + sorted(table.cost)
        extra: dict[str, np.ndarray] = {}
        rows = row_of_cells(bench)
        for o in self.objectives:
            if o.is_metric:
                continue
            if o.name not in table.cost:
                raise ObjectiveError(
                    f"unknown objective {o.name!r}; this table records: {', '.join(known)}"
                )
            if o.name not in _RESULT_COST:
                values = np.asarray(table.cost[o.name], dtype=np.float64)
                extra[o.name] = np.where(rows >= 0, values[np.maximum(rows, 0)], np.nan)
        return ObjectiveSet(self.objectives, extra)

    def search_values(self, result: Result) -> np.ndarray:
        """The objective values a search sees in ``result`` (natural units, not losses)."""
        out = np.empty(len(self.objectives))
        for k, o in enumerate(self.objectives):
            if o.is_metric:
                out[k] = getattr(result, o.name)
            elif o.name in _RESULT_COST:
                out[k] = getattr(result, _RESULT_COST[o.name])
            elif o.name in self.extra_costs:
                out[k] = self.extra_costs[o.name][result.index]
            elif o.name == "train_time_s":  # a benchmark without a table: per epoch
                out[k] = result.train_time / max(result.epoch, 1)
            else:
                raise ObjectiveError(f"objective {o.name!r} is not bound; call bind(bench) first")
        return out

    def search_losses(self, result: Result) -> np.ndarray:
        """:meth:`search_values` as losses (lower is better in every coordinate)."""
        return self.signs * self.search_values(result)

    def reported(self, bench: Any) -> np.ndarray:
        """Analysis-path values of every table row ``(n_rows, n_objectives)``: test metrics
        for validation ones, mean over repeats at the last epoch, and the costs."""
        table = bench.table
        cols = []
        for o in self.objectives:
            if o.is_metric:
                arr = np.asarray(table.metrics[o.reported_name], dtype=np.float64)[:, :, -1]
                cols.append(_nanmean_rows(arr))
            else:
                cols.append(np.asarray(table.cost[o.name], dtype=np.float64))
        return np.column_stack(cols)


def _nanmean_rows(arr: np.ndarray) -> np.ndarray:
    """Mean over repeats, NaN (without a warning) for a row with no value."""
    have = np.isfinite(arr)
    n = have.sum(axis=1)
    total = np.where(have, arr, 0.0).sum(axis=1)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def row_of_cells(bench: Any) -> np.ndarray:
    """The table row answering each space index (its own row, else its class's), ``-1`` where
    the table holds neither."""
    space, table = bench.space, bench.table
    cls = space.class_ids()
    class_row = np.full(int(cls.max()) + 1, -1, dtype=np.int64)
    rows = np.arange(table.n_cells, dtype=np.int64)
    class_row[cls[table.arch_index]] = rows
    out = class_row[cls]
    out[table.arch_index] = rows
    return out
