"""In what order the matmul trainers add the gradients that meet at a cell node (no torch
needed, so that planning, assembling and merging tables can read it).

A cell node that feeds several edges receives one gradient from each. Float32 addition is not
associative, so with three or more their sum depends on the order. Left to autograd (the order
it runs the edges' backward passes in), that order follows the graph, and in a stack of models
grouped by op the graph follows the stack-mates: a cell's curves then depend on the cells
trained with it (docs/generator.md, "A cell's stack-mates").

* ``"ordered"`` (the default for new builds): every edge reads its own view of the node, and
  the views' gradients are added in edge order; each model's recorded losses are reduced over
  its own row of the ``(batch, M)`` losses. A cell's numbers, every metric, are then the same
  whoever it is stacked with, in whatever chunk, and the same as trained alone by the
  ``matmul`` trainer.
* ``"autograd"``: autograd's order, as every table built before this option was (their
  numerics record no ``grad_sum``). Only to resume or reproduce such a build.

The other trainers (``reference``, ``batched``) run PyTorch's own modules and have no such
option.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nasbench_sim.generate.errors import GenerateError

__all__ = ["GRAD_SUMS", "GRAD_SUM_TRAINERS", "recorded_grad_sum", "resolve_grad_sum"]

GRAD_SUMS: tuple[str, ...] = ("ordered", "autograd")
"""The orders a matmul trainer can add a node's gradients in, the default first."""

GRAD_SUM_TRAINERS: tuple[str, ...] = ("matmul", "matmul_stacked")
"""The trainers with a choice of order."""


def resolve_grad_sum(trainer: str, grad_sum: str | None) -> str | None:
    """The order ``trainer`` runs with: ``grad_sum``, or the default when ``None``; ``None``
    for a trainer without the choice.

    Raises:
        GenerateError: an unknown order, or an order given to a trainer without the choice.

    Example:
        >>> resolve_grad_sum("matmul_stacked", None), resolve_grad_sum("reference", None)
        ('ordered', None)
    """
    if trainer not in GRAD_SUM_TRAINERS:
        if grad_sum is not None:
            raise GenerateError(
                f"grad_sum (--grad-sum) applies to the trainers {', '.join(GRAD_SUM_TRAINERS)} "
                f"only, not {trainer!r}; leave it unset"
            )
        return None
    if grad_sum is None:
        return GRAD_SUMS[0]
    if grad_sum not in GRAD_SUMS:
        raise GenerateError(f"unknown grad_sum {grad_sum!r}; valid: {', '.join(GRAD_SUMS)}")
    return grad_sum


def recorded_grad_sum(numerics: Mapping[str, Any] | None) -> str | None:
    """The order a table's (or chunk's) ``numerics`` record: their ``grad_sum``; for a matmul
    trainer without one (built before the choice existed), ``"autograd"``; else ``None``.

    Example:
        >>> recorded_grad_sum({"trainer": "matmul_stacked"})
        'autograd'
    """
    if not isinstance(numerics, Mapping) or numerics.get("trainer") not in GRAD_SUM_TRAINERS:
        return None
    return str(numerics.get("grad_sum", "autograd"))
