"""Weight-sharing searches replayed in the simulator, charged with their super-network cost.

A stored one-shot run (``/oneshot/<method>/seed_<s>/`` of a table file) already holds what
the weight-sharing search learned; what is left is what a researcher does next: train the
cells the super-network ranks best, stand-alone, and keep the one with the best validation
accuracy. :class:`WeightSharing` replays exactly that under the run loop's simulated clock:

* the clock starts at the super-network's recorded cost (``cost["wall_s"]``: training plus
  scoring), through the :attr:`~nasbench_sim.search.base.Strategy.setup_cost_s` hook, so no
  result exists before the weight-sharing search would have finished;
* then it proposes cells in the order the super-network ranks them, one per equivalence
  class, each trained to the full budget of epochs and charged like any other query:

  - SPOS: by one-shot validation accuracy with inherited weights (the scored cells only);
    with ``candidates=N``, SPOS first runs its own search on the super-network, as Guo et
    al. do: their evolutionary algorithm over the stored one-shot scores until ``N``
    distinct cells have been evaluated, charged the super-network's training plus ``N``
    times its measured per-cell scoring time, and then ranks only those ``N`` cells;
  - DARTS / GDAS: by the log-probability of the cell under the final ``softmax(alpha)``
    (the sum over edges of ``log alpha[edge, op]``), so the derived cell comes first;

* when the ranking runs out (SPOS scored fewer cells than the budget affords) it proposes
  random untried classes, and says so in :attr:`WeightSharing.fallback_proposals`.

Run seed ``s`` replays the stored super-network seed ``seeds[s % n]``: with ``n`` stored
super-networks, runs that share one are not independent in their super-network, only in the
table's seed noise and tie-breaking; :func:`nasbench_sim.oneshot.strategy.describe_records`
states ``n`` and ``compare`` prints it. The cost is wall-clock seconds on the device the
super-network ran on (``cost["device"]``); it lines up with the table's training times only
when the table was timed on the same kind of device.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from nasbench_sim.bench.results import Result
from nasbench_sim.errors import StrategyConfigError, UnsupportedSpaceError
from nasbench_sim.oneshot.gap import alpha_log_prob
from nasbench_sim.oneshot.spos_search import SposSearchSettings, spos_search
from nasbench_sim.oneshot.store import METHODS, OneShotRecord, list_oneshot, read_oneshot
from nasbench_sim.search.base import Proposal, Strategy
from nasbench_sim.space import SearchSpace

__all__ = [
    "WEIGHT_SHARING_STRATEGIES",
    "DartsReplay",
    "GdasReplay",
    "SposReplay",
    "WeightSharing",
    "describe_records",
    "oneshot_kwargs",
    "read_records",
]


class WeightSharing(Strategy):
    """Replay a stored weight-sharing run: pay its super-network cost, then train its ranking.

    Args:
        space: the NB201 space.
        n_epochs: the table's epochs (every proposal trains to all of them).
        seed: run seed: picks the stored super-network (``seed % n``) and breaks ties.
        records: the stored runs of this method (:func:`read_oneshot`), one per super-network
            seed; ``compare`` and ``search`` read them from the table file.
        cost_s: charge this many seconds for the super-network instead of the recorded
            ``cost["wall_s"]`` (e.g. a cost measured on another device).

    Raises:
        StrategyConfigError: no record of this method, or a negative ``cost_s``.
        UnsupportedSpaceError: the space is not NB201.
    """

    name: ClassVar[str] = "weight_sharing"
    method: ClassVar[str] = ""

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        records: Sequence[OneShotRecord] | None = None,
        cost_s: float | None = None,
    ) -> None:
        super().__init__(space, n_epochs, seed)
        if space.name != "nb201":
            raise UnsupportedSpaceError(
                f"{self.name} replays an NB201 super-network; got the {space.name!r} space"
            )
        mine = sorted((r for r in (records or ()) if r.method == self.method), key=lambda r: r.seed)
        if not mine:
            raise StrategyConfigError(
                f"strategy {self.name!r} replays a super-network stored in the table file, and "
                f"none was given; run `nasbench-sim oneshot --table T.h5 --method {self.method}` "
                f"first, then `nasbench-sim compare --table T.h5 --strategies {self.name},...`"
            )
        if cost_s is not None and not cost_s >= 0:
            raise StrategyConfigError(f"cost_s must be >= 0, got {cost_s!r}")
        if isinstance(seed, np.random.SeedSequence):
            entropy = seed.entropy
            if isinstance(entropy, int) and not seed.spawn_key:
                pick = entropy
            else:
                pick = int(seed.generate_state(1)[0])
        else:
            pick = operator.index(seed)
        self.record = mine[pick % len(mine)]
        self._ranking = self._rank(self.record)
        self.setup_cost_s = float(self._cost(self.record) if cost_s is None else cost_s)
        self._pos = 0
        self._tried: set[int] = set()
        self.fallback_proposals = 0

    def _scores(self, record: OneShotRecord) -> tuple[np.ndarray, np.ndarray]:
        """Cell indices and their scores, higher is better."""
        raise NotImplementedError

    def _cost(self, record: OneShotRecord) -> float:
        """Simulated seconds of the weight-sharing search (called after :meth:`_rank`)."""
        return float(record.cost["wall_s"])

    def _rank(self, record: OneShotRecord) -> np.ndarray:
        """Cell indices in proposal order: best score first, ties in random order."""
        cells, scores = self._scores(record)
        covered = np.zeros(self.space.size, dtype=bool)
        covered[self.space.candidates()] = True  # on a partial table: the cells it covers
        keep = np.isfinite(scores) & covered[cells]
        cells, scores = cells[keep], scores[keep]
        order = np.lexsort((self.rng.random(cells.size), -scores))
        return cells[order]

    def ask(self) -> Proposal:
        classes = self.space.class_ids()
        while self._pos < self._ranking.size:
            index = int(self._ranking[self._pos])
            self._pos += 1
            cls = int(classes[index])
            if cls not in self._tried:
                self._tried.add(cls)
                return Proposal(self.space.from_index(index), None, tag="ranked")
        # the ranking is used up: a random untried class (all tried: any class)
        self.fallback_proposals += 1
        reps = self.space.representatives()
        if self.space.n_candidates < self.space.size:  # a partial table: its covered cells
            cells = self.space.candidates()
            _, first = np.unique(classes[cells], return_index=True)
            reps = cells[first]
        tried = np.fromiter(self._tried, dtype=np.int64, count=len(self._tried))
        untried = reps[~np.isin(classes[reps], tried)]
        pool = untried if untried.size else reps
        index = int(pool[self.rng.integers(pool.size)])
        self._tried.add(int(classes[index]))
        return Proposal(self.space.from_index(index), None, tag="fallback")

    def diagnostics(self) -> dict[str, Any]:
        """The replayed super-network, its charged cost and the random fallback proposals."""
        return {
            "supernet_seed": self.record.seed,
            "setup_cost_s": self.setup_cost_s,
            "fallback_proposals": self.fallback_proposals,
        }

    def tell(self, proposal: Proposal, result: Result) -> None:
        """Nothing to learn: the super-network fixed the ranking before any stand-alone run."""


class SposReplay(WeightSharing):
    """SPOS (Guo et al., 2020): train the cells with the best one-shot accuracy.

    Args:
        candidates: ``None`` (default): every cell the stored run scored is a candidate, and
            the whole recorded cost (training plus scoring every cell) is charged. ``N``: SPOS's
            own search on the super-network, Guo et al.'s evolutionary algorithm
            (:func:`~nasbench_sim.oneshot.spos_search.spos_search`: population 50, top-k 10,
            half crossover, half mutation with probability 0.1, only new candidates) over the
            one-shot scores until ``N`` distinct cells have been evaluated (Guo et al.: 1,000);
            charged the recorded training time plus ``N`` times the measured scoring time per
            cell, and only those ``N`` cells are ranked. Needs a stored run that scored every
            equivalence class. A cell the run did not score gets its class representative's
            score: an approximation, since members of a class that differ by which edge holds
            which op use different shared weights in the super-network. :attr:`evaluated`
            (``min(N, space size)``) and :attr:`candidate_cells` say what was evaluated.
        search: that search's settings (:class:`SposSearchSettings`).

    Raises:
        StrategyConfigError: ``candidates < 1``, a bad evolution setting, a stored run without
            the per-cell scoring time or one that left an equivalence class unscored.
    """

    name: ClassVar[str] = "spos"
    method: ClassVar[str] = "spos"

    def __init__(
        self,
        space: SearchSpace,
        n_epochs: int,
        seed: int | np.random.SeedSequence = 0,
        *,
        records: Sequence[OneShotRecord] | None = None,
        cost_s: float | None = None,
        candidates: int | None = None,
        search: SposSearchSettings | None = None,
    ) -> None:
        if candidates is not None and not (isinstance(candidates, int) and candidates >= 1):
            raise StrategyConfigError(f"candidates must be an integer >= 1, got {candidates!r}")
        self.candidates = candidates
        self.search_settings = search or SposSearchSettings()
        self.search_settings.validate()
        self.evaluated = 0
        self.candidate_cells = np.zeros(0, dtype=np.int64)
        super().__init__(space, n_epochs, seed, records=records, cost_s=cost_s)

    def _scores(self, record: OneShotRecord) -> tuple[np.ndarray, np.ndarray]:
        cells = np.asarray(record.arch_index, dtype=np.int64)
        scores = np.asarray(record.valid_acc, dtype=np.float64)
        if self.candidates is None:
            return cells, scores
        return self._evolve(cells, scores)

    def _evolve(self, cells: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """SPOS's evolutionary search on the stored scores: the cells it evaluated, their scores."""
        classes = self.space.class_ids()
        n_classes = self.space.n_classes
        ok = np.isfinite(scores)
        by_cell = np.full(self.space.size, np.nan)
        by_cell[cells[ok]] = scores[ok]
        by_class = np.full(n_classes, np.nan)
        by_class[classes[cells[ok]]] = scores[ok]  # some scored member of the class...
        reps = self.space.representatives()
        scored_rep = np.isfinite(by_cell[reps])
        by_class[scored_rep] = by_cell[reps[scored_rep]]  # ...its representative where scored
        missing = int(np.isnan(by_class).sum())
        if missing:
            raise StrategyConfigError(
                f"spos with candidates needs a one-shot score for every equivalence class; the "
                f"stored seed {self.record.seed} left {missing} of {n_classes} unscored. Score "
                "them (`nasbench-sim oneshot --method spos` on a table of every class) or leave "
                "candidates unset to rank only the scored cells"
            )
        by_cell = np.where(np.isfinite(by_cell), by_cell, by_class[classes])
        rng = np.random.default_rng(self.seed_sequence.spawn(1)[0])
        seen = spos_search(by_cell, int(self.candidates or 0), rng, self.search_settings)
        self.evaluated = len(seen)
        self.candidate_cells = np.fromiter(seen, dtype=np.int64, count=len(seen))
        return self.candidate_cells, np.fromiter(seen.values(), dtype=np.float64, count=len(seen))

    def _cost(self, record: OneShotRecord) -> float:
        if self.candidates is None:
            return super()._cost(record)
        train_s, per_cell = scoring_costs(record)
        return train_s + self.evaluated * per_cell


def scoring_costs(record: OneShotRecord) -> tuple[float, float]:
    """A stored SPOS run's training seconds and its measured scoring seconds per cell.

    Raises:
        StrategyConfigError: the record's cost lacks either (it cannot be charged per cell).
    """
    try:
        train_s = float(record.cost["train_wall_s"])
        per_cell = float(record.cost["eval_wall_s"]) / float(record.cost["cells_evaluated"])
    except (KeyError, ZeroDivisionError) as exc:
        raise StrategyConfigError(
            f"spos with candidates charges the measured per-cell scoring time, and stored "
            f"seed {record.seed} lacks it ({exc!r} in its cost); leave candidates unset"
        ) from None
    return train_s, per_cell


class _RelaxedReplay(WeightSharing):
    """DARTS / GDAS: rank every cell by its log-probability under the final softmax(alpha)."""

    def _scores(self, record: OneShotRecord) -> tuple[np.ndarray, np.ndarray]:
        assert record.alpha is not None  # validated by OneShotRecord.validate
        cells = np.arange(self.space.size, dtype=np.int64)
        return cells, alpha_log_prob(record.alpha[-1], cells)


class DartsReplay(_RelaxedReplay):
    """DARTS, first order (Liu et al., 2019): the derived cell first, then the next likeliest."""

    name: ClassVar[str] = "darts"
    method: ClassVar[str] = "darts"


class GdasReplay(_RelaxedReplay):
    """GDAS (Dong & Yang, 2019): the derived cell first, then the next likeliest."""

    name: ClassVar[str] = "gdas"
    method: ClassVar[str] = "gdas"


def read_records(path: str | os.PathLike[str], methods: Sequence[str]) -> list[OneShotRecord]:
    """Every stored run of ``methods`` in the table file at ``path`` (all seeds)."""
    return [read_oneshot(path, m, s) for m, s in list_oneshot(path) if m in methods]


def oneshot_kwargs(
    table_path: str | os.PathLike[str] | None,
    strategies: Sequence[str],
    *,
    spos_candidates: int | None = None,
) -> dict[str, dict[str, Any]]:
    """``strategy_kwargs`` for the weight-sharing names in ``strategies``: their records, read
    from the table file, and ``spos_candidates`` as SPOS's ``candidates`` (see
    :class:`SposReplay`). Empty when ``strategies`` has none.

    Raises:
        StrategyConfigError: a weight-sharing strategy is named but the table file has no run of
            that method (the message lists what it has and how to add one), or
            ``spos_candidates`` is given without ``spos`` among the strategies.
    """
    wanted = [s for s in strategies if s in WEIGHT_SHARING_STRATEGIES]
    if spos_candidates is not None and "spos" not in wanted:
        raise StrategyConfigError(
            "--spos-candidates applies to the spos strategy, which is not among the strategies "
            f"({', '.join(strategies)}); add spos or drop the option"
        )
    if not wanted:
        return {}
    path = Path(table_path) if table_path is not None else None
    if path is None or path.suffix not in (".h5", ".hdf5") or not path.is_file():
        raise StrategyConfigError(
            f"{', '.join(wanted)} replay super-networks stored in a table file; {table_path!r} is "
            "not one (a synthetic table or a surrogate holds none). Train one with "
            "`nasbench-sim oneshot --table T.h5 --method METHOD` and pass --table T.h5"
        )
    records = read_records(path, wanted)
    out: dict[str, dict[str, Any]] = {}
    for name in wanted:
        mine = [r for r in records if r.method == name]
        if not mine:
            have = ", ".join(f"{m}/seed_{s}" for m, s in list_oneshot(path)) or "none"
            raise StrategyConfigError(
                f"{path}: no stored {name} super-network (groups present: {have}); run "
                f"`nasbench-sim oneshot --table {path} --method {name}` first"
            )
        out[name] = {"records": mine}
        if name == "spos" and spos_candidates is not None:
            out[name]["candidates"] = spos_candidates
    return out


def describe_records(kwargs: dict[str, dict[str, Any]]) -> list[str]:
    """One line per weight-sharing strategy: how many super-networks, their cost and device."""
    lines = []
    for name, kw in kwargs.items():
        recs: list[OneShotRecord] = kw["records"]
        devices = sorted({str(r.cost.get("device", "?")) for r in recs})
        n = kw.get("candidates")
        if n is None:
            charged = _charges(np.array([float(r.cost["wall_s"]) for r in recs]))
        else:
            train, per = np.array([scoring_costs(r) for r in recs]).T
            charged = (
                f"searched by Guo et al.'s evolution over {n} one-shot evaluations, its training "
                f"+ {n} x its scoring time per cell (mean {train.mean():.1f} s + {n} x "
                f"{1000 * per.mean():.1f} ms): {_charges(train + n * per)}"
            )
        lines.append(
            f"{name}: {len(recs)} stored super-network(s) (seeds "
            f"{', '.join(str(r.seed) for r in recs)}), {charged} "
            f"(measured on {', '.join(devices)}); run seed s replays super-network s mod "
            f"{len(recs)}"
        )
    return lines


def _charges(cost: np.ndarray) -> str:
    """What the replays of these super-networks are charged: one figure when they cost the
    same, else each its own, as a range."""
    if np.ptp(cost) == 0:
        return f"charged {cost[0]:.1f} s each"
    return (
        f"each charged its own cost, {cost.min():.1f}-{cost.max():.1f} s (mean {cost.mean():.1f})"
    )


WEIGHT_SHARING_STRATEGIES: tuple[str, ...] = METHODS
"""Replays of super-networks stored in a table file (``nasbench-sim oneshot``): they need the
stored runs as ``records=`` and are charged their super-network cost before the first query
(registered in :data:`nasbench_sim.strategies.STRATEGIES` under the method's name)."""
