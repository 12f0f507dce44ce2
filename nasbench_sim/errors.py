"""Typed errors raised by nasbench-sim.

Every error a user can trigger with bad input derives from :class:`NasBenchSimError`, so a
caller can catch them all at once, and from the matching builtin (``ValueError``,
``KeyError``...) so generic handlers keep working.
"""

from __future__ import annotations

__all__ = [
    "BudgetExhausted",
    "CellNotInTableError",
    "CellParseError",
    "MissingDependencyError",
    "NasBenchSimError",
    "QueryError",
    "RegistryError",
    "StrategyConfigError",
    "TableError",
    "UnsupportedSpaceError",
]


class NasBenchSimError(Exception):
    """Base class of every error nasbench-sim raises on purpose."""


class CellParseError(NasBenchSimError, ValueError):
    """A cell string, op name or op vector is not in the search space.

    Attributes:
        text: the input that failed to parse.
        position: character offset of the offending token in ``text`` (``None`` if not
            applicable).
    """

    def __init__(self, message: str, text: str = "", position: int | None = None) -> None:
        if position is not None and text:
            pointer = " " * position + "^"
            message = f"{message}\n  {text}\n  {pointer}"
        super().__init__(message)
        self.text = text
        self.position = position


class TableError(NasBenchSimError, ValueError):
    """A table file is missing, not HDF5, truncated, or does not follow the schema."""


class QueryError(NasBenchSimError, ValueError):
    """A query asked for an epoch, seed or metric the table does not have."""


class CellNotInTableError(QueryError, KeyError):
    """The table holds no trained row for this cell (nor for its equivalence class)."""

    def __str__(self) -> str:  # KeyError would repr() the message otherwise
        return str(self.args[0]) if self.args else ""


class MissingDependencyError(NasBenchSimError, ImportError):
    """An optional module a feature needs is not installed; the message says how to get it.

    Attributes:
        module: the missing module's import name.
    """

    def __init__(self, message: str, module: str = "") -> None:
        super().__init__(message)
        self.module = module


class BudgetExhausted(NasBenchSimError, RuntimeError):
    """The simulated budget is spent; no further queries are allowed."""


class RegistryError(NasBenchSimError, KeyError):
    """An unknown name was passed to a registry's ``create``."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class StrategyConfigError(NasBenchSimError, ValueError):
    """A strategy hyper-parameter is out of its allowed range."""


class UnsupportedSpaceError(NasBenchSimError, TypeError):
    """A strategy needs a space structure (e.g. one op choice per edge) this space lacks."""
