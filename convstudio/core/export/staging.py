"""Write an export into a hidden folder beside its target and move it into place only when verified.

A failed export (conversion error, verification mismatch, full disk) leaves nothing behind; a
target that cannot be written (missing folder, permission denied, a folder where a file goes)
is refused before any work starts, with the reason in plain words.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .formats import ExportError, ExportFormat

__all__ = ["os_reason", "resolve_target", "staged"]


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


@contextlib.contextmanager
def staged(target: Path) -> Iterator[Path]:
    """Yield a fresh path beside ``target`` to write to; on a clean exit move it onto ``target``.

    An existing ``target`` is replaced only after the new one is complete. On any error the
    staging folder is removed and the original ``target`` is left as it was.
    """
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.exporting-", dir=target.parent))
    except OSError as exc:
        raise ExportError(f"cannot write to {target.parent}: {os_reason(exc)}") from None
    try:
        work = staging / target.name
        yield work
        if not work.exists():
            raise ExportError(f"the export wrote nothing to {target.name}")
        try:
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
