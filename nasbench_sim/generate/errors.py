"""Typed errors of the generator, all derived from
:class:`~nasbench_sim.errors.NasBenchSimError`."""

from __future__ import annotations

from nasbench_sim.errors import NasBenchSimError

__all__ = ["BuildError", "DatasetError", "GenerateError", "MissingTrainingDependency"]


class GenerateError(NasBenchSimError, ValueError):
    """Bad input to the generator: a protocol field, a cell selection, a shard spec..."""


class DatasetError(GenerateError):
    """An unknown dataset name, or a dataset whose files are missing from ``data_dir``."""


class BuildError(GenerateError):
    """A build cannot start or resume: parts directory present without ``resume``, a manifest
    that does not match the requested build, overlapping or mismatched shards."""


class MissingTrainingDependency(NasBenchSimError, RuntimeError):
    """torch (or another training-only package) is not installed."""

    def __init__(self, package: str) -> None:
        super().__init__(
            f"training needs the optional package {package!r}, which is not installed; "
            'install the training extras with: pip install -e ".[train]"'
        )
        self.package = package
