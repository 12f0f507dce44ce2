"""One definition of an integer argument, shared by the library's checks."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench_sim.checks import is_int, require_int


@pytest.mark.parametrize(
    ("value", "with_numpy", "plain"),
    [
        (3, True, True),
        (np.int64(3), True, False),
        (np.uint8(3), True, False),
        (True, False, False),
        (np.bool_(True), False, False),
        (3.0, False, False),
        ("3", False, False),
        (None, False, False),
    ],
)
def test_what_counts_as_an_integer(value: object, with_numpy: bool, plain: bool) -> None:
    assert is_int(value) is with_numpy
    assert is_int(value, numpy=False) is plain


def test_require_int_returns_a_python_int_or_names_the_argument() -> None:
    out = require_int("n", np.int32(5), 5)
    assert out == 5 and type(out) is int
    with pytest.raises(ValueError, match=r"^n must be an integer >= 6, got 5$"):
        require_int("n", 5, 6)
    with pytest.raises(KeyError, match=r"workers must be an integer >= 1, got np\.int64"):
        require_int("workers", np.int64(2), 1, KeyError, numpy=False)


def test_the_library_refuses_bools_and_floats_through_it() -> None:
    from nasbench_sim.errors import StrategyConfigError
    from nasbench_sim.generate.errors import GenerateError
    from nasbench_sim.generate.recost import check_arguments
    from nasbench_sim.search.ladders import check_ladder

    with pytest.raises(GenerateError, match="timed_cells must be an integer >= 4, got True"):
        check_arguments(True, 3, None)
    with pytest.raises(GenerateError, match=r"threads must be an integer >= 1, got 1\.0"):
        check_arguments(8, 3, 1.0)  # type: ignore[arg-type]
    with pytest.raises(StrategyConfigError, match="eta must be an int >= 2, got False"):
        check_ladder(12, False, 1)  # type: ignore[arg-type]
    check_ladder(12, np.int64(3), np.int64(1))  # NumPy integers are integers
