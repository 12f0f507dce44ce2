"""The ``/oneshot/<method>/seed_<s>/`` group of a table file: atomic writing and typed reading.

Layout (documented in ``docs/oneshot.md``), one group per method and super-network seed:

* SPOS: ``arch_index`` int64 ``(n,)`` the evaluated cells, ``valid_acc`` float64 ``(n,)``
  their one-shot validation accuracy with inherited weights (after batch-norm recalibration).
* DARTS / GDAS: ``arch_index`` int64 ``(epochs,)`` the derived cell (argmax op per edge)
  after each epoch, ``alpha`` float64 ``(epochs, 6, 5)`` the softmax of the architecture
  logits per epoch, ``standalone_valid_acc`` / ``standalone_test_acc`` float64 ``(epochs,)``
  the derived cell's mean final accuracy read from the table (NaN when the table has no row
  for it), ``valid_acc`` float64 ``(epochs,)`` the super-network's validation accuracy with
  the derived path and recalibrated batch-norm.
* every method: ``supernet_valid_acc`` float64 ``(epochs,)`` (the super-network's validation
  accuracy after each epoch, as trained), and attributes ``method``, ``seed``, ``protocol``
  (JSON), ``cost`` (JSON: ``wall_s``, ``train_wall_s``, ``eval_wall_s``, ``cells_evaluated``,
  ``diagnostic_wall_s``, ``epochs``, ``steps``, ``device``), ``settings`` (JSON: method
  hyper-parameters), ``software`` (JSON) and ``created``.

:func:`nasbench_sim.table.read_table` reads only the groups it knows, so a table with one-shot
groups stays a valid table.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from nasbench_sim.atomic import atomic_path, file_lock
from nasbench_sim.errors import NasBenchSimError
from nasbench_sim.table import software_versions

__all__ = [
    "METHODS",
    "ONESHOT_GROUP",
    "OneShotError",
    "OneShotRecord",
    "list_oneshot",
    "read_oneshot",
    "write_oneshot",
]

METHODS: tuple[str, ...] = ("spos", "darts", "gdas")
"""Weight-sharing methods: single-path uniform sampling, DARTS (first order), GDAS."""
ONESHOT_GROUP = "oneshot"
_ARRAYS = (
    "arch_index",
    "valid_acc",
    "supernet_valid_acc",
    "alpha",
    "standalone_valid_acc",
    "standalone_test_acc",
)


class OneShotError(NasBenchSimError, ValueError):
    """Bad one-shot input: unknown method, missing group, malformed arrays or settings."""


def check_method(method: str) -> str:
    """``method`` if it is one of :data:`METHODS`, else :class:`OneShotError`."""
    if method not in METHODS:
        raise OneShotError(
            f"unknown one-shot method {method!r}; valid methods: {', '.join(METHODS)}"
        )
    return method


@dataclass(frozen=True)
class OneShotRecord:
    """One super-network run as stored in a table file.

    Attributes:
        method: one of :data:`METHODS`.
        seed: the super-network seed.
        arch_index: SPOS: the evaluated cells; DARTS/GDAS: the derived cell after each epoch.
        valid_acc: one-shot validation accuracy of each ``arch_index`` cell (inherited weights).
        supernet_valid_acc: the super-network's validation accuracy after each epoch.
        alpha: DARTS/GDAS: softmax architecture weights ``(epochs, 6, 5)``; else ``None``.
        standalone_valid_acc: DARTS/GDAS: the derived cell's table accuracy per epoch.
        standalone_test_acc: DARTS/GDAS: the derived cell's table test accuracy per epoch.
        protocol: the training protocol of the super-network (JSON-able).
        cost: ``wall_s`` (training + SPOS scoring), ``train_wall_s``, ``eval_wall_s``,
            ``cells_evaluated`` (SPOS), ``diagnostic_wall_s`` (per-epoch diagnostics, not part
            of ``wall_s``), ``epochs``, ``steps``, ``device``.
        settings: method hyper-parameters (architecture learning rate, temperatures...).
        software: library versions.
        created: ISO-8601 time of writing.
    """

    method: str
    seed: int
    arch_index: np.ndarray
    valid_acc: np.ndarray
    supernet_valid_acc: np.ndarray
    alpha: np.ndarray | None = None
    standalone_valid_acc: np.ndarray | None = None
    standalone_test_acc: np.ndarray | None = None
    protocol: Mapping[str, Any] = field(default_factory=dict)
    cost: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    software: Mapping[str, Any] = field(default_factory=dict)
    created: str = ""

    def validate(self) -> None:
        """Raise :class:`OneShotError` naming the first inconsistent array."""
        check_method(self.method)
        n = self.arch_index.shape
        if self.arch_index.ndim != 1 or self.valid_acc.shape != n:
            raise OneShotError(
                f"arch_index {self.arch_index.shape} and valid_acc {self.valid_acc.shape} must "
                "be 1-D of equal length"
            )
        if self.arch_index.size and (self.arch_index.min() < 0 or self.arch_index.max() >= 15625):
            raise OneShotError("arch_index holds values outside 0..15624")
        if self.method != "spos":
            if self.alpha is None or self.alpha.shape != (n[0], 6, 5):
                raise OneShotError(f"{self.method}: alpha must be shaped (epochs={n[0]}, 6, 5)")
            for name in ("standalone_valid_acc", "standalone_test_acc"):
                arr = getattr(self, name)
                if arr is None or arr.shape != n:
                    raise OneShotError(f"{self.method}: {name} must be shaped ({n[0]},)")


def group_name(method: str, seed: int) -> str:
    """``oneshot/<method>/seed_<seed>``."""
    return f"{ONESHOT_GROUP}/{check_method(method)}/seed_{int(seed)}"


def write_oneshot(path: str | os.PathLike[str], record: OneShotRecord) -> Path:
    """Add (or replace) ``record``'s group in the table file at ``path``, atomically.

    The table is copied to a temporary file in the same folder, the group is written there with
    h5py, and the copy replaces the original with ``os.replace`` (see
    :mod:`nasbench_sim.atomic`); a crash leaves the original untouched. Writers of one table
    take turns (an advisory lock on a hidden ``.<table>.lock`` file beside it), so two
    ``oneshot`` runs finishing at once both keep their group; readers are never blocked.

    Raises:
        OneShotError: the record is inconsistent.
        FileNotFoundError: there is no file at ``path``.
    """
    record.validate()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such table file")
    with file_lock(path), atomic_path(path) as tmp:
        shutil.copyfile(path, tmp)
        with h5py.File(tmp, "a") as f:
            name = group_name(record.method, record.seed)
            if name in f:
                del f[name]
            g = f.create_group(name)
            for key in _ARRAYS:
                arr = getattr(record, key)
                if arr is not None:
                    dtype = np.int64 if key == "arch_index" else np.float64
                    g.create_dataset(key, data=np.asarray(arr, dtype=dtype))
            g.attrs["method"] = record.method
            g.attrs["seed"] = int(record.seed)
            g.attrs["protocol"] = json.dumps(dict(record.protocol), sort_keys=True)
            g.attrs["cost"] = json.dumps(dict(record.cost), sort_keys=True)
            g.attrs["settings"] = json.dumps(dict(record.settings), sort_keys=True)
            software = dict(record.software) or software_versions()
            g.attrs["software"] = json.dumps(software, sort_keys=True)
            g.attrs["created"] = record.created or _dt.datetime.now(_dt.UTC).isoformat()
    return path


def list_oneshot(path: str | os.PathLike[str]) -> list[tuple[str, int]]:
    """``(method, seed)`` of every one-shot group in the table file, sorted."""
    out: list[tuple[str, int]] = []
    with h5py.File(path, "r") as f:
        if ONESHOT_GROUP not in f:
            return out
        for method, g in f[ONESHOT_GROUP].items():
            for name in g:
                if name.startswith("seed_") and name[5:].removeprefix("-").isdigit():
                    out.append((str(method), int(name[5:])))
    return sorted(out)


def _json_attr(g: h5py.Group, name: str) -> dict[str, Any]:
    value = g.attrs.get(name, "{}")
    value = value.decode() if isinstance(value, bytes) else str(value)
    try:
        out = json.loads(value)
    except json.JSONDecodeError as exc:
        raise OneShotError(f"{g.name}: attribute {name!r} is not JSON ({exc})") from None
    return dict(out)


def read_oneshot(path: str | os.PathLike[str], method: str, seed: int = 0) -> OneShotRecord:
    """Read the group ``oneshot/<method>/seed_<seed>`` of a table file.

    Raises:
        OneShotError: unknown method, or the file has no such group (the message lists the
            groups it has).
        FileNotFoundError: there is no file at ``path``.

    Example:
        >>> rec = read_oneshot("table.h5", "spos", seed=0)  # doctest: +SKIP
        >>> rec.arch_index.shape == rec.valid_acc.shape  # doctest: +SKIP
        True
    """
    name = group_name(method, seed)
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no such table file")
    with h5py.File(path, "r") as f:
        if name not in f:
            have = list_oneshot(path)
            listed = ", ".join(f"{m}/seed_{s}" for m, s in have) or "none"
            raise OneShotError(f"{path}: no one-shot group {name}; groups present: {listed}")
        g = f[name]
        missing = [k for k in ("arch_index", "valid_acc") if k not in g]
        if missing:
            raise OneShotError(f"{path}: one-shot group {name} lacks {', '.join(missing)}")
        arrays = {k: np.asarray(g[k][...]) for k in _ARRAYS if k in g}
        created = g.attrs.get("created", "")
        record = OneShotRecord(
            method=str(method),
            seed=int(seed),
            arch_index=arrays["arch_index"].astype(np.int64),
            valid_acc=arrays["valid_acc"].astype(np.float64),
            supernet_valid_acc=arrays.get("supernet_valid_acc", np.zeros(0)),
            alpha=arrays.get("alpha"),
            standalone_valid_acc=arrays.get("standalone_valid_acc"),
            standalone_test_acc=arrays.get("standalone_test_acc"),
            protocol=_json_attr(g, "protocol"),
            cost=_json_attr(g, "cost"),
            settings=_json_attr(g, "settings"),
            software=_json_attr(g, "software"),
            created=created.decode() if isinstance(created, bytes) else str(created),
        )
    record.validate()
    return record
