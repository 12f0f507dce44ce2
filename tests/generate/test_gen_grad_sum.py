"""The ordered gradient sum: options, numerics, merge across plans, resume, the rebuild flag."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from nasbench_sim.generate import BuildError, GenerateError, build_table, merge_tables
from nasbench_sim.generate.assemble import depends_on_chunk
from nasbench_sim.generate.grad_sum import recorded_grad_sum, resolve_grad_sum
from nasbench_sim.generate.stacking import stack_size
from nasbench_sim.generate.worker import numerics
from nasbench_sim.table import read_table
from tests.tiny_protocol import TINY

# 1-D data at batch 64: the stacked trainer stacks up to 16 cells
P = dataclasses.replace(TINY, dataset="mnist1d", batch_size=64, epochs=2, seeds=(0,),
                        timing_cells_per_chunk=0)  # fmt: skip
CELLS = list(range(9860, 9868))  # consecutive cells: every grouping of ops on their edges


def test_the_option_resolves_per_trainer() -> None:
    assert resolve_grad_sum("matmul", None) == resolve_grad_sum("matmul_stacked", None) == "ordered"
    assert resolve_grad_sum("matmul_stacked", "autograd") == "autograd"
    assert resolve_grad_sum("batched", None) is None
    with pytest.raises(GenerateError, match="unknown grad_sum 'sorted'; valid: ordered, autograd"):
        resolve_grad_sum("matmul", "sorted")
    with pytest.raises(GenerateError, match="not 'reference'; leave it unset"):
        resolve_grad_sum("reference", "ordered")


def test_numerics_record_the_ordered_sum_and_old_tables_read_as_autograd() -> None:
    ordered = numerics("matmul_stacked", "cpu", "float32", 1)
    old = numerics("matmul_stacked", "cpu", "float32", 1, "autograd")
    assert ordered == {**old, "grad_sum": "ordered"} and "grad_sum" not in old
    assert recorded_grad_sum(ordered) == "ordered" and recorded_grad_sum(old) == "autograd"
    assert recorded_grad_sum(numerics("batched", "cpu", "float32", 1)) is None
    assert not depends_on_chunk(ordered) and depends_on_chunk(old)
    assert depends_on_chunk({"trainer": "batched"}) and not depends_on_chunk({"trainer": "matmul"})


def test_ordered_pieces_of_other_plans_merge_into_the_same_numbers(tmp_path: Path) -> None:
    """With the ordered sum, a cell's weights do not depend on its stack: the same cells built
    in one stack of 8 and in stacks of 3, 3 and 2 (two plans) have the same accuracies bit for
    bit, and losses to float32 rounding (the recorded losses are averaged over the batch in an
    order that depends on the stack's size). Pieces of the two plans merge."""
    assert stack_size(P) == 16
    kw = {"trainer": "matmul_stacked", "workers": 1}
    one = read_table(build_table(P, tmp_path / "one.h5", cells=CELLS, chunk_size=8, **kw))
    three = read_table(build_table(P, tmp_path / "three.h5", cells=CELLS, chunk_size=3, **kw))
    assert one.provenance["numerics"]["grad_sum"] == "ordered"
    assert one.provenance["plan"] != three.provenance["plan"]
    for name, values in one.metrics.items():
        if name.endswith("_acc"):
            np.testing.assert_array_equal(three.metrics[name], values, err_msg=name)
        else:
            np.testing.assert_allclose(three.metrics[name], values, rtol=1e-6, err_msg=name)
    a = build_table(P, tmp_path / "a.h5", cells=CELLS[:4], chunk_size=4, **kw)
    b = build_table(P, tmp_path / "b.h5", cells=CELLS[4:], chunk_size=2, **kw)
    merged = read_table(merge_tables([a, b], tmp_path / "m.h5"))
    assert merged.arch_index.tolist() == CELLS
    np.testing.assert_array_equal(merged.metrics["valid_acc"], one.metrics["valid_acc"])
    # autograd's order: pieces of other plans are refused, as for every grouped trainer
    kw["grad_sum"] = "autograd"
    c = build_table(P, tmp_path / "c.h5", cells=CELLS[:4], chunk_size=4, **kw)
    d = build_table(P, tmp_path / "d.h5", cells=CELLS[4:], chunk_size=2, **kw)
    with pytest.raises(BuildError, match="a cell's curves depend on the cells trained with it"):
        merge_tables([c, d], tmp_path / "bad.h5")
    # ... and the two orders' pieces never merge (their numerics differ)
    with pytest.raises(BuildError, match="numerics"):
        merge_tables([a, d], tmp_path / "bad2.h5")


def test_a_build_resumes_only_in_the_order_it_started_with(tmp_path: Path) -> None:
    out = tmp_path / "t.h5"
    kw = {"cells": CELLS[:2], "chunk_size": 1, "trainer": "matmul", "keep_parts": True}
    with pytest.raises(KeyboardInterrupt):

        def stop(_: object) -> None:
            raise KeyboardInterrupt

        build_table(P, out, grad_sum="autograd", progress=stop, **kw)
    with pytest.raises(BuildError, match=r"started with --grad-sum autograd, this call asks for"):
        build_table(P, out, resume=True, **kw)
    t = read_table(build_table(P, out, resume=True, grad_sum="autograd", **kw))
    assert "grad_sum" not in t.provenance["numerics"]


def test_the_cli_flag_reaches_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nasbench_sim.cli import main

    out = tmp_path / "t.h5"
    args = ["build", "--dataset", "mnist1d", "--cells", "2", "--seeds", "0",
            "--epochs", "1", "--channels", "4", "--cells-per-stage", "1", "--batch-size", "64",
            "--train-subset", "128", "--eval-subset", "64", "--workers", "1", "--out", str(out),
            "--no-progress"]  # fmt: skip
    assert main([*args, "--grad-sum", "autograd"]) == 0
    t = read_table(out)
    assert t.provenance["numerics"]["trainer"] == "matmul_stacked"
    assert recorded_grad_sum(t.provenance["numerics"]) == "autograd"
    assert main([*args, "--grad-sum", "sorted"]) == 2  # argparse's choices, before any work
    assert "invalid choice: 'sorted' (choose from 'ordered', 'autograd')" in capsys.readouterr().err
