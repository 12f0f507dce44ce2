"""An allow-list unpickler for data files from the internet.

A pickle is a small program: besides plain data it may name any importable callable
(``os.system``, ``builtins.eval``...) and call it while loading. The benchmark files this
package reads hold only plain data, so :class:`SafeUnpickler` resolves exactly the few names
those files contain and refuses every other one before anything runs:

* ``collections.OrderedDict``, ``set`` and ``frozenset``;
* numpy scalars, dtypes and arrays (``numpy.dtype``, ``numpy.ndarray`` and numpy's own
  reconstruction helpers, under their numpy 1 and numpy 2 module names);
* ``_codecs.encode`` as protocol-2 pickles use it for ``bytes``, restricted to Latin-1 text.

Tensors (trained weights) are refused with :class:`WeightsInFileError`: they need torch's
unpickling, and the ``-simple`` archives hold the same results without them. Torch storages
referenced by persistent id are refused the same way.

Example:
    >>> import pickle
    >>> safe_loads(pickle.dumps({"x@0": 93.1}), "demo.pickle")
    {'x@0': 93.1}
    >>> class Evil:
    ...     def __reduce__(self):
    ...         return (print, ("pwned",))
    >>> safe_loads(pickle.dumps(Evil()), "evil.pickle")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nasbench_sim.importers.errors.UnsafePickleError: evil.pickle: the pickle asks to call ...
"""

from __future__ import annotations

import bz2
import importlib
import io
import os
import pickle
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from nasbench_sim.importers.errors import (
    ImportFormatError,
    UnsafePickleError,
    WeightsInFileError,
)

__all__ = [
    "ALLOWED_GLOBALS",
    "WEIGHTS_MESSAGE",
    "SafeUnpickler",
    "load_bz2_pickle",
    "safe_load",
    "safe_loads",
]

WEIGHTS_MESSAGE = "this is a -full file with weights; use the -simple archive"
"""What a file with stored tensors is told (the ``-simple`` archives omit the weights)."""


def _latin1_encode(text: str, encoding: str = "latin1", errors: str = "strict") -> bytes:
    """``_codecs.encode`` as protocol-2 pickles use it for ``bytes``: Latin-1 text only."""
    if not isinstance(text, str) or encoding.replace("-", "").lower() != "latin1":
        raise pickle.UnpicklingError(
            f"_codecs.encode is allowed only on Latin-1 text (bytes in a protocol-2 pickle), "
            f"got encoding {encoding!r}"
        )
    return text.encode("latin1", "strict")


def _numpy_name(module: str, name: str) -> Any:
    """numpy's reconstruction helper ``module.name``, wherever this numpy keeps it."""
    tail = module.split(".", 1)[1] if "." in module else ""
    for candidate in (f"numpy._{tail.lstrip('_')}", f"numpy.{tail.lstrip('_')}"):
        try:
            return getattr(importlib.import_module(candidate), name)
        except (ImportError, AttributeError):
            continue
    raise pickle.UnpicklingError(f"this numpy has no {module}.{name}")


def _numpy_thunk(module: str, name: str) -> Callable[[], Any]:
    return lambda: _numpy_name(f"numpy.{module}", name)


_NUMPY_HELPERS = (
    ("core.multiarray", "_reconstruct"),
    ("core.multiarray", "scalar"),
    ("core.numeric", "_frombuffer"),
)

ALLOWED_GLOBALS: dict[str, Callable[[], Any]] = {
    "collections.OrderedDict": lambda: OrderedDict,
    "builtins.set": lambda: set,
    "builtins.frozenset": lambda: frozenset,
    "__builtin__.set": lambda: set,
    "__builtin__.frozenset": lambda: frozenset,
    "_codecs.encode": lambda: _latin1_encode,
    "numpy.dtype": lambda: np.dtype,
    "numpy.ndarray": lambda: np.ndarray,
    **{
        f"numpy.{prefix}{mod}.{name}": _numpy_thunk(mod, name)
        for mod, name in _NUMPY_HELPERS
        for prefix in ("", "_")
    },
}
"""``module.name`` -> a thunk returning the object it may resolve to; nothing else resolves."""


class SafeUnpickler(pickle.Unpickler):
    """A :class:`pickle.Unpickler` that resolves only :data:`ALLOWED_GLOBALS`.

    Args:
        file: a binary file object positioned at the start of a pickle.
        source: the file's name, for error messages.
    """

    def __init__(self, file: IO[bytes], source: str) -> None:
        super().__init__(file, encoding="latin1")
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        thunk = ALLOWED_GLOBALS.get(f"{module}.{name}")
        if thunk is not None:
            return thunk()
        if module == "torch" or module.startswith("torch."):
            raise WeightsInFileError(
                self.source, f"{WEIGHTS_MESSAGE} (it stores torch objects: {module}.{name})"
            )
        raise UnsafePickleError(
            self.source,
            f"the pickle asks to call {module}.{name}, which plain benchmark data never "
            "needs; refused (a data file may hold only dicts, lists, OrderedDict, sets, "
            "numbers, strings and numpy scalars, dtypes and arrays)",
        )

    def persistent_load(self, pid: Any) -> Any:
        kind = pid[0] if isinstance(pid, tuple) and pid else pid
        raise WeightsInFileError(
            self.source, f"{WEIGHTS_MESSAGE} (it references a torch {kind!s} by persistent id)"
        )


def _load_error(source: str, exc: BaseException) -> ImportFormatError:
    if isinstance(exc, EOFError) or "truncated" in str(exc):
        return ImportFormatError(source, f"the pickle ends early: truncated file? ({exc})")
    return ImportFormatError(source, f"not a readable pickle ({type(exc).__name__}: {exc})")


def safe_load(file: IO[bytes], source: str) -> Any:
    """Unpickle one object from ``file`` with :class:`SafeUnpickler`.

    Raises:
        UnsafePickleError: the pickle names a callable outside the allow-list.
        WeightsInFileError: it stores tensors.
        ImportFormatError: it is truncated or not a pickle at all.
    """
    try:
        return SafeUnpickler(file, source).load()
    except ImportFormatError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # the C unpickler raises many types on garbage input
        raise _load_error(source, exc) from None


def safe_loads(data: bytes, source: str) -> Any:
    """:func:`safe_load` from bytes."""
    return safe_load(io.BytesIO(data), source)


def load_bz2_pickle(path: str | os.PathLike[str], *, stream: bool = False) -> Any:
    """Read a bz2-compressed pickle (``*.pickle.pbz2``) safely.

    Args:
        path: the file.
        stream: decompress while unpickling instead of all at once (for multi-gigabyte single
            files: memory holds the objects, not the decompressed bytes as well).

    Raises:
        ImportFormatError: missing, not bz2, truncated, or not a pickle.
        UnsafePickleError: the pickle asks to run code.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise ImportFormatError(source, "no such file")
    try:
        if stream:
            with bz2.open(path, "rb") as f:
                return safe_load(f, source)
        raw = bz2.decompress(path.read_bytes())
    except ImportFormatError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        what = "truncated bz2 stream" if "ended" in str(exc) else "not a bz2-compressed file"
        raise ImportFormatError(source, f"{what} ({exc})") from None
    return safe_loads(raw, source)
