"""The strategy protocol: ask / tell.

A strategy proposes work with :meth:`Strategy.ask` and learns from finished work through
:meth:`Strategy.tell`. With ``n`` asynchronous workers the run loop may call ``ask`` several
times before the matching ``tell`` arrives, and ``tell`` calls come in order of *finish* time,
not ask order; every strategy must cope with pending proposals.

Each strategy owns a ``np.random.Generator`` built from the seed it is given; no strategy uses
global random state. Same seed, same trajectory.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nasbench_sim.bench.results import Result
from nasbench_sim.space import SearchSpace

__all__ = ["Proposal", "Strategy"]


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
