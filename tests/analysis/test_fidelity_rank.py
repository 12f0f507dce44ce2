"""benchmarks/fidelity_rank.py: Kendall τ of early validation accuracy against the final one."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.scripts import load_script


def _module() -> Any:
    return load_script("fidelity_rank")


def test_taus_follow_how_the_curves_were_made() -> None:
    rng = np.random.default_rng(0)
    quality = rng.normal(size=300)
    # epoch 1: pure noise; epoch 2: the cell's quality plus seed noise; epoch 3 (final): the
    # same for seeds 0 and 1, so both ways of ranking agree perfectly at the end
    valid = np.empty((300, 2, 3))
    valid[:, :, 0] = rng.normal(size=(300, 2))
    valid[:, :, 1] = quality[:, None] + 0.5 * rng.normal(size=(300, 2))
    valid[:, :, 2] = quality[:, None]
    other, same = _module().fidelity_taus(valid)
    assert abs(other[0]) < 0.1 and abs(same[0]) < 0.1  # noise ranks nothing
    assert 0.5 < other[1] < 0.95 and other[1] == pytest.approx(same[1])
    assert other[2] == pytest.approx(1.0) and same[2] == pytest.approx(1.0)


def test_other_seed_is_below_same_seed_when_the_seeds_differ() -> None:
    rng = np.random.default_rng(1)
    quality = rng.normal(size=400)
    curve = quality[:, None, None] + rng.normal(size=(400, 3, 1)) * np.ones((1, 1, 4))
    valid = curve + 0.3 * rng.normal(size=(400, 3, 4))  # a seed's noise persists over epochs
    other, same = _module().fidelity_taus(valid)
    assert np.all(other < same - 0.05)
    assert same[-1] == pytest.approx(1.0)


def test_one_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        _module().fidelity_taus(np.zeros((10, 1, 3)))


def test_main_prints_every_epoch_of_the_synthetic_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert _module().main(["--table", "synthetic"]) == 0
    out = capsys.readouterr().out
    assert "other seed" in out and out.strip().splitlines()[-1].split()[-1] == "1.000"


def test_main_names_a_missing_table(tmp_path) -> None:
    with pytest.raises(SystemExit, match="no such table file"):
        _module().main(["--table", str(tmp_path / "nope.h5")])
