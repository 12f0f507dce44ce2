"""Optuna's samplers as search strategies, through Optuna's ask/tell interface.

A cell is one categorical parameter per edge (``edge_0_1``, ``edge_0_2``, ... with the op names
as choices); a trial's value is the cell's validation accuracy, maximised. Each strategy owns
an in-memory study and a sampler seeded from the strategy's seed; several trials may be in
flight at once (asynchronous workers), which Optuna supports natively.

Logging: Optuna announces every new study at INFO level on its ``optuna`` logger. The adapter
raises the level of the one logger that does it (``optuna.storages._in_memory``) for the
moment of creating the study and restores it afterwards; Optuna's global verbosity is never
changed. ``ask`` and ``tell`` log nothing.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.trial import Trial, TrialState

from nasbench_sim.bench.results import Result
from nasbench_sim.errors import StrategyConfigError
from nasbench_sim.search.base import Proposal, Strategy
from nasbench_sim.search.reinforce import edge_op_decisions
from nasbench_sim.space import Cell, SearchSpace

__all__ = ["OptunaRandom", "OptunaStrategy", "OptunaTPE"]

SamplerFactory = Callable[..., optuna.samplers.BaseSampler]
_NAMED: dict[str, SamplerFactory] = {
    "tpe": optuna.samplers.TPESampler,
    "random": optuna.samplers.RandomSampler,
}
_TPE_DEFAULTS: dict[str, Any] = {
    "n_startup_trials": 10,
    "n_ei_candidates": 24,
    "multivariate": True,
    "constant_liar": "auto",
}


@contextmanager
def _quiet_study_creation() -> Iterator[None]:
    logger = logging.getLogger("optuna.storages._in_memory")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class OptunaStrategy(Strategy):
    """Any Optuna sampler driving the search, one categorical parameter per edge.

    Args:
        sampler: ``"tpe"``, ``"random"``, or a factory called as
            ``factory(seed=int, **sampler_kwargs)`` that returns an
            ``optuna.samplers.BaseSampler`` (a sampler class such as
            ``optuna.samplers.QMCSampler`` works).
        max_resamples: trials per ``ask`` that may land on a cell already evaluated or in
            flight. A known cell is told its known value at once (a re-query would be free and
            identical); a cell still in flight is told ``FAIL``; then Optuna is asked again.
            After that many, a uniformly random unseen cell is enqueued as the trial.
        **sampler_kwargs: passed to the sampler. For ``"tpe"`` the defaults are
            ``n_startup_trials=10, n_ei_candidates=24, multivariate=True,
            constant_liar="auto"``; ``"auto"`` switches Optuna's constant liar on (re-seeding
            the sampler from the strategy's RNG) the first time a trial is asked while
            another is still running, i.e. only with several workers.

    Raises:
        StrategyConfigError: for an unknown sampler name, arguments the sampler rejects, or a
            factory that does not return a sampler.
        UnsupportedSpaceError: for spaces without one op choice per edge.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> s = OptunaStrategy(get_space("nb201"), n_epochs=12, seed=0, sampler="random")
        >>> p = s.ask(); s.study.trials[0].params["edge_0_1"] == p.arch.op_names[0]
        True
    """

    name = "optuna"

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        sampler: str | SamplerFactory = "tpe",
        max_resamples: int = 20,
        **sampler_kwargs: Any,
    ) -> None:
        super().__init__(space, n_epochs, seed)
        edge_op_decisions(space, self.name)
        if isinstance(sampler, str):
            if sampler not in _NAMED:
                raise StrategyConfigError(
                    f"unknown Optuna sampler {sampler!r}; allowed: {', '.join(_NAMED)} or a "
                    "factory returning an optuna.samplers.BaseSampler"
                )
            if sampler == "tpe":
                sampler_kwargs = {**_TPE_DEFAULTS, **sampler_kwargs}
            factory = _NAMED[sampler]
        elif callable(sampler):
            factory = sampler
        else:
            raise StrategyConfigError(
                f"sampler must be a name or a factory, got {type(sampler).__name__}"
            )
        if (
            isinstance(max_resamples, bool)
            or not isinstance(max_resamples, int)
            or (max_resamples < 0)
        ):
            raise StrategyConfigError(f"max_resamples must be an int >= 0, got {max_resamples!r}")
        self.max_resamples = max_resamples
        self._factory = factory
        self._liar = sampler_kwargs.pop("constant_liar", None)
        self._sampler_kwargs = sampler_kwargs
        self._names = tuple(f"edge_{s}_{t}" for s, t in space.edges)  # type: ignore[attr-defined]
        self._ops: tuple[str, ...] = tuple(space.ops)  # type: ignore[attr-defined]
        self._distributions: dict[str, BaseDistribution] = {
            n: CategoricalDistribution(self._ops) for n in self._names
        }
        with _quiet_study_creation():
            self.study = optuna.create_study(
                direction="maximize", sampler=self._make_sampler(self._liar is True)
            )
        self._trials: dict[int, Trial] = {}  # in flight, by number
        self._rewards: dict[int, float] = {}  # evaluated cells by index
        self._pending: set[int] = set()

    def _make_sampler(self, liar: bool) -> optuna.samplers.BaseSampler:
        kwargs = dict(self._sampler_kwargs)
        if self._liar is not None:
            kwargs["constant_liar"] = liar
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            try:
                sampler = self._factory(seed=int(self.rng.integers(2**31 - 1)), **kwargs)
            except TypeError as exc:
                raise StrategyConfigError(
                    f"the Optuna sampler rejected the arguments {kwargs}: {exc}"
                ) from exc
        if not isinstance(sampler, optuna.samplers.BaseSampler):
            raise StrategyConfigError(
                f"the sampler factory returned {type(sampler).__name__}, not an Optuna sampler"
            )
        return sampler

    def _cell(self, trial: Trial) -> Cell:
        return Cell.from_names([trial.params[n] for n in self._names])

    def _ask_trial(self) -> Trial:
        if self._liar == "auto" and self._trials and self.study.sampler is not None:
            # a trial is already running: several workers; switch the constant liar on once
            self.study.sampler = self._make_sampler(True)
            self._liar = True
        return self.study.ask(self._distributions)

    def ask(self) -> Proposal:
        for _ in range(self.max_resamples + 1):
            trial = self._ask_trial()
            cell = self._cell(trial)
            known = self._rewards.get(cell.index)
            if known is not None:
                self.study.tell(trial, known)
            elif cell.index in self._pending:
                self.study.tell(trial, state=TrialState.FAIL)
            else:
                return self._propose(trial, cell, "sampler")
        for _ in range(10_000):  # after that the space is all but exhausted: take any cell
            cell = self.space.sample(self.rng)
            if cell.index not in self._rewards and cell.index not in self._pending:
                break
        self.study.enqueue_trial(dict(zip(self._names, cell.op_names, strict=True)))
        trial = self._ask_trial()
        return self._propose(trial, self._cell(trial), "random")

    def _propose(self, trial: Trial, cell: Cell, tag: str) -> Proposal:
        self._trials[trial.number] = trial
        self._pending.add(cell.index)
        return Proposal(cell, tag=(tag, trial.number))

    def tell(self, proposal: Proposal, result: Result) -> None:
        _, number = proposal.tag
        trial = self._trials.pop(number)
        cell: Cell = proposal.arch
        self._pending.discard(cell.index)
        value = float(result.valid_acc)
        if np.isnan(value):
            self.study.tell(trial, state=TrialState.FAIL)
            return
        self._rewards[cell.index] = value
        self.study.tell(trial, value)

    def state(self) -> dict[str, Any]:
        """Trials asked, in flight, and whether the constant liar is on."""
        return {
            "trials": len(self.study.trials),
            "running": len(self._trials),
            "constant_liar": self._liar,
        }


class OptunaTPE(OptunaStrategy):
    """Optuna's tree-structured Parzen estimator (Bergstra et al. 2011), multivariate
    (Falkner et al. 2018), with the constant liar only when trials overlap.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> OptunaTPE(get_space("nb201"), n_epochs=12, seed=0).name
        'optuna_tpe'
    """

    name = "optuna_tpe"

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        **kwargs: Any,
    ) -> None:
        if "sampler" in kwargs:
            raise StrategyConfigError("optuna_tpe fixes sampler='tpe'; use OptunaStrategy")
        super().__init__(space, n_epochs, seed, sampler="tpe", **kwargs)


class OptunaRandom(OptunaStrategy):
    """Optuna's random sampler: a baseline that goes through the same adapter.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> OptunaRandom(get_space("nb201"), n_epochs=12, seed=0).name
        'optuna_random'
    """

    name = "optuna_random"

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        **kwargs: Any,
    ) -> None:
        if "sampler" in kwargs:
            raise StrategyConfigError("optuna_random fixes sampler='random'; use OptunaStrategy")
        super().__init__(space, n_epochs, seed, sampler="random", **kwargs)
