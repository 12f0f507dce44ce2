"""A fingerprint of the default table's arithmetic: a short run at the table's protocol must
give exactly the curves it gave when the build started, so that chunks trained in different
sessions form one consistent table. Any change to the training arithmetic (an op's order, a
reduction, the data) changes the hash; `benchmarks/verify_chunk.py` then says whether the
committed chunks are still reproduced. Only meaningful with the build's numerics (torch
2.13.0, one thread) on a kind of machine that trained it (AVX-512 of an unrecorded vendor,
AMD AVX2): elsewhere the test is skipped.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nasbench_sim.generate import Protocol  # noqa: E402
from nasbench_sim.generate.hardware import cpuinfo  # noqa: E402
from nasbench_sim.generate.worker import numerics, train_chunk  # noqa: E402

# The default table's protocol (see data/ and docs/protocol_pilot.md), shortened.
TABLE = Protocol(
    dataset="mnist1d", channels=8, cells_per_stage=3, epochs=12, batch_size=64, lr=0.05,
    label_smoothing=0.1, data_sizes=(2000, 4000, 4000), test_every=4, seeds=(0, 1, 2),
)  # fmt: skip
SHORT = dataclasses.replace(
    TABLE, epochs=2, train_subset=256, eval_subset=256, seeds=(0,), timing_cells_per_chunk=0
)
CELLS = [0, 1, 2, 5555, 9000, 14000]  # mostly `none` edges, and convolutions on every path
BUILD_NUMERICS = {
    "trainer": "matmul_stacked", "device": "cpu", "dtype": "float32", "torch": "2.13.0",
    "threads": 1,
}  # fmt: skip


STACK_MATES = [3349, 3371, 3372, 3373, 3374, 3406, 3407, 3408, 3409, 3411, 3412, 3413, 3414,
               3416, 3417, 3418]  # fmt: skip
"""Build chunk 11: a stack whose gradient order autograd takes from the grouping."""
FINGERPRINTS = {
    # the machines that trained the default table's build: (CPU vendor, capability); its
    # chunks 0-321 on AVX512 (vendor unrecorded: "*"), the rest, continued with
    # --mixed-hardware, on an AMD AVX2 machine
    ("*", "AVX512"): {
        ("autograd", "cells"): "35d13a560e48d8a2bf7b645b4f695ad6c6ec54b221fc6872e6cd8b819afa12ce",
        ("autograd", "chunk11"): "e761f50c259b795826dcece7a7c0e988eca1a91ae8b6565032cb3fb3a2ffbe7b",
        ("ordered", "chunk11"): "8dc31ee322b08cae70c6a4a0cf424e56b14579a3b3c0f2bc512f41200a4ea311",
    },
    ("AuthenticAMD", "AVX2"): {
        ("autograd", "cells"): "34a26e15a75c9536bb0d9813e97f9d660c7961917f04f597cf8d6060beb3cb3c",
        ("autograd", "chunk11"): "8310e77eb01e9d4c112a206cb3843a8796b62b87cdd6b1968c34ea49d3b66257",
        ("ordered", "chunk11"): "7d3e89f4965e71b8b81a6c479df7aa19850cdaeb32ed9cf8052af6e6fb313fee",
    },
}
"""``autograd``: the default table's build (its numerics record no grad_sum); ``ordered``:
new builds. On AVX512 the two orders agree on CELLS; on STACK_MATES they do not. Math
libraries pick kernels by the CPU's vendor as well as its instruction set, so a fingerprint
is checked only on the vendor it came from; the AVX-512 machines' vendor was not recorded
("*"), so any AVX-512 CPU is checked against theirs (a mismatch there may be the vendor)."""
CASES = [("autograd", "cells"), ("autograd", "chunk11"), ("ordered", "chunk11")]


@pytest.mark.parametrize(
    ("grad_sum", "cells"), CASES, ids=["build", "build-chunk11", "ordered-chunk11"]
)
def test_the_table_protocols_arithmetic_is_unchanged(grad_sum: str, cells: str) -> None:
    here = numerics("matmul_stacked", "cpu", "float32", 1, grad_sum)
    capability = here.pop("cpu_capability")
    here.pop("cpu_vendor", None)
    here.pop("grad_sum", None)
    known = FINGERPRINTS.get(
        (cpuinfo("vendor_id") or "?", capability), FINGERPRINTS.get(("*", capability))
    )
    if here != BUILD_NUMERICS or known is None:
        pytest.skip(f"not a machine the default table was built on ({here}, {capability})")
    result = train_chunk(
        SHORT, CELLS if cells == "cells" else STACK_MATES, [0], "cpu",
        trainer="matmul_stacked", threads=1, grad_sum=grad_sum,
    )  # fmt: skip
    h = hashlib.sha256()
    for name in sorted(result.metrics):
        h.update(name.encode())
        h.update(np.ascontiguousarray(result.metrics[name]).tobytes())
    assert h.hexdigest() == known[(grad_sum, cells)], (
        "the training arithmetic changed: chunks trained now would not match the committed "
        "ones (run benchmarks/verify_chunk.py)"
    )


def test_the_fingerprinted_protocol_is_the_default_tables() -> None:
    import json
    from pathlib import Path

    from nasbench_sim.table import read_table

    data = Path(__file__).resolve().parents[2] / "data"
    manifest = data / "nb201_mnist1d.h5.parts" / "manifest.json"
    if manifest.exists():  # the build is in progress
        recorded = json.loads(manifest.read_text())["protocol"]
    elif (data / "nb201_mnist1d.h5").exists():
        recorded = read_table(data / "nb201_mnist1d.h5").protocol
    else:
        pytest.skip("no default table or build in this checkout")
    assert Protocol.from_dict(recorded) == TABLE
