"""How much CPU a build in progress has used and will need, from its committed chunks.

A chunk's cost depends on its cells: a cell with more convolutions costs more to train. Each
committed chunk records the CPU seconds of its training process (``info['cpu_s']``); a
non-negative least-squares fit of those against the chunk's number of cells and its counts of
each op (``skip_connect``, ``nor_conv_1x1``, ``nor_conv_3x3``, ``avg_pool_3x3`` over all its
cells' edges) predicts every chunk not yet trained. Chunks trained while other work shared the
cores record more CPU time than on a machine at rest, so the projection is of the build at the
rate measured so far. Its in-sample error (mean absolute percentage over the committed chunks
it was fitted on) is reported with it; on the default table's first 24 chunks, fitting the
first 12 and predicting the next 12 erred by 5.2 % against 3.8 % in-sample. A committed chunk
that records no CPU time (an older chunk format) counts as done at its predicted cost.

A build continued on another kind of machine (``build --mixed-hardware``) runs at another
speed there: when the timed chunks come from several kinds (by their recorded numerics), each
kind gets its own speed factor on a shared fit (one least-squares solve, the most frequent
kind's factor 1), and the chunks not yet trained are projected at the factor of the kind that
committed the latest chunk (the machine the build runs on now, as far as the chunks tell).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from nasbench_sim.generate.chunks import chunk_path, parts_dir, read_chunk_info, read_manifest
from nasbench_sim.generate.errors import BuildError
from nasbench_sim.generate.hardware import hardware_key
from nasbench_sim.space import NB201Space

__all__ = [
    "MIN_CHUNKS",
    "BuildProjection",
    "ChunkCosts",
    "chunk_costs",
    "elapsed_s",
    "fit_cost_model",
    "fit_with_machines",
    "project_build",
]

MIN_CHUNKS = 6
"""Committed chunks needed before a projection is made."""


@dataclass(frozen=True)
class BuildProjection:
    """CPU time of a build: spent on committed chunks, and projected for all of them.

    Attributes:
        chunks_done: committed chunks.
        cpu_h_done: CPU hours of those chunks' training processes (as recorded, or as
            predicted for a chunk that records none).
        cpu_h_total: projected CPU hours of every chunk of the shard (committed ones as
            recorded).
        fit_mape: in-sample mean absolute percentage error of the fit on the committed chunks
            that record their CPU time.
        cores: the cores :attr:`hours_left` assumes busy (default: this machine's).
        machine_factor: the speed factor the chunks not yet trained are projected at: the
            latest chunk's kind of machine against the most frequent kind's (1 when all timed
            chunks come from one kind).
    """

    chunks_done: int
    cpu_h_done: float
    cpu_h_total: float
    fit_mape: float
    cores: int
    machine_factor: float = 1.0

    @property
    def hours_left(self) -> float:
        """Wall hours still needed with :attr:`cores` busy at the rate measured so far."""
        return (self.cpu_h_total - self.cpu_h_done) / max(self.cores, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cpu_h_done": round(self.cpu_h_done, 2),
            "cpu_h_projected_total": round(self.cpu_h_total, 2),
            "hours_left_at_full_use": round(self.hours_left, 1),
            "cores": self.cores,
            "projection_fit_mape": round(self.fit_mape, 3),
            "machine_factor": round(self.machine_factor, 3),
        }


@dataclass(frozen=True)
class ChunkCosts:
    """What the committed chunks of a build record about their cost.

    Attributes:
        ids: the shard's chunk ids, in order.
        features: ``(len(ids), 5)``: each chunk's ``[cells, #skip, #conv1x1, #conv3x3,
            #pool]`` (op counts over all its cells' edges).
        committed: the committed chunk ids.
        cpu_s: CPU seconds of the committed chunks that record them, by chunk id.
        machine: the kind of machine (:func:`~nasbench_sim.generate.hardware.hardware_key` of
            its numerics) that trained each committed chunk, by chunk id.
        finished: when each committed chunk that records it finished (epoch seconds).
    """

    ids: list[int]
    features: np.ndarray
    committed: list[int]
    cpu_s: dict[int, float]
    machine: dict[int, str] = field(default_factory=dict)
    finished: dict[int, float] = field(default_factory=dict)

    @cached_property
    def _position(self) -> dict[int, int]:
        return {cid: i for i, cid in enumerate(self.ids)}

    def row(self, chunk_id: int) -> np.ndarray:
        """The feature row of ``chunk_id``."""
        return self.features[self._position[chunk_id]]


def _features(ops: np.ndarray) -> np.ndarray:
    """``[cells, #skip, #conv1x1, #conv3x3, #pool]`` of a chunk's cells' op matrix."""
    return np.array([ops.shape[0], *((ops == k).sum() for k in (1, 2, 3, 4))], dtype=np.float64)


def chunk_costs(out: str | os.PathLike[str]) -> ChunkCosts | None:
    """The costs recorded by the build writing ``out``; ``None`` when no build is in progress
    there or it is not an ``nb201`` build. Reads only each committed chunk's ``info``."""
    parts = parts_dir(out)
    try:
        manifest = read_manifest(parts)
    except BuildError:  # no build there, or not one this version reads: nothing to project
        return None
    if manifest.get("space") != "nb201":
        return None
    cells = np.asarray(manifest["cells"], dtype=np.int64)
    size = int(manifest["chunk_size"])
    shard_i, shard_n = manifest["shard"]
    ids = [c for c in range(int(manifest["n_chunks"])) if c % shard_n == shard_i]
    ops = NB201Space().ops_matrix(cells)
    features = np.vstack([_features(ops[c * size : (c + 1) * size]) for c in ids])
    committed = [c for c in ids if chunk_path(parts, c).exists()]
    spent: dict[int, float] = {}
    machine: dict[int, str] = {}
    finished: dict[int, float] = {}
    for c in committed:
        info = read_chunk_info(chunk_path(parts, c))
        cpu, when = info.get("cpu_s"), info.get("finished")
        if isinstance(cpu, (int, float)) and cpu > 0:
            spent[c] = float(cpu)
        if isinstance(when, (int, float)):
            finished[c] = float(when)
        machine[c] = hardware_key(info.get("numerics", manifest.get("numerics")))
    return ChunkCosts(ids, features, committed, spent, machine, finished)


def fit_cost_model(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative least-squares coefficients of CPU seconds ``y`` on chunk features ``x``
    (seconds per cell and per op of each kind)."""
    from scipy.optimize import nnls

    coef, _ = nnls(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return np.asarray(coef)


def project_build(out: str | os.PathLike[str], cores: int | None = None) -> BuildProjection | None:
    """The projection for the build writing ``out`` (``cores``: for :attr:`~BuildProjection.
    hours_left`, default this machine's); ``None`` when no build is in progress there, it is
    not an ``nb201`` build, or fewer than :data:`MIN_CHUNKS` chunks record their CPU time."""
    costs = chunk_costs(out)
    if costs is None or len(costs.cpu_s) < MIN_CHUNKS:
        return None
    timed = sorted(costs.cpu_s)
    a = np.vstack([costs.row(c) for c in timed])
    y = np.array([costs.cpu_s[c] for c in timed])
    kinds = [costs.machine.get(c, "") for c in timed]
    coef, factor = fit_with_machines(a, y, kinds)
    fit = (a @ coef) * np.array([factor[k] for k in kinds])
    latest = max(costs.committed, key=lambda c: (costs.finished.get(c, float("-inf")), c))
    now = factor.get(costs.machine.get(latest, ""), 1.0)
    cost = {c: costs.cpu_s.get(c, float(costs.row(c) @ coef) * now) for c in costs.ids}
    return BuildProjection(
        chunks_done=len(costs.committed),
        cpu_h_done=sum(cost[c] for c in costs.committed) / 3600,
        cpu_h_total=sum(cost.values()) / 3600,
        fit_mape=float(np.mean(np.abs(fit - y) / y)),
        cores=int(cores or os.cpu_count() or 1),
        machine_factor=now,
    )


def fit_with_machines(
    a: np.ndarray, y: np.ndarray, kinds: list[str]
) -> tuple[np.ndarray, dict[str, float]]:
    """Coefficients and a speed factor per kind of machine, ``y ≈ (a @ coef) * factor[kind]``,
    the most frequent kind's factor 1 (``a``: chunk feature rows, ``y``: their CPU seconds,
    ``kinds``: the kind of machine of each). Linear in ``coef`` and ``g = 1 / factor``: a row of
    another kind asks ``a @ coef - y * g[kind] = 0``, one of the most frequent kind
    ``a @ coef = y``; one non-negative least-squares solve."""
    ref = max(set(kinds), key=lambda k: (kinds.count(k), k))
    others = sorted(set(kinds) - {ref})
    if not others:
        return fit_cost_model(a, y), {ref: 1.0}
    extra = np.zeros((len(y), len(others)))
    for j, k in enumerate(others):
        mine = np.array([kind == k for kind in kinds])
        extra[mine, j] = -y[mine]
    target = np.where(np.array([kind == ref for kind in kinds]), y, 0.0)
    sol = fit_cost_model(np.hstack([a, extra]), target)
    coef, g = sol[: a.shape[1]], sol[a.shape[1] :]
    factor = {k: (1.0 / gk if gk > 0 else 1.0) for k, gk in zip(others, g, strict=True)}
    return coef, {ref: 1.0, **factor}


def elapsed_s(infos: list[dict[str, Any]]) -> float | None:
    """Seconds of the clock during which at least one of the chunks (their ``info``) was
    training: the union of each chunk's ``[finished - wall_s, finished]``, so that chunks
    trained side by side count once and the gaps between runs of the build not at all.
    ``None`` when a chunk lacks either time (an older chunk format)."""
    spans = []
    for info in infos:
        end, wall = info.get("finished"), info.get("wall_s")
        if not isinstance(end, (int, float)) or not isinstance(wall, (int, float)):
            return None
        spans.append((float(end) - float(wall), float(end)))
    total, start, stop = 0.0, float("-inf"), float("-inf")
    for a, b in sorted(spans):
        if a > stop:  # a new busy stretch: the last one ends
            total += stop - start if stop > start else 0.0
            start, stop = a, b
        else:
            stop = max(stop, b)
    return total + (stop - start if stop > start else 0.0)
