"""Cell spaces: value objects, enumeration, equivalence classes, encodings.

Spaces are created through :func:`get_space`, which lists the valid names when it fails::

    >>> get_space("nb201").size
    15625
"""

from __future__ import annotations

from collections.abc import Callable

from nasbench_sim.errors import RegistryError
from nasbench_sim.space.base import Arch, GraphTensors, SearchSpace
from nasbench_sim.space.nb201 import EDGES, OPS, Cell, nb201_unique_key
from nasbench_sim.space.nb201_space import NB201Space

__all__ = [
    "EDGES",
    "OPS",
    "SPACES",
    "Arch",
    "Cell",
    "GraphTensors",
    "NB201Space",
    "SearchSpace",
    "get_space",
    "nb201_unique_key",
]

SPACES: dict[str, Callable[[], SearchSpace]] = {"nb201": NB201Space}
"""Registry of spaces by name. A new space registers its constructor here."""


def get_space(name: str) -> SearchSpace:
    """Create the space registered under ``name``.

    Raises:
        RegistryError: for an unknown name, listing the known ones.
    """
    try:
        factory = SPACES[name]
    except KeyError:
        raise RegistryError(
            f"unknown space {name!r}; known spaces: {', '.join(sorted(SPACES))}"
        ) from None
    return factory()
