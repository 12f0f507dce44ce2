"""One architecture's results in the NAS-Bench-201 / NATS-Bench layout, mapped to table rows.

NATS-Bench (topology space) and NAS-Bench-201 store, per architecture and training budget
(``'12'``, ``'200'``; NAS-Bench-201's ``.pth`` says ``'less'`` and ``'full'``), the state of an
``ArchResults`` object as a plain dict:

``arch_index``, ``arch_str``, ``dataset_seed`` (dataset -> list of seeds) and ``all_results``
((dataset, seed) -> the state of one training run, a ``ResultsCount``), whose keys are
``epochs``, ``train_acc1es`` / ``train_losses`` / ``train_times`` (epoch -> value),
``eval_acc1es`` / ``eval_losses`` / ``eval_times`` (``'<split>@<epoch>'`` -> value),
``params`` (millions), ``flop`` (millions), ``latency`` (a list of seconds, or ``None``),
``arch_config`` (``C``/``channel``, ``N``/``num_cells``, ``class_num``) and ``seed``.

:func:`convert_arch` turns that into one :class:`ArchRecord` per :class:`Selection`
(a dataset at a budget, with the splits that become the validation and test curves). The
mapping is documented in ``docs/import.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_sim.checks import is_int
from nasbench_sim.errors import CellParseError
from nasbench_sim.importers.errors import ImportFormatError
from nasbench_sim.space import Cell

__all__ = [
    "BUDGET_ALIASES",
    "CURVE_METRICS",
    "DEFAULT_SPLITS",
    "ArchRecord",
    "Selection",
    "convert_arch",
    "make_selection",
]

DEFAULT_SPLITS: dict[str, tuple[str | None, str]] = {
    "cifar10-valid": ("x-valid", "ori-test"),
    "cifar10": (None, "ori-test"),
    "cifar100": ("x-valid", "x-test"),
    "ImageNet16-120": ("x-valid", "x-test"),
}
"""Dataset -> (split read as our validation curve, split read as our test curve)."""

BUDGET_ALIASES: dict[str, str] = {"less": "12", "full": "200"}
"""NAS-Bench-201 ``.pth`` budget keys -> the NATS-Bench names."""

CURVE_METRICS: tuple[str, ...] = (
    "train_loss",
    "train_acc",
    "valid_loss",
    "valid_acc",
    "test_loss",
    "test_acc",
)
"""The order of the curves in :attr:`ArchRecord.curves`."""

_KEEP = object()


@dataclass(frozen=True)
class Selection:
    """One output table: a dataset at a training budget and the splits mapped to it.

    Attributes:
        dataset: ``cifar10-valid``, ``cifar10``, ``cifar100`` or ``ImageNet16-120``.
        budget: the training budget key (``"12"``, ``"200"``).
        valid_split: the split read as the validation curve (``None``: none, left NaN).
        test_split: the split read as the test curve.
    """

    dataset: str
    budget: str
    valid_split: str | None
    test_split: str | None


def make_selection(
    dataset: str, budget: str | int, valid_split: Any = _KEEP, test_split: Any = _KEEP
) -> Selection:
    """A :class:`Selection` with the documented default splits unless overridden.

    Example:
        >>> make_selection("cifar100", 200)
        Selection(dataset='cifar100', budget='200', valid_split='x-valid', test_split='x-test')
    """
    default = DEFAULT_SPLITS.get(dataset, (None, None))
    return Selection(
        dataset=str(dataset),
        budget=BUDGET_ALIASES.get(str(budget), str(budget)),
        valid_split=default[0] if valid_split is _KEEP else valid_split,
        test_split=default[1] if test_split is _KEEP else test_split,
    )


@dataclass(frozen=True)
class ArchRecord:
    """The runs of one architecture for one selection, as compact arrays.

    Attributes:
        index: the cell's index in our ``nb201`` space.
        seeds: the seed label of each run.
        curves: float32 ``(runs, 6, epochs)`` in :data:`CURVE_METRICS` order, accuracies as
            fractions, NaN where the file has no value.
        epoch_time: float64 ``(runs,)``: mean training time of one epoch (NaN: none recorded).
        constant_times: how many runs record the same time for every epoch (pseudo times).
        timed_runs: how many runs record training times at all.
        eval_time: mean time of one evaluation of the validation split (NaN: none).
        params, flops, latency_s: parameter count, FLOPs, latency in seconds (NaN: none).
        config: the network's ``C``, ``N`` and ``num_classes`` as the file states them.
    """

    index: int
    seeds: tuple[int, ...]
    curves: np.ndarray
    epoch_time: np.ndarray
    constant_times: int
    timed_runs: int
    eval_time: float
    params: float
    flops: float
    latency_s: float
    config: tuple[tuple[str, int], ...]


def _num(value: Any, what: str, source: str) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ImportFormatError(source, f"{what} is {value!r}, not a number") from None


def _by_epoch(values: Any, n: int, what: str, source: str) -> np.ndarray:
    """``n`` values from an epoch-keyed dict (or a list); NaN where absent."""
    out = np.full(n, np.nan)
    if values is None:
        return out
    if isinstance(values, (list, tuple, np.ndarray)):
        arr = np.asarray(values, dtype=np.float64).ravel()[:n]
        out[: arr.size] = arr
        return out
    if not isinstance(values, Mapping):
        raise ImportFormatError(source, f"{what} is a {type(values).__name__}, expected a dict")
    for e in range(n):
        v = values.get(e)
        if v is not None:
            out[e] = _num(v, what, source)
    return out


def _by_split(values: Any, n: int, split: str | None, what: str, source: str) -> np.ndarray:
    """``n`` values of ``split`` from a ``'<split>@<epoch>'``-keyed dict; NaN where absent
    (everywhere when ``split`` is ``None``: no such split is mapped)."""
    out = np.full(n, np.nan)
    if values is None or split is None:
        return out
    if not isinstance(values, Mapping):
        raise ImportFormatError(source, f"{what} is a {type(values).__name__}, expected a dict")
    for e in range(n):
        v = values.get(f"{split}@{e}")
        if v is not None:
            out[e] = _num(v, what, source)
    return out


def _latency(value: Any, source: str) -> float:
    if value is None:
        return math.nan
    vals = [
        _num(v, "latency", source) for v in (value if isinstance(value, (list, tuple)) else [value])
    ]
    vals = [v for v in vals if v > 0]
    return float(np.mean(vals)) if vals else math.nan


def _run(r: Any, sel: Selection, source: str) -> tuple[np.ndarray, tuple[float, ...]]:
    """One run's curves ``(6, E)`` and (epoch time, constant?, timed?, eval time, params,
    flops, latency)."""
    if not isinstance(r, Mapping):
        raise ImportFormatError(source, f"a run is a {type(r).__name__}, expected a dict")
    n = r.get("epochs")
    if not is_int(n) or n < 1:
        raise ImportFormatError(source, f"a run's 'epochs' is {n!r}, not a positive integer")
    n = int(n)
    acc, loss = r.get("eval_acc1es"), r.get("eval_losses")
    curves = np.stack(
        [
            _by_epoch(r.get("train_losses"), n, "train_losses", source),
            _by_epoch(r.get("train_acc1es"), n, "train_acc1es", source) / 100.0,
            _by_split(loss, n, sel.valid_split, "eval_losses", source),
            _by_split(acc, n, sel.valid_split, "eval_acc1es", source) / 100.0,
            _by_split(loss, n, sel.test_split, "eval_losses", source),
            _by_split(acc, n, sel.test_split, "eval_acc1es", source) / 100.0,
        ]
    )
    times = _by_epoch(r.get("train_times"), n, "train_times", source)
    timed = times[np.isfinite(times)]
    split = sel.valid_split or sel.test_split
    evals = _by_split(r.get("eval_times"), n, split, "eval_times", source)
    return curves, (
        float(timed.mean()) if timed.size else math.nan,
        float(timed.size > 1 and timed.max() == timed.min()),
        float(timed.size > 0),
        float(np.nanmean(evals)) if np.isfinite(evals).any() else math.nan,
        _num(r.get("params"), "params", source) * 1e6,
        _num(r.get("flop"), "flop", source) * 1e6,
        _latency(r.get("latency"), source),
    )


def _config(runs: Sequence[Any]) -> tuple[tuple[str, int], ...]:
    cfg = runs[0].get("arch_config") if runs and isinstance(runs[0], Mapping) else None
    if not isinstance(cfg, Mapping):
        return ()
    out = []
    for name, keys in (
        ("C", ("C", "channel")),
        ("N", ("N", "num_cells")),
        ("num_classes", ("class_num", "num_classes")),
    ):
        for k in keys:
            if isinstance(cfg.get(k), (int, np.integer)):
                out.append((name, int(cfg[k])))
                break
    return tuple(out)


def _record(state: Mapping[str, Any], index: int, sel: Selection, source: str) -> ArchRecord | None:
    seeds_of = state.get("dataset_seed")
    results = state.get("all_results")
    if not isinstance(seeds_of, Mapping) or not isinstance(results, Mapping):
        raise ImportFormatError(
            source, "an ArchResults entry without 'dataset_seed' and 'all_results' dicts"
        )
    if sel.dataset not in seeds_of:
        return None
    seeds = tuple(int(s) for s in seeds_of[sel.dataset])
    runs = []
    for s in seeds:
        if (sel.dataset, s) not in results:
            raise ImportFormatError(
                source, f"dataset_seed lists seed {s} of {sel.dataset} but all_results lacks it"
            )
        runs.append(results[(sel.dataset, s)])
    if not runs:
        return None
    parts = [_run(r, sel, source) for r in runs]
    n = max(c.shape[1] for c, _ in parts)
    curves = np.full((len(parts), 6, n), np.nan, dtype=np.float32)
    for k, (c, _) in enumerate(parts):
        curves[k, :, : c.shape[1]] = c
    stats = np.array([p for _, p in parts])
    with np.errstate(all="ignore"):
        mean = [float(np.nanmean(col)) if np.isfinite(col).any() else math.nan for col in stats.T]
    return ArchRecord(
        index=index,
        seeds=seeds,
        curves=curves,
        epoch_time=stats[:, 0].copy(),
        constant_times=int(stats[:, 1].sum()),
        timed_runs=int(stats[:, 2].sum()),
        eval_time=mean[3],
        params=mean[4],
        flops=mean[5],
        latency_s=mean[6],
        config=_config(runs),
    )


def convert_arch(
    by_budget: Any, arch_str: str, selections: Sequence[Selection], source: str
) -> tuple[list[ArchRecord | None], set[str], set[str]]:
    """Map one architecture's results to one record per selection.

    Args:
        by_budget: budget key -> ArchResults state dict (``'less'``/``'full'`` accepted).
        arch_str: the architecture's NAS-Bench-201 string, as the benchmark's index lists it.
        selections: the tables being built.
        source: the file, for error messages.

    Returns:
        One record per selection (``None`` where the file has no run of that dataset at that
        budget), the budgets and the datasets the file holds.

    Raises:
        ImportFormatError: the structure or a value is not what the format prescribes, or the
            entry's own ``arch_str`` disagrees with ``arch_str``.
    """
    if not isinstance(by_budget, Mapping):
        raise ImportFormatError(
            source,
            "expected a dict keyed by training budget ('12', '200'), got "
            f"{type(by_budget).__name__}",
        )
    try:
        index = Cell.from_str(arch_str).index
    except CellParseError as exc:
        raise ImportFormatError(source, f"not a NAS-Bench-201 architecture: {exc}") from None
    states = {BUDGET_ALIASES.get(str(k), str(k)): v for k, v in by_budget.items()}
    datasets: set[str] = set()
    for budget, state in states.items():
        if not isinstance(state, Mapping):
            raise ImportFormatError(
                source, f"budget {budget!r} holds a {type(state).__name__}, expected a dict"
            )
        own = state.get("arch_str")
        if own is not None and own != arch_str:
            raise ImportFormatError(source, f"holds {own!r} where the index lists {arch_str!r}")
        if isinstance(state.get("dataset_seed"), Mapping):
            datasets.update(str(d) for d in state["dataset_seed"])
    out: list[ArchRecord | None] = []
    for sel in selections:
        state = states.get(sel.budget)
        out.append(None if state is None else _record(state, index, sel, source))
    return out, set(states), datasets
