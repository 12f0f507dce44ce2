"""The command line's progress bars redraw rarely into a log and as usual at a terminal."""

from __future__ import annotations

import io
import itertools
from typing import Any

import pytest
import tqdm.std

from nasbench_sim.cli.progress import LOG_INTERVAL_S, progress_bar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _redraws(stream: io.StringIO, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> int:
    """How many times a bar of 600 one-second steps writes its line into ``stream``."""
    clock = itertools.count(start=1000.0, step=1.0)  # every reading of the clock: +1 s
    monkeypatch.setattr(tqdm.std, "time", lambda: next(clock))
    with progress_bar(total=600, file=stream, miniters=1, **kwargs) as bar:
        for _ in range(600):
            bar.update(1)
    return stream.getvalue().count("\r")


def test_a_log_gets_a_line_every_interval_and_the_last_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TQDM_MININTERVAL", raising=False)
    log = io.StringIO()
    n = _redraws(log, monkeypatch)
    # ~1,200 clock readings over 600 steps: one redraw per 30 s, the first and the last
    assert 2 <= n <= 1200 / LOG_INTERVAL_S + 3
    assert "600/600" in log.getvalue().split("\r")[-1]  # the final state is written


def test_a_terminal_bar_redraws_as_tqdm_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TQDM_MININTERVAL", raising=False)
    assert _redraws(_Terminal(), monkeypatch) > 500  # every step (tqdm's 0.1 s < 1 s a step)


def test_the_environment_and_an_explicit_interval_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TQDM_MININTERVAL", "0")
    assert _redraws(io.StringIO(), monkeypatch) > 500
    monkeypatch.delenv("TQDM_MININTERVAL")
    assert _redraws(io.StringIO(), monkeypatch, mininterval=0) > 500


def test_the_monitor_thread_waits_as_long_in_a_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """tqdm's monitor thread forces a redraw every ``maxinterval`` (10 s) once a fast bar's
    dynamic ``miniters`` grows: in a log it waits the same 30 s as the bar itself."""
    monkeypatch.delenv("TQDM_MININTERVAL", raising=False)
    with progress_bar(total=3, file=io.StringIO()) as bar:
        assert bar.mininterval == bar.maxinterval == LOG_INTERVAL_S
        assert bar.dynamic_miniters  # tqdm's default, which lets the monitor intervene
    with progress_bar(total=3, file=_Terminal()) as bar:
        assert (bar.mininterval, bar.maxinterval) == (0.1, 10.0)  # tqdm's defaults
