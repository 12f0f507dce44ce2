"""The common-random-number hashes draw fixed numbers: pinned values, and a scalar reference.

The pinned values were recorded from the code before the hashes moved into one module; the
scalar reference re-derives them with plain Python integers, one key at a time.
"""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from nasbench_sim.bench.crn import crn_repeats, mix64, std_normal

_M = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_A = 0xBF58476D1CE4E5B9
_B = 0x94D049BB133111EB


def _finish(z: int) -> int:
    z = ((z ^ (z >> 30)) * _A) & _M
    z = ((z ^ (z >> 27)) * _B) & _M
    return z ^ (z >> 31)


def _ref_row_hash(run_seed: int, row: int) -> int:
    """The tabular draw's hash of one (run seed, row), in plain integers."""
    z = (row + ((run_seed * _GOLDEN) & _M)) & _M
    return _finish((z * _A + _B) & _M)


def _refmix64(*keys: int) -> int:
    """The surrogate's hash of one tuple of keys, in plain integers."""
    h = _GOLDEN
    for k in keys:
        h = _finish(h ^ ((k + _GOLDEN) & _M))
    return h


@pytest.mark.parametrize(
    ("run_seed", "n_rows", "n_seeds", "expected"),
    [
        (0, 8, 3, [0, 0, 2, 2, 1, 1, 0, 1]),
        (12345, 8, 3, [0, 0, 0, 2, 1, 0, 1, 2]),
        (-7, 8, 5, [1, 0, 2, 4, 4, 1, 4, 0]),
        (2**70 + 3, 4, 3, [2, 1, 2, 1]),
        # a huge modulus keeps 62 bits of the hash: the hash itself is pinned
        (
            1,
            4,
            2**62,
            [2555653450503359763, 2714377917131762596, 2610397344205721523, 2531391987035183930],
        ),
        (
            99,
            4,
            2**62,
            [1363778608167100856, 2063478777298608786, 3810104947437476098, 3305230123323034137],
        ),
    ],
)
def test_tabular_repeats_are_pinned(
    run_seed: int, n_rows: int, n_seeds: int, expected: list[int]
) -> None:
    got = crn_repeats(run_seed, n_rows, n_seeds)
    assert got.dtype == np.int64 and got.tolist() == expected
    assert [_ref_row_hash(run_seed, r) % n_seeds for r in range(n_rows)] == expected


def test_tabular_repeats_with_missing_runs_are_pinned() -> None:
    present = np.array(
        [[1, 1, 1], [0, 1, 1], [1, 0, 0], [0, 0, 1], [1, 0, 1], [0, 0, 0]], dtype=bool
    )
    assert crn_repeats(3, 6, 3, present).tolist() == [2, 2, 0, 2, 2, 0]
    assert crn_repeats(4, 6, 3, present).tolist() == [1, 2, 0, 2, 0, 0]
    for run_seed in (3, 4):  # the (h mod k)-th present run; a row without runs answers 0
        ref = []
        for r, row in enumerate(present):
            runs = np.flatnonzero(row)
            ref.append(int(runs[_ref_row_hash(run_seed, r) % len(runs)]) if len(runs) else 0)
        assert crn_repeats(run_seed, 6, 3, present).tolist() == ref


def test_surrogate_mix_is_pinned() -> None:
    assert int(mix64(0)) == 0 == _refmix64(0)  # a zero key cancels the seed: splitmix64(0) is 0
    assert int(mix64(1, 2, 3)) == 14057683248420572401 == _refmix64(1, 2, 3)
    got = mix64(2**64 - 1, np.arange(3), 7)
    assert got.dtype == np.uint64
    expected = [6880696780554072227, 6229614134723431113, 10536903196492078789]
    assert got.tolist() == expected == [_refmix64(2**64 - 1, k, 7) for k in range(3)]
    grid = mix64(np.uint64(5), np.array([[0], [1]]), np.array([0, 2]))  # keys broadcast
    assert grid.tolist() == [
        [17553315806891062877, 3432519771278378627],
        [953073170671288879, 15149353715807006229],
    ]
    assert grid.tolist() == [[_refmix64(5, i, j) for j in (0, 2)] for i in (0, 1)]


def test_surrogate_normal_is_pinned() -> None:
    got = std_normal(5, np.arange(3), 0, 0)
    pinned = ["0x1.0bf782bee37fap-1", "-0x1.436a8c1ebeb8cp-1", "-0x1.5ca2451c93336p-2"]
    assert [float(x).hex() for x in got] == pinned
    assert float(std_normal(5, 1, 2, 3, 3)).hex() == "0x1.5144ad63f9dc0p-1"
    for k, value in enumerate(got):  # the inverse normal CDF of the hash's top 53 bits
        u = ((_refmix64(5, k, 0, 0) >> 11) + 0.5) * 2.0**-53
        assert value == pytest.approx(statistics.NormalDist().inv_cdf(u), rel=1e-12)
