"""REINFORCE with a factorised categorical policy (Williams 1992), as NAS-Bench-101 and
NAS-Bench-201 ran it.

The policy holds one row of logits per decision of the space's
:meth:`~nasbench_sim.space.SearchSpace.decisions` (zeros at the start, i.e. uniform): one per
edge over the 5 ops on NAS-Bench-201 (``6 x 5``); on NAS-Bench-101 one per possible edge of a
7-vertex spec (present or not) and one per interior vertex over the 3 ops (rows padded to the
widest decision, the padding never drawn). Each proposal samples every decision; choices that
write no cell of the benchmark (an invalid NAS-Bench-101 graph, one the table lacks) are
drawn again without a policy update, as NAS-Bench-101's controller resampled invalid specs.
The reward is the validation accuracy after full training; a moving-average baseline reduces
the variance, and the logits take one policy-gradient step per result, in numpy.

The module also holds what the decision-structured strategies (REINFORCE, Q-learning, the
Optuna adapter) share: :class:`UnsupportedSpaceError`, :func:`space_decisions` and
:func:`edge_op_decisions`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench_sim.bench.results import Result
from nasbench_sim.checks import is_int
from nasbench_sim.errors import (
    CellNotInTableError,
    CellParseError,
    StrategyConfigError,
    UnsupportedSpaceError,
)
from nasbench_sim.search.base import Proposal, Strategy
from nasbench_sim.search.sampling import fresh_index
from nasbench_sim.space import Decision, NB201Space, SearchSpace

__all__ = [
    "Reinforce",
    "StrategyConfigError",
    "UnsupportedSpaceError",
    "edge_op_decisions",
    "space_decisions",
]

_DEFAULT_LR = {"sgd": 2.0, "adam": 0.1}


def edge_op_decisions(space: SearchSpace, strategy: str) -> tuple[int, int]:
    """``(n_edges, n_ops)`` of a space made of one categorical op choice per edge.

    Only NAS-Bench-201's cell space has that structure today; its cells are built with
    ``Cell(ops)``.

    Raises:
        UnsupportedSpaceError: for any other space, naming the strategy and the space.
    """
    whole = getattr(space, "unrestricted", space)
    if not isinstance(whole, NB201Space):
        raise UnsupportedSpaceError(
            f"strategy {strategy!r} chooses one op per edge and supports only the 'nb201' "
            f"space; got the space {getattr(space, 'name', type(space).__name__)!r}"
        )
    return len(whole.edges), len(whole.ops)


def space_decisions(space: SearchSpace, strategy: str) -> tuple[Decision, ...]:
    """The space's :meth:`~nasbench_sim.space.SearchSpace.decisions`.

    Raises:
        UnsupportedSpaceError: the space does not write its cells as choices (naming the
            strategy and the space).
    """
    if "decisions" not in getattr(space, "features", frozenset()):
        raise UnsupportedSpaceError(
            f"strategy {strategy!r} samples cells as categorical choices, which the space "
            f"{getattr(space, 'name', type(space).__name__)!r} does not offer"
        )
    return space.decisions()


def check_range(name: str, value: float, low: float, high: float, *, closed: bool = True) -> None:
    """Raise :class:`StrategyConfigError` unless ``low <= value <= high`` (``<`` when open)."""
    ok = low <= value <= high if closed else low < value < high
    if isinstance(value, bool) or not ok:
        interval = f"[{low}, {high}]" if closed else f"({low}, {high})"
        raise StrategyConfigError(f"{name} must lie in {interval}, got {value!r}")


class Reinforce(Strategy):
    """REINFORCE over a factorised categorical policy: one softmax per decision (per edge
    over the ops on NAS-Bench-201).

    Each result updates the logits ``theta`` by gradient ascent on
    ``(reward - baseline) * log p(choices)``, whose gradient for decision ``d`` is
    ``onehot(choice_d) - softmax(theta_d)``, computed at the *current* logits (with several workers
    a result may come back after other updates). The baseline is an exponential moving average
    of the rewards (the first reward initialises it). The step is plain SGD's (default) or
    Adam's.

    Cells already evaluated in this run are not proposed again: a re-sampled cell's known
    reward updates the policy at once (a re-query would be free and return the same value) and
    the policy samples again, up to ``max_resamples`` times, after which a uniformly random
    unseen cell is proposed. This keeps a run that converged on one cell moving instead of
    spinning on free re-queries.

    Args:
        learning_rate: step size on the logits; ``None``: 2.0 for SGD, 0.1 for Adam. Rewards
            are accuracies (fractions), so advantages are a few hundredths and SGD needs a
            large step. Chosen by mean final regret on the 12-epoch synthetic table (seed 0),
            100 full trainings of simulated time, 100 seeds: SGD 1.0 / 2.0 / 5.0 gave 0.033 /
            0.027 / 0.029; Adam 0.05 / 0.1 / 0.2 gave 0.037 / 0.032 / 0.028 (0.2 was 3x
            slower: a collapsed policy keeps re-sampling known cells); random search 0.050.
        momentum: of the moving-average baseline (NAS-Bench-201 used 0.9).
        optimizer: ``"sgd"`` (default) or ``"adam"``.
        max_resamples: policy samples per ``ask`` that may hit already-evaluated cells.

    Example:
        >>> from nasbench_sim.space import get_space
        >>> s = Reinforce(get_space("nb201"), n_epochs=12, seed=0)
        >>> s.logits.shape, float(abs(s.probabilities().sum(axis=1) - 1).max()) < 1e-12
        ((6, 5), True)
    """

    name = "reinforce"

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        learning_rate: float | None = None,
        momentum: float = 0.9,
        optimizer: str = "sgd",
        max_resamples: int = 100,
    ) -> None:
        super().__init__(space, n_epochs, seed)
        widths = [len(choices) for _, choices in space_decisions(space, self.name)]
        if optimizer not in _DEFAULT_LR:
            raise StrategyConfigError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
        if learning_rate is None:
            learning_rate = _DEFAULT_LR[optimizer]
        check_range("learning_rate", learning_rate, 0.0, 100.0, closed=False)
        check_range("momentum", momentum, 0.0, 1.0, closed=True)
        if not is_int(max_resamples):
            raise StrategyConfigError(f"max_resamples must be an int >= 0, got {max_resamples!r}")
        check_range("max_resamples", max_resamples, 0, 10**6)
        self.learning_rate = float(learning_rate)
        self.momentum = float(momentum)
        self.optimizer = optimizer
        self.max_resamples = int(max_resamples)
        self._widths = np.array(widths)
        self.logits = np.zeros((len(widths), max(widths)))
        self.logits[np.arange(max(widths))[None, :] >= np.array(widths)[:, None]] = -np.inf
        self.baseline: float | None = None
        self.n_updates = 0
        self.n_invalid = 0  # sampled choices that wrote no cell of the benchmark
        self._m = np.zeros_like(self.logits)
        self._v = np.zeros_like(self.logits)
        self._rewards: dict[int, float] = {}  # evaluated cells: index -> reward
        self._pending: set[int] = set()

    def probabilities(self) -> np.ndarray:
        """The current policy: ``(n_decisions, widest)`` rows summing to one (NAS-Bench-201:
        ``(n_edges, n_ops)``)."""
        z = self.logits - self.logits.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def _sample_ops(self) -> tuple[int, ...]:
        cum = np.cumsum(self.probabilities(), axis=1)
        u = self.rng.random(size=(cum.shape[0], 1))
        ops = np.minimum((u > cum).sum(axis=1), self._widths - 1)  # rounding: stay in range
        return tuple(int(o) for o in ops)

    def _update(self, ops: tuple[int, ...], reward: float) -> None:
        if self.baseline is None:
            self.baseline = reward
        advantage = reward - self.baseline
        self.baseline = self.momentum * self.baseline + (1.0 - self.momentum) * reward
        grad = -self.probabilities()
        grad[np.arange(grad.shape[0]), ops] += 1.0
        grad *= advantage
        self.n_updates += 1
        if self.optimizer == "sgd":
            self.logits += self.learning_rate * grad
            return
        b1, b2, eps = 0.9, 0.999, 1e-8
        self._m = b1 * self._m + (1 - b1) * grad
        self._v = b2 * self._v + (1 - b2) * grad**2
        m_hat = self._m / (1 - b1**self.n_updates)
        v_hat = self._v / (1 - b2**self.n_updates)
        self.logits += self.learning_rate * m_hat / (np.sqrt(v_hat) + eps)

    def _write(self, choices: tuple[int, ...]) -> Any:
        """The cell the choices write, or ``None`` (no valid cell, or not in the table)."""
        try:
            return self.space.from_decisions(choices)
        except (CellParseError, CellNotInTableError):
            self.n_invalid += 1
            return None

    def ask(self) -> Proposal:
        for _ in range(self.max_resamples + 1):
            choices = self._sample_ops()
            cell = self._write(choices)
            if cell is None:
                continue
            i = self.space.to_index(cell)
            if i in self._pending or not self.space.contains(i):  # running, or not covered
                continue
            known = self._rewards.get(i)
            if known is None:
                self._pending.add(i)
                return Proposal(cell, tag=("policy", choices))
            self._update(choices, known)
        i = fresh_index(self.space, self.rng, self._rewards, self._pending)
        cell = self.space.from_index(i)
        self._pending.add(i)
        return Proposal(cell, tag=("random", self.space.to_decisions(cell)))

    def tell(self, proposal: Proposal, result: Result) -> None:
        index = self.space.to_index(proposal.arch)
        self._pending.discard(index)
        if result.missing:  # no signal to learn from (see search.base)
            return
        reward = float(result.valid_acc)
        self._rewards[index] = reward
        tag = proposal.tag  # ("policy" or "random", the choices that wrote the cell)
        choices = tag[1] if isinstance(tag, tuple) else self.space.to_decisions(proposal.arch)
        self._update(choices, reward)

    def diagnostics(self) -> dict[str, Any]:
        """Policy summary: updates made, baseline, invalid samples, and the most likely
        choice per decision."""
        return {
            "updates": self.n_updates,
            "baseline": self.baseline,
            "invalid_samples": self.n_invalid,
            "argmax_ops": ",".join(str(int(o)) for o in self.logits.argmax(axis=1)),
        }
