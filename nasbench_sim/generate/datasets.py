"""Datasets the generator trains on, held as tensors on the training device.

=================  ======  ====================================  =========================
name               shape   source                                splits (train/valid/test)
=================  ======  ====================================  =========================
``mnist1d``        1x40    ``mnist1d.data.make_dataset`` with    3,000 / 1,000 / 1,000
                           the package's default arguments
                           (seed 42), generated offline
``digits``         1x8x8   scikit-learn ``load_digits``          1,077 / 360 / 360
                                                                 (stratified)
``fashion_mnist``  1x28x28 torchvision, from ``data_dir``        55,000 / 5,000 / 10,000
``cifar10``        3x32x32 torchvision, from ``data_dir``        45,000 / 5,000 / 10,000
``cifar100``       3x32x32 torchvision, from ``data_dir``        45,000 / 5,000 / 10,000
=================  ======  ====================================  =========================

The validation split is drawn from the training pool with the protocol's ``data_seed``; the
test split is the source's own test split (``digits`` has none: 20 % of it is held out,
stratified). Inputs are standardised per channel with statistics of the training split. No data
augmentation is used, so that a whole dataset can stay on the device.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nasbench_sim.generate.errors import DatasetError, MissingTrainingDependency
from nasbench_sim.generate.protocol import DATASETS, Protocol

__all__ = ["Dataset", "dataset_for", "load_dataset"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train / validation / test tensors on one device.

    Attributes:
        name: dataset name.
        train_x, valid_x, test_x: inputs ``(n, *input_shape)``.
        train_y, valid_y, test_y: int64 labels ``(n,)``.
        input_shape: ``(channels, length)`` for 1-D data or ``(channels, height, width)``.
        n_classes: number of classes.
    """

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    valid_x: torch.Tensor
    valid_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    input_shape: tuple[int, ...]
    n_classes: int

    @property
    def ndim(self) -> int:
        """Spatial dimensions: 1 or 2."""
        return len(self.input_shape) - 1

    @property
    def sizes(self) -> dict[str, int]:
        return {
            "train": int(self.train_y.shape[0]),
            "valid": int(self.valid_y.shape[0]),
            "test": int(self.test_y.shape[0]),
        }


def dataset_for(
    protocol: Protocol,
    device: torch.device | str,
    data_dir: str | os.PathLike[str] | None = None,
) -> Dataset:
    """The dataset a protocol trains on, with its split seed, subsets and dtype."""
    return load_dataset(
        protocol.dataset,
        seed=protocol.data_seed,
        data_dir=data_dir,
        device=device,
        dtype=protocol.dtype,
        train_subset=protocol.train_subset,
        eval_subset=protocol.eval_subset,
        sizes=protocol.data_sizes,
    )


def _check_subsets(
    name: str, train: int | None, evals: int | None, n_train: int, n_eval: int
) -> None:
    """A subset larger than its split would be recorded in the protocol but not used."""
    more = " (mnist1d generates more: data_sizes, --data-sizes)" if name == "mnist1d" else ""
    if train is not None and train > n_train:
        raise DatasetError(
            f"train_subset {train} exceeds the {n_train} training samples of {name}; give at "
            f"most {n_train}{more}"
        )
    if evals is not None and evals > n_eval:
        raise DatasetError(
            f"eval_subset {evals} exceeds the {n_eval} samples of {name}'s smaller evaluation "
            f"split (validation or test); give at most {n_eval}{more}"
        )


def load_dataset(
    name: str,
    *,
    seed: int,
    device: torch.device | str,
    data_dir: str | os.PathLike[str] | None = None,
    dtype: str = "float32",
    train_subset: int | None = None,
    eval_subset: int | None = None,
    sizes: tuple[int, int, int] | None = None,
) -> Dataset:
    """Load (or generate) dataset ``name`` and split it with ``seed``.

    Args:
        name: one of ``mnist1d``, ``digits``, ``cifar10``, ``cifar100``, ``fashion_mnist``.
        seed: seed of the train/validation split.
        device: where the tensors live.
        data_dir: folder holding the torchvision datasets (not used by ``mnist1d``/``digits``);
            nothing is ever downloaded.
        dtype: ``float32`` or ``float64`` inputs.
        train_subset: keep only the first ``train_subset`` training samples.
        eval_subset: keep only the first ``eval_subset`` validation and test samples.
        sizes: ``(train, valid, test)`` samples to generate (``mnist1d`` only; ``None``: the
            package's default 3,000 / 1,000 / 1,000).

    Raises:
        DatasetError: unknown name, or missing files (naming them and how to provide them).

    Example:
        >>> ds = load_dataset("digits", seed=0, device="cpu")
        >>> ds.input_shape, ds.n_classes, ds.sizes["test"]
        ((1, 8, 8), 10, 360)
    """
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; valid datasets: {', '.join(DATASETS)}")
    if sizes is not None and name != "mnist1d":
        raise DatasetError(f"sizes applies to generated datasets (mnist1d), not {name!r}")
    if name == "mnist1d":
        arrays = _mnist1d(seed, sizes)
    elif name == "digits":
        arrays = _digits(seed)
    else:
        arrays = _torchvision(name, seed, data_dir)
    xtr, ytr, xva, yva, xte, yte = arrays
    _check_subsets(name, train_subset, eval_subset, len(ytr), min(len(yva), len(yte)))
    if train_subset is not None:
        xtr, ytr = xtr[:train_subset], ytr[:train_subset]
    if eval_subset is not None:
        xva, yva = xva[:eval_subset], yva[:eval_subset]
        xte, yte = xte[:eval_subset], yte[:eval_subset]
    axes = (0, *range(2, xtr.ndim))  # per input channel
    mean = xtr.mean(axis=axes, keepdims=True)
    std = xtr.std(axis=axes, keepdims=True)
    std = np.where(std > 0, std, 1.0)
    tdtype = torch.float64 if dtype == "float64" else torch.float32
    dev = torch.device(device)

    def x(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor((a - mean) / std, dtype=tdtype).to(dev)

    def y(a: np.ndarray) -> torch.Tensor:
        return torch.tensor(np.array(a, dtype=np.int64)).to(dev)

    return Dataset(
        name=name,
        train_x=x(xtr),
        train_y=y(ytr),
        valid_x=x(xva),
        valid_y=y(yva),
        test_x=x(xte),
        test_y=y(yte),
        input_shape=tuple(int(s) for s in xtr.shape[1:]),
        n_classes=int(max(ytr.max(), yva.max(), yte.max())) + 1,
    )


_Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _split_pool(
    x: np.ndarray, y: np.ndarray, n_valid: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    perm = np.random.default_rng(seed).permutation(len(y))
    va, tr = perm[:n_valid], perm[n_valid:]
    return x[tr], y[tr], x[va], y[va]


@functools.lru_cache(maxsize=2)
def _mnist1d_raw(
    num_samples: int | None = None, n_test: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The package's generator with its default arguments (``num_samples`` samples of which
    the last ``n_test`` are the test split, when given); read-only arrays (memoised: the
    generator takes seconds and is a pure function of its arguments)."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise MissingTrainingDependency("mnist1d") from None
    np_state = np.random.get_state()  # noqa: NPY002 -- make_dataset seeds numpy's global RNG; put it back
    args = get_dataset_args()
    if num_samples is not None and n_test is not None:
        args.num_samples = num_samples
        args.train_split = (num_samples - n_test) / num_samples
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
    out = (
        np.asarray(data["x"], dtype=np.float64),
        np.asarray(data["y"], dtype=np.int64),
        np.asarray(data["x_test"], dtype=np.float64),
        np.asarray(data["y_test"], dtype=np.int64),
    )
    for a in out:
        a.setflags(write=False)
    return out


def _mnist1d(seed: int, sizes: tuple[int, int, int] | None = None) -> _Arrays:
    if sizes is None:
        x, y, xte, yte = _mnist1d_raw()
        n_valid = 1000
    else:
        n_train, n_valid, n_test = sizes
        # the generator makes num_samples // 10 samples per class: round the total up
        total = -(-(n_train + n_valid + n_test) // 10) * 10
        x, y, xte, yte = _mnist1d_raw(total, total - n_train - n_valid)
        if xte.shape[0] != n_test or x.shape[0] != n_train + n_valid:
            x, y = x[: n_train + n_valid], y[: n_train + n_valid]
            xte, yte = xte[-n_test:], yte[-n_test:]
    xtr, ytr, xva, yva = _split_pool(x, y, n_valid, seed)
    return xtr[:, None, :], ytr, xva[:, None, :], yva, xte[:, None, :], yte


def _digits(seed: int) -> _Arrays:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = np.asarray(data.images, dtype=np.float64)[:, None, :, :]
    y = np.asarray(data.target, dtype=np.int64)
    x_pool, xte, y_pool, yte = train_test_split(x, y, test_size=0.2, stratify=y, random_state=seed)
    xtr, xva, ytr, yva = train_test_split(
        x_pool, y_pool, test_size=0.25, stratify=y_pool, random_state=seed + 1
    )
    return xtr, ytr, xva, yva, xte, yte


_TV_FILES: dict[str, tuple[str, ...]] = {
    "cifar10": tuple(
        f"cifar-10-batches-py/{n}"
        for n in (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta")
    ),
    "cifar100": ("cifar-100-python/train", "cifar-100-python/test", "cifar-100-python/meta"),
    "fashion_mnist": tuple(
        f"FashionMNIST/raw/{n}"
        for n in (
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        )
    ),
}
_TV_CLASS = {"cifar10": "CIFAR10", "cifar100": "CIFAR100", "fashion_mnist": "FashionMNIST"}


def _torchvision(name: str, seed: int, data_dir: str | os.PathLike[str] | None) -> _Arrays:
    if data_dir is None:
        raise DatasetError(
            f"dataset {name!r} is read from files: pass data_dir (CLI: --data-dir DIR) pointing "
            f"at a folder holding {', '.join(_TV_FILES[name])} (torchvision's layout)"
        )
    root = Path(data_dir)
    missing = [f for f in _TV_FILES[name] if not (root / f).exists()]
    if missing:
        raise DatasetError(
            f"dataset {name!r}: missing in {root}: {', '.join(missing)}; place torchvision's "
            f"{_TV_CLASS[name]} files there (nasbench-sim never downloads: fetch them once "
            "with torchvision on a machine that can, and copy the folder)"
        )
    try:
        import torchvision.datasets as tvd
    except ImportError:
        raise MissingTrainingDependency("torchvision") from None
    cls: Any = getattr(tvd, _TV_CLASS[name])
    train = cls(root=str(root), train=True, download=False)
    test = cls(root=str(root), train=False, download=False)

    def arrays(ds: Any) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(ds.data, dtype=np.float64) / 255.0
        x = x[:, None, :, :] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
        return x, np.asarray(ds.targets, dtype=np.int64)

    x, y = arrays(train)
    xte, yte = arrays(test)
    xtr, ytr, xva, yva = _split_pool(x, y, 5000, seed)
    return xtr, ytr, xva, yva, xte, yte
