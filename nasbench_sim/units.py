"""Durations in the unit a reader takes in at a glance (seconds, minutes or hours)."""

from __future__ import annotations

__all__ = ["duration"]


def duration(seconds: float, prefix: str = "") -> str:
    """``seconds`` as seconds below 2 minutes, minutes below 2 hours, else hours; ``prefix``
    goes before the unit (``"core-"``: CPU time summed over cores).

    Example:
        >>> duration(42.0, "core-"), duration(1800), duration(3 * 3600 + 360, "core-")
        ('42.0 core-seconds', '30.0 minutes', '3.1 core-hours')
    """
    for limit, size, unit in ((120, 1, "seconds"), (7200, 60, "minutes")):
        if abs(seconds) < limit:
            return f"{seconds / size:.1f} {prefix}{unit}"
    return f"{seconds / 3600:.1f} {prefix}hours"
