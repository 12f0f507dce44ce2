"""Optuna's samplers as search strategies, through Optuna's ask/tell interface.

A cell is one categorical parameter per choice of the space's
:meth:`~nasbench_sim.space.SearchSpace.decisions` (NAS-Bench-201: one per edge, ``edge_0_1``,
``edge_0_2``, ... with the op names as choices; NAS-Bench-101: the 21 edge bits and the 5
interior ops of a 7-vertex spec); a trial's value is the cell's validation accuracy,
maximised. Choices that write no cell of the benchmark (an invalid NAS-Bench-101 graph, a
cell a partial table or a graph table lacks) are asked again. With a sampler that takes
constraints into account (TPE, NSGA-II) such a trial is completed as infeasible
(``trial.set_constraint``: Optuna ranks infeasible trials below every feasible one, whatever
their value), so the sampler learns to stop proposing where the benchmark has nothing; with
other samplers it is told ``FAIL``. On a table that covers every cell none arises and the
search is unchanged. Each strategy owns
an in-memory study and a sampler seeded from the strategy's seed; several trials may be in
flight at once (asynchronous workers), which Optuna supports natively.

Multi-fidelity (``pruner=``): a trial trains its cell up an epoch ladder (``min_epochs * eta**k``
epochs, then ``n_epochs``; ``min_epochs`` defaults to the benchmark's smallest budget, and every
rung must be a budget: ``4, 12, 36, 108`` on NAS-Bench-101, where each is a separate run),
reports the validation accuracy at each rung with ``trial.report`` and asks the pruner
``trial.should_prune()``; a pruned trial is told ``PRUNED``, a surviving one is continued (the
simulated clock charges only the extra epochs of a learning curve, a whole run of separate
budgets) and told its final accuracy at ``n_epochs``. With the TPE sampler and Optuna's
``HyperbandPruner`` this is Optuna's BOHB-style search (``optuna_tpe_hyperband``). The study
has a fixed name, so the pruner's bracket assignment (a CRC of the study name and trial number)
is reproducible.

Logging: Optuna announces every new study at INFO level on its ``optuna`` logger. The adapter
raises the level of the one logger that does it (``optuna.storages._in_memory``) for the
moment of creating the study and restores it afterwards; Optuna's global verbosity is never
changed. ``ask`` and ``tell`` log nothing.
"""

from __future__ import annotations

import logging
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Literal

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.trial import Trial, TrialState

from nasbench_sim.bench.results import Result
from nasbench_sim.checks import is_int
from nasbench_sim.errors import CellNotInTableError, CellParseError, StrategyConfigError
from nasbench_sim.search.base import Proposal, Strategy
from nasbench_sim.search.ladders import check_rungs, ladder_budgets
from nasbench_sim.search.optuna_pruning import PrunerFactory, epoch_ladder, make_pruner
from nasbench_sim.search.reinforce import space_decisions
from nasbench_sim.search.sampling import fresh_index
from nasbench_sim.space import SearchSpace

__all__ = [
    "UNCOVERED",
    "OptunaRandom",
    "OptunaStrategy",
    "OptunaTPE",
    "OptunaTPEHyperband",
]

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


UNCOVERED = "cell_in_benchmark"
"""The constraint an infeasible trial violates: its choices write no cell of the benchmark."""
_CONSTRAINED_SAMPLERS = (optuna.samplers.TPESampler, optuna.samplers.NSGAIISampler)


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
    """Any Optuna sampler driving the search, one categorical parameter per decision of the
    space (see the module docstring).

    Args:
        sampler: ``"tpe"``, ``"random"``, or a factory called as
            ``factory(seed=int, **sampler_kwargs)`` that returns an
            ``optuna.samplers.BaseSampler`` (a sampler class such as
            ``optuna.samplers.QMCSampler`` works).
        max_resamples: trials per ``ask`` that may land on a cell already evaluated or in
            flight. A known cell is told its known value at once (a re-query would be free and
            identical), a cell pruned before is reported at the rung where it was pruned and
            told ``PRUNED``, a cell still in flight or whose training failed (NaN) is told
            ``FAIL``; then Optuna is asked again.
            After that many, a uniformly random unseen cell is enqueued as the trial.
        **sampler_kwargs: passed to the sampler. For ``"tpe"`` the defaults are
            ``n_startup_trials=10, n_ei_candidates=24, multivariate=True,
            constant_liar="auto"``; ``"auto"`` switches Optuna's constant liar on (re-seeding
            the sampler from the strategy's RNG) the first time a trial is asked while
            another is still running, i.e. only with several workers.
        pruner: ``None`` (every cell trained to ``n_epochs``), ``"hyperband"``,
            ``"successive_halving"``, ``"median"`` or a factory called as
            ``factory(n_epochs=..., min_epochs=..., eta=...)`` returning an
            ``optuna.pruners.BasePruner``. Named pruners get ``min_resource=min_epochs``,
            ``max_resource=n_epochs``, ``reduction_factor=eta`` where they take them; the
            median pruner gets ``n_startup_trials=5, n_warmup_steps=0``.
        min_epochs, eta: the epoch ladder of a pruned search (``min_epochs * eta**k``, then
            ``n_epochs``; ``min_epochs`` defaults to the smallest budget); ignored without a
            pruner.
        budgets: the epoch counts the benchmark answers (``None``: every epoch); every rung of
            the ladder must be one of them.

    Raises:
        StrategyConfigError: for an unknown sampler or pruner name, arguments the sampler
            rejects, a factory that does not return a sampler or pruner, or a bad ladder.
        UnsupportedSpaceError: for spaces whose cells are not written as choices.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> s = OptunaStrategy(get_space("nb201"), n_epochs=12, seed=0, sampler="random")
        >>> p = s.ask(); s.study.trials[0].params["edge_0_1"] == p.arch.op_names[0]
        True
    """

    name = "optuna"
    accepts_budgets = True

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        sampler: str | SamplerFactory = "tpe",
        max_resamples: int = 20,
        pruner: str | PrunerFactory | None = None,
        min_epochs: int | None = None,
        eta: int = 3,
        budgets: Sequence[int] | None = None,
        **sampler_kwargs: Any,
    ) -> None:
        super().__init__(space, n_epochs, seed)
        decisions = space_decisions(space, self.name)
        self.budgets, min_epochs = ladder_budgets(self.n_epochs, budgets, min_epochs)
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
        if not is_int(max_resamples, numpy=False) or max_resamples < 0:
            raise StrategyConfigError(f"max_resamples must be an int >= 0, got {max_resamples!r}")
        self.max_resamples = max_resamples
        self._factory = factory
        self._liar = sampler_kwargs.pop("constant_liar", None)
        self._sampler_kwargs = sampler_kwargs
        self._names = tuple(n for n, _ in decisions)
        self._choices = tuple(c for _, c in decisions)
        self._distributions: dict[str, BaseDistribution] = {
            n: CategoricalDistribution(c) for n, c in decisions
        }
        self._ladder = epoch_ladder(self.n_epochs, min_epochs, eta) if pruner is not None else ()
        check_rungs(self.name, self._ladder, self.budgets, int(eta))
        with _quiet_study_creation():
            self.study = optuna.create_study(
                directions=self._directions(),
                sampler=self._make_sampler(self._liar is True),
                pruner=make_pruner(pruner, self.n_epochs, min_epochs, eta),
                study_name="nasbench-sim",
            )
        self.multi_fidelity = bool(self._ladder)  # type: ignore[misc]
        self._trials: dict[int, Trial] = {}  # in flight, by number
        self._rewards: dict[int, float | list[float]] = {}  # evaluated cells: what was told
        self._pruned: dict[int, tuple[float, int]] = {}  # pruned cells: (accuracy, epochs)
        self._pending: set[int] = set()
        self._failed: set[int] = set()  # cells whose training gave NaN
        self._continue: deque[tuple[int, Any, int]] = deque()  # (trial, cell, next epochs)
        self.n_pruned = 0

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

    def _directions(self) -> list[Literal["minimize", "maximize"]]:
        """The study's directions: one objective, the validation accuracy, maximised
        (subclasses optimise several; see :mod:`nasbench_sim.search.mo.optuna_mo`)."""
        return ["maximize"]

    def _value(self, result: Result) -> np.ndarray:
        """What a trial is told, one entry per direction."""
        return np.array([result.valid_acc], dtype=np.float64)

    def _cell(self, trial: Trial) -> Any:
        """The cell a trial's parameters write, or ``None`` when they write none of the
        benchmark's cells."""
        values = [c.index(trial.params[n]) for n, c in zip(self._names, self._choices, strict=True)]
        try:
            return self.space.from_decisions(values)
        except (CellParseError, CellNotInTableError):  # not a valid cell; not in the table
            return None

    def _params(self, cell: Any) -> dict[str, Any]:
        values = self.space.to_decisions(cell)
        return {n: c[v] for n, c, v in zip(self._names, self._choices, values, strict=True)}

    def _ask_trial(self) -> Trial:
        if self._liar == "auto" and self._trials and self.study.sampler is not None:
            # a trial is already running: several workers; switch the constant liar on once
            self.study.sampler = self._make_sampler(True)
            self._liar = True
        return self.study.ask(self._distributions)

    def ask(self) -> Proposal:
        if self._continue:  # a trial the pruner kept goes up the ladder first
            number, cell, epochs = self._continue.popleft()
            return Proposal(cell, epochs, tag=("continue", number))
        for _ in range(self.max_resamples + 1):
            trial = self._ask_trial()
            cell = self._cell(trial)
            index = -1 if cell is None else self.space.to_index(cell)
            known = self._rewards.get(index)
            if known is not None:
                self.study.tell(trial, known)
            elif index in self._pruned:  # the same curve again: pruned where it was
                value, epochs = self._pruned[index]
                trial.report(value, epochs)
                self.study.tell(trial, state=TrialState.PRUNED)
            elif cell is None or not self.space.contains(index):  # no cell of the benchmark
                if isinstance(self.study.sampler, _CONSTRAINED_SAMPLERS):
                    trial.set_constraint(UNCOVERED, 1.0)  # infeasible: its value is not compared
                    self.study.tell(trial, [0.0] * len(self.study.directions))
                else:
                    self.study.tell(trial, state=TrialState.FAIL)
            elif index in self._pending or index in self._failed:
                self.study.tell(trial, state=TrialState.FAIL)
            else:
                return self._propose(trial, cell, "sampler")
        index = fresh_index(
            self.space, self.rng, self._rewards, self._pending, self._pruned, self._failed
        )
        cell = self.space.from_index(index)
        self.study.enqueue_trial(self._params(cell))
        trial = self._ask_trial()
        return self._propose(trial, cell, "random")

    def _propose(self, trial: Trial, cell: Any, tag: str) -> Proposal:
        self._trials[trial.number] = trial
        self._pending.add(self.space.to_index(cell))
        epochs = self._ladder[0] if self._ladder else None
        return Proposal(cell, epochs, tag=(tag, trial.number))

    def tell(self, proposal: Proposal, result: Result) -> None:
        _, number = proposal.tag
        trial = self._trials[number]
        cell = proposal.arch
        index = self.space.to_index(cell)
        value = self._value(result)
        done = True
        if result.missing or np.isnan(value).any():  # no value to tell (see search.base)
            self._failed.add(index)
            self.study.tell(trial, state=TrialState.FAIL)
        elif not self._ladder or result.epoch >= self.n_epochs:
            told = float(value[0]) if value.size == 1 else value.tolist()
            self._rewards[index] = told
            if self._ladder:
                trial.report(float(value[0]), int(result.epoch))
            self.study.tell(trial, told)
        else:
            trial.report(float(value[0]), int(result.epoch))
            if trial.should_prune():
                self._pruned[index] = (float(value[0]), int(result.epoch))
                self.study.tell(trial, state=TrialState.PRUNED)
                self.n_pruned += 1
            else:
                rung = self._ladder.index(int(result.epoch))
                self._continue.append((number, cell, self._ladder[rung + 1]))
                done = False
        if done:
            del self._trials[number]
            self._pending.discard(index)

    def diagnostics(self) -> dict[str, Any]:
        """Trials asked, in flight, and whether the constant liar is on."""
        return {
            "trials": len(self.study.trials),
            "running": len(self._trials),
            "pruned": self.n_pruned,
            "constant_liar": str(self._liar),
        }


class _Preset(OptunaStrategy):
    """An :class:`OptunaStrategy` with the arguments in :attr:`preset` fixed; passing one of
    them is an error that points to :class:`OptunaStrategy`."""

    preset: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        **kwargs: Any,
    ) -> None:
        fixed = [k for k in self.preset if k in kwargs]
        if fixed:
            given = ", ".join(f"{k}={self.preset[k]!r}" for k in fixed)
            raise StrategyConfigError(f"{self.name} fixes {given}; use OptunaStrategy")
        super().__init__(space, n_epochs, seed, **self.preset, **kwargs)


class OptunaTPE(_Preset):
    """Optuna's tree-structured Parzen estimator (Bergstra et al. 2011), multivariate
    (Falkner et al. 2018), with the constant liar only when trials overlap.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> OptunaTPE(get_space("nb201"), n_epochs=12, seed=0).name
        'optuna_tpe'
    """

    name = "optuna_tpe"
    preset: ClassVar[dict[str, Any]] = {"sampler": "tpe"}


class OptunaRandom(_Preset):
    """Optuna's random sampler: a baseline that goes through the same adapter.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> OptunaRandom(get_space("nb201"), n_epochs=12, seed=0).name
        'optuna_random'
    """

    name = "optuna_random"
    preset: ClassVar[dict[str, Any]] = {"sampler": "random"}


class OptunaTPEHyperband(_Preset):
    """Optuna's BOHB-style search: multivariate TPE proposing cells, Optuna's
    ``HyperbandPruner`` stopping them on an epoch ladder (Falkner et al. 2018 combine the same
    two ideas; Optuna's documentation recommends this pairing).

    Args:
        min_epochs, eta: the ladder and the pruner's ``min_resource`` / ``reduction_factor``.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> s = OptunaTPEHyperband(get_space("nb201"), n_epochs=12, seed=0)
        >>> s._ladder, s.ask().epochs
        ((1, 3, 9, 12), 1)
    """

    name = "optuna_tpe_hyperband"
    multi_fidelity = True
    preset: ClassVar[dict[str, Any]] = {"sampler": "tpe", "pruner": "hyperband"}
