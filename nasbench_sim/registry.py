"""One registry shape for spaces, strategies and predictors.

A :class:`Registry` is an explicit dict from names to :class:`Entry` objects. An entry says
what it makes (a class, or ``"module:attr"`` loaded on first use so that listing costs
nothing), how people call it (``label``), which optional modules it needs (``requires``),
which records it needs from a benchmark's file (``needs``) and what it needs of the benchmark
itself (``features``: per-epoch learning curves, a space of one op per edge...).
``create(name, ...)`` lists the valid names when a name is unknown, checks the arguments
against the signature before calling, and lets every error raised inside the constructor
surface unchanged.

Example:
    >>> reg = Registry("number", [Entry("fraction", "fractions:Fraction", label="Fraction")])
    >>> reg.create("fraction", 1, 3)
    Fraction(1, 3)
    >>> reg.create("decimal")
    Traceback (most recent call last):
    ...
    nasbench_sim.errors.RegistryError: unknown number 'decimal'; known numbers: fraction
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nasbench_sim.errors import MissingDependencyError, RegistryError

__all__ = ["INSTALL_HINTS", "Entry", "Registry", "installed"]

INSTALL_HINTS: dict[str, str] = {
    "torch": 'pip install -e ".[train]" (or first the CPU wheel of torch you want)',
    "ray": 'pip install -e ".[ray]"',
    "mnist1d": 'pip install -e ".[train]"',
}
"""How to install an optional module, by import name."""


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (looked up, not imported)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True)
class Entry:
    """One registered name.

    Attributes:
        name: the registered name.
        target: the class or factory, or ``"module:attr"`` imported on first use.
        label: the human name (plot legends, tables); defaults to ``name``.
        summary: one line on what it is.
        requires: optional modules (import names) it cannot work without.
        needs: records it needs from the benchmark's file (e.g. ``"oneshot/spos"``: a stored
            SPOS super-network), supplied as constructor arguments by whoever runs it.
        features: what it needs of the benchmark and its space, names of
            :attr:`nasbench_sim.bench.Benchmark.features` (e.g. ``"curves"``: per-epoch
            learning curves; ``"edge_ops"``: NAS-Bench-201's one op per edge).
    """

    name: str
    target: Any
    label: str = ""
    summary: str = ""
    requires: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    features: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """:attr:`label`, or the name when there is none."""
        return self.label or self.name

    def missing(self) -> tuple[str, ...]:
        """The required optional modules that are not installed."""
        return tuple(m for m in self.requires if not installed(m))

    def load(self) -> Any:
        """The class or factory (imported now when given as ``"module:attr"``)."""
        if not isinstance(self.target, str):
            return self.target
        module_name, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module_name), attr)


class Registry(dict[str, Entry]):
    """An explicit dict of :class:`Entry` objects of one ``kind`` (``"strategy"``...).

    Args:
        kind: what the entries are, for messages.
        entries: the entries.
        arg_error: the error raised for arguments the target's signature rejects.
    """

    def __init__(
        self,
        kind: str,
        entries: Iterable[Entry] = (),
        *,
        arg_error: type[Exception] = RegistryError,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.arg_error = arg_error
        for entry in entries:
            self[entry.name] = entry

    def __setitem__(self, name: str, value: Any) -> None:
        entry = value if isinstance(value, Entry) else Entry(name, value)
        if entry.name != name:
            raise RegistryError(f"entry {entry.name!r} registered under the name {name!r}")
        super().__setitem__(name, entry)

    def __missing__(self, name: str) -> Entry:
        raise RegistryError(
            f"unknown {self.kind} {name!r}; known {self.kind_plural}: {', '.join(sorted(self))}"
        )

    def __reduce__(self) -> Any:  # pickles with its attributes (process pools)
        return (type(self), (self.kind, list(self.values())), {"arg_error": self.arg_error})

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.arg_error = state["arg_error"]

    @property
    def kind_plural(self) -> str:
        return self.kind[:-1] + "ies" if self.kind.endswith("y") else self.kind + "s"

    def extended(self, entries: Iterable[Entry]) -> Registry:
        """A new registry with these entries added (this one is not changed)."""
        return Registry(self.kind, [*self.values(), *entries], arg_error=self.arg_error)

    def load(self, name: str) -> Any:
        """The target of ``name``.

        Raises:
            RegistryError: an unknown name (the message lists the known ones).
            MissingDependencyError: a required optional module is not installed (named, with
                how to install it).
        """
        entry = self[name]
        missing = entry.missing()
        if missing:
            raise MissingDependencyError(self._missing_text(entry, missing), missing[0])
        return entry.load()

    def create(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """``load(name)(*args, **kwargs)`` after checking the arguments against the target's
        signature (:attr:`arg_error` names the accepted ones). Errors raised inside the
        constructor are not caught."""
        target = self.load(name)
        try:
            signature = inspect.signature(target)
        except (TypeError, ValueError):  # no signature to check against
            signature = None
        if signature is not None:
            try:
                signature.bind(*args, **kwargs)
            except TypeError as exc:
                accepted = ", ".join(
                    p.name
                    for p in signature.parameters.values()
                    if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                )
                message = f"{self.kind} {name!r} rejected its arguments ({exc})"
                raise self.arg_error(f"{message}; valid arguments: {accepted}") from None
        return target(*args, **kwargs)

    def available(self) -> list[str]:
        """Names whose required optional modules are installed, in registration order."""
        return [n for n, e in self.items() if not e.missing()]

    def unavailable(self) -> dict[str, str]:
        """Name -> why it cannot be used here (the missing modules and how to install them)."""
        return {n: self._missing_text(e, e.missing()) for n, e in self.items() if e.missing()}

    def labels(self) -> dict[str, str]:
        """Name -> human label."""
        return {n: e.title for n, e in self.items()}

    def _missing_text(self, entry: Entry, missing: tuple[str, ...]) -> str:
        hints = [INSTALL_HINTS.get(m, f"pip install {m}") for m in missing]
        head = f"{self.kind} {entry.name!r} needs {', '.join(missing)}"
        if len(missing) == 1:
            return f"{head}, which is not installed: {hints[0]}"
        return f"{head}, which are not installed: " + "; ".join(
            f"{m}: {h}" for m, h in zip(missing, hints, strict=True)
        )
