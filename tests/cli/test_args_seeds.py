"""``--seeds`` forms, and a seed given twice refused (it would be averaged in the paired
statistics but drawn twice in the plots)."""

from __future__ import annotations

import pytest

from nasbench_sim.cli.args import parse_seeds


def test_seed_forms() -> None:
    assert parse_seeds("3") == [0, 1, 2]
    assert parse_seeds("5-7") == [5, 6, 7]
    assert parse_seeds("1,4,9") == [1, 4, 9]


@pytest.mark.parametrize("text", ["1,1", "3,1,3,1"])
def test_a_repeated_seed_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"given more than once; list each seed once"):
        parse_seeds(text)


@pytest.mark.parametrize("text", ["", "x", "5-3", "0"])
def test_no_seed_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="use N"):
        parse_seeds(text)
