"""The allow-list unpickler: plain data passes, code and weights are refused before they run."""

from __future__ import annotations

import bz2
import os
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.importers import ImportFormatError, UnsafePickleError, WeightsInFileError
from nasbench_sim.importers.safe_pickle import WEIGHTS_MESSAGE, load_bz2_pickle, safe_loads


class _Malicious:
    """Unpickling this would create a file (as ``os.system`` would run a command)."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.mkdir, (str(self.target),))


class _Evaluator:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (eval, ("1 + 1",))


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_malicious_reduce_is_refused_before_it_runs(tmp_path: Path, protocol: int) -> None:
    target = tmp_path / "pwned"
    data = pickle.dumps({"x-valid@0": 91.0, "evil": _Malicious(target)}, protocol=protocol)
    with pytest.raises(UnsafePickleError, match=r"evil\.pickle: .*posix\.mkdir|os\.mkdir"):
        safe_loads(data, "evil.pickle")
    assert not target.exists()
    with pytest.raises(UnsafePickleError, match=r"(builtins|__builtin__)\.eval"):
        safe_loads(pickle.dumps([_Evaluator()], protocol=protocol), "eval.pickle")


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_plain_data_round_trips(protocol: int) -> None:
    obj = {
        "d": OrderedDict([(0, 1.5), (1, 2.5)]),
        "s": {777, 888},
        "f": frozenset({"a"}),
        "t": ("cifar10-valid", 999),
        "np_scalar": np.float64(93.25),
        "np_int": np.int64(7),
        "dtype": np.dtype("<f4"),
        "array": np.arange(6, dtype=np.float32).reshape(2, 3),
        "bytes": b"\x00\xff",
        "none": None,
    }
    back = safe_loads(pickle.dumps(obj, protocol=protocol), "ok.pickle")
    assert isinstance(back["d"], OrderedDict) and back["d"] == obj["d"]
    assert back["s"] == {777, 888} and back["f"] == frozenset({"a"})
    assert back["np_scalar"] == 93.25 and isinstance(back["np_scalar"], np.float64)
    assert back["dtype"] == np.dtype("<f4")
    np.testing.assert_array_equal(back["array"], obj["array"])
    assert back["bytes"] == b"\x00\xff" and back["t"] == ("cifar10-valid", 999)


def test_codecs_encode_only_for_latin1_bytes() -> None:
    # protocol 2 writes bytes as _codecs.encode(text, 'latin1'); any other use is refused
    evil = b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x05\x00\x00\x00rot13\x86R."
    with pytest.raises(ImportFormatError, match="Latin-1"):
        safe_loads(evil, "codec.pickle")


def test_torch_objects_are_weights() -> None:
    data = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n)R."
    with pytest.raises(WeightsInFileError) as info:
        safe_loads(data, "full.pickle")
    assert WEIGHTS_MESSAGE in str(info.value) and "full.pickle" in str(info.value)
    persistent = b"\x80\x02X\x07\x00\x00\x00storageQ."  # BINPERSID: a torch storage
    with pytest.raises(WeightsInFileError, match="-simple archive"):
        safe_loads(persistent, "storage.pickle")


def test_truncated_and_garbage_pickles_name_the_file(tmp_path: Path) -> None:
    data = pickle.dumps({"a": list(range(100))}, protocol=4)
    with pytest.raises(ImportFormatError, match=r"cut\.pickle: .*truncated"):
        safe_loads(data[:-20], "cut.pickle")
    with pytest.raises(ImportFormatError, match=r"junk\.pickle: not a readable pickle"):
        safe_loads(b"this is not a pickle", "junk.pickle")


def test_bz2_errors_name_the_file(tmp_path: Path) -> None:
    good = tmp_path / "a.pickle.pbz2"
    good.write_bytes(bz2.compress(pickle.dumps({"k": 1})))
    assert load_bz2_pickle(good) == {"k": 1} and load_bz2_pickle(good, stream=True) == {"k": 1}
    cut = tmp_path / "cut.pickle.pbz2"
    cut.write_bytes(good.read_bytes()[:-10])
    with pytest.raises(ImportFormatError, match=r"cut\.pickle\.pbz2: truncated bz2 stream"):
        load_bz2_pickle(cut)
    plain = tmp_path / "plain.pickle.pbz2"
    plain.write_bytes(pickle.dumps({"k": 1}))
    with pytest.raises(ImportFormatError, match="not a bz2-compressed file"):
        load_bz2_pickle(plain)
    with pytest.raises(ImportFormatError, match="no such file"):
        load_bz2_pickle(tmp_path / "missing.pickle.pbz2")
