"""Scanning an image folder (one subfolder per class) before loading it: headers only, no decoding.

The layout is ``keras.utils.image_dataset_from_directory``'s: each subfolder of the root is a class
(sorted by name), its images may sit in nested folders. PNG, GIF and BMP headers are parsed from
their first bytes; JPEG (whose size can sit anywhere before the pixels) goes through Pillow's lazy
``Image.open``, which reads the header and decodes nothing. The result is plain data: class
counts, the most common sizes, colour modes, and every file skipped with the reason.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

__all__ = ["IMAGE_EXTENSIONS", "ImageFolderScan", "ScanError", "header_info", "scan_image_folder"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
GREY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"})
_HEAD = 64
_PNG_MODES = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}
_CHUNK = 256  # files per thread-pool job


class ScanError(ValueError):
    """The folder cannot be used as an image folder; the message says why and what to do."""


class Header(NamedTuple):
    """What a file's header says: format, (width, height), colour mode, whether TensorFlow decodes it."""

    fmt: str
    size: tuple[int, int]
    mode: str
    native: bool = True


def _png(head: bytes) -> Header:
    if len(head) < 33 or head[12:16] != b"IHDR":
        raise ValueError("corrupt (PNG header cut short)")
    if zlib.crc32(head[12:29]) != struct.unpack(">I", head[29:33])[0]:
        raise ValueError("corrupt (PNG header checksum wrong)")
    w, h, depth, colour = struct.unpack(">IIBB", head[16:26])
    if colour not in _PNG_MODES or not w or not h:
        raise ValueError("corrupt (PNG header invalid)")
    mode = "I;16" if colour == 0 and depth == 16 else ("1" if colour == 0 and depth == 1 else _PNG_MODES[colour])
    return Header("PNG", (w, h), mode)


def _gif(head: bytes) -> Header:
    if len(head) < 10:
        raise ValueError("corrupt (GIF header cut short)")
    w, h = struct.unpack("<HH", head[6:10])
    if not w or not h:
        raise ValueError("corrupt (GIF header invalid)")
    return Header("GIF", (w, h), "P")


def _bmp(head: bytes) -> Header:
    if len(head) < 30:
        raise ValueError("corrupt (BMP header cut short)")
    dib = struct.unpack("<I", head[14:18])[0]
    if dib == 12:  # OS/2 core header: 16-bit sizes
        w, h, _, bpp = struct.unpack("<HHHH", head[18:26])
    else:
        w, h, _, bpp = struct.unpack("<iiHH", head[18:30])
    if not w or not h or bpp not in (1, 4, 8, 16, 24, 32):
        raise ValueError("corrupt (BMP header invalid)")
    mode = {24: "RGB", 32: "RGBA"}.get(bpp, "P")
    # TensorFlow's BMP decoder reads 24- and 32-bit pixels; palette images go through Pillow
    return Header("BMP", (abs(w), abs(h)), mode, native=bpp in (24, 32))


def _pillow(path: str) -> Header:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:  # lazy: parses the header, decodes nothing
            fmt, size, mode = im.format or "?", im.size, im.mode
    except UnidentifiedImageError:
        raise ValueError("not an image, or its header is corrupt") from None
    except (SyntaxError, struct.error, ValueError, EOFError) as exc:
        raise ValueError(f"corrupt ({exc})") from None
    if fmt not in ("JPEG", "MPO", "PNG", "GIF", "BMP"):
        raise ValueError(f"unsupported format {fmt} (PNG, JPEG, BMP and GIF are read)")
    return Header("JPEG" if fmt == "MPO" else fmt, size, mode, native=fmt != "BMP")


def header_info(path: str | os.PathLike) -> Header:
    """Format, size and mode of an image from its header; ``ValueError``/``OSError`` says what is wrong."""
    fd = os.open(path, os.O_RDONLY)
    try:
        head = os.read(fd, _HEAD)
    finally:
        os.close(fd)
    if not head:
        raise ValueError("empty file (0 bytes)")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(head)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(head)
    if head[:2] == b"BM":
        return _bmp(head)
    if head[:3] == b"\xff\xd8\xff":
        return _pillow(path)
    if head[:4] in (b"RIFF", b"II*\x00", b"MM\x00*") or head[:2] == b"\x00\x00":
        return _pillow(path)  # a real image of another format: Pillow names it
    raise ValueError("not an image (unknown content)")


@dataclass
class ImageFolderScan:
    """What a scan found, as plain data. ``files``/``labels``/``headers`` list the usable images."""

    root: str
    class_names: list[str]
    files: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    headers: list[Header] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def class_counts(self) -> dict[str, int]:
        counts = Counter(self.labels)
        return {name: counts.get(i, 0) for i, name in enumerate(self.class_names)}

    @property
    def size_counts(self) -> Counter:
        """``{(height, width): images}`` over the usable images."""
        return Counter((h.size[1], h.size[0]) for h in self.headers)

    def common_sizes(self, k: int = 5) -> list[tuple[tuple[int, int], int]]:
        """The ``k`` most common ``((height, width), count)``, most common first."""
        return self.size_counts.most_common(k)

    @property
    def mode_counts(self) -> dict[str, int]:
        return dict(Counter(h.mode for h in self.headers).most_common())

    @property
    def skipped_reasons(self) -> dict[str, int]:
        return dict(Counter(reason for _, reason in self.skipped).most_common())

    @property
    def all_grey(self) -> bool:
        return bool(self.headers) and all(h.mode in GREY_MODES for h in self.headers)

    def to_dict(self) -> dict:
        """The report as JSON-ready plain data."""
        return {
            "root": self.root, "images": len(self.files), "class_counts": self.class_counts,
            "common_sizes": [{"height": s[0], "width": s[1], "images": n} for s, n in self.common_sizes()],
            "distinct_sizes": len(self.size_counts), "modes": self.mode_counts,
            "skipped": [{"file": f, "reason": r} for f, r in self.skipped],
            "skipped_reasons": self.skipped_reasons,
        }

    def summary(self) -> str:
        """A few human lines: images per class, sizes, modes, skipped files."""
        lines = [f"{len(self.files):,} images in {len(self.class_names)} classes under {self.root}"]
        lines.append("classes: " + ", ".join(f"{n} {c:,}" for n, c in self.class_counts.items()))
        sizes = ", ".join(f"{h}x{w} ({n:,})" for (h, w), n in self.common_sizes())
        more = len(self.size_counts) - min(5, len(self.size_counts))
        lines.append(f"sizes (height x width): {sizes}" + (f" and {more} more" if more > 0 else ""))
        lines.append("colour modes: " + ", ".join(f"{m} {n:,}" for m, n in self.mode_counts.items()))
        if self.skipped:
            reasons = ", ".join(f"{n:,} {r}" for r, n in self.skipped_reasons.items())
            lines.append(f"skipped {len(self.skipped):,} files: {reasons}")
        return "\n".join(lines)


def _classify(paths: Sequence[str]) -> list[Header | str]:
    out: list[Header | str] = []
    for p in paths:
        try:
            out.append(header_info(p))
        except ValueError as exc:
            out.append(str(exc))
        except OSError as exc:
            out.append(f"unreadable ({exc.strerror or type(exc).__name__})")
    return out


def _walk(folder: Path) -> Iterable[str]:
    """Every file under ``folder`` (nested folders too; links to folders are not followed), sorted."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            yield os.path.join(dirpath, name)


def _class_folders(root: Path, class_names: Sequence[str] | None) -> list[str]:
    if not root.is_dir():
        raise ScanError(f"{root}: no such folder")
    found = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
    if class_names is None:
        if not found:
            raise ScanError(f"{root}: no class folders (put each class's images in a subfolder named for it)")
        return found
    return list(class_names)


def _list_files(root: Path, names: Sequence[str]) -> tuple[list[tuple[str, int]], list[tuple[str, str]]]:
    """(path, label) of every file with an image extension; other files with why they are skipped."""
    candidates: list[tuple[str, int]] = []
    skipped = [(e.path, "outside any class folder") for e in sorted(os.scandir(root), key=lambda e: e.name)
               if e.is_file() and not e.name.startswith(".")]
    for label, name in enumerate(names):
        folder = root / name
        if not folder.is_dir():
            continue
        for path in _walk(folder):
            if path.lower().endswith(IMAGE_EXTENSIONS):
                candidates.append((path, label))
            else:
                skipped.append((path, "not an image (extension)"))
    return candidates, skipped


def _read_headers(paths: list[str], workers: int) -> list[Header | str]:
    chunks = [paths[i:i + _CHUNK] for i in range(0, len(paths), _CHUNK)]
    if workers <= 1 or len(chunks) <= 1:
        return _classify(paths)
    with ThreadPoolExecutor(workers, thread_name_prefix="convstudio-scan") as pool:
        return [r for chunk in pool.map(_classify, chunks) for r in chunk]


def scan_image_folder(root: str | os.PathLike, class_names: Sequence[str] | None = None,
                      workers: int | None = None) -> ImageFolderScan:
    """Scan ``root``: one subfolder per class (or the given ``class_names``, e.g. a test folder's).

    Files with another extension, empty, unreadable or with a corrupt header are listed in
    ``skipped`` with the reason; so are files outside any class folder. Headers are read in
    ``workers`` threads (default: the CPU count, at most 8).
    """
    root = Path(root).expanduser()
    names = _class_folders(root, class_names)
    candidates, skipped = _list_files(root, names)
    results = _read_headers([p for p, _ in candidates], workers or min(8, os.cpu_count() or 1))
    scan = ImageFolderScan(str(root), names, skipped=skipped)
    for (path, label), result in zip(candidates, results):
        if isinstance(result, Header):
            scan.files.append(path)
            scan.labels.append(label)
            scan.headers.append(result)
        else:
            scan.skipped.append((path, result))
    return scan
