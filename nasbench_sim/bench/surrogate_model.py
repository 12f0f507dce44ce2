"""The fitted arrays behind a surrogate benchmark (:class:`SurrogateModel`) and their saved
form: a versioned ``.npz`` of plain arrays and one JSON ``meta`` string (no pickle), checked
field by field when read, so that a damaged or foreign file gives a
:class:`SurrogateFileError` naming what is wrong, never a ``KeyError`` or a wrong answer
later."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special

from nasbench_sim.atomic import atomic_path
from nasbench_sim.checks import is_int
from nasbench_sim.errors import NasBenchSimError
from nasbench_sim.table.schema import MAX_BUDGET

__all__ = [
    "SURROGATE_FORMAT",
    "SURROGATE_VERSION",
    "SurrogateFileError",
    "SurrogateFitReport",
    "SurrogateModel",
    "check_model",
    "read_model",
    "write_model",
]

SURROGATE_FORMAT = "nasbench-sim-surrogate"
SURROGATE_VERSION = 1


class SurrogateFileError(NasBenchSimError, ValueError):
    """A file is not a surrogate saved by this version of nasbench-sim."""


@dataclass(frozen=True)
class SurrogateFitReport:
    """How a surrogate was fitted and how well it ranks the rows it did not see."""

    predictor: str
    fraction: float
    seed: int
    n_rows: int
    n_fit: int
    n_components: int
    explained_variance: float
    heldout_tau: float


@dataclass(frozen=True)
class SurrogateModel:
    """The fitted arrays behind a :class:`SurrogateBenchmark` (one row per class).

    Attributes:
        curves: float32 ``(n_classes, 4, n_epochs)`` mean curves of train loss, train acc,
            valid loss, valid acc.
        sigma: float64 ``(n_classes,)`` repeat spread of final validation accuracy.
        jitter: per position of the curve axis, the spread (on the ``noise_scale``) of a
            repeat's drift from its final deviation, 0 at the last; files written before it
            was per position hold one number, used at every position.
        noise_scale: the scale on which ``sigma`` and ``jitter`` add to an accuracy:
            ``"logit"`` (log-odds, so that the spread narrows near 0 and 1) or ``"accuracy"``
            (added and clipped to [0, 1]; files written before the scale was recorded).
        test_map: ``(acc_intercept, acc_slope, loss_intercept, loss_slope)``.
        test_resid: residual noise of test accuracy around the map.
        cost: float64 ``(n_classes, 4)``: epoch time (s), params, FLOPs, latency (s).
        report: how it was fitted.
        fitted_on: the source it was fitted on, described (:meth:`Source.describe`).
        training_seeds: the training-seed labels of that source's repeats.
        budgets: the epochs of each position of the curve axis when the source answers a few
            budgets, each a separate run (NAS-Bench-101); empty for a per-epoch curve.
        run_time: float64 ``(n_classes, len(budgets))``: predicted seconds of each budget's
            run (``None`` for a per-epoch curve: epoch time times epochs).
        arch: the ``arch/`` datasets of a space made from its table's graphs (see
            :meth:`~nasbench_sim.space.SearchSpace.table_arrays`), so that the surrogate
            answers for those graphs; empty for a fixed space.
    """

    space: str
    dataset: str
    n_epochs: int
    n_seeds: int
    noise_seed: int
    synthetic: bool
    curves: np.ndarray
    sigma: np.ndarray
    jitter: tuple[float, ...]
    noise_scale: str
    test_map: tuple[float, float, float, float]
    test_resid: float
    cost: np.ndarray
    report: SurrogateFitReport
    fitted_on: str = ""
    training_seeds: tuple[int, ...] = ()
    budgets: tuple[int, ...] = ()
    run_time: np.ndarray | None = None
    arch: Mapping[str, np.ndarray] = field(default_factory=dict)


def _plain(values: np.ndarray) -> np.ndarray:
    """``values`` with a dtype free of metadata (h5py marks its strings with an encoding, which
    ``.npz`` cannot store)."""
    a = np.asarray(values)
    return a.astype(np.dtype(a.dtype.str)) if a.dtype.metadata else a


def write_model(model: SurrogateModel, path: str | Path) -> Path:
    """Write ``model`` to ``path`` atomically."""
    m = model
    meta = {
        "space": m.space,
        "dataset": m.dataset,
        "n_epochs": m.n_epochs,
        "n_seeds": m.n_seeds,
        "noise_seed": m.noise_seed,
        "synthetic": m.synthetic,
        "jitter": list(m.jitter),
        "noise_scale": m.noise_scale,
        "test_map": list(m.test_map),
        "test_resid": m.test_resid,
        "report": asdict(m.report),
        "fitted_on": m.fitted_on,
        "training_seeds": list(m.training_seeds),
        "budgets": list(m.budgets),
    }
    arrays: dict[str, np.ndarray] = {
        "format": np.array(SURROGATE_FORMAT),
        "version": np.array(SURROGATE_VERSION),
        "meta": np.array(json.dumps(meta)),
        "curves": m.curves,
        "sigma": m.sigma,
        "cost": m.cost,
        **{f"arch_{k}": _plain(v) for k, v in m.arch.items()},
    }
    if m.run_time is not None:
        arrays["run_time"] = m.run_time
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)  # type: ignore[arg-type]
    return path


def _strict_int(value: Any) -> int:
    if not is_int(value):
        raise TypeError(f"expected an integer, got {value!r}")
    return int(value)


def _strict_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _check_budgets(meta: Mapping[str, Any], path: Path | str) -> None:
    """Refuse a saved surrogate whose epochs could not be a training run's (before any array
    indexed by epoch is allocated)."""
    n, budgets = meta.get("n_epochs"), meta.get("budgets", [])
    ok = is_int(n) and 1 <= int(n) <= MAX_BUDGET and isinstance(budgets, list)
    if ok and budgets:
        b = np.asarray(budgets)
        ok = b.dtype.kind in "iu" and b.ndim == 1 and b[0] >= 1 and b[-1] == n
        ok = ok and bool((np.diff(b) > 0).all())
    if not ok:
        raise SurrogateFileError(
            f"{path}: n_epochs {n!r}, budgets {budgets!r}; allowed: n_epochs an int in "
            f"1..{MAX_BUDGET:,} and budgets empty or strictly increasing, ending at n_epochs"
        )


def check_model(model: SurrogateModel, n_classes: int, origin: str) -> None:
    """Refuse a model whose epochs or array shapes do not fit a space of ``n_classes``
    classes (a damaged file, or arrays put together by hand), naming the first misfit."""
    _check_budgets({"n_epochs": model.n_epochs, "budgets": list(model.budgets)}, origin)
    n_pos = len(model.budgets) or model.n_epochs
    want: dict[str, tuple[np.ndarray | None, tuple[int, ...]]] = {
        "curves": (model.curves, (n_classes, 4, n_pos)),
        "sigma": (model.sigma, (n_classes,)),
        "cost": (model.cost, (n_classes, 4)),
    }
    if model.budgets or model.run_time is not None:
        want["run_time"] = (model.run_time, (n_classes, n_pos))
    for name, (a, shape) in want.items():
        got = None if a is None else tuple(np.shape(a))
        if got != shape:
            raise SurrogateFileError(
                f"{origin}: surrogate array {name!r} has shape {got}, expected {shape} "
                f"({n_classes} classes of space {model.space!r}, {n_pos} curve positions)"
            )
    if len(model.jitter) not in (1, n_pos):
        raise SurrogateFileError(
            f"{origin}: jitter has {len(model.jitter)} numbers; allowed: 1 (every position) "
            f"or {n_pos} (one per curve position)"
        )
    if not is_int(model.n_seeds) or model.n_seeds < 1:
        raise SurrogateFileError(f"{origin}: n_seeds {model.n_seeds!r}; allowed: an int >= 1")
    if len(model.test_map) != 4:
        raise SurrogateFileError(
            f"{origin}: test_map has {len(model.test_map)} numbers; allowed: 4 (accuracy "
            "intercept and slope, loss intercept and slope)"
        )
    if model.training_seeds and len(model.training_seeds) != model.n_seeds:
        raise SurrogateFileError(
            f"{origin}: {len(model.training_seeds)} training seeds for n_seeds "
            f"{model.n_seeds}; allowed: none, or one label per repeat"
        )


def _arrays(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise SurrogateFileError(f"{path}: no such surrogate file")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise SurrogateFileError(f"{path}: not a surrogate file ({exc})") from None
    if "format" not in arrays or str(arrays["format"]) != SURROGATE_FORMAT:
        raise SurrogateFileError(f"{path}: not a {SURROGATE_FORMAT} file")
    try:
        version = int(arrays.get("version", -1))
    except (TypeError, ValueError):
        version = -1
    if version != SURROGATE_VERSION:
        raise SurrogateFileError(
            f"{path}: surrogate format version {version}; this nasbench-sim reads "
            f"version {SURROGATE_VERSION}"
        )
    return arrays


def _field(meta: Mapping[str, Any], key: str, convert: Callable[[Any], Any], path: Path) -> Any:
    """``convert(meta[key])``, or a :class:`SurrogateFileError` naming the field."""
    if key not in meta:
        raise SurrogateFileError(f"{path}: its metadata has no {key!r} field")
    try:
        return convert(meta[key])
    except (TypeError, ValueError) as exc:
        raise SurrogateFileError(f"{path}: metadata field {key!r} is invalid ({exc})") from None


def _array(arrays: Mapping[str, np.ndarray], key: str, path: Path) -> np.ndarray:
    if key not in arrays:
        raise SurrogateFileError(f"{path}: no {key!r} array")
    a = arrays[key]
    if a.dtype.kind not in "fiu":
        raise SurrogateFileError(f"{path}: array {key!r} has dtype {a.dtype}, expected numbers")
    return a


def _report(value: Any) -> SurrogateFitReport:
    names = {f.name for f in fields(SurrogateFitReport)}
    if not isinstance(value, dict) or set(value) != names:
        raise ValueError(f"expected the fields {sorted(names)}")
    return SurrogateFitReport(**value)


def _jitter(value: Any) -> tuple[float, ...]:
    """Per-position jitter; an older file's single number stands for every position."""
    if isinstance(value, bool):
        raise TypeError("expected a number or a list of numbers, got a bool")
    if isinstance(value, int | float):
        return (float(value),)
    if not isinstance(value, list) or not value:
        raise TypeError(f"expected a number or a non-empty list of numbers, got {value!r}")
    return tuple(float(v) for v in value)


LOGIT_EPS = 1e-4
"""Accuracies are kept in ``[LOGIT_EPS, 1 - LOGIT_EPS]`` before their log-odds are taken."""


def logodds(acc: np.ndarray) -> np.ndarray:
    """The log-odds of accuracies (clipped away from 0 and 1 by :data:`LOGIT_EPS`)."""
    return np.asarray(special.logit(np.clip(acc, LOGIT_EPS, 1.0 - LOGIT_EPS)))


NOISE_SCALES: tuple[str, ...] = ("logit", "accuracy")
"""The scales a surrogate's repeat noise may be on (:attr:`SurrogateModel.noise_scale`)."""


def _noise_scale(value: Any) -> str:
    if value not in NOISE_SCALES:
        raise ValueError(f"expected one of {list(NOISE_SCALES)}, got {value!r}")
    return str(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def read_model(path: Path) -> SurrogateModel:
    """The :class:`SurrogateModel` saved at ``path``.

    Raises:
        SurrogateFileError: missing file, not a surrogate, an unknown version, or a missing or
            invalid field (named).
    """
    arrays = _arrays(path)
    try:
        meta = json.loads(str(arrays.get("meta", "")))
    except json.JSONDecodeError as exc:
        raise SurrogateFileError(f"{path}: its metadata is not JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise SurrogateFileError(f"{path}: its metadata is not a JSON object")
    _check_budgets(meta, path)

    def ints(v: Any) -> tuple[int, ...]:
        return tuple(_strict_int(s) for s in v)

    def test_map(v: Any) -> tuple[float, ...]:
        if len(v) != 4:
            raise ValueError(f"expected 4 numbers, got {len(v)}")
        return tuple(float(x) for x in v)

    run_time = arrays.get("run_time")
    return SurrogateModel(
        space=_field(meta, "space", _text, path),
        dataset=_field(meta, "dataset", _text, path),
        n_epochs=int(meta["n_epochs"]),
        n_seeds=_field(meta, "n_seeds", _strict_int, path),
        noise_seed=_field(meta, "noise_seed", _strict_int, path),
        synthetic=_field(meta, "synthetic", _strict_bool, path),
        curves=_array(arrays, "curves", path),
        sigma=_array(arrays, "sigma", path),
        jitter=_field(meta, "jitter", _jitter, path),
        noise_scale=_field(meta, "noise_scale", _noise_scale, path)
        if "noise_scale" in meta
        else "accuracy",
        test_map=_field(meta, "test_map", test_map, path),
        test_resid=_field(meta, "test_resid", float, path),
        cost=_array(arrays, "cost", path),
        report=_field(meta, "report", _report, path),
        fitted_on=str(meta.get("fitted_on", "")),
        training_seeds=_field(meta, "training_seeds", ints, path)
        if "training_seeds" in meta
        else (),
        budgets=ints(meta.get("budgets", ())),
        run_time=None if run_time is None else _array(arrays, "run_time", path),
        arch={k[5:]: v for k, v in arrays.items() if k.startswith("arch_")},
    )
