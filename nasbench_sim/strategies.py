"""Every search strategy by name: the core ones of :mod:`nasbench_sim.search`, the
predictor-guided ones of :mod:`predictors`, the weight-sharing replays of
:mod:`nasbench_sim.oneshot`.

This module sits above all three (nothing below it names a strategy of a higher layer), so
``search`` and ``predictors`` never import each other back. Each entry declares its label,
its optional dependencies (``requires``) and the records it needs from the table file
(``needs``); :func:`select_strategies` uses them to say which strategies can run on a given
benchmark and why the others cannot.

Example:
    >>> import nasbench_sim
    >>> from nasbench_sim.bench import Budget
    >>> bench = nasbench_sim.open("synthetic")
    >>> r = run("bo_xgb", bench, Budget(queries=15), seed=0)
    >>> len(r.log), r.meta["diagnostics"]["n_fits"]
    (15, 1)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.bench import Benchmark, Budget
from nasbench_sim.errors import RegistryError, StrategyConfigError
from nasbench_sim.registry import Entry, Registry
from nasbench_sim.search import RunResult, Strategy
from nasbench_sim.search import create as _create
from nasbench_sim.search import run as _run
from nasbench_sim.search.mo.registry import CORE_MO_STRATEGIES, DEFAULT_MO_STRATEGIES
from nasbench_sim.search.registry import CORE_STRATEGIES, lacking_features
from nasbench_sim.sources import Spec, source_file
from nasbench_sim.space import SearchSpace

__all__ = [
    "DEFAULT_MO_STRATEGIES",
    "DEFAULT_STRATEGIES",
    "MO_STRATEGIES",
    "STRATEGIES",
    "WEIGHT_SHARING_STRATEGIES",
    "Selection",
    "create",
    "lacking_features",
    "run",
    "select_strategies",
    "strategy_kwargs",
]

_MODEL_BASED = (
    Entry("bananas", "predictors.strategies:Bananas", "BANANAS"),
    Entry("bo_xgb", "predictors.strategies:XGBoostBO", "BO (XGBoost ens.)"),
    Entry("bo_gcn", "predictors.strategies:GCNBO", "BO (GCN ens.)", requires=("torch",)),
    Entry(
        "pnas",
        "predictors.strategies:ProgressiveSearch",
        "PNAS (progressive)",
        features=("edge_ops",),
    ),
    Entry(
        "random_es",
        "predictors.early_stopping:RandomSearchES",
        "Random search + LC early stop",
        features=("curves",),
    ),
    Entry(
        "evolution_es",
        "predictors.early_stopping:EvolutionES",
        "Reg. evolution + LC early stop",
        features=("curves",),
    ),
    Entry(
        "hyperband_es",
        "predictors.early_stopping:HyperbandES",
        "Hyperband + LC early stop",
        features=("curves",),
    ),
)
_WEIGHT_SHARING = tuple(
    Entry(
        method,
        f"nasbench_sim.oneshot.strategy:{cls}",
        f"{method.upper()} (weight sharing)",
        needs=(f"oneshot/{method}",),
        features=("edge_ops",),
    )
    for method, cls in (("spos", "SposReplay"), ("darts", "DartsReplay"), ("gdas", "GdasReplay"))
)

STRATEGIES: Registry = CORE_STRATEGIES.extended([*_MODEL_BASED, *_WEIGHT_SHARING])
"""Every strategy nasbench-sim knows, by the name the CLI and :func:`run` use. Classes load on
first use (listing them imports neither the predictors nor torch)."""

MO_STRATEGIES: Registry = CORE_MO_STRATEGIES.extended(
    [Entry("mo_parego", "predictors.mo_strategies:ParEGO", "ParEGO (XGBoost ens.)")]
)
"""Every multi-objective strategy (``compare --objectives``): the core ones of
:mod:`nasbench_sim.search.mo` and ParEGO, whose model lives in ``predictors``."""

WEIGHT_SHARING_STRATEGIES: tuple[str, ...] = tuple(e.name for e in _WEIGHT_SHARING)
"""The strategies that replay a super-network stored in the table file (``needs``)."""

DEFAULT_STRATEGIES: tuple[str, ...] = (
    "random",
    "evolution",
    "local_search",
    "reinforce",
    "hyperband",
    "optuna_tpe",
    "bo_xgb",
)
"""What ``compare`` runs when no strategies are given: one of each family, sized so that 100
seeds of all of them replay in well under a minute on two cores. The slower model-based
strategies (``bananas``, ``bo_gcn``, ``pnas``, the ``*_es`` variants) and the rest run with
``--strategies all`` or by name."""


def create(
    name: str,
    space: SearchSpace,
    n_epochs: int,
    seed: int | np.random.SeedSequence = 0,
    **kwargs: Any,
) -> Strategy:
    """:func:`nasbench_sim.search.create` with every strategy of :data:`STRATEGIES` (for a
    benchmark ``bench``: ``create(name, bench.search_space, bench.n_epochs, seed,
    budgets=bench.budgets)``)."""
    return _create(name, space, n_epochs, seed, registry=STRATEGIES, **kwargs)


def run(
    strategy: Strategy | str, bench: Benchmark, budget: Budget, seed: int = 0, **kwargs: Any
) -> RunResult:
    """:func:`nasbench_sim.search.run` with every strategy of :data:`STRATEGIES` by name."""
    return _run(strategy, bench, budget, seed, registry=STRATEGIES, **kwargs)


@dataclass(frozen=True)
class Selection:
    """Strategies chosen for a benchmark.

    Attributes:
        names: the strategies to run, in order.
        left_out: strategies ``"all"`` did not include, with the reason.
    """

    names: tuple[str, ...]
    left_out: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Stored:
    """The records a table file holds: its one-shot groups."""

    path: Path | None
    groups: tuple[tuple[str, int], ...]

    @classmethod
    def read(cls, path: Path | None) -> _Stored:
        if path is None or path.suffix not in (".h5", ".hdf5") or not path.is_file():
            return cls(path, ())
        from nasbench_sim.oneshot import list_oneshot

        return cls(path, tuple(list_oneshot(path)))

    def lacks(self, name: str) -> str | None:
        """Why strategy ``name``'s records are missing (``None``: they are there)."""
        for need in STRATEGIES[name].needs:
            kind, _, method = need.partition("/")
            if kind != "oneshot":
                raise RegistryError(f"strategy {name!r} needs {need!r}: nobody supplies it")
            if method in {m for m, _ in self.groups}:
                continue
            where = "a synthetic table or a surrogate" if self.path is None else str(self.path)
            have = ", ".join(f"{m}/seed_{s}" for m, s in self.groups) or "none"
            return (
                f"needs a {method} super-network stored in the table file; {where} has no "
                f"stored {method} super-network (groups present: {have}); run `nasbench-sim "
                f"oneshot --table T.h5 --method {method}` first"
            )
        return None


def select_strategies(
    names: str | Sequence[str], spec: Spec = None, *, bench: Benchmark | None = None
) -> Selection:
    """The strategies to run on the benchmark opened from ``spec``.

    Args:
        names: ``"all"`` (every strategy that can run here), or names (a comma-separated
            string or a sequence).
        spec: the benchmark's spec (see :func:`nasbench_sim.open`); its table file is where
            stored records (super-networks) are looked up.
        bench: the benchmark opened from ``spec``, when the caller has it (else it is opened
            here), for what strategies need of it (:func:`lacking_features`).

    Raises:
        RegistryError: an unknown name (the message lists the known ones).
        MissingDependencyError: a named strategy needs a module that is not installed.
        StrategyConfigError: no names, a named strategy's records are not in the table, or
            it needs what the benchmark does not offer (a space layout, learning curves).

    Example:
        >>> sel = select_strategies("all", "synthetic")
        >>> len(sel.names) + len(sel.left_out) == len(STRATEGIES), "spos" in sel.left_out
        (True, True)
    """
    if bench is None:
        from nasbench_sim.sources import open as open_benchmark

        bench = open_benchmark(spec)
    stored = _Stored.read(source_file(spec))
    if isinstance(names, str) and names.strip() == "all":
        chosen, left_out = [], {}
        unavailable = STRATEGIES.unavailable()
        for name, entry in STRATEGIES.items():
            why = unavailable.get(name) or lacking_features(entry, bench) or stored.lacks(name)
            if why is None:
                chosen.append(name)
            else:
                left_out[name] = why
        return Selection(tuple(chosen), left_out)
    listed = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
    listed = [n for n in listed if n]
    if not listed:
        raise StrategyConfigError("no strategies given; name some (e.g. random,evolution) or all")
    for name in listed:
        STRATEGIES.load(name)  # unknown name or missing dependency: fail now, saying why
        why = lacking_features(STRATEGIES[name], bench) or stored.lacks(name)
        if why is not None:
            raise StrategyConfigError(f"strategy {name!r} {why}")
    return Selection(tuple(dict.fromkeys(listed)))


def strategy_kwargs(
    names: Sequence[str],
    spec: Spec = None,
    *,
    spos_candidates: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Constructor arguments that supply the records ``names`` need from the table file
    (the stored super-networks of the weight-sharing replays), by strategy name."""
    from nasbench_sim.oneshot.strategy import oneshot_kwargs

    path = source_file(spec)
    table = path if path is not None else spec
    return oneshot_kwargs(table, list(names), spos_candidates=spos_candidates)
