"""Range checks of a table's values: what the schema allows each array to hold.

A damaged file that still parses can hold any bit pattern; a value no training run can produce
(an accuracy of 1.7, a negative loss, an infinite training time) is caught here, by name and
position, before any query serves it. ``NaN`` marks a missing value and is allowed everywhere.
The checks are vectorised comparisons (no warnings on ``NaN``), a few milliseconds per million
values.

The rules, by dataset name:

* ``metrics/*_acc``: fractions in ``[0, 1]``;
* ``metrics/*_loss``: finite and ``>= 0``;
* ``metrics/*_time_s`` (the training time behind a value, e.g. NAS-Bench-101's per-run
  times): finite and ``>= 0``;
* any other ``metrics/*``: finite;
* ``cost/*`` (parameters, FLOPs, latency, energy, times): finite and ``>= 0``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from nasbench_sim.errors import TableError

__all__ = ["ValueRule", "check_ranges", "rule_for"]


@dataclass(frozen=True)
class ValueRule:
    """The closed interval a dataset's non-missing values must lie in (always finite).

    Attributes:
        low: smallest allowed value.
        high: largest allowed value.
        text: the rule in words, for error messages.
    """

    low: float
    high: float
    text: str

    def violations(self, values: np.ndarray) -> np.ndarray:
        """Bool mask of the values outside the rule (``NaN`` is never a violation)."""
        x = np.asarray(values)
        if x.dtype.kind in "iub":  # integers are finite; only the bounds can fail
            return (x < self.low) | (x > self.high)
        bad = np.isinf(x)
        if self.low > -math.inf:
            bad |= x < self.low
        if self.high < math.inf:
            bad |= x > self.high
        return bad


_ACC = ValueRule(0.0, 1.0, "accuracies are fractions in [0, 1]")
_LOSS = ValueRule(0.0, math.inf, "losses are finite and >= 0")
_FINITE = ValueRule(-math.inf, math.inf, "values are finite")
_COST = ValueRule(0.0, math.inf, "costs are finite and >= 0")
_TIME = ValueRule(0.0, math.inf, "times are finite and >= 0")


def rule_for(group: str, name: str) -> ValueRule:
    """The rule of dataset ``group/name`` (``group`` is ``"metrics"`` or ``"cost"``).

    Example:
        >>> rule_for("metrics", "valid_acc").high
        1.0
        >>> rule_for("cost", "energy_j").text
        'costs are finite and >= 0'
    """
    if group == "cost":
        return _COST
    if name.endswith("_acc"):
        return _ACC
    if name.endswith("_loss"):
        return _LOSS
    if name.endswith("_time_s"):
        return _TIME
    return _FINITE


def _check_one(path: str, values: np.ndarray, rule: ValueRule, source: str) -> None:
    x = np.asarray(values)
    if x.dtype.kind not in "fiu":
        raise TableError(f"{source}: {path} has dtype {x.dtype}, expected a real number array")
    bad = rule.violations(x)
    if not bad.any():
        return
    first = np.unravel_index(int(np.argmax(bad)), x.shape)
    where = ", ".join(str(int(i)) for i in first)
    value = float(x[first])
    raise TableError(
        f"{source}: {path} holds {int(bad.sum())} value(s) out of range, first {value:.6g} "
        f"at [{where}]; {rule.text} (NaN marks a missing value). The file is damaged or was "
        "not written by a valid generator"
    )


def check_ranges(
    metrics: Mapping[str, np.ndarray], cost: Mapping[str, np.ndarray], source: str = "table"
) -> None:
    """Check every metric and cost array against :func:`rule_for`.

    Raises:
        TableError: naming the first dataset with a value out of range, the value, its
            position and the rule.
    """
    for name, arr in metrics.items():
        _check_one(f"metrics/{name}", arr, rule_for("metrics", name), source)
    for name, arr in cost.items():
        _check_one(f"cost/{name}", arr, rule_for("cost", name), source)
