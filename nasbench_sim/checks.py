"""Argument checks shared across the library: one definition of what counts as an integer.

A ``bool`` is an ``int`` to Python, but ``True`` workers or ``False`` epochs are mistakes, so
neither counts here. NumPy integers count unless a value goes as given into a JSON manifest
(``numpy=False``), which cannot hold them; ``require_int`` returns a Python ``int``, which can.
"""

from __future__ import annotations

from typing import Any, TypeGuard

import numpy as np

__all__ = ["is_int", "require_int"]


def is_int(value: Any, *, numpy: bool = True) -> TypeGuard[int | np.integer]:
    """True for an ``int`` (and, with ``numpy``, a NumPy integer), never for a ``bool``."""
    kinds = (int, np.integer) if numpy else (int,)
    return isinstance(value, kinds) and not isinstance(value, bool)


def require_int(
    name: str,
    value: Any,
    least: int,
    error: type[Exception] = ValueError,
    *,
    numpy: bool = True,
) -> int:
    """``int(value)``, or ``error`` naming ``name`` unless ``value`` is an integer ``>= least``.

    Example:
        >>> require_int("workers", 2, 1)
        2
        >>> require_int("workers", True, 1)
        Traceback (most recent call last):
        ...
        ValueError: workers must be an integer >= 1, got True
    """
    if not is_int(value, numpy=numpy) or value < least:
        raise error(f"{name} must be an integer >= {least}, got {value!r}")
    return int(value)
