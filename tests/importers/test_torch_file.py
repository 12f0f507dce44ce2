"""``torch.save`` containers read without torch: legacy and zip, weights refused."""

from __future__ import annotations

import pickle
from collections import OrderedDict
from pathlib import Path

import pytest

from nasbench_sim.importers import ImportFormatError, WeightsInFileError
from nasbench_sim.importers.synthetic import write_nb201_pth
from nasbench_sim.importers.torch_file import container_kind, read_torch_file

OBJ = {
    "meta_archs": ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"],
    "arch2infos": {0: {"less": {"x": OrderedDict([(0, 1.5)])}}},
    "evaluated_indexes": {0},
}


@pytest.mark.parametrize("container", ["legacy", "zip"])
def test_our_writer_round_trips(tmp_path: Path, container: str) -> None:
    path = write_nb201_pth(
        tmp_path / f"NAS-Bench-201-v1_1-096897-{container}.pth", [3, 5], container=container
    )
    assert container_kind(path) == container
    data = read_torch_file(path)
    assert sorted(data["arch2infos"]) == [3, 5] and len(data["meta_archs"]) == 15625
    assert set(data["arch2infos"][3]) == {"less", "full"}


@pytest.mark.parametrize("zip_format", [True, False])
def test_files_written_by_torch_itself(tmp_path: Path, zip_format: bool) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "plain.pth"
    torch.save(OBJ, path, _use_new_zipfile_serialization=zip_format)
    assert container_kind(path) == ("zip" if zip_format else "legacy")
    assert read_torch_file(path) == OBJ
    weights = tmp_path / "weights.pth"
    torch.save(
        {"net_state_dict": {"w": torch.zeros(2)}},
        weights,
        _use_new_zipfile_serialization=zip_format,
    )
    with pytest.raises(WeightsInFileError, match="-full file with weights; use the -simple"):
        read_torch_file(weights)


def test_wrong_and_broken_files_name_the_problem(tmp_path: Path) -> None:
    good = write_nb201_pth(tmp_path / "g.pth", [1], container="zip")
    cut = tmp_path / "cut.pth"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ImportFormatError, match=r"cut\.pth: .*truncated or corrupt"):
        read_torch_file(cut)
    legacy = write_nb201_pth(tmp_path / "l.pth", [1], container="legacy")
    cut.write_bytes(legacy.read_bytes()[:-40])
    with pytest.raises(ImportFormatError, match=r"cut\.pth: .*(truncated|ends early)"):
        read_torch_file(cut)
    plain = tmp_path / "plain.pth"
    plain.write_bytes(pickle.dumps(OBJ))
    with pytest.raises(ImportFormatError, match="not torch's magic number"):
        read_torch_file(plain)
    text = tmp_path / "notes.pth"
    text.write_text("hello")
    with pytest.raises(ImportFormatError, match=r"notes\.pth: not a torch\.save file"):
        read_torch_file(text)
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    with pytest.raises(ImportFormatError, match="empty file"):
        read_torch_file(empty)
    with pytest.raises(ImportFormatError, match="no such file"):
        read_torch_file(tmp_path / "missing.pth")
