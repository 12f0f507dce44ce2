"""NAS-Bench-101's files read without TensorFlow: the TFRecord files and NASLib's pickle.

``nasbench_only108.tfrecord`` / ``nasbench_full.tfrecord``: one record per (graph, budget,
repeat), each the UTF-8 JSON list ``[module_hash, epochs, adjacency bits, "op,op,...",
base64(ModelMetrics)]`` (see :mod:`~nasbench_sim.importers.protobuf`); ``evaluation_data`` holds
the evaluations at the start (unused), halfway and end of that training run.

NASLib's ``nasbench_only108.pkl``: ``{module_hash: (fixed, computed)}`` with ``fixed`` the
``module_adjacency`` (int8 array), ``module_operations`` and ``trainable_parameters``, and
``computed`` mapping epochs to a list of repeats, each with ``halfway_`` and ``final_``
``training_time``, ``train_accuracy``, ``validation_accuracy`` and ``test_accuracy``. Read with
the allow-list unpickler.

Both become one :class:`NB101Data`: compact arrays, every budget and every repeat kept. The
budgets are **separate training runs**: the 12-epoch result is not the first 12 epochs of the
108-epoch run.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench_sim.checks import is_int
from nasbench_sim.importers.errors import ImportFormatError
from nasbench_sim.importers.protobuf import ModelMetrics, WireError, evaluation_values, fields
from nasbench_sim.importers.report import SYNTHETIC_KEY
from nasbench_sim.importers.safe_pickle import safe_load
from nasbench_sim.importers.tfrecord import iter_tfrecord

__all__ = [
    "BUDGETS",
    "POINT_METRICS",
    "NB101Data",
    "encode_row",
    "read_naslib_pickle",
    "read_nb101_tfrecord",
]

BUDGETS: tuple[int, ...] = (4, 12, 36, 108)
"""NAS-Bench-101's training budgets (epochs), each a training run of its own."""
POINT_METRICS: tuple[str, ...] = (
    "training_time",
    "train_accuracy",
    "validation_accuracy",
    "test_accuracy",
)
"""The metrics recorded at the halfway and final point of each run."""
REPEATS = 3
"""Runs NAS-Bench-101 recorded per (graph, budget); a file with more is refused."""
MAX_EPOCHS = 10_000
"""The largest epoch budget a record may name (NAS-Bench-101's largest is 108)."""
CRC_DEFAULT_LIMIT = 64 << 20
"""CRC checks run by default on files up to this size (64 MiB)."""


@dataclass(frozen=True)
class NB101Data:
    """NAS-Bench-101 results as arrays, one row per graph.

    Attributes:
        hashes: ``(n,)`` the files' ``module_hash`` per row.
        specs: ``(n,)`` ``"<adjacency bits>|<ops>"`` per row (the cell's string form).
        params: ``(n,)`` trainable parameters (NaN: not recorded).
        budgets: the epoch budgets of the budget axis.
        values: float32 ``(n, budgets, repeats, 2, 4)``: halfway (0) and final (1) point of
            each run, :data:`POINT_METRICS` order, accuracies as fractions; NaN where absent.
        records: the runs read (one per (graph, budget, repeat)).
        synthetic: the file carries the mark of :mod:`~nasbench_sim.importers.synthetic_nb101`
            (made-up numbers in the published layout).
    """

    hashes: np.ndarray
    specs: np.ndarray
    params: np.ndarray
    budgets: tuple[int, ...]
    values: np.ndarray
    records: int = 0
    synthetic: bool = False

    @property
    def n_graphs(self) -> int:
        return int(self.hashes.shape[0])


class _Collector:
    """Rows arriving in any order, grouped by hash; repeats kept in file order. The points go
    to numpy blocks (a few bytes per record, not Python objects).

    Args:
        source: the file, named in the errors.
    """

    _BLOCK = 1 << 16

    def __init__(self, source: str) -> None:
        self.source = source
        self.row: dict[str, int] = {}
        self.specs: list[str] = []
        self.params: list[float] = []
        self.seen: dict[tuple[int, int], int] = {}
        self.keys: list[np.ndarray] = []  # int32 (block, 3): row, epochs, repeat
        self.points: list[np.ndarray] = []  # float32 (block, 8)
        self.fill = self._BLOCK

    def add(
        self,
        h: str,
        spec: str,
        params: float,
        epochs: int,
        point: tuple[float, ...],
        where: str,
    ) -> None:
        """Add one run; ``where`` names it in errors (``"record 17"``, ``"graph <hash>"``).

        Raises:
            ImportFormatError: a budget outside 1..:data:`MAX_EPOCHS`, a hash seen before with
                another graph, or more than :data:`REPEATS` runs of a (graph, budget).
        """
        epochs = check_epochs(epochs, self.source, where)
        row = self.row.setdefault(h, len(self.row))
        if row == len(self.specs):
            self.specs.append(spec)
            self.params.append(params)
        elif self.specs[row] != spec:
            raise ImportFormatError(
                self.source,
                f"{where}: hash {h} was first given to the graph {self.specs[row]!r}, here to "
                f"{spec!r} (a hash names one graph)",
            )
        rep = self.seen.get((row, epochs), 0)
        if rep >= REPEATS:
            raise ImportFormatError(
                self.source,
                f"{where}: a run {rep + 1} of graph {h} at {epochs} epochs; NAS-Bench-101 has "
                f"at most {REPEATS} per graph and budget (duplicated records?)",
            )
        self.seen[(row, epochs)] = rep + 1
        if self.fill == self._BLOCK:
            self.keys.append(np.zeros((self._BLOCK, 3), dtype=np.int32))
            self.points.append(np.full((self._BLOCK, 8), np.nan, dtype=np.float32))
            self.fill = 0
        self.keys[-1][self.fill] = (row, epochs, rep)
        self.points[-1][self.fill] = point
        self.fill += 1

    def data(self, *, synthetic: bool = False) -> NB101Data:
        source = self.source
        if not self.row:
            raise ImportFormatError(source, "no NAS-Bench-101 record in the file")
        used = (len(self.keys) - 1) * self._BLOCK + self.fill
        keys = np.concatenate(self.keys)[:used]
        points = np.concatenate(self.points)[:used]
        budgets = tuple(int(b) for b in np.unique(keys[:, 1]))
        values = np.full((len(self.row), len(budgets), REPEATS, 2, 4), np.nan, dtype=np.float32)
        col = np.searchsorted(np.array(budgets), keys[:, 1])
        values[keys[:, 0], col, keys[:, 2]] = points.reshape(-1, 2, 4)
        return NB101Data(
            hashes=np.array(list(self.row), dtype=object),
            specs=np.array(self.specs, dtype=object),
            params=np.array(self.params, dtype=np.float64),
            budgets=budgets,
            values=values,
            records=used,
            synthetic=synthetic,
        )


def check_epochs(value: object, source: str, where: str) -> int:
    """``value`` as an epoch budget: an int (not a bool) in 1..:data:`MAX_EPOCHS`.

    Raises:
        ImportFormatError: naming ``source`` and ``where`` (the record).
    """
    if is_int(value) and 1 <= int(value) <= MAX_EPOCHS:
        return int(value)
    raise ImportFormatError(
        source, f"{where}: epochs {value!r}; allowed: an int in 1..{MAX_EPOCHS}"
    )


_POINT_FIELDS = (1, 2, 3, 4)  # EvaluationData fields of POINT_METRICS, 0-based among fields 1..5


def _metrics(buf: bytes) -> tuple[float, tuple[float, ...]]:
    """(trainable parameters, the 8 point values) of a serialized ``ModelMetrics``: the
    halfway and final evaluations (evaluation 0 is the untrained start)."""
    params = np.nan
    evals: list[bytes] = []
    for number, wire, raw in fields(buf):
        if number == 1 and wire == 2 and isinstance(raw, bytes):
            evals.append(raw)
        elif number == 2 and wire == 0 and isinstance(raw, int):
            params = float(raw)
    out: list[float] = []
    for k in (1, 2):
        vals = evaluation_values(evals[k]) if len(evals) > k else [np.nan] * 5
        out += [vals[j] for j in _POINT_FIELDS]
    return params, tuple(out)


def _parse(data: bytes, source: str, k: int) -> tuple[str, int, str, float, tuple[float, ...]]:
    try:
        row = json.loads(data.decode("utf-8"))
        if k == 0 and isinstance(row, dict) and row.get(SYNTHETIC_KEY) is True:
            return SYNTHETIC_KEY, 0, "", np.nan, ()
        h, epochs, bits, ops, raw = row
        params, points = _metrics(base64.b64decode(raw, validate=True))
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, TypeError, WireError,
            binascii.Error) as exc:  # fmt: skip
        raise ImportFormatError(
            source, f"record {k} is not a NAS-Bench-101 row ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(epochs, int) or not isinstance(bits, str) or not isinstance(ops, str):
        raise ImportFormatError(source, f"record {k}: unexpected field types")
    return str(h), epochs, f"{bits}|{ops}", params, points


def read_nb101_tfrecord(
    path: str | os.PathLike[str],
    *,
    check_crc: bool | None = None,
    progress: Callable[[int], None] | None = None,
) -> NB101Data:
    """Read ``nasbench_*.tfrecord`` into :class:`NB101Data`, streamed.

    Args:
        path: the TFRecord file.
        check_crc: verify every record's CRCs (default: for files up to 64 MiB).
        progress: called with the number of bytes just read (about every 10,000 records).
    """
    path = Path(path)
    source = str(path)
    if check_crc is None:
        check_crc = path.is_file() and path.stat().st_size <= CRC_DEFAULT_LIMIT
    rows = _Collector(source)
    done = 0
    synthetic = False
    for k, data in enumerate(iter_tfrecord(path, check_crc=check_crc)):
        h, epochs, spec, params, points = _parse(data, source, k)
        done += len(data) + 16
        if progress and k % 10_000 == 9_999:
            progress(done)
            done = 0
        if h == SYNTHETIC_KEY:
            synthetic = True
            continue
        rows.add(h, spec, params, epochs, points, f"record {k} (hash {h})")
    if progress and done:
        progress(done)
    return rows.data(synthetic=synthetic)


def _whole(key: object) -> object:
    """A pickle's epochs key as an int where it is one written otherwise ("108", 108.0)."""
    if (isinstance(key, str) and key.strip().isdecimal()) or (
        isinstance(key, float) and key.is_integer()
    ):
        return int(key)
    return key


def _computed(stats: Any, source: str, h: str) -> Iterable[tuple[int, tuple[float, ...]]]:
    """(epochs, the 8 point values) of every repeat in one graph's computed statistics."""
    if not isinstance(stats, Mapping):
        raise ImportFormatError(source, f"graph {h}: computed statistics are not a dict")
    for key, repeats in stats.items():
        where = f"graph {h}"
        epochs = check_epochs(_whole(key), source, where)
        if not isinstance(repeats, (list, tuple)):
            raise ImportFormatError(
                source, f"{where}: the repeats at {epochs} epochs are not a list"
            )
        for k, r in enumerate(repeats):
            if not isinstance(r, Mapping):
                raise ImportFormatError(
                    source, f"{where}: repeat {k} at {epochs} epochs is not a dict"
                )
            try:
                point = tuple(
                    float(r.get(f"{p}_{m}", np.nan))
                    for p in ("halfway", "final")
                    for m in POINT_METRICS
                )
            except (TypeError, ValueError, OverflowError) as exc:
                raise ImportFormatError(
                    source, f"{where}: repeat {k} at {epochs} epochs has a non-number ({exc})"
                ) from None
            yield epochs, point


def read_naslib_pickle(path: str | os.PathLike[str]) -> NB101Data:
    """Read NASLib's ``nasbench_only108.pkl`` (with the allow-list unpickler)."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise ImportFormatError(source, "no such file")
    with path.open("rb") as f:
        data = safe_load(f, source)
    if not isinstance(data, Mapping):
        raise ImportFormatError(source, "not NASLib's NAS-Bench-101 pickle (not a dict)")
    rows = _Collector(source)
    synthetic = data.get(SYNTHETIC_KEY) is True
    for h, entry in data.items():
        if h == SYNTHETIC_KEY:
            continue
        if not (isinstance(entry, (tuple, list)) and len(entry) == 2):
            raise ImportFormatError(source, f"{h}: expected (fixed, computed) statistics")
        fixed, computed = entry
        try:
            m = np.asarray(fixed["module_adjacency"], dtype=np.int64)
            ops = ",".join(fixed["module_operations"])
            params = float(fixed.get("trainable_parameters", np.nan))
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise ImportFormatError(source, f"graph {h}: bad fixed statistics ({exc})") from None
        spec = "".join(str(int(x)) for x in m.ravel()) + "|" + ops
        for epochs, point in _computed(computed, source, str(h)):
            rows.add(str(h), spec, params, epochs, point, f"graph {h}")
    return rows.data(synthetic=synthetic)


def encode_row(h: str, epochs: int, spec: str, metrics: ModelMetrics) -> bytes:
    """One NAS-Bench-101 TFRecord row (for fixtures; the inverse of the reader's parsing)."""
    bits, ops = spec.split("|")
    raw = base64.b64encode(metrics.encode()).decode("ascii")
    return json.dumps([h, epochs, bits, ops, raw]).encode("utf-8")
