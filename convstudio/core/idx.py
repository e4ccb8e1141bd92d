"""IDX files, the format MNIST and Fashion-MNIST were first published in.

An IDX file is a 4-byte magic number (``00 00 <type> <ndim>``), then each dimension as a
big-endian uint32, then the array bytes in C order. Files may be gzipped.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["IdxError", "parse_idx", "read_idx", "idx_bytes", "write_idx"]

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


def parse_idx(data: bytes, source: str = "IDX data") -> np.ndarray:
    """The array stored in IDX ``data`` (already decompressed), in native byte order."""
    if len(data) < 4:
        raise IdxError(f"{source}: too short to be an IDX file ({len(data)} bytes)")
    zero, code, ndim = data[0:2], data[2], data[3]
    if zero != b"\x00\x00" or code not in _DTYPES:
        raise IdxError(f"{source}: not an IDX file (magic number {data[:4].hex(' ')})")
    if ndim == 0:
        raise IdxError(f"{source}: IDX header declares 0 dimensions")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise IdxError(f"{source}: truncated inside the header ({len(data)} of {header_len} bytes)")
    dims = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = _DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
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


def read_idx(path: str | Path, source: str | None = None) -> np.ndarray:
    """Read an IDX file, gzipped or raw (detected from the content, not the name).

    ``source`` names the file in error messages (default: the path).
    """
    path = Path(path)
    source = source or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise IdxError(f"{source}: cannot be read ({exc.strerror or exc})") from exc
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise IdxError(f"{source}: damaged or truncated gzip file ({exc})") from exc
    return parse_idx(raw, source)


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
