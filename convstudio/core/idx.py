"""IDX files, the format MNIST and Fashion-MNIST were first published in.

An IDX file is a 4-byte magic number (``00 00 <type> <ndim>``), then each dimension as a
big-endian uint32, then the array bytes in C order. Files may be gzipped. Reading checks the
header first: a file whose header declares more than ``max_bytes`` of data (a few KB of gzip can
claim gigabytes) is refused before anything is inflated or allocated.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = ["MAX_IDX_BYTES", "IdxError", "IdxHeader", "idx_bytes", "parse_idx", "read_idx", "read_idx_header",
           "write_idx"]

MAX_IDX_BYTES = 1 << 30
"""Largest array a file may declare (1 GiB; the full MNIST training images are 47 MB)."""
MAX_DIMS = 32
"""More dimensions than any dataset uses (numpy itself stops at 64)."""

# type code -> element dtype (multi-byte types are big-endian in the file)
_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("=") if dt.itemsize > 1 else dt: code for code, dt in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class IdxError(ValueError):
    """The bytes are not a well-formed IDX file; the message says what is wrong."""


@dataclass(frozen=True)
class IdxHeader:
    """The element type and dimensions a file's header declares, with the sizes they imply."""

    dtype: np.dtype
    dims: tuple[int, ...]

    @property
    def header_len(self) -> int:
        return 4 + 4 * len(self.dims)

    @property
    def data_bytes(self) -> int:
        """Bytes of array data the header promises (exact, no overflow)."""
        return math.prod(self.dims) * self.dtype.itemsize


def _parse_header(head: bytes, source: str, max_bytes: int | None) -> IdxHeader:
    """The header at the start of ``head``; refuses malformed or oversized declarations."""
    if len(head) < 4:
        raise IdxError(f"{source}: too short to be an IDX file ({len(head)} bytes)")
    zero, code, ndim = head[0:2], head[2], head[3]
    if zero != b"\x00\x00" or code not in _DTYPES:
        raise IdxError(f"{source}: not an IDX file (magic number {head[:4].hex(' ')})")
    if ndim == 0:
        raise IdxError(f"{source}: IDX header declares 0 dimensions")
    if ndim > MAX_DIMS:
        raise IdxError(f"{source}: IDX header declares {ndim} dimensions; at most {MAX_DIMS} are supported")
    header_len = 4 + 4 * ndim
    if len(head) < header_len:
        raise IdxError(f"{source}: truncated inside the header ({len(head)} of {header_len} bytes)")
    header = IdxHeader(_DTYPES[code], struct.unpack(f">{ndim}I", head[4:header_len]))
    if max_bytes is not None and header.data_bytes > max_bytes:
        raise IdxError(f"{source}: the header declares shape {header.dims}, {header.data_bytes:,} bytes of data, "
                       f"more than the {max_bytes:,} bytes a data file may hold; refused before reading")
    return header


def parse_idx(data: bytes, source: str = "IDX data", max_bytes: int | None = MAX_IDX_BYTES) -> np.ndarray:
    """The array stored in IDX ``data`` (already decompressed), in native byte order."""
    header = _parse_header(data[:4 + 4 * MAX_DIMS], source, max_bytes)
    header_len, dims, dtype = header.header_len, header.dims, header.dtype
    expected = header.data_bytes
    found = len(data) - header_len
    if found < expected:
        raise IdxError(f"{source}: truncated: the header promises {expected:,} data bytes "
                       f"for shape {dims}, the file has {found:,}")
    if found > expected:
        raise IdxError(f"{source}: {found - expected:,} unexpected bytes after the data "
                       f"for shape {dims}")
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(dims)
    if dtype.itemsize > 1:
        array = array.astype(dtype.newbyteorder("="))
    return array


def _read_head(stream: BinaryIO) -> bytes:
    head = stream.read(4)
    if len(head) == 4 and head[:2] == b"\x00\x00":
        head += stream.read(4 * head[3])
    return head


def _open(path: Path, source: str) -> BinaryIO:
    try:
        raw = path.open("rb")
        gz = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
    except OSError as exc:
        raise IdxError(f"{source}: cannot be read ({exc.strerror or exc})") from exc
    return gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw  # type: ignore[return-value]


def read_idx_header(path: str | Path, source: str | None = None,
                    max_bytes: int | None = MAX_IDX_BYTES) -> IdxHeader:
    """The dtype and dimensions a file declares, read without touching its data."""
    path = Path(path)
    source = source or str(path)
    try:
        with _open(path, source) as stream:
            return _parse_header(_read_head(stream), source, max_bytes)
    except (OSError, EOFError, zlib.error) as exc:
        raise IdxError(f"{source}: damaged or truncated gzip file ({exc})") from exc


def read_idx(path: str | Path, source: str | None = None, max_bytes: int | None = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file, gzipped or raw (detected from the content, not the name).

    ``source`` names the file in error messages (default: the path). The header is checked against
    ``max_bytes`` first, and never more than the declared size (plus one byte, to notice extra data)
    is inflated.
    """
    path = Path(path)
    source = source or str(path)
    try:
        with _open(path, source) as stream:
            head = _read_head(stream)
            header = _parse_header(head, source, max_bytes)
            data = head + stream.read(header.data_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, gzip.BadGzipFile) and exc.errno is not None:
            raise IdxError(f"{source}: cannot be read ({exc.strerror or exc})") from exc
        raise IdxError(f"{source}: damaged or truncated gzip file ({exc})") from exc
    if len(data) > header.header_len + header.data_bytes:
        raise IdxError(f"{source}: more data than the header's shape {header.dims} holds")
    return parse_idx(data, source, max_bytes)


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` encoded as an IDX file (uncompressed)."""
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=") if array.dtype.itemsize > 1 else array.dtype
    if native not in _CODES:
        raise IdxError(f"IDX cannot store dtype {array.dtype}")
    if array.ndim == 0 or array.ndim > 255:
        raise IdxError(f"IDX cannot store an array with {array.ndim} dimensions")
    code = _CODES[native]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()


def write_idx(path: str | Path, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file; gzipped when ``compress`` or when the name ends in ``.gz``."""
    path = Path(path)
    data = idx_bytes(array)
    if compress is None:
        compress = path.suffix == ".gz"
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path
