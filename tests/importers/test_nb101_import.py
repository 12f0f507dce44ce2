"""``import nb101``: NAS-Bench-101's files into a table, every budget and repeat, with checks.

Fixture files come from the pure-Python writers (TFRecord framing, CRC-32C, the protobuf wire
format; NASLib's pickle layout); no real file is needed."""

from __future__ import annotations

import hashlib
import json
import pickle
import struct
from pathlib import Path

import h5py
import numpy as np
import pytest

from nasbench_sim.cli import main
from nasbench_sim.importers import (
    ImportFormatError,
    UnsafePickleError,
    import_benchmark,
    import_nb101,
)
from nasbench_sim.importers import nb101_import as nbi
from nasbench_sim.importers.nb101 import BUDGETS, encode_row
from nasbench_sim.importers.synthetic_nb101 import (
    random_cells,
    synthetic_runs,
    write_naslib_pickle,
    write_nb101_tfrecord,
)
from nasbench_sim.importers.tfrecord import write_tfrecord
from nasbench_sim.space import NB101Cell
from nasbench_sim.table import read_table

CELLS = random_cells(30, seed=7)


@pytest.fixture(scope="module")
def full_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_nb101_tfrecord(tmp_path_factory.mktemp("nb") / "nasbench_full.tfrecord", CELLS)


def test_every_budget_and_repeat_lands_in_the_table(full_file: Path, tmp_path: Path) -> None:
    report = import_nb101(full_file, tmp_path / "t.h5")[0]
    table = read_table(report.out)
    assert table.space == "nb101" and table.dataset == "cifar10"
    assert table.budgets.tolist() == list(BUDGETS) and table.seeds.tolist() == [0, 1, 2]
    assert table.metrics["valid_acc"].shape == (len(CELLS), 3, 4)
    space = table.arch_space
    row = {space.from_index(r).hash: r for r in range(space.size)}
    assert set(row) == {c.hash for c in CELLS}
    for cell, epochs, rep, m in synthetic_runs(CELLS):
        r, b = row[cell.hash], BUDGETS.index(epochs)
        half, final = m.evaluations[1], m.evaluations[2]
        got = {name: float(table.metrics[name][r, rep, b]) for name in table.metrics}
        assert got["valid_acc"] == pytest.approx(final.validation_accuracy, rel=1e-6)
        assert got["train_acc"] == pytest.approx(final.train_accuracy, rel=1e-6)
        assert got["test_acc"] == pytest.approx(final.test_accuracy, rel=1e-6)
        assert got["train_time_s"] == pytest.approx(final.training_time, rel=1e-6)
        assert got["halfway_valid_acc"] == pytest.approx(half.validation_accuracy, rel=1e-6)
        assert got["halfway_train_time_s"] == pytest.approx(half.training_time, rel=1e-6)
        assert np.isnan(got["valid_loss"])  # NAS-Bench-101 records no losses
        assert table.cost["params"][r] == m.trainable_parameters
        assert space.from_index(r) == cell  # the graph itself, not only its hash
    assert report.rows == len(CELLS) and report.epochs == 108 and not report.missing_runs


def test_provenance_names_the_file_its_checksum_and_the_checks(
    full_file: Path, tmp_path: Path
) -> None:
    table = read_table(import_nb101(full_file, tmp_path / "t.h5")[0].out)
    src = table.provenance["source"]
    assert src["name"] == "nasbench_full.tfrecord" and src["format"] == "tfrecord"
    assert src["sha256"] == hashlib.sha256(full_file.read_bytes()).hexdigest()
    assert src["crc_checked"] is True and src["hashes_checked"] == "all"
    assert src["records"] == len(CELLS) * 4 * 3
    assert table.is_synthetic  # the writer's mark travels into the table
    assert table.protocol["budgets"] == list(BUDGETS)
    assert "separate training runs" in table.protocol["budgets_are"]
    bare = write_nb101_tfrecord(tmp_path / "bare.tfrecord", CELLS[:3], mark=False)
    assert not read_table(import_nb101(bare, tmp_path / "b.h5")[0].out).is_synthetic


def test_large_files_sample_the_hashes_and_skip_crcs(
    full_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nbi, "CHECK_LIMIT", 1000)  # "large": above 1000 bytes
    monkeypatch.setattr(nbi, "HASH_SAMPLE", 5)
    src = read_table(import_nb101(full_file, tmp_path / "t.h5")[0].out).provenance["source"]
    assert src["crc_checked"] is False and src["hashes_checked"] == "5 spread"
    src = read_table(
        import_nb101(full_file, tmp_path / "u.h5", check_crc=True, check_hashes="all")[0].out
    ).provenance["source"]
    assert src["crc_checked"] is True and src["hashes_checked"] == "all"


def _rows(cells: list[NB101Cell], skip: set[tuple[int, int, int]]) -> list[bytes]:
    """Records of every run of ``cells`` except ``(cell, budget, repeat)`` in ``skip``."""
    out = []
    for cell, epochs, rep, m in synthetic_runs(cells):
        if (cells.index(cell), epochs, rep) not in skip:
            out.append(encode_row(cell.hash, epochs, str(cell), m))
    return out


def test_missing_runs_stay_nan_and_are_reported(tmp_path: Path) -> None:
    """NAS-Bench-101's records carry no repeat number: a budget's runs fill the repeat axis in
    file order, so a missing run leaves that budget's last repeat NaN (never filled)."""
    cells = CELLS[:6]
    src = write_tfrecord(tmp_path / "gaps.tfrecord", _rows(cells, {(2, 12, 1), (4, 108, 2)}))
    report = import_nb101(src, tmp_path / "t.h5")[0]
    table = read_table(report.out)
    row = {table.arch_space.from_index(r).hash: r for r in range(6)}
    runs = {(c.hash, e, k): m for c, e, k, m in synthetic_runs(cells)}
    valid = table.metrics["valid_acc"][row[cells[2].hash], :, 1]  # the 12-epoch budget
    assert np.isnan(valid[2])
    for pos, k in ((0, 0), (1, 2)):  # the runs present, in file order
        want = runs[(cells[2].hash, 12, k)].evaluations[2].validation_accuracy
        assert valid[pos] == pytest.approx(want, rel=1e-6)
    assert np.isnan(table.metrics["train_time_s"][row[cells[4].hash], 2, 3])
    assert report.missing_runs == {"repeat 2 at 12 epochs": 1, "repeat 2 at 108 epochs": 1}


def test_a_bad_crc_a_truncated_file_and_a_wrong_hash_are_refused(tmp_path: Path) -> None:
    path = write_nb101_tfrecord(tmp_path / "t.tfrecord", CELLS[:4], (108,), mark=False)
    raw = bytearray(path.read_bytes())
    first = struct.unpack("<Q", raw[:8])[0]
    raw[12 + first] ^= 0xFF  # the first record's data CRC; its data is intact
    bad = tmp_path / "badcrc.tfrecord"
    bad.write_bytes(bytes(raw))
    with pytest.raises(ImportFormatError, match=r"badcrc\.tfrecord: record 0 .* data CRC"):
        import_nb101(bad, tmp_path / "x.h5")
    assert import_nb101(bad, tmp_path / "x.h5", check_crc=False)[0].rows == 4  # data intact
    cut = tmp_path / "cut.tfrecord"
    cut.write_bytes(path.read_bytes()[:-9])
    with pytest.raises(
        ImportFormatError, match=r"cut\.tfrecord: record \d+ .*(truncated|declares)"
    ):
        import_nb101(cut, tmp_path / "x.h5")
    wrong = [encode_row(CELLS[1].hash, 108, str(CELLS[0]), m) for _, _, _, m in
             synthetic_runs(CELLS[:1], (108,))]  # fmt: skip
    lying = write_tfrecord(tmp_path / "lying.tfrecord", wrong)
    with pytest.raises(ImportFormatError, match="is not NAS-Bench-101's hash of its spec"):
        import_nb101(lying, tmp_path / "x.h5", check_hashes="sample")  # a small file: all
    trusted = import_nb101(lying, tmp_path / "x.h5", check_hashes="none")[0].out
    assert read_table(trusted).provenance["source"]["hashes_checked"].startswith("none")


def test_structural_checks_run_on_every_row_even_unhashed(tmp_path: Path) -> None:
    m = next(iter(synthetic_runs(CELLS[:1], (108,))))[3]
    dense = "".join(map(str, np.triu(np.ones((7, 7), int), 1).ravel()))  # 21 edges
    five = ",".join(["conv3x3-bn-relu"] * 5)
    for spec, what in (
        (f"{dense}|input,{five},output", "not a NAS-Bench-101 cell"),  # more than 9 edges
        ("0010|input,output", "not a NAS-Bench-101 cell"),  # an edge below the diagonal
        ("01000|input,output", "bad spec"),  # not a square
        ("0100|input,conv5x5", "bad spec"),  # an unknown op
    ):
        path = write_tfrecord(tmp_path / "s.tfrecord", [encode_row("0" * 32, 108, spec, m)])
        with pytest.raises(ImportFormatError, match=what):
            import_nb101(path, tmp_path / "x.h5", check_hashes="none")


def test_naslib_pickle_imports_the_same_numbers_and_refuses_code(tmp_path: Path) -> None:
    pkl = write_naslib_pickle(tmp_path / "nasbench_only108.pkl", CELLS[:8])
    tf = write_nb101_tfrecord(tmp_path / "nasbench_only108.tfrecord", CELLS[:8], (108,))
    a = read_table(import_nb101(pkl, tmp_path / "a.h5")[0].out)
    b = read_table(import_nb101(tf, tmp_path / "b.h5")[0].out)
    assert a.provenance["source"]["format"] == "naslib-pickle" and a.budgets.tolist() == [108]
    ra = {a.arch_space.from_index(r).hash: r for r in range(8)}
    rb = {b.arch_space.from_index(r).hash: r for r in range(8)}
    order = [rb[h] for h in ra]
    for name in ("valid_acc", "test_acc", "train_time_s", "halfway_valid_acc"):
        np.testing.assert_allclose(a.metrics[name], b.metrics[name][order], rtol=1e-6)

    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (print, ("pwned",))

    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"h": Evil()}, protocol=4))
    with pytest.raises(UnsafePickleError):
        import_nb101(evil, tmp_path / "e.h5")


def test_the_table_reads_with_plain_h5py(full_file: Path, tmp_path: Path) -> None:
    out = import_benchmark("nb101", full_file, tmp_path / "t.h5")[0].out
    with h5py.File(out) as f:
        strings = f["arch/string"].asstr()[...]
        hashes = f["arch/hash"][...].astype(str)
        budgets = f["budgets"][...].tolist()
        valid = f["metrics/valid_acc"][:, :, budgets.index(108)].mean(axis=1)
    assert [NB101Cell.from_str(s).hash for s in strings] == hashes.tolist()
    assert budgets == [4, 12, 36, 108] and np.isfinite(valid).all()


def test_command_line(full_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "cli.h5"
    rc = main(["import", "nb101", str(full_file), "--out", str(out), "--crc", "off",
               "--hashes", "sample"])  # fmt: skip
    assert rc == 0 and "4, 12, 36, 108 epochs" in capsys.readouterr().out
    source = read_table(out).provenance["source"]
    assert source["crc_checked"] is False and source["hashes_checked"] == "all"  # 30 < 1,000
    rc = main(["import", "nats", str(full_file), "--out", str(out), "--crc", "on"])
    assert rc == 2 and "--crc: not an option of format nats" in capsys.readouterr().err
    rc = main(["info", str(out), "--json"])
    info = json.loads(capsys.readouterr().out)
    assert rc == 0 and info["space"] == "nb101" and info["budgets"] == [4, 12, 36, 108]
    assert info["budgets_nested"] is False
