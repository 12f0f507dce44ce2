"""Protocol validation and datasets: shapes, splits, determinism, typed errors."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench_sim.errors import NasBenchSimError
from nasbench_sim.generate import DatasetError, GenerateError, Protocol
from nasbench_sim.generate.datasets import load_dataset


def test_protocol_round_trip_and_table_extras() -> None:
    p = Protocol(dataset="digits", channels=4, seeds=(3, 1))
    d = p.to_dict()
    assert d["seeds"] == [3, 1]
    assert Protocol.from_dict(d) == p
    assert Protocol.from_dict({**d, "splits": {"train": 5}, "n_classes": 10}) == p


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("dataset", "imagenet", "valid datasets"),
        ("channels", 0, "channels"),
        ("epochs", 1.5, "epochs"),
        ("seeds", (), "seed"),
        ("seeds", (1, 1), "distinct"),
        ("lr", float("nan"), "lr"),
        ("lr_min", 1.0, "exceeds"),
        ("dtype", "float16", "float32"),
        ("train_subset", 0, "train_subset"),
    ],
)
def test_protocol_rejects_bad_fields(field: str, value: object, words: str) -> None:
    with pytest.raises(GenerateError, match=words):
        Protocol(**{field: value})  # type: ignore[arg-type]


def test_protocol_from_dict_names_unknown_field() -> None:
    with pytest.raises(GenerateError, match=r"unknown protocol field.*'chanels'"):
        Protocol.from_dict({"chanels": 4})


def test_derived_seeds_differ_per_cell_and_seed() -> None:
    p = Protocol()
    seeds = {p.init_seed(c, s) for c in range(50) for s in range(3)}
    assert len(seeds) == 150
    assert p.shuffle_seed(0) != p.shuffle_seed(1)
    assert Protocol(base_seed=1).init_seed(0, 0) != p.init_seed(0, 0)


def test_digits_splits_are_stratified_disjoint_and_seeded() -> None:
    a = load_dataset("digits", seed=0, device="cpu")
    b = load_dataset("digits", seed=0, device="cpu")
    c = load_dataset("digits", seed=1, device="cpu")
    assert a.input_shape == (1, 8, 8) and a.ndim == 2 and a.n_classes == 10
    assert a.sizes == {"train": 1077, "valid": 360, "test": 360}
    assert tuple(a.train_x.shape) == (1077, 1, 8, 8)
    assert a.train_x.dtype.is_floating_point
    assert bool((a.train_x == b.train_x).all()) and bool((a.test_y == b.test_y).all())
    assert not bool((a.test_y == c.test_y).all())
    # standardised on the training split
    assert abs(float(a.train_x.mean())) < 1e-6 and abs(float(a.train_x.std()) - 1) < 1e-2
    # stratified: every class present in every split in similar proportion
    for y in (a.train_y, a.valid_y, a.test_y):
        counts = np.bincount(y.numpy(), minlength=10) / len(y)
        assert counts.min() > 0.08 and counts.max() < 0.12
    # no test image appears in training (rows are distinct images)
    train = {tuple(r) for r in a.train_x.flatten(1).numpy().round(5).tolist()}
    test = [tuple(r) for r in a.test_x.flatten(1).numpy().round(5).tolist()]
    overlap = sum(r in train for r in test)
    assert overlap <= 3  # load_digits has a handful of exact duplicate images


def test_mnist1d_is_offline_deterministic_and_leaves_numpy_global_rng_alone() -> None:
    np.random.seed(123)  # noqa: NPY002 - checking mnist1d's global seeding is undone
    expected = np.random.random()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    a = load_dataset("mnist1d", seed=0, device="cpu", dtype="float64")
    assert np.random.random() == expected  # noqa: NPY002
    b = load_dataset("mnist1d", seed=0, device="cpu", train_subset=100, eval_subset=50)
    assert a.input_shape == (1, 40) and a.ndim == 1
    assert a.sizes == {"train": 3000, "valid": 1000, "test": 1000}
    assert b.sizes == {"train": 100, "valid": 50, "test": 50}
    assert str(a.train_x.dtype) == "torch.float64" and str(b.train_x.dtype) == "torch.float32"
    assert bool((a.train_y[:100] == b.train_y).all())
    c = load_dataset("mnist1d", seed=5, device="cpu")
    assert bool((a.test_y == c.test_y).all())  # the package's own test split
    assert not bool((a.valid_y == c.valid_y).all())  # our seeded validation split


def test_unknown_dataset_lists_valid_names() -> None:
    with pytest.raises(DatasetError, match="valid datasets: mnist1d, digits"):
        load_dataset("mnist2d", seed=0, device="cpu")


def test_file_datasets_say_what_is_missing(tmp_path) -> None:
    with pytest.raises(DatasetError, match="data_dir"):
        load_dataset("cifar10", seed=0, device="cpu")
    with pytest.raises(DatasetError, match=r"missing in .*data_batch_1.*--download") as info:
        load_dataset("cifar10", seed=0, device="cpu", data_dir=tmp_path)
    assert isinstance(info.value, NasBenchSimError)
    with pytest.raises(DatasetError, match="FashionMNIST/raw/train-images-idx3-ubyte"):
        load_dataset("fashion_mnist", seed=0, device="cpu", data_dir=tmp_path)
