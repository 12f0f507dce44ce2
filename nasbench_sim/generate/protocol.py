"""The training protocol: every setting that shapes a table's numbers, in one frozen value.

A :class:`Protocol` is written verbatim (as JSON) into a table's ``protocol`` attribute and
into a build's manifest, so a resumed or sharded build can check it trains the same thing.

Example:
    >>> p = Protocol(dataset="digits", channels=4, cells_per_stage=1, epochs=2)
    >>> Protocol.from_dict(p.to_dict()) == p
    True
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench_sim.checks import is_int, require_int
from nasbench_sim.generate.errors import GenerateError

__all__ = [
    "BUILD_FLAGS",
    "DATASETS",
    "DTYPES",
    "GENERATED_DATASETS",
    "TABLE_EXTRAS",
    "Protocol",
    "build_command",
]

DATASETS: tuple[str, ...] = ("mnist1d", "digits", "cifar10", "cifar100", "fashion_mnist")
"""Dataset names :func:`~nasbench_sim.generate.datasets.load_dataset` knows."""
GENERATED_DATASETS: tuple[str, ...] = ("mnist1d",)
"""Datasets generated offline in any size (``Protocol.data_sizes``)."""
DTYPES: tuple[str, ...] = ("float32", "float64")
TABLE_EXTRAS: tuple[str, ...] = ("splits", "input_shape", "n_classes")
"""Keys a table's ``protocol`` attribute adds to :meth:`Protocol.to_dict` (facts of the data
the protocol produced); :meth:`Protocol.from_dict` ignores them."""


@dataclass(frozen=True)
class Protocol:
    """How every cell is trained and measured.

    Attributes:
        dataset: one of :data:`DATASETS`.
        channels: ``C``, channels of the first stage (stages have ``C, 2C, 4C``).
        cells_per_stage: ``N``, cells per stage.
        epochs: training epochs; the table records every epoch.
        batch_size: training mini-batch size.
        lr: peak learning rate of the cosine schedule (annealed per step to ``lr_min``).
        lr_min: final learning rate.
        momentum: SGD momentum (Nesterov).
        weight_decay: L2 weight decay, applied to every parameter.
        label_smoothing: label smoothing of the cross-entropy loss.
        seeds: training seeds; each cell is trained once per seed.
        base_seed: mixed into every derived seed (initial weights, shuffling, data split).
        data_seed: seed of the train/validation(/test) split.
        train_subset: train on only the first ``train_subset`` samples of the (shuffled)
            training split; ``None`` uses all of it (a test and smoke-run option).
        eval_subset: evaluate on at most this many validation and test samples.
        data_sizes: ``(train, valid, test)`` samples to generate, for datasets made by a
            generator (``mnist1d``); ``None`` keeps the dataset's default split.
        test_every: evaluate the test split every ``test_every`` epochs and after the last
            one (the other epochs' test metrics are NaN); 1 evaluates every epoch.
        eval_batch_size: batch size of the evaluation passes.
        dtype: floating-point type of the weights and data.
        latency_batch_size: batch size of the inference-latency measurement.
        latency_repeats: timed repeats of the latency measurement (the median is kept).
        timing_cells_per_chunk: cells per chunk timed alone to calibrate the training-time
            model.
        timing_steps: training steps timed per calibration cell (after one warm-up step).
    """

    dataset: str = "mnist1d"
    channels: int = 16
    cells_per_stage: int = 5
    epochs: int = 12
    batch_size: int = 256
    lr: float = 0.1
    lr_min: float = 0.0
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    seeds: tuple[int, ...] = (0,)
    base_seed: int = 0
    data_seed: int = 0
    train_subset: int | None = None
    eval_subset: int | None = None
    data_sizes: tuple[int, int, int] | None = None
    test_every: int = 1
    eval_batch_size: int = 1024
    dtype: str = "float32"
    latency_batch_size: int = 256
    latency_repeats: int = 5
    timing_cells_per_chunk: int = 2
    timing_steps: int = 5

    def __post_init__(self) -> None:
        if isinstance(self.seeds, list):
            object.__setattr__(self, "seeds", tuple(self.seeds))
        if self.data_sizes is not None:
            sizes = tuple(self.data_sizes)
            if len(sizes) != 3 or any(not is_int(v) or v < 1 for v in sizes):
                raise GenerateError(
                    f"data_sizes must be three integers >= 1 (train, valid, test), got "
                    f"{self.data_sizes!r}"
                )
            if self.dataset not in GENERATED_DATASETS:
                raise GenerateError(
                    f"data_sizes applies to generated datasets ({', '.join(GENERATED_DATASETS)})"
                    f", not {self.dataset!r}"
                )
            object.__setattr__(self, "data_sizes", tuple(int(v) for v in sizes))
        if self.dataset not in DATASETS:
            raise GenerateError(
                f"unknown dataset {self.dataset!r}; valid datasets: {', '.join(DATASETS)}"
            )
        if self.dtype not in DTYPES:
            raise GenerateError(f"dtype {self.dtype!r} is not one of {', '.join(DTYPES)}")
        positive = (
            "channels",
            "cells_per_stage",
            "epochs",
            "batch_size",
            "eval_batch_size",
            "latency_batch_size",
            "latency_repeats",
            "timing_steps",
            "test_every",
        )
        # integers (NumPy ones too, never a bool), stored as Python ints: they go into JSON
        at_least_0 = ("timing_cells_per_chunk", "base_seed", "data_seed")
        for name, least in (*((n, 1) for n in positive), *((n, 0) for n in at_least_0)):
            value = require_int(f"protocol field {name}", getattr(self, name), least, GenerateError)
            object.__setattr__(self, name, value)
        for name in ("train_subset", "eval_subset"):
            value = getattr(self, name)
            if value is not None:
                if not is_int(value) or value < 1:
                    raise GenerateError(
                        f"protocol field {name} must be None or an integer >= 1, got {value!r}"
                    )
                object.__setattr__(self, name, int(value))
        for name in ("lr", "lr_min", "momentum", "weight_decay", "label_smoothing"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
                raise GenerateError(f"protocol field {name} must be a finite number >= 0")
        if self.lr_min > self.lr:
            raise GenerateError(f"lr_min={self.lr_min} exceeds lr={self.lr}")
        if self.label_smoothing >= 1:
            raise GenerateError("label_smoothing must be in [0, 1)")
        if not self.seeds:
            raise GenerateError("protocol needs at least one training seed")
        if not all(is_int(s) for s in self.seeds):
            raise GenerateError(f"training seeds must be integers, got {self.seeds!r}")
        if any(int(s) < 0 for s in self.seeds) or len(set(self.seeds)) != len(self.seeds):
            raise GenerateError(f"training seeds must be distinct and >= 0, got {self.seeds!r}")
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))

    # -- (de)serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict of every field (``seeds`` as a list)."""
        d = dataclasses.asdict(self)
        d["seeds"] = list(self.seeds)
        if self.data_sizes is not None:
            d["data_sizes"] = list(self.data_sizes)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Protocol:
        """Inverse of :meth:`to_dict` (also accepts a table's ``protocol`` attribute).

        Raises:
            GenerateError: for a key that is not a protocol field.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        d = {k: v for k, v in d.items() if k not in TABLE_EXTRAS}
        unknown = sorted(set(d) - names)
        if unknown:
            raise GenerateError(
                f"unknown protocol field(s) {unknown}; valid fields: {', '.join(sorted(names))}"
            )
        kw = dict(d)
        if "seeds" in kw:
            kw["seeds"] = tuple(kw["seeds"])
        if kw.get("data_sizes") is not None:
            kw["data_sizes"] = tuple(kw["data_sizes"])
        return cls(**kw)

    # -- derived seeds -----------------------------------------------------------------------
    def init_seed(self, cell_index: int, seed: int) -> int:
        """Seed of the initial weights of cell ``cell_index`` trained with seed ``seed``."""
        return _derive(self.base_seed, 1, seed, cell_index)

    def shuffle_seed(self, seed: int) -> int:
        """Seed of the mini-batch order of every cell trained with seed ``seed``."""
        return _derive(self.base_seed, 2, seed)

    @property
    def dtype_bytes(self) -> int:
        return 8 if self.dtype == "float64" else 4


def _derive(*entropy: int) -> int:
    """A 63-bit seed from a tuple of non-negative ints (``SeedSequence`` mixing)."""
    state = np.random.SeedSequence([int(e) for e in entropy]).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


BUILD_FLAGS: dict[str, str] = {
    "dataset": "--dataset",
    "channels": "--channels",
    "cells_per_stage": "--cells-per-stage",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "lr": "--lr",
    "weight_decay": "--weight-decay",
    "label_smoothing": "--label-smoothing",
    "seeds": "--seeds",
    "base_seed": "--base-seed",
    "train_subset": "--train-subset",
    "eval_subset": "--eval-subset",
    "data_sizes": "--data-sizes",
    "test_every": "--test-every",
    "dtype": "--dtype",
}
"""The protocol fields ``nasbench-sim build`` sets, and their flags (the others keep their
defaults on the command line)."""


def build_command(
    protocol: Protocol, cells: str | int = "classes", out: str = "T.h5"
) -> tuple[str, dict[str, Any]]:
    """The ``nasbench-sim build`` command line that trains ``protocol`` into ``out``, and the
    protocol fields no flag sets that differ from their defaults (``{}`` when the command
    alone reproduces the protocol; the others need :func:`build_table` in Python).

    Example:
        >>> cmd, rest = build_command(Protocol(dataset="digits", epochs=3, seeds=(0, 1)))
        >>> cmd.split(" --")[:3], rest
        (['nasbench-sim build', 'out=T.h5', 'cells classes'], {})
    """
    parts = ["nasbench-sim", "build", f"--out={out}", "--cells", str(cells)]
    for field, flag in BUILD_FLAGS.items():
        value = getattr(protocol, field)
        if value is None:
            continue
        listed = field in ("seeds", "data_sizes")
        parts += [flag, ",".join(map(str, value)) if listed else str(value)]
    default = Protocol()
    rest = {
        f.name: getattr(protocol, f.name)
        for f in dataclasses.fields(protocol)
        if f.name not in BUILD_FLAGS and getattr(protocol, f.name) != getattr(default, f.name)
    }
    return shlex.join(parts), rest
