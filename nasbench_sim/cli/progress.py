"""The command line's progress bars: tqdm, made quiet where the output is a log.

tqdm redraws its line up to ten times a second. At a terminal that line is overwritten; in a
file or a pipe (``nohup ... > build.log``) every redraw stays, and a long step fills the log
with thousands of copies of the bar. So a bar whose stream is not a terminal redraws at most
every :data:`LOG_INTERVAL_S` seconds, and always at its end. ``TQDM_MININTERVAL`` (tqdm's own
environment setting) still wins where it is set.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["LOG_INTERVAL_S", "progress_bar"]

LOG_INTERVAL_S = 30.0
"""Seconds between two redraws of a bar that writes to a file or a pipe."""


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress_bar(**kwargs: Any) -> Any:
    """A ``tqdm`` bar with ``kwargs`` (written to stderr unless ``file`` is given), redrawn at
    most every :data:`LOG_INTERVAL_S` seconds when its stream is not a terminal."""
    from tqdm import tqdm

    stream = kwargs.setdefault("file", sys.stderr)
    if not _is_terminal(stream) and "TQDM_MININTERVAL" not in os.environ:
        kwargs.setdefault("mininterval", LOG_INTERVAL_S)
        kwargs.setdefault("maxinterval", LOG_INTERVAL_S)  # tqdm's monitor: every 10 s else
    return tqdm(**kwargs)
