"""The build's progress bar: resumed chunks fill it without entering its rates, and a log
gets one line once the committed chunks are counted (not a line per skip, nor none)."""

from __future__ import annotations

import types

import pytest

from nasbench_sim.cli import generate as cli_generate
from nasbench_sim.generate import BuildProgress


def _event(cid: int, skipped: bool, done: int, steps: int = 0) -> BuildProgress:
    # a shard of 5 chunks of 16 cells, 3 of them committed by an earlier run
    return BuildProgress(
        cid, skipped, done, 5, 16 * done, 80, 16, steps, 0.0 if skipped else 10.0, 3
    )


class _Log:
    """The bar's stream, stderr as pytest captures it: not a terminal, so a log's lines."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys, self.text = capsys, ""

    def getvalue(self) -> str:
        self.text += self.capsys.readouterr().err
        return self.text


@pytest.fixture
def log(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> _Log:
    monkeypatch.delenv("TQDM_MININTERVAL", raising=False)
    return _Log(capsys)


def test_a_resumed_build_logs_its_committed_cells_once(log: _Log) -> None:
    bar = cli_generate._Bar(enabled=True)
    bar(_event(0, True, 1))
    bar(_event(1, True, 2))
    assert "32" not in log.getvalue()  # no line per skip...
    bar(_event(2, True, 3))
    lines = [s for s in log.getvalue().split("\r") if s.strip()]
    assert "48/80" in lines[-1] and "resumed=48" in lines[-1]  # ...one after the last
    assert bar.steps == 0 and bar.bar.initial == 48  # out of this run's rates and ETA
    bar.close()


def test_the_rate_counts_this_runs_model_steps(log: _Log, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 100.0, 110.0, 120.0])  # the bar's start (twice), then each chunk
    monkeypatch.setattr(
        cli_generate, "time", types.SimpleNamespace(perf_counter=lambda: next(clock))
    )
    bar = cli_generate._Bar(enabled=True)
    for cid in range(3):
        bar(_event(cid, True, cid + 1))
    bar(_event(3, False, 4, steps=1500))
    assert bar.bar.postfix == "model-steps/s=150.0, chunk=4/5, resumed=48"
    bar(_event(4, False, 5, steps=500))
    assert bar.bar.postfix == "model-steps/s=100.0, chunk=5/5, resumed=48"  # 2,000 in 20 s
    bar.close()
    assert "80/80" in log.getvalue().split("\r")[-1]


def test_a_disabled_bar_writes_nothing(log: _Log) -> None:
    bar = cli_generate._Bar(enabled=False)
    bar(_event(0, True, 1))
    bar(_event(3, False, 4, steps=10))
    bar.close()
    assert log.getvalue() == ""
