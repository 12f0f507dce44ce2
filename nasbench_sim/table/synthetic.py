"""Synthetic tables: a documented parametric stand-in for real training, for tests and demos.

A synthetic table is never a benchmark result. It is marked ``provenance["synthetic"] = True``
and every CLI output built on it says so. Its landscape is built to behave like a real one in
the ways search and prediction care about:

* Each (edge, op) pair has a weight drawn from the seed, and convolutions on edges that lie on
  a live input-to-output path help most; pairs of edges interact through a random low-rank
  term. The final accuracy is a squashed sum of these, plus a per-class effect, so that
  neighbouring cells have related accuracies. The best class is lifted above the runner-up
  by a margin well above seed noise (the planted optimum, exposed as
  ``provenance["planted_optimum"]``).
* Cells whose output is cut off from the input (all paths go through ``none``) sit at chance
  (10%).
* Learning curves rise exponentially towards the final accuracy, reached at the last epoch,
  at a cell-dependent speed (big cells start slower); repeats (seeds) add a per-repeat offset
  and per-epoch noise. Training accuracy runs above validation by a capacity-dependent gap;
  test tracks validation with small noise.
* Cost metrics follow the cell's op counts (3x3 conv = 9 units, 1x1 conv = 1 unit).

Functionally equivalent cells get identical rows, as they would in real training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from nasbench_sim.space import NB201Space
from nasbench_sim.space.nb201 import N_EDGES, N_OPS
from nasbench_sim.table.data import TableData

__all__ = ["make_synthetic_table"]

_CHANCE = 0.1
# Ordered (edge, ...) routes from input to output.
_ROUTES = ((3,), (0, 4), (1, 5), (0, 2, 5))


def _live_edges(ops: np.ndarray) -> np.ndarray:
    """Bool ``(n, 6)``: edge lies on an input-to-output route free of ``none``."""
    live = np.zeros(ops.shape, dtype=bool)
    for route in _ROUTES:
        ok = (ops[:, list(route)] != 0).all(axis=1)
        for e in route:
            live[:, e] |= ok
    return live


def make_synthetic_table(
    seed: int = 0,
    *,
    n_seeds: int = 3,
    n_epochs: int = 20,
    cells: Literal["classes", "all"] | int = "classes",
    noise: float = 0.006,
) -> TableData:
    """Generate a synthetic NAS-Bench-201 table.

    Args:
        seed: seeds the landscape and the noise; same seed, same table.
        n_seeds: repeats per cell.
        n_epochs: length of each learning curve.
        cells: ``"classes"`` (one row per equivalence class, like the default table),
            ``"all"`` (all 15,625 cells), or an int ``k`` (the first ``k`` class
            representatives by a seeded shuffle: a tiny table for tests).
        noise: standard deviation of a repeat's offset from the cell's mean final accuracy.

    Example:
        >>> table = make_synthetic_table(0, cells=50, n_epochs=4)
        >>> table.metrics["valid_acc"].shape
        (50, 3, 4)
    """
    space = NB201Space()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EED]))
    reps = space.representatives()
    if cells == "classes":
        rows = reps.copy()
    elif cells == "all":
        rows = np.arange(space.size, dtype=np.int64)
    elif isinstance(cells, int) and 1 <= cells <= reps.shape[0]:
        rows = np.sort(rng.permutation(reps)[:cells])
    else:
        raise ValueError(f"cells must be 'classes', 'all' or an int in 1..{reps.shape[0]}")

    land = _landscape(rng, space.ops_matrix(reps).astype(np.int64), noise)
    cls = space.class_ids()[rows]
    metrics = _curves(rng, land, cls, n_seeds, n_epochs, noise)
    units = land.units
    params = 1500.0 + 2000.0 * units[cls]
    flops = 2.0e4 + 3.0e4 * units[cls]
    return TableData(
        space="nb201",
        dataset="synthetic",
        arch_index=rows.astype(np.int64),
        seeds=np.arange(n_seeds, dtype=np.int64),
        metrics={k: v.astype(np.float32) for k, v in metrics.items()},
        cost={
            "params": params,
            "flops": flops,
            "latency_s": 1e-4 + 2e-9 * flops,
            "train_time_s": 2.0 + 2.5e-5 * flops,
        },
        protocol={"generator": "synthetic", "seed": seed, "noise": noise},
        provenance={
            "synthetic": True,
            "note": "SYNTHETIC table from nasbench_sim.table.synthetic; not a training result",
            "planted_optimum": str(space.from_index(int(reps[land.best_class]))),
        },
    )


@dataclass(frozen=True)
class _Landscape:
    """Class-level quantities of a synthetic table (one entry per equivalence class)."""

    final: np.ndarray  # mean final validation accuracy
    connected: np.ndarray  # the output is reachable from the input
    units: np.ndarray  # conv units (3x3 = 9, 1x1 = 1): size and cost
    speed: np.ndarray  # convergence speed of the learning curve
    best_class: int  # the planted optimum


def _landscape(rng: np.random.Generator, ops: np.ndarray, noise: float) -> _Landscape:
    """The landscape on all classes (so the optimum is the same whatever rows are kept)."""
    live = _live_edges(ops)
    w = rng.normal(0.0, 0.25, size=(N_EDGES, N_OPS))
    w[:, 3] += 0.9  # 3x3 conv
    w[:, 2] += 0.5  # 1x1 conv
    w[:, 1] += 0.2  # skip
    w[:, 0] = 0.0
    contrib = w[np.arange(N_EDGES), ops] * np.where(live, 1.0, 0.15)
    u = rng.normal(0.0, 0.35, size=(N_EDGES, N_OPS, 2))
    low_rank = u[np.arange(N_EDGES), ops].sum(axis=1)  # (n, 2)
    interaction = low_rank[:, 0] * low_rank[:, 1]
    class_effect = rng.normal(0.0, 0.15, size=ops.shape[0])
    score = contrib.sum(axis=1) + interaction + class_effect - 0.8
    connected = np.asarray(live.any(axis=1))
    final = np.where(connected, _CHANCE + (0.95 - _CHANCE) / (1.0 + np.exp(-score)), _CHANCE)
    # Plant the optimum: the best class clears the runner-up by a margin well above seed noise.
    best_class = int(np.argmax(final))
    final[best_class] = np.partition(final, -2)[-2] + 0.015 + 3 * noise
    units = (np.where(ops == 3, 9.0, 0.0) + np.where(ops == 2, 1.0, 0.0)).sum(axis=1)
    # Convergence speed: big cells learn more slowly early on (so low-fidelity rankings differ
    # from final ones), but every curve reaches its final accuracy at the last epoch, as under
    # a cosine schedule.
    speed = 6.0 - 0.06 * units + rng.uniform(-1.0, 1.0, size=ops.shape[0])
    return _Landscape(final, connected, units, speed, best_class)


def _curves(
    rng: np.random.Generator,
    land: _Landscape,
    cls: np.ndarray,
    n_seeds: int,
    n_epochs: int,
    noise: float,
) -> dict[str, np.ndarray]:
    """Every metric's curves ``(rows, n_seeds, n_epochs)`` of the rows of classes ``cls``."""
    t = np.arange(1, n_epochs + 1, dtype=np.float64)
    mean_final = land.final[cls][:, None, None]
    offset = (
        rng.normal(0.0, noise, size=(cls.shape[0], n_seeds, 1))
        * np.asarray(land.connected, dtype=np.float64)[cls][:, None, None]
    )
    k = land.speed[cls][:, None, None]
    progress = (1.0 - np.exp(-k * t[None, None, :] / n_epochs)) / (1.0 - np.exp(-k))
    curve_shape = 1.0 - progress
    jitter = rng.normal(0.0, 0.004, size=(cls.shape[0], n_seeds, n_epochs))
    valid = np.clip(
        (mean_final + offset) - (mean_final + offset - _CHANCE) * curve_shape + jitter, 0, 1
    )
    gap = 0.002 * land.units
    train = np.clip(valid + gap[cls][:, None, None] * t / n_epochs + 0.01, 0, 1)
    test = np.clip(valid + rng.normal(0.0, 0.003, size=valid.shape), 0, 1)

    def loss(acc: np.ndarray) -> np.ndarray:
        return -np.log(np.clip(acc, 1e-3, 1.0)) * 1.3

    return {
        "train_acc": train,
        "train_loss": loss(train),
        "valid_acc": valid,
        "valid_loss": loss(valid),
        "test_acc": test,
        "test_loss": loss(test),
    }
