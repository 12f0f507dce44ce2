"""Epoch ladders of the multi-fidelity strategies: Hyperband's brackets (Li et al. 2017),
successive-halving rungs, and the checks that a ladder fits a benchmark's budgets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from nasbench_sim.checks import is_int
from nasbench_sim.errors import StrategyConfigError

__all__ = [
    "Rung",
    "check_ladder",
    "check_rungs",
    "halving_rungs",
    "hyperband_schedule",
    "ladder_budgets",
    "most_rungs",
]


@dataclass(frozen=True, slots=True)
class Rung:
    """One rung of a bracket: ``n`` cells trained to ``epochs`` epochs."""

    n: int
    epochs: int


def _round(x: float) -> int:
    return math.floor(x + 0.5)


def check_ladder(max_epochs: int, eta: int, min_epochs: int) -> None:
    """Raise :class:`StrategyConfigError` unless ``eta >= 2`` and ``1 <= min_epochs <=
    max_epochs`` are ints."""
    for name, value, low in (("eta", eta, 2), ("min_epochs", min_epochs, 1)):
        if not is_int(value) or value < low:
            raise StrategyConfigError(f"{name} must be an int >= {low}, got {value!r}")
    if min_epochs > max_epochs:
        raise StrategyConfigError(
            f"min_epochs={min_epochs} exceeds the benchmark's {max_epochs} epochs; "
            f"allowed 1..{max_epochs}"
        )


def most_rungs(max_epochs: int, eta: int, min_epochs: int) -> int:
    """Largest ``s`` with ``min_epochs * eta**s <= max_epochs`` (exact, no float logs): the most
    aggressive bracket has ``s + 1`` rungs."""
    s = 0
    while min_epochs * eta ** (s + 1) <= max_epochs:
        s += 1
    return s


def halving_rungs(n: int, max_epochs: int, eta: int, s: int) -> tuple[Rung, ...]:
    """The rungs of one successive-halving bracket with ``s + 1`` rungs starting from ``n``
    cells: rung ``i`` keeps ``floor(n / eta**i)`` cells (at least one) trained to
    ``max_epochs * eta**(i - s)`` epochs, rounded to the nearest whole epoch."""
    return tuple(
        Rung(max(1, n // eta**i), max(1, min(max_epochs, _round(max_epochs * eta ** (i - s)))))
        for i in range(s + 1)
    )


def hyperband_schedule(
    max_epochs: int, eta: int = 3, min_epochs: int = 1
) -> tuple[tuple[Rung, ...], ...]:
    """Li et al.'s Hyperband brackets, most aggressive first.

    With ``R = max_epochs / min_epochs`` and ``s_max = floor(log_eta R)``, bracket
    ``s = s_max .. 0`` starts ``ceil((s_max + 1) / (s + 1) * eta**s)`` cells at
    ``max_epochs * eta**-s`` epochs and runs successive halving over ``s + 1`` rungs.

    Example (Li et al. 2017, Table 1: ``R = 81``, ``eta = 3``):
        >>> [[(r.n, r.epochs) for r in b] for b in hyperband_schedule(81, 3)][:2]
        [[(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)], [(34, 3), (11, 9), (3, 27), (1, 81)]]
    """
    check_ladder(max_epochs, eta, min_epochs)
    s_max = most_rungs(max_epochs, eta, min_epochs)
    out = []
    for s in range(s_max, -1, -1):
        # integer arithmetic for ceil((s_max + 1) * eta**s / (s + 1))
        n = -(-(s_max + 1) * eta**s // (s + 1))
        out.append(halving_rungs(n, max_epochs, eta, s))
    return tuple(out)


def ladder_budgets(
    n_epochs: int, budgets: Sequence[int] | None, min_epochs: int | None
) -> tuple[tuple[int, ...], int]:
    """The benchmark's budgets (``None``: every epoch ``1 .. n_epochs``) and the first rung's
    epochs (``None``: the smallest budget).

    Raises:
        StrategyConfigError: budgets that do not end at ``n_epochs``.
    """
    allowed = tuple(range(1, n_epochs + 1)) if budgets is None else tuple(sorted(budgets))
    if not allowed or allowed[-1] != n_epochs:
        raise StrategyConfigError(f"budgets {allowed} must end at n_epochs={n_epochs}")
    return allowed, allowed[0] if min_epochs is None else min_epochs


def check_rungs(name: str, epochs: Sequence[int], budgets: Sequence[int], eta: int) -> None:
    """Raise :class:`StrategyConfigError` unless every rung's epochs is one of ``budgets``."""
    bad = sorted({int(e) for e in epochs} - {int(b) for b in budgets})
    if bad:
        raise StrategyConfigError(
            f"{name}: rungs at {', '.join(map(str, bad))} epochs (eta={eta}) are not among the "
            f"benchmark's budgets {', '.join(map(str, budgets))}; choose eta and min_epochs so "
            "that every rung is a budget (NAS-Bench-101: eta=3, min_epochs=4)"
        )
