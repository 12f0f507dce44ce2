"""Multi-objective search: objectives, Pareto tools, strategies and scoring against the
table's exact front."""

from __future__ import annotations

from nasbench_sim.search.mo.objectives import Objective, ObjectiveError, ObjectiveSet
from nasbench_sim.search.mo.score import ExactFront, exact_front, incumbent_rows, score_log

__all__ = [
    "ExactFront",
    "Objective",
    "ObjectiveError",
    "ObjectiveSet",
    "exact_front",
    "incumbent_rows",
    "score_log",
]
