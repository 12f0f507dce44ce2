"""NATS-Bench (topology) import: every mapped value checked against the source dicts."""

from __future__ import annotations

import bz2
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasbench_sim.bench import Benchmark
from nasbench_sim.importers import (
    ImportFormatError,
    WeightsInFileError,
    import_benchmark,
    import_nats,
    selections,
)
from nasbench_sim.importers import synthetic as syn
from nasbench_sim.space import Cell
from nasbench_sim.table import read_table
from tests.importers.conftest import INDICES, SPEC, load_entry

SPLITS = {"cifar10-valid": ("x-valid", "ori-test"), "cifar100": ("x-valid", "x-test")}


def _source_entry(nats_dir: Path, our_index: int) -> dict[str, Any]:
    meta = pickle.loads(bz2.decompress((nats_dir / "meta.pickle.pbz2").read_bytes()))
    bench_index = meta["meta_archs"].index(str(Cell.from_index(our_index)))
    return load_entry(nats_dir / f"{bench_index:06d}.pickle.pbz2")


def _check_row(table: Any, row: int, entry: dict[str, Any], dataset: str, budget: str) -> None:
    valid, test = SPLITS[dataset]
    state = entry[budget]
    m = table.metrics
    n = int(budget)
    for j, seed in enumerate(table.seeds.tolist()):
        run = state["all_results"].get((dataset, seed))
        if run is None:  # a missing seed stays NaN, never filled from another seed
            for name in m:
                assert np.isnan(m[name][row, j]).all()
            continue
        for e in range(n):
            assert m["train_acc"][row, j, e] == pytest.approx(
                run["train_acc1es"][e] / 100, rel=1e-6
            )
            assert m["train_loss"][row, j, e] == pytest.approx(run["train_losses"][e], rel=1e-6)
            for ours, split in (("valid", valid), ("test", test)):
                key = f"{split}@{e}"
                acc, loss = m[f"{ours}_acc"][row, j, e], m[f"{ours}_loss"][row, j, e]
                if key in run["eval_acc1es"]:
                    assert acc == pytest.approx(run["eval_acc1es"][key] / 100, rel=1e-6)
                    assert loss == pytest.approx(run["eval_losses"][key], rel=1e-6)
                else:  # a split evaluated only at the last epoch: NaN before it
                    assert np.isnan(acc) and np.isnan(loss)
    runs = [state["all_results"][(dataset, s)] for s in state["dataset_seed"][dataset]]
    c = table.cost
    assert c["params"][row] == pytest.approx(np.mean([r["params"] for r in runs]) * 1e6)
    assert c["flops"][row] == pytest.approx(np.mean([r["flop"] for r in runs]) * 1e6)
    assert c["latency_s"][row] == pytest.approx(np.mean([r["latency"][0] for r in runs]))
    per_epoch = np.mean([np.mean(list(r["train_times"].values())) for r in runs])
    assert c["train_time_s"][row] == pytest.approx(per_epoch)


@pytest.fixture(scope="module")
def c10v(nats_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("imp") / "c10v.h5"
    (report,) = import_nats(nats_dir, out, selections("cifar10-valid", "200"))
    assert report.rows == len(INDICES) and report.out == out
    return out


def test_directory_import_maps_every_value(nats_dir: Path, c10v: Path) -> None:
    table = read_table(c10v)
    assert table.dataset == "cifar10-valid" and table.n_epochs == 200
    assert table.seeds.tolist() == [777, 888, 999]  # the real labels
    assert np.all(np.diff(table.arch_index) > 0)  # rows in our index order
    for row in range(table.n_cells):
        _check_row(
            table, row, _source_entry(nats_dir, int(table.arch_index[row])), "cifar10-valid", "200"
        )


def test_provenance_and_protocol_tell_the_whole_story(nats_dir: Path, c10v: Path) -> None:
    table = read_table(c10v)
    prov, proto = table.provenance, table.protocol
    src = prov["source"]
    assert src["version"] == "v1_0" and src["checksum_in_name"] == "3ffb9"
    assert src["name"] == nats_dir.name and src["kind"] == "directory"
    assert prov["synthetic"] is True  # fixtures written by our synthetic writer say so
    assert prov["times"]["kind"] == "pseudo"
    without_999 = sum(1 for i in INDICES if i % SPEC.drop_last_seed_every == 0)
    assert prov["missing_runs"] == {"999": without_999}
    assert prov["epoch_coverage"]["test_acc"].startswith("last epoch only")
    assert prov["epoch_coverage"]["valid_acc"] == "every epoch"
    assert proto["splits"] == {"train": "train", "valid": "x-valid", "test": "ori-test"}
    assert proto["C"] == 16 and proto["N"] == 5 and proto["num_classes"] == 10


def test_info_reports_missing_seeds(c10v: Path) -> None:
    info = Benchmark.load(c10v).info()
    assert info["missing_runs"] == {"999": sum(1 for i in INDICES if i % 3 == 0)}
    assert info["synthetic"] is True and info["times"].startswith("pseudo")


def test_repeats_are_drawn_among_the_runs_a_cell_has(c10v: Path) -> None:
    bench = Benchmark.load(c10v)
    table = bench.table
    for run_seed in range(20):
        b = bench.with_run_seed(run_seed)
        for arch in table.arch_index:
            r = b.query(int(arch), epochs=200)
            assert np.isfinite(r.valid_acc)  # never the missing seed's NaN
    lacking = int(np.nonzero(np.isnan(table.metrics["valid_acc"][:, 2, -1]))[0][0])
    assert np.isnan(bench.query(int(table.arch_index[lacking]), repeat=2).valid_acc)


def test_single_file_and_pool_give_the_same_table(
    nats_dir: Path, nats_file: Path, c10v: Path, tmp_path: Path
) -> None:
    ref = read_table(c10v)
    sels = selections("cifar10-valid", "200")
    (single,) = import_nats(nats_file, tmp_path / "single.h5", sels)
    (pooled,) = import_nats(nats_dir, tmp_path / "pool.h5", sels, n_jobs=2)
    for path in (single.out, pooled.out):
        other = read_table(path)
        assert np.array_equal(other.arch_index, ref.arch_index)
        for name in ref.metrics:
            np.testing.assert_array_equal(other.metrics[name], ref.metrics[name])
        for name in ref.cost:
            np.testing.assert_array_equal(other.cost[name], ref.cost[name])
    assert read_table(single.out).provenance["source"]["sha256"]


def test_one_table_per_dataset_and_budget(nats_dir: Path, tmp_path: Path) -> None:
    reports = import_benchmark(
        "nats", nats_dir, tmp_path / "nats_{dataset}_{epochs}.h5", dataset="all", epochs="12,200"
    )
    assert len(reports) == 8
    names = sorted(r.out.name for r in reports)
    assert "nats_ImageNet16-120_12.h5" in names and "nats_cifar100_200.h5" in names
    c100 = read_table(tmp_path / "nats_cifar100_12.h5")
    assert c100.n_epochs == 12 and c100.protocol["splits"]["test"] == "x-test"
    entry = _source_entry(nats_dir, int(c100.arch_index[5]))
    _check_row(c100, 5, entry, "cifar100", "12")
    c10 = next(r for r in reports if r.out.name == "nats_cifar10_200.h5")
    assert any("no validation split" in w for w in c10.warnings)
    assert np.isnan(read_table(c10.out).metrics["valid_acc"]).all()


def test_split_overrides_are_recorded(nats_dir: Path, tmp_path: Path) -> None:
    (r,) = import_benchmark(
        "nats", nats_dir, tmp_path / "c10.h5", dataset="cifar10", valid_split="ori-test"
    )
    table = read_table(r.out)
    assert table.protocol["splits"]["valid"] == "ori-test"
    np.testing.assert_array_equal(table.metrics["valid_acc"], table.metrics["test_acc"])


def test_what_the_source_lacks_is_named(nats_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match=r"budgets \['12', '200'\]"):
        import_nats(nats_dir, tmp_path / "x.h5", selections("cifar100", "90"))
    with pytest.raises(ImportFormatError, match="unknown dataset 'mnist'"):
        selections("mnist", "200")
    with pytest.raises(ImportFormatError, match="takes no option"):
        import_benchmark("nats", nats_dir, tmp_path / "x.h5", arch_col="a")


def _copy(nats_dir: Path, dst: Path, n: int = 6) -> Path:
    dst.mkdir()
    shutil.copy(nats_dir / "meta.pickle.pbz2", dst)
    for i in INDICES[:n]:
        shutil.copy(nats_dir / f"{i:06d}.pickle.pbz2", dst)
    return dst


def test_corrupt_file_in_directory(nats_dir: Path, tmp_path: Path) -> None:
    folder = _copy(nats_dir, tmp_path / "NATS-tss-v1_0-3ffb9-simple")
    bad = folder / "000002.pickle.pbz2"
    bad.write_bytes(bad.read_bytes()[:-100])
    sels = selections("cifar10-valid", "200")
    with pytest.raises(ImportFormatError, match=r"000002\.pickle\.pbz2: truncated bz2"):
        import_nats(folder, tmp_path / "x.h5", sels)
    (r,) = import_nats(folder, tmp_path / "x.h5", sels, skip_corrupt=True, n_jobs=2)
    assert r.rows == 5 and any("000002.pickle.pbz2" in w for w in r.warnings)


def test_wrong_format_directory_and_files(nats_dir: Path, tmp_path: Path) -> None:
    sels = selections("cifar10-valid", "200")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ImportFormatError, match=r"no meta\.pickle\.pbz2"):
        import_nats(empty, tmp_path / "x.h5", sels)
    folder = _copy(nats_dir, tmp_path / "other", n=2)
    (folder / "000001.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps([1, 2, 3])))
    with pytest.raises(ImportFormatError, match=r"000001\.pickle\.pbz2: expected a dict keyed by"):
        import_nats(folder, tmp_path / "x.h5", sels)
    entry = load_entry(nats_dir / "000000.pickle.pbz2")
    entry["200"]["arch_str"] = str(Cell.from_index(0))
    (folder / "000001.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps(entry)))
    with pytest.raises(ImportFormatError, match="where the index lists"):
        import_nats(folder, tmp_path / "x.h5", sels)
    with pytest.raises(ImportFormatError, match="no such file or directory"):
        import_nats(tmp_path / "nothing", tmp_path / "x.h5", sels)


def test_full_archive_with_weights_is_refused(tmp_path: Path) -> None:
    full = syn.write_nats_dir(
        tmp_path / "NATS-tss-v1_0-3ffb9-full", [0, 1], spec=syn.SyntheticSpec(weights=True)
    )
    with pytest.raises(
        WeightsInFileError, match="this is a -full file with weights; use the -simple archive"
    ):
        import_nats(full, tmp_path / "x.h5", selections("cifar10-valid", "200"))


@pytest.mark.parametrize("fmt", ["nats", "nb201", "nb101", "csv", "hwnas"])
def test_a_missing_source_fails_before_any_progress_bar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    from nasbench_sim.cli import main

    extra = ["--table", str(tmp_path / "t.h5")] if fmt == "hwnas" else []
    rc = main(["import", fmt, str(tmp_path / "nothing"), "--out", str(tmp_path / "x.h5"), *extra])
    err = capsys.readouterr().err
    assert rc == 2 and "nothing: no such file or directory" in err
    assert "importing" not in err  # no bar was drawn for work that never started
    assert not (tmp_path / "x.h5").exists()
