"""NAS-Bench-101 files without TensorFlow: TFRecord framing, CRC-32C, protobuf, rows."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.importers import ImportFormatError, UnsafePickleError
from nasbench_sim.importers.nb101 import (
    BUDGETS,
    POINT_METRICS,
    read_naslib_pickle,
    read_nb101_tfrecord,
)
from nasbench_sim.importers.protobuf import (
    Evaluation,
    ModelMetrics,
    WireError,
    evaluation_values,
    fields,
    varint,
)
from nasbench_sim.importers.synthetic_nb101 import (
    random_cells,
    synthetic_runs,
    write_naslib_pickle,
    write_nb101_tfrecord,
)
from nasbench_sim.importers.tfrecord import (
    crc32c,
    crc32c_many,
    iter_tfrecord,
    masked_crc,
    write_tfrecord,
)
from nasbench_sim.space.nb101 import NB101Cell

CELLS = random_cells(25, seed=1)


def test_crc32c_known_values() -> None:
    assert crc32c(b"123456789") == 0xE3069283  # the standard check value of CRC-32C
    assert crc32c(b"") == 0 and crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 test vector
    rng = np.random.default_rng(0)
    recs = [rng.bytes(int(n)) for n in rng.integers(0, 300, 200)]
    assert crc32c_many(recs).tolist() == [crc32c(r) for r in recs]
    assert masked_crc(0) == 0xA282EAD8


def test_crc32c_many_groups_lengths_and_keeps_memory_to_the_bytes_given() -> None:
    import tracemalloc

    rng = np.random.default_rng(1)
    sizes = [200_000, 5000, 3000, 700, 300, *rng.integers(0, 600, 300).tolist(), *[9] * 4000]
    recs = [rng.bytes(int(n)) for n in rng.permutation(sizes)]
    tracemalloc.start()
    try:
        got = crc32c_many(recs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got.tolist() == [crc32c(r) for r in recs]  # every group path, callers' order
    total = sum(map(len, recs))
    assert peak < 12 * total + 64 * len(recs)  # padding to the longest: 200 kB x 4,305 records


def test_protobuf_wire_format_by_hand() -> None:
    assert varint(150) == b"\x96\x01" and varint(1) == b"\x01"  # the protobuf docs' example
    msg = b"\x10\x96\x01" + b"\x19" + struct.pack("<d", 12.5) + b"\x28\x07"  # 2, 3, unknown 5
    m = ModelMetrics.decode(msg)
    assert m.trainable_parameters == 150 and m.total_time == 12.5 and m.evaluations == ()
    ev = Evaluation(1.0, 2.0, 0.5, 0.25, 0.125, "ckpt")
    assert Evaluation.decode(ev.encode()) == ev
    assert [n for n, _, _ in fields(ev.encode())] == [1, 2, 3, 4, 5, 6]
    assert evaluation_values(ev.encode()) == [1.0, 2.0, 0.5, 0.25, 0.125]  # generic fallback
    fast = Evaluation(3.0, 4.0, 0.5, 0.5, 0.5).encode()
    assert evaluation_values(fast) == [3.0, 4.0, 0.5, 0.5, 0.5]
    assert np.isnan(evaluation_values(Evaluation(training_time=2.0).encode())[0])
    with pytest.raises(WireError, match="past the end"):
        ModelMetrics.decode(b"\x0a\x05ab")
    with pytest.raises(WireError, match="wire type 3"):
        list(fields(b"\x0b"))


def test_every_budget_and_repeat_is_read(tmp_path: Path) -> None:
    path = write_nb101_tfrecord(tmp_path / "nasbench_full.tfrecord", CELLS)
    data = read_nb101_tfrecord(path)
    assert data.n_graphs == len(CELLS) and data.budgets == BUDGETS
    assert data.values.shape == (len(CELLS), 4, 3, 2, 4)
    row = {h: i for i, h in enumerate(data.hashes)}
    for cell, epochs, rep, m in synthetic_runs(CELLS):
        r, b = row[cell.hash], BUDGETS.index(epochs)
        assert data.specs[r] == str(cell) and NB101Cell.from_str(data.specs[r]).hash == cell.hash
        assert data.params[r] == m.trainable_parameters
        for p, ev in enumerate(m.evaluations[1:]):
            for k, name in enumerate(POINT_METRICS):
                assert data.values[r, b, rep, p, k] == pytest.approx(getattr(ev, name), rel=1e-6)


def test_naslib_pickle_reads_through_the_safe_unpickler(tmp_path: Path) -> None:
    path = write_naslib_pickle(tmp_path / "nasbench_only108.pkl", CELLS[:10])
    data = read_naslib_pickle(path)
    assert data.budgets == (108,) and data.n_graphs == 10
    tf = read_nb101_tfrecord(write_nb101_tfrecord(tmp_path / "x.tfrecord", CELLS[:10], (108,)))
    np.testing.assert_allclose(data.values, tf.values, rtol=1e-6)
    evil = tmp_path / "evil.pkl"

    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (print, ("pwned",))

    evil.write_bytes(pickle.dumps({"h": Evil()}))
    with pytest.raises(UnsafePickleError):
        read_naslib_pickle(evil)


def test_bad_crc_and_truncation_name_the_record(tmp_path: Path) -> None:
    path = write_nb101_tfrecord(tmp_path / "t.tfrecord", CELLS[:3], (108,))
    raw = bytearray(path.read_bytes())
    first = struct.unpack("<Q", raw[:8])[0]
    second = 16 + first  # the second record starts here
    raw[second + 12 + 5] ^= 0xFF  # one byte of its payload
    bad = tmp_path / "bad.tfrecord"
    bad.write_bytes(bytes(raw))
    with pytest.raises(
        ImportFormatError, match=rf"bad\.tfrecord: record 1 at byte {second}: data CRC"
    ):
        read_nb101_tfrecord(bad)
    with pytest.raises(ImportFormatError, match="record 1 is not a NAS-Bench-101 row"):
        read_nb101_tfrecord(bad, check_crc=False)  # without the check, the payload fails instead
    cut = tmp_path / "cut.tfrecord"
    cut.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(ImportFormatError, match=r"cut\.tfrecord: record \d+ at byte \d+: declares"):
        read_nb101_tfrecord(cut)
    cut.write_bytes(path.read_bytes()[: second + 5])
    with pytest.raises(ImportFormatError, match="truncated header"):
        list(iter_tfrecord(cut))


def test_tfrecord_round_trip_and_empty(tmp_path: Path) -> None:
    recs = [b"", b"x" * 1000, bytes(range(256))]
    assert list(iter_tfrecord(write_tfrecord(tmp_path / "a.tfrecord", recs), batch=2)) == recs
    empty = write_tfrecord(tmp_path / "e.tfrecord", [])
    with pytest.raises(ImportFormatError, match="no NAS-Bench-101 record"):
        read_nb101_tfrecord(empty)
