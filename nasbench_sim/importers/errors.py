"""Typed errors of the importers: every one names the file and what is wrong with it."""

from __future__ import annotations

from nasbench_sim.errors import NasBenchSimError

__all__ = ["ImportFormatError", "UnsafePickleError", "WeightsInFileError"]


class ImportFormatError(NasBenchSimError, ValueError):
    """A source file is missing, truncated, corrupt, of the wrong format, or lacks what the
    chosen import needs (a dataset, a training budget, a column).

    Attributes:
        path: the offending file or folder.
    """

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem

    def __reduce__(self) -> tuple[type, tuple[str, str]]:  # survives a process pool
        return (type(self), (self.path, self.problem))


class UnsafePickleError(ImportFormatError):
    """A pickle asks to build an object outside the allow-list: it would run code on load."""


class WeightsInFileError(UnsafePickleError):
    """A pickle or torch file holds tensors (trained weights), which need torch's own
    unpickling; the ``-simple`` archives hold the same results without them."""
