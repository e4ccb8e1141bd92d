"""Write an export into a hidden folder beside its target and move it into place only when verified.

A failed export (conversion error, verification mismatch, full disk) leaves nothing behind; a
target that cannot be written (missing folder, permission denied, a folder where a file goes)
is refused before any work starts, with the reason in plain words.

Nothing the app did not write is ever deleted: every folder export carries a marker file
(:data:`MARKER`) naming its format and the files written, and an existing folder is replaced
only when it is an earlier export of the same format holding nothing else. Replacing anything
needs ``overwrite=True`` (the GUI asks, the CLI needs ``--force``).
"""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .formats import ExportError, ExportFormat

__all__ = ["MARKER", "ExportExists", "check_target", "os_reason", "resolve_target", "staged"]

MARKER = ".convstudio-export.json"
"""Written into every folder export: ``{"app": "ConvStudio", "format": ..., "files": [...]}``."""

STAGING_MARK = ".convstudio-staging.json"
"""Written into every staging folder with the exporting process id, so a stale one is recognised."""


class ExportExists(ExportError):
    """The target exists and may be replaced, but only when the user confirms (``overwrite=True``)."""


def os_reason(exc: OSError) -> str:
    """A short human reason for an ``OSError`` (``permission denied``, ``no space left``...)."""
    known = {
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the disk is read-only",
        errno.ENOSPC: "no space left on the disk",
        errno.ENOENT: "the folder does not exist",
        errno.ENOTDIR: "part of the path is a file, not a folder",
        errno.EISDIR: "it is a folder",
        errno.ENAMETOOLONG: "the name is too long",
    }
    return known.get(exc.errno or 0, exc.strerror or str(exc))


def resolve_target(path: str | os.PathLike[str], fmt: ExportFormat) -> Path:
    """The absolute target path (``fmt.suffix`` appended when missing), or :class:`ExportError` why not."""
    raw = os.fspath(path)
    if not raw.strip():
        raise ExportError("choose where to save the export")
    target = Path(raw).expanduser().absolute()
    if fmt.suffix and target.suffix.lower() != fmt.suffix:
        target = target.with_name(target.name + fmt.suffix)
    parent = target.parent
    if not parent.exists():
        raise ExportError(f"cannot export to {target}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise ExportError(f"cannot export to {target}: {parent} is a file, not a folder")
    if fmt.is_folder:
        if target.exists() and not target.is_dir():
            raise ExportError(f"cannot export to {target}: a file with that name exists; "
                              f"{fmt.label} is written as a folder")
    elif target.is_dir():
        raise ExportError(f"cannot export to {target}: it is a folder; choose a file name ending in {fmt.suffix}")
    return target


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def read_marker(folder: Path) -> dict | None:
    """The marker of an earlier ConvStudio export in ``folder``, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("app") == "ConvStudio" else None


def write_marker(folder: Path, fmt: ExportFormat) -> None:
    files = [f for f in _files(folder) if f != MARKER]
    text = json.dumps({"app": "ConvStudio", "format": fmt.name, "files": files}, indent=1)
    (folder / MARKER).write_text(text + "\n", encoding="utf-8")


def _replaceable(target: Path, fmt: ExportFormat) -> bool:
    """Whether ``target`` exists with something to lose; :class:`ExportError` when it may never be replaced."""
    if not target.exists():
        return False
    if not fmt.is_folder:
        return True
    try:
        files = _files(target)
    except OSError as exc:
        raise ExportError(f"cannot export to {target}: {os_reason(exc)}") from None
    if not files:
        return False  # an empty folder: nothing to lose
    marker = read_marker(target)
    if marker is None or marker.get("format") != fmt.name:
        what = "an earlier export of another format" if marker else "not an earlier export by ConvStudio"
        raise ExportError(f"cannot export to {target}: the folder is not empty and is {what}; ConvStudio "
                          f"only replaces its own {fmt.label} exports, so choose a new folder name")
    written = set(marker.get("files") or ())
    foreign = [f for f in files if f not in written and f != MARKER]
    if foreign:
        more = f" and {len(foreign) - 1} more file(s)" if len(foreign) > 1 else ""
        them = "them" if more else "it"
        raise ExportError(f"cannot replace {target}: it holds {foreign[0]}{more}, which ConvStudio did not "
                          f"write; move {them} away or choose a new folder name")
    return True


def check_target(path: str | os.PathLike[str], fmt: ExportFormat, overwrite: bool = False) -> Path:
    """The resolved target, checked: :class:`ExportExists` when it exists and ``overwrite`` is False,
    :class:`ExportError` when it must never be replaced (a folder holding files ConvStudio did not write)."""
    target = resolve_target(path, fmt)
    if _replaceable(target, fmt) and not overwrite:
        kind = "folder" if fmt.is_folder else "file"
        raise ExportExists(f"{target} already exists; replacing it needs your confirmation (the {kind} "
                           "is kept as it is)")
    return target


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, ValueError):
        return True  # exists but not ours, or cannot tell: keep it
    return True


def clean_stale(target: Path) -> list[Path]:
    """Remove staging folders an interrupted export left beside ``target`` (only ours, of dead processes)."""
    removed = []
    for name in glob.glob(glob.escape(str(target.parent / f".{target.name}.exporting-")) + "*"):
        folder = Path(name)
        try:
            pid = int(json.loads((folder / STAGING_MARK).read_text(encoding="utf-8"))["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a folder ConvStudio made: leave it
        if not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextlib.contextmanager
def staged(target: Path, fmt: ExportFormat, overwrite: bool = False) -> Iterator[Path]:
    """Yield a fresh path beside ``target`` to write to; on a clean exit move it onto ``target``.

    An existing ``target`` is replaced only after the new one is complete, and only as
    :func:`check_target` allows. On any error the staging folder is removed and the original
    ``target`` is left as it was.
    """
    clean_stale(target)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.exporting-", dir=target.parent))
    except OSError as exc:
        raise ExportError(f"cannot write to {target.parent}: {os_reason(exc)}") from None
    try:
        try:
            (staging / STAGING_MARK).write_text(json.dumps({"pid": os.getpid()}), encoding="utf-8")
        except OSError as exc:
            raise ExportError(f"cannot write to {target.parent}: {os_reason(exc)}") from None
        work = staging / target.name
        yield work
        if not work.exists():
            raise ExportError(f"the export wrote nothing to {target.name}")
        try:
            if work.is_dir():
                write_marker(work, fmt)
            check_target(target, fmt, overwrite)  # again: something may have appeared meanwhile
            if work.is_dir() and target.is_dir():
                old = staging / ".previous"
                os.replace(target, old)
                try:
                    os.replace(work, target)
                except OSError:
                    os.replace(old, target)
                    raise
            else:
                os.replace(work, target)
        except OSError as exc:
            raise ExportError(f"cannot move the export into place at {target}: {os_reason(exc)}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
