"""Successive halving and Hyperband over training epochs (Jamieson & Talwalkar 2016; Li et al.
2017).

A *bracket* samples ``n`` fresh cells, trains them all to the first rung's epochs, keeps the top
``1/eta`` by the validation accuracy observed at that rung, trains those further, and so on up to
``n_epochs``. A promotion asks for the cell again at the higher epoch count; the simulated clock
charges only the epochs not yet trained, so promotions cost what continuing the training costs.

On a benchmark that answers a few budgets only (NAS-Bench-101: ``4, 12, 36, 108`` epochs,
passed as ``budgets=``), the first rung defaults to the smallest budget and every rung must be
a budget (``eta=3`` fits NAS-Bench-101 exactly); there each budget is a separate training run,
so a promotion costs a whole run of the higher budget (the clock charges it so).

Hyperband cycles brackets of different aggressiveness (Li et al.'s schedule, see
:func:`hyperband_schedule`); successive halving repeats one bracket. Both repeat brackets
until the run loop stops asking.

Asynchrony: brackets are synchronous inside (a rung is decided once all of its results are in),
but never block a worker. ``ask`` hands out the next waiting job of the oldest bracket that has
one; when every open bracket is waiting on results, the next bracket of the schedule opens and
its sampling starts. With one worker this is exactly sequential successive halving /
Hyperband; with ``n`` workers up to a few brackets overlap.

:class:`ASHA` (Li et al. 2020) drops the brackets altogether: a cell is promoted as soon as it
is in the top ``1/eta`` of the results its rung has so far, so no worker ever waits for a rung
to fill.
"""

from __future__ import annotations

import bisect
import itertools
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasbench_sim.bench.results import Result
from nasbench_sim.checks import is_int
from nasbench_sim.errors import StrategyConfigError
from nasbench_sim.search.base import MISSING_SCORE, Proposal, Strategy, score
from nasbench_sim.search.ladders import (
    Rung,
    check_ladder,
    check_rungs,
    halving_rungs,
    hyperband_schedule,
    ladder_budgets,
    most_rungs,
)
from nasbench_sim.search.sampling import fresh_index
from nasbench_sim.space import SearchSpace

__all__ = [
    "ASHA",
    "Hyperband",
    "Rung",
    "SuccessiveHalving",
    "check_rungs",
    "halving_rungs",
    "hyperband_schedule",
    "ladder_budgets",
]


def _fresh_cell(space: SearchSpace, rng: np.random.Generator, seen: set[int]) -> Any:
    """A uniformly sampled cell not in ``seen`` (added to it); ``seen`` restarts once every
    candidate cell has been drawn."""
    if len(seen) >= space.n_candidates:
        seen.clear()
    i = fresh_index(space, rng, seen)
    seen.add(i)
    return space.from_index(i)


@dataclass
class _Bracket:
    bid: int
    rungs: tuple[Rung, ...]
    members: list[Any]
    rung: int = 0
    queue: deque[int] = field(default_factory=deque)
    scores: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.queue.extend(range(len(self.members)))


class _Halving(Strategy):
    """Multi-fidelity over epochs with reduction factor ``eta`` from ``min_epochs`` up."""

    multi_fidelity = True
    accepts_budgets = True

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        eta: int = 3,
        min_epochs: int | None = None,
        budgets: Sequence[int] | None = None,
    ) -> None:
        super().__init__(space, n_epochs, seed)
        self.budgets, min_epochs = ladder_budgets(self.n_epochs, budgets, min_epochs)
        check_ladder(self.n_epochs, eta, min_epochs)
        self.eta = int(eta)
        self.min_epochs = int(min_epochs)


class _Brackets(_Halving):
    """Shared machinery: open brackets, hand out jobs, promote when a rung is complete."""

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        eta: int = 3,
        min_epochs: int | None = None,
        budgets: Sequence[int] | None = None,
    ) -> None:
        super().__init__(space, n_epochs, seed, eta=eta, min_epochs=min_epochs, budgets=budgets)
        self._open: list[_Bracket] = []
        self._seen: set[int] = set()
        self.n_brackets = 0  # brackets opened so far
        self.promotions: list[tuple[int, int, list[int]]] = []
        """``(bracket, rung, indices promoted from it)`` for every decided rung."""

    def _schedule(self, k: int) -> tuple[Rung, ...]:
        """Rungs of the ``k``-th bracket opened."""
        raise NotImplementedError

    def _fresh(self) -> Any:
        return _fresh_cell(self.space, self.rng, self._seen)

    def _open_bracket(self) -> _Bracket:
        rungs = self._schedule(self.n_brackets)
        members = [self._fresh() for _ in range(rungs[0].n)]
        bracket = _Bracket(self.n_brackets, rungs, members)
        self.n_brackets += 1
        self._open.append(bracket)
        return bracket

    def ask(self) -> Proposal:
        bracket = next((b for b in self._open if b.queue), None)
        if bracket is None:
            bracket = self._open_bracket()
        pos = bracket.queue.popleft()
        epochs = bracket.rungs[bracket.rung].epochs
        return Proposal(bracket.members[pos], epochs, tag=(bracket.bid, bracket.rung, pos))

    def tell(self, proposal: Proposal, result: Result) -> None:
        bid, rung, pos = proposal.tag
        bracket = next(b for b in self._open if b.bid == bid)
        bracket.scores[pos] = score(result)
        if len(bracket.scores) < len(bracket.members):
            return
        if rung + 1 == len(bracket.rungs):
            self._open.remove(bracket)
            return
        keep = bracket.rungs[rung + 1].n
        # best first; ties go to the earlier member, so finish order never matters
        order = sorted(range(len(bracket.members)), key=lambda p: (-bracket.scores[p], p))[:keep]
        bracket.members = [bracket.members[p] for p in order]
        self.promotions.append((bid, rung, [self.space.to_index(a) for a in bracket.members]))
        bracket.rung += 1
        bracket.scores = {}
        bracket.queue = deque(range(len(bracket.members)))

    def diagnostics(self) -> dict[str, Any]:
        """Brackets opened, still open, and cells promoted."""
        return {
            "brackets": self.n_brackets,
            "open_brackets": len(self._open),
            "promotions": sum(len(p[2]) for p in self.promotions),
        }


class SuccessiveHalving(_Brackets):
    """Successive halving, one bracket shape repeated until the budget runs out.

    Args:
        eta: keep the top ``1/eta`` of each rung.
        min_epochs: lower bound of the first rung (default: the smallest budget, 1 on a
            per-epoch table). The bracket has ``s + 1`` rungs, ``s`` the most halvings with
            ``min_epochs * eta**s <= n_epochs``; rung ``i`` trains to ``n_epochs * eta**(i -
            s)`` epochs, rounded.
        n: cells in the first rung (default ``eta**s``: one cell reaches ``n_epochs``).
        budgets: the epoch counts the benchmark answers (``None``: every epoch); every rung
            must be one of them.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> sh = SuccessiveHalving(get_space("nb201"), n_epochs=12, seed=0)
        >>> [(r.n, r.epochs) for r in sh.rungs]
        [(9, 1), (3, 4), (1, 12)]
    """

    name = "successive_halving"

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        eta: int = 3,
        min_epochs: int | None = None,
        n: int | None = None,
        budgets: Sequence[int] | None = None,
    ) -> None:
        super().__init__(space, n_epochs, seed, eta=eta, min_epochs=min_epochs, budgets=budgets)
        s = most_rungs(self.n_epochs, self.eta, self.min_epochs)
        if n is None:
            n = self.eta**s
        if not is_int(n) or n < 1:
            raise StrategyConfigError(f"n must be an int >= 1, got {n!r}")
        self.n = int(n)
        self.rungs = halving_rungs(self.n, self.n_epochs, self.eta, s)
        check_rungs(self.name, [r.epochs for r in self.rungs], self.budgets, self.eta)

    def _schedule(self, k: int) -> tuple[Rung, ...]:
        return self.rungs


class Hyperband(_Brackets):
    """Hyperband: successive-halving brackets from most to least aggressive, cycled.

    Args:
        eta: keep the top ``1/eta`` of each rung.
        min_epochs: the smallest rung's epochs (Li et al.'s ``r``, one unit of resource;
            default: the smallest budget).
        budgets: the epoch counts the benchmark answers (``None``: every epoch); every rung
            must be one of them.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> hb = Hyperband(get_space("nb201"), n_epochs=12, seed=0)
        >>> [[(r.n, r.epochs) for r in b] for b in hb.schedule]
        [[(9, 1), (3, 4), (1, 12)], [(5, 4), (1, 12)], [(3, 12)]]
    """

    name = "hyperband"

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        eta: int = 3,
        min_epochs: int | None = None,
        budgets: Sequence[int] | None = None,
    ) -> None:
        super().__init__(space, n_epochs, seed, eta=eta, min_epochs=min_epochs, budgets=budgets)
        self.schedule = hyperband_schedule(self.n_epochs, self.eta, self.min_epochs)
        epochs = [r.epochs for bracket in self.schedule for r in bracket]
        check_rungs(self.name, epochs, self.budgets, self.eta)

    def _schedule(self, k: int) -> tuple[Rung, ...]:
        return self.schedule[k % len(self.schedule)]


class ASHA(_Halving):
    """Asynchronous successive halving (Li et al., "A System for Massively Parallel
    Hyperparameter Tuning", MLSys 2020).

    Rungs as in one successive-halving bracket (rung ``k`` trains to ``n_epochs * eta**(k -
    s)`` epochs, ``s`` the most halvings with ``min_epochs * eta**s <= n_epochs``). Every
    ``ask`` looks from the highest rung down for a cell that is in the top
    ``floor(n_k / eta)`` of the ``n_k`` results rung ``k`` has so far and was not promoted yet,
    and promotes it (the clock charges only the extra epochs); when there is none, a fresh
    cell starts at the lowest rung. Nothing ever waits for a rung to fill, so with ``n``
    workers no worker idles; with one worker it is the sequential form of the same rule.

    Args:
        eta: keep the top ``1/eta`` of each rung.
        min_epochs: lower bound of the lowest rung (default: the smallest budget).
        budgets: the epoch counts the benchmark answers (``None``: every epoch); every rung
            must be one of them.

    Attributes:
        rung_epochs: epochs of each rung, lowest first.
        promotions: ``(rung, cell index)`` of every promotion, in order.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> ASHA(get_space("nb201"), n_epochs=12, seed=0).rung_epochs
        (1, 4, 12)
    """

    name = "asha"

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        eta: int = 3,
        min_epochs: int | None = None,
        budgets: Sequence[int] | None = None,
    ) -> None:
        super().__init__(space, n_epochs, seed, eta=eta, min_epochs=min_epochs, budgets=budgets)
        s = most_rungs(self.n_epochs, self.eta, self.min_epochs)
        self.rung_epochs = tuple(r.epochs for r in halving_rungs(1, self.n_epochs, self.eta, s))
        check_rungs(self.name, self.rung_epochs, self.budgets, self.eta)
        self._members: list[Any] = []
        self._results: list[dict[int, float]] = [{} for _ in self.rung_epochs]
        self._promoted: list[set[int]] = [set() for _ in self.rung_epochs]
        self._ranked: list[list[tuple[float, int]]] = [[] for _ in self.rung_epochs]
        self._seen: set[int] = set()
        self.promotions: list[tuple[int, int]] = []

    def ask(self) -> Proposal:
        for k in range(len(self.rung_epochs) - 2, -1, -1):
            ranked = self._ranked[k]
            for neg, m in itertools.islice(ranked, len(ranked) // self.eta):
                if neg == -MISSING_SCORE:
                    break  # a missing (NaN) result is never promoted
                if m not in self._promoted[k]:
                    self._promoted[k].add(m)
                    arch = self._members[m]
                    self.promotions.append((k + 1, self.space.to_index(arch)))
                    return Proposal(arch, self.rung_epochs[k + 1], tag=(m, k + 1))
        m = len(self._members)
        self._members.append(_fresh_cell(self.space, self.rng, self._seen))
        return Proposal(self._members[m], self.rung_epochs[0], tag=(m, 0))

    def tell(self, proposal: Proposal, result: Result) -> None:
        m, k = proposal.tag
        value = score(result)
        self._results[k][m] = value
        # best first; ties go to the earlier cell, so the order of results never matters
        bisect.insort(self._ranked[k], (-value, m))

    def diagnostics(self) -> dict[str, Any]:
        """Promotions so far, and results per rung (lowest first, ``/``-separated)."""
        return {
            "promotions": len(self.promotions),
            "rung_epochs": "/".join(str(e) for e in self.rung_epochs),
            "results_per_rung": "/".join(str(len(r)) for r in self._results),
        }
