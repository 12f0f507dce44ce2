"""How many cells the ``matmul_stacked`` trainer trains together (no torch needed, so that
assembling and merging tables can record it).

The stacks are the numerics of a ``matmul_stacked`` build as much as its trainer is: a model's
curves depend in their last bits on the models stacked with it (docs/generator.md, "A cell's
stack-mates") when their gradients are added in autograd's order (the default table's build;
:mod:`~nasbench_sim.generate.grad_sum`), so **changing** :data:`MAX_STACK` **or**
:func:`stack_size` **changes what retraining such a committed chunk gives**: a build in
progress must finish with the values it started with (``benchmarks/verify_chunk.py`` checks a
committed chunk).
"""

from __future__ import annotations

from nasbench_sim.generate.protocol import Protocol

__all__ = ["MAX_STACK", "stack_size"]

MAX_STACK = 16
"""The most models the ``matmul_stacked`` trainer stacks."""


def stack_size(protocol: Protocol) -> int:
    """Models per stack of the ``matmul_stacked`` trainer under ``protocol``.

    Stacking amortises the fixed cost of each eager call over M models, but every call then
    streams M times the data through the caches. Measured on 2-core AVX-512 machines
    (``benchmarks/generator_speed.py --stack-sweep``, C = 8, N = 1..3), the CPU time per
    model and sample is lowest at about 1,024 samples per call (M x batch) up to M = 16,
    while at batch 256 one model per call is already fastest. So: M = min(16, 1024 // batch)
    below batch 256, else 1 (the one-model network).

    Example:
        >>> [stack_size(Protocol(batch_size=b)) for b in (16, 32, 64, 128, 256, 512)]
        [16, 16, 16, 8, 1, 1]
    """
    if protocol.batch_size >= 256:
        return 1
    return max(1, min(MAX_STACK, 1024 // protocol.batch_size))
