"""Cell spaces: value objects, enumeration, equivalence classes, encodings.

Spaces are created through :func:`get_space`, which lists the valid names when it fails::

    >>> get_space("nb201").size
    15625
"""

from __future__ import annotations

from nasbench_sim.registry import Entry, Registry
from nasbench_sim.space.base import FEATURES, Arch, Decision, GraphTensors, SearchSpace
from nasbench_sim.space.nb101 import NB101Cell
from nasbench_sim.space.nb101_space import NB101Space
from nasbench_sim.space.nb201 import EDGES, OPS, Cell, nb201_unique_key
from nasbench_sim.space.nb201_space import NB201Space
from nasbench_sim.space.restricted import RestrictedSpace

__all__ = [
    "EDGES",
    "FEATURES",
    "OPS",
    "SPACES",
    "Arch",
    "Cell",
    "Decision",
    "GraphTensors",
    "NB101Cell",
    "NB101Space",
    "NB201Space",
    "RestrictedSpace",
    "SearchSpace",
    "get_space",
    "nb201_unique_key",
]

SPACES = Registry(
    "space",
    [
        Entry(
            "nb201",
            NB201Space,
            label="NAS-Bench-201",
            summary="4-node cell, 6 edges, 5 ops: 15,625 cells in 6,466 classes",
        ),
        Entry(
            "nb101",
            NB101Space,
            label="NAS-Bench-101",
            summary="DAGs of at most 7 vertices and 9 edges, 3 ops on the vertices; the space "
            "of a table is the graphs it holds (423,624 in NAS-Bench-101)",
        ),
    ],
)
"""Registry of spaces by name. A new space adds an :class:`~nasbench_sim.registry.Entry`
whose target builds it with no arguments (a space made from its table's graphs builds an empty
space, and :meth:`~nasbench_sim.space.SearchSpace.for_table` the space of a table)."""


def get_space(name: str) -> SearchSpace:
    """Create the space registered under ``name``.

    Raises:
        RegistryError: for an unknown name, listing the known ones.
    """
    space: SearchSpace = SPACES.create(name)
    return space
