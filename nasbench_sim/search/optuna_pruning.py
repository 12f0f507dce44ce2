"""The pruners of an Optuna search over epochs and the epoch ladder they decide on (see
:mod:`nasbench_sim.search.optuna_adapter`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optuna

from nasbench_sim.errors import StrategyConfigError
from nasbench_sim.search.ladders import check_ladder

__all__ = ["PRUNERS", "PrunerFactory", "epoch_ladder", "make_pruner"]

PrunerFactory = Callable[..., optuna.pruners.BasePruner]
PRUNERS: dict[str, PrunerFactory] = {
    "hyperband": optuna.pruners.HyperbandPruner,
    "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
    "median": optuna.pruners.MedianPruner,
}
"""The pruners known by name."""


def epoch_ladder(n_epochs: int, min_epochs: int, eta: int) -> tuple[int, ...]:
    """``min_epochs * eta**k`` below ``n_epochs``, then ``n_epochs``: the epochs at which a
    trial reports to its pruner (the rungs of Optuna's Hyperband pruner).

    Example:
        >>> epoch_ladder(12, 1, 3), epoch_ladder(108, 4, 3)
        ((1, 3, 9, 12), (4, 12, 36, 108))
    """
    check_ladder(n_epochs, eta, min_epochs)
    ladder = [min_epochs]
    while ladder[-1] * eta < n_epochs:
        ladder.append(ladder[-1] * eta)
    if ladder[-1] != n_epochs:
        ladder.append(n_epochs)
    return tuple(ladder)


def make_pruner(
    pruner: str | PrunerFactory | None, n_epochs: int, min_epochs: int, eta: int
) -> optuna.pruners.BasePruner:
    """The pruner ``pruner`` names or makes (``None``: never prune) for a ladder from
    ``min_epochs`` to ``n_epochs`` with reduction factor ``eta``.

    Raises:
        StrategyConfigError: an unknown name, or a factory that fails or returns something
            other than an Optuna pruner.
    """
    if pruner is None:
        return optuna.pruners.NopPruner()
    min_epochs, eta = int(min_epochs), int(eta)  # checked; Optuna wants Python ints
    if isinstance(pruner, str):
        if pruner not in PRUNERS:
            raise StrategyConfigError(
                f"unknown Optuna pruner {pruner!r}; allowed: {', '.join(PRUNERS)} or a "
                "factory returning an optuna.pruners.BasePruner"
            )
        kwargs: dict[str, Any] = {
            "hyperband": {
                "min_resource": min_epochs,
                "max_resource": n_epochs,
                "reduction_factor": eta,
            },
            "successive_halving": {"min_resource": min_epochs, "reduction_factor": eta},
            "median": {"n_startup_trials": 5, "n_warmup_steps": 0},
        }[pruner]
        made: Any = PRUNERS[pruner](**kwargs)
    elif callable(pruner):
        try:
            made = pruner(n_epochs=n_epochs, min_epochs=min_epochs, eta=eta)
        except TypeError as exc:
            raise StrategyConfigError(
                f"the pruner factory must accept n_epochs=, min_epochs=, eta= ({exc})"
            ) from exc
    else:
        raise StrategyConfigError(
            f"pruner must be a name, a factory or None, got {type(pruner).__name__}"
        )
    if not isinstance(made, optuna.pruners.BasePruner):
        raise StrategyConfigError(
            f"the pruner factory returned {type(made).__name__}, not an Optuna pruner"
        )
    return made
