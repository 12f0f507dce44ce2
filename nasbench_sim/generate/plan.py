"""What a build trains: its cells, its shard, and their cut into chunks.

Work is a deterministic list of cells cut into chunks of ``chunk_size`` consecutive cells;
shard ``i`` of ``n`` takes the chunks with ``chunk_id % n == i``. The same arguments give the
same chunks on every machine, which is what lets shards and resumed runs fit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench_sim.checks import is_int, require_int
from nasbench_sim.errors import CellParseError
from nasbench_sim.generate.errors import BuildError, GenerateError
from nasbench_sim.generate.protocol import Protocol
from nasbench_sim.space import get_space

__all__ = ["parse_shard", "plan_chunks", "resolve_cells"]


def resolve_cells(cells: str | int | Sequence[int] | np.ndarray, cells_seed: int = 0) -> np.ndarray:
    """The sorted cell indices a build trains.

    Args:
        cells: ``"all"`` (15,625 cells), ``"classes"`` (one representative per equivalence
            class, 6,466), an int ``n`` (``n`` class representatives drawn with
            ``cells_seed``), or explicit cell indices.
        cells_seed: seed of the draw for an int ``cells``.

    Raises:
        GenerateError: anything else, an index out of range or listed twice.
    """
    space = get_space("nb201")
    if isinstance(cells, str):
        if cells == "all":
            return np.arange(space.size, dtype=np.int64)
        if cells == "classes":
            return np.asarray(space.representatives(), dtype=np.int64)
        raise GenerateError(f"cells must be 'all', 'classes', a number or indices, got {cells!r}")
    reps = np.asarray(space.representatives(), dtype=np.int64)
    if is_int(cells):
        n = int(cells)
        if not 1 <= n <= reps.shape[0]:
            raise GenerateError(f"cells={n}: a number of cells must be in 1..{reps.shape[0]}")
        rng = np.random.default_rng(cells_seed)
        return np.sort(rng.choice(reps, size=n, replace=False))
    arr = np.asarray(cells)
    if arr.ndim != 1 or arr.shape[0] == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise GenerateError("explicit cells must be a non-empty 1-D sequence of integer indices")
    if arr.min() < 0 or arr.max() >= space.size:
        raise GenerateError(f"cell indices must be in 0..{space.size - 1}")
    if np.unique(arr).shape[0] != arr.shape[0]:
        raise GenerateError("explicit cells list an index twice")
    return np.sort(arr.astype(np.int64))


def parse_shard(shard: str | tuple[int, int]) -> tuple[int, int]:
    """``"i/n"`` or ``(i, n)`` with ``0 <= i < n``."""
    try:
        if isinstance(shard, str):
            a, b = shard.split("/")
            i, n = int(a), int(b)
        else:
            i, n = int(shard[0]), int(shard[1])
    except (ValueError, TypeError, IndexError):
        raise GenerateError(f"shard must be 'i/n' (e.g. 0/4), got {shard!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise GenerateError(f"shard {i}/{n}: need n >= 1 and 0 <= i < n")
    return i, n


def plan_chunks(
    protocol: Protocol,
    cells: str | int | Sequence[int] | np.ndarray,
    cells_seed: int,
    chunk_size: int,
    shard: str | tuple[int, int],
    trainer: str,
) -> tuple[list[np.ndarray], list[int], dict[str, Any]]:
    """The chunks of a build (``chunk_size`` consecutive cells each), the ids of shard
    ``shard``'s chunks, and the build's manifest (without numerics).

    Raises:
        GenerateError: bad ``cells`` or ``shard``.
        BuildError: the shard gets no chunk.
    """
    require_int("chunk_size", chunk_size, 1, GenerateError, numpy=False)
    try:
        cell_arr = resolve_cells(cells, cells_seed)
    except CellParseError as exc:  # pragma: no cover - resolve_cells checks ranges itself
        raise GenerateError(str(exc)) from None
    shard_i, shard_n = parse_shard(shard)
    plan = [cell_arr[a : a + chunk_size] for a in range(0, cell_arr.shape[0], chunk_size)]
    mine = [c for c in range(len(plan)) if c % shard_n == shard_i]
    if not mine:
        raise BuildError(
            f"shard {shard_i}/{shard_n} gets no chunk: the build has only {len(plan)} chunk(s); "
            "use fewer shards or a smaller chunk size"
        )
    manifest = {
        "space": "nb201",
        "protocol": protocol.to_dict(),
        "cells": cell_arr.tolist(),
        "chunk_size": chunk_size,
        "n_chunks": len(plan),
        "shard": [shard_i, shard_n],
        "trainer": trainer,
        # a draw's seed (--cells-seed): with it a datasheet's rebuild command draws these cells
        **({"cells_seed": int(cells_seed)} if isinstance(cells, (int, np.integer)) else {}),
    }
    return plan, mine, manifest
