"""Reading the pickled CIFAR batches without Python's default unpickler.

A pickle can name any importable callable and have it called while loading (``os.system`` via
``__reduce__``). :class:`ArrayUnpickler` resolves only the few numpy names an array needs, so the
CIFAR "python version" files (dicts of bytes, lists, ints and one uint8 array) load and anything
else is refused before it runs.
"""

from __future__ import annotations

import io
import pickle
from typing import Any, BinaryIO

__all__ = ["ALLOWED_GLOBALS", "UnsafePickle", "load_restricted"]

# what numpy arrays and their dtypes reduce to, under numpy 1 and numpy 2 module names
ALLOWED_GLOBALS = frozenset({
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    # Python 3 writes bytes in protocols 0-2 as _codecs.encode(str, "latin1"): a pure function
    ("_codecs", "encode"),
})


class UnsafePickle(pickle.UnpicklingError):
    """The pickle asks for something other than plain data and numpy arrays; nothing was run."""


class ArrayUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`ALLOWED_GLOBALS` (no other class or function)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise UnsafePickle(f"refused to load '{module}.{name}' (only numpy arrays are allowed)")

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickle("refused a persistent reference (only plain data and numpy arrays are allowed)")


def load_restricted(source: bytes | BinaryIO) -> Any:
    """The object in a pickle of dicts, lists, bytes, numbers and numpy arrays (Python 2 pickles too).

    Raises :class:`UnsafePickle` when the pickle names anything else, and other
    ``pickle.UnpicklingError``/``ValueError``/``EOFError`` when it is damaged.
    """
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    return ArrayUnpickler(stream, encoding="bytes").load()
