"""The strategy protocol: ask / tell.

A strategy proposes work with :meth:`Strategy.ask` and learns from finished work through
:meth:`Strategy.tell`. With ``n`` asynchronous workers the run loop may call ``ask`` several
times before the matching ``tell`` arrives, and ``tell`` calls come in order of *finish* time,
not ask order; every strategy must cope with pending proposals.

Missing results: the schema allows NaN (a training that diverged or crashed). Every strategy
ranks results by :func:`score`, under which a missing result ranks below every real one, and
learns values (model targets, policy rewards, parents) only from results that are not
:attr:`~nasbench_sim.bench.Result.missing`. A missing result still counts as evaluated: it is
not proposed again.

Each strategy owns a ``np.random.Generator`` built from the seed it is given; no strategy uses
global random state. Same seed, same trajectory.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nasbench_sim.bench.results import Result
from nasbench_sim.space import SearchSpace

__all__ = ["MISSING_SCORE", "Proposal", "Strategy", "score"]

MISSING_SCORE = -math.inf
"""The score of a missing result: below every real validation accuracy."""


def score(result: Result) -> float:
    """The value a strategy ranks ``result`` by: its validation accuracy, or
    :data:`MISSING_SCORE` when that is missing (NaN).

    Example:
        >>> import math
        >>> from types import SimpleNamespace
        >>> score(SimpleNamespace(valid_acc=0.7, missing=False)), score(
        ...     SimpleNamespace(valid_acc=math.nan, missing=True))
        (0.7, -inf)
    """
    return MISSING_SCORE if result.missing else float(result.valid_acc)


@dataclass(frozen=True, slots=True)
class Proposal:
    """One unit of work: train ``arch`` to ``epochs`` epochs (``None``: the full budget).

    Attributes:
        arch: an architecture of the strategy's space.
        epochs: fidelity in epochs, ``1 .. n_epochs``, or ``None`` for ``n_epochs``.
        tag: free-form bookkeeping for the strategy (e.g. a bracket id); never interpreted by
            the run loop.
    """

    arch: Any
    epochs: int | None = None
    tag: Any = None


class Strategy(abc.ABC):
    """Base class of every search strategy.

    Args:
        space: the search space.
        n_epochs: the largest fidelity the benchmark offers (the table's epochs).
        seed: an int or a ``np.random.SeedSequence``; the strategy's RNG comes from it.

    Subclasses set :attr:`name`, implement :meth:`ask` and :meth:`tell`, and take their own
    hyper-parameters as keyword arguments after these three.
    """

    name: ClassVar[str] = "strategy"
    multi_fidelity: ClassVar[bool] = False
    """True for strategies that ask for fewer than ``n_epochs`` epochs."""
    accepts_budgets: ClassVar[bool] = False
    """True when the constructor takes ``budgets=``: the epoch counts the benchmark answers
    (:attr:`~nasbench_sim.bench.Benchmark.budgets`), which the run loop then passes, so that
    every rung the strategy proposes is one of them (NAS-Bench-101: ``4, 12, 36, 108``)."""
    setup_cost_s: float = 0.0
    """Simulated seconds the strategy works before its first proposal can start (e.g. a
    weight-sharing search training its super-network); the run loop starts every worker's
    clock there, so no result exists earlier."""

    def __init__(
        self, space: SearchSpace, n_epochs: int, seed: int | np.random.SeedSequence = 0
    ) -> None:
        self.space = space
        self.n_epochs = int(n_epochs)
        self.seed_sequence = (
            seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        )
        self.rng = np.random.default_rng(self.seed_sequence)

    @abc.abstractmethod
    def ask(self) -> Proposal:
        """The next piece of work to run."""

    @abc.abstractmethod
    def tell(self, proposal: Proposal, result: Result) -> None:
        """The outcome of a proposal this strategy asked for."""

    def diagnostics(self) -> dict[str, Any]:
        """Counters worth keeping with a run (model fits, pruned trials, promotions...): flat,
        JSON-able values. The run loop stores them in ``RunResult.meta["diagnostics"]``."""
        return {}
