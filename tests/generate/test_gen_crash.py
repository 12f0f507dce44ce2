"""A build killed with SIGKILL resumes without retraining committed chunks and produces the
table an uninterrupted build produces."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.generate import BuildProgress, Protocol, build_table, parts_dir
from nasbench_sim.table import METRICS, read_table

CELLS = [11, 222, 3333, 5555, 8888, 12000]

_CHILD = textwrap.dedent(
    """
    import json, sys
    import torch
    torch.set_num_threads(1)
    from nasbench_sim.generate import Protocol, build_table
    protocol = Protocol.from_dict(json.loads(sys.argv[2]))
    build_table(protocol, sys.argv[1], cells=json.loads(sys.argv[3]), chunk_size=1)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_then_resume(tmp_path: Path, tiny: Protocol) -> None:
    protocol = dataclasses.replace(tiny, epochs=2, train_subset=64, timing_cells_per_chunk=0)
    out = tmp_path / "t.h5"
    parts = parts_dir(out)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(out), json.dumps(protocol.to_dict()), json.dumps(CELLS)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    try:
        while not list(parts.glob("chunk-*.npz")):
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "no chunk committed in time"
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        if child.stderr:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    assert not out.exists()
    committed = sorted(parts.glob("chunk-*.npz"))
    assert 1 <= len(committed) < len(CELLS), "the kill should land mid-build"
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in committed}

    events: list[BuildProgress] = []
    build_table(
        protocol, out, cells=CELLS, chunk_size=1, resume=True, keep_parts=True,
        progress=events.append,
    )  # fmt: skip
    skipped = {f"chunk-{e.chunk_id:06d}.npz" for e in events if e.skipped}
    trained = [e.chunk_id for e in events if not e.skipped]
    assert skipped == set(before)  # committed chunks were not retrained...
    for name, stat in before.items():  # ...nor rewritten
        p = parts / name
        assert (p.stat().st_ino, p.stat().st_mtime_ns) == stat
    assert len(trained) == len(CELLS) - len(before)
    assert not list(parts.glob(".*.tmp"))  # stale temp files are cleaned

    resumed = read_table(out)
    assert resumed.arch_index.tolist() == sorted(CELLS)  # every cell exactly once
    straight = read_table(
        build_table(protocol, tmp_path / "straight.h5", cells=CELLS, chunk_size=1)
    )
    np.testing.assert_array_equal(resumed.arch_index, straight.arch_index)
    for name in METRICS:  # same seeds, one thread, CPU: deterministic
        np.testing.assert_allclose(resumed.metrics[name], straight.metrics[name], atol=1e-6)
    for name in ("params", "flops"):
        np.testing.assert_array_equal(resumed.cost[name], straight.cost[name])


def test_an_interrupt_right_after_a_chunks_rename_keeps_it(
    tmp_path: Path, tiny: Protocol, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C landing after the first chunk's file is renamed into place but before the build
    has counted it (the directory's fsync, say): the chunk is on disk, so the parts folder is
    kept for --resume, not removed as a build that made nothing."""
    from nasbench_sim.generate import build as build_module

    real = build_module.write_chunk

    def write_then_interrupt(path: Path, result: object) -> None:
        real(path, result)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(build_module, "write_chunk", write_then_interrupt)
    out = tmp_path / "t.h5"
    with pytest.raises(KeyboardInterrupt):
        build_table(tiny, out, cells=[1, 2, 3], chunk_size=1)
    chunks = sorted(parts_dir(out).glob("chunk-*.npz"))
    assert len(chunks) == 1  # kept: a --resume continues from it
    monkeypatch.setattr(build_module, "write_chunk", real)
    events: list[BuildProgress] = []
    build_table(tiny, out, cells=[1, 2, 3], chunk_size=1, resume=True, progress=events.append)
    assert [e.skipped for e in events] == [True, False, False]
