"""Protocol validation and datasets: shapes, splits, determinism, typed errors."""

from __future__ import annotations

import json

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
        ("train_subset", True, "train_subset must be None or an integer >= 1, got True"),
        ("eval_subset", 2.0, "eval_subset must be None or an integer >= 1, got 2.0"),
        ("timing_cells_per_chunk", -1, "timing_cells_per_chunk must be an integer >= 0"),
        ("timing_cells_per_chunk", 1.5, "timing_cells_per_chunk must be an integer >= 0"),
        ("batch_size", False, "batch_size must be an integer >= 1, got False"),
        ("base_seed", -1, "base_seed must be an integer >= 0, got -1"),
        ("data_seed", True, "data_seed must be an integer >= 0, got True"),
        ("data_seed", 1.5, "data_seed must be an integer >= 0, got 1.5"),
    ],
)
def test_protocol_rejects_bad_fields(field: str, value: object, words: str) -> None:
    with pytest.raises(GenerateError, match=words):
        Protocol(**{field: value})  # type: ignore[arg-type]


def test_protocol_stores_numpy_integers_as_python_ints() -> None:
    """Integer fields accept NumPy integers (a sweep over ``np.arange``) and keep Python ints,
    which JSON (manifests, provenance) can hold; the protocol equals the one made of ints."""
    p = Protocol(channels=np.int64(4), epochs=np.int32(2), train_subset=np.int64(64),
                 timing_cells_per_chunk=np.uint8(0), base_seed=np.int64(3))  # fmt: skip
    assert [type(v) for v in (p.channels, p.epochs, p.train_subset)] == [int] * 3
    assert type(p.timing_cells_per_chunk) is int
    assert p == Protocol(
        channels=4, epochs=2, train_subset=64, timing_cells_per_chunk=0, base_seed=3
    )
    assert json.loads(json.dumps(p.to_dict()))["base_seed"] == 3


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
    with pytest.raises(DatasetError, match=r"missing in .*data_batch_1.*never downloads") as info:
        load_dataset("cifar10", seed=0, device="cpu", data_dir=tmp_path)
    assert isinstance(info.value, NasBenchSimError)
    with pytest.raises(TypeError, match="download"):  # no way to ask for a download
        load_dataset("cifar10", seed=0, device="cpu", data_dir=tmp_path, download=True)  # type: ignore[call-arg]
    with pytest.raises(DatasetError, match="FashionMNIST/raw/train-images-idx3-ubyte"):
        load_dataset("fashion_mnist", seed=0, device="cpu", data_dir=tmp_path)


def _fake_torchvision(monkeypatch: pytest.MonkeyPatch, n_train: int, n_test: int) -> list[dict]:
    """A stand-in ``torchvision.datasets`` with torchvision's CIFAR10/FashionMNIST attributes
    (``data`` uint8 NHWC or NHW, ``targets``); records how each class was constructed."""
    import sys
    import types

    calls: list[dict] = []

    def make(shape: tuple[int, ...]) -> type:
        class Fake:
            def __init__(self, root: str, train: bool, download: bool) -> None:
                calls.append({"root": root, "train": train, "download": download})
                n = n_train if train else n_test
                rng = np.random.default_rng(1 if train else 2)
                self.data = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
                self.targets = list(rng.integers(0, 10, size=n))

        return Fake

    tv = types.ModuleType("torchvision")
    tvd = types.ModuleType("torchvision.datasets")
    tvd.CIFAR10 = make((32, 32, 3))  # type: ignore[attr-defined]
    tvd.FashionMNIST = make((28, 28))  # type: ignore[attr-defined]
    tv.datasets = tvd  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torchvision", tv)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", tvd)
    return calls


def test_torchvision_datasets_are_split_and_laid_out_channels_first(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from nasbench_sim.generate.datasets import _TV_FILES

    for name in ("cifar10", "fashion_mnist"):
        for f in _TV_FILES[name]:
            (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / f).touch()
    calls = _fake_torchvision(monkeypatch, n_train=5200, n_test=300)
    ds = load_dataset("cifar10", seed=0, device="cpu", data_dir=tmp_path)
    assert calls == [
        {"root": str(tmp_path), "train": True, "download": False},
        {"root": str(tmp_path), "train": False, "download": False},
    ]
    assert ds.input_shape == (3, 32, 32)  # NHWC files become NCHW tensors
    # ...the right way round: test image 0, channel c is the file's [0, :, :, c] up to an
    # affine standardisation, not its transpose
    raw = np.random.default_rng(2).integers(0, 256, size=(300, 32, 32, 3), dtype=np.uint8)
    for c in range(3):
        got = ds.test_x[0, c].numpy().ravel()
        assert np.corrcoef(got, raw[0, :, :, c].ravel())[0, 1] > 0.9999
        assert abs(np.corrcoef(got, raw[0, :, :, c].T.ravel())[0, 1]) < 0.2
    assert ds.sizes == {"train": 200, "valid": 5000, "test": 300}  # 5,000 held out
    # standardised per channel on the training split
    m = ds.train_x.mean(dim=(0, 2, 3))
    torch.testing.assert_close(m, torch.zeros(3), atol=1e-5, rtol=0)
    other = load_dataset("cifar10", seed=1, device="cpu", data_dir=tmp_path)
    assert not torch.equal(ds.valid_y, other.valid_y)  # the split follows the seed
    fm = load_dataset("fashion_mnist", seed=0, device="cpu", data_dir=tmp_path, eval_subset=50)
    assert fm.input_shape == (1, 28, 28) and fm.sizes["test"] == 50


def test_a_subset_larger_than_its_split_is_refused() -> None:
    """Recorded in the protocol but not used, it would misdescribe the table."""
    from nasbench_sim.generate import DatasetError, load_dataset

    with pytest.raises(DatasetError, match=r"train_subset 4000 exceeds the 3000 training"):
        load_dataset("mnist1d", seed=0, device="cpu", train_subset=4000)
    with pytest.raises(DatasetError, match=r"eval_subset 2000 exceeds the 1000 samples"):
        load_dataset("mnist1d", seed=0, device="cpu", eval_subset=2000)
    ds = load_dataset("mnist1d", seed=0, device="cpu", train_subset=4000, sizes=(4000, 50, 50))
    assert ds.sizes["train"] == 4000
