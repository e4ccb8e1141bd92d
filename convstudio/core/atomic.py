"""Atomic file writes: a temporary file in the target's folder, then ``os.replace``.

A reader sees the old file or the new one, never half of one, even if the writer crashes. The new
file gets the old one's permission bits (a new file gets the usual ``0666 & ~umask``), not the
``0600`` of a temporary file. Temporaries are named ``.<target name>.<8 random characters>.tmp``
(``...tmp.keras`` when the writer needs a suffix); :func:`remove_stale_temporaries` deletes files
and folders of exactly that form, left behind by a writer that was killed, and nothing else.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["TEMP_MARK", "atomic_write_bytes", "atomic_write_text", "atomic_write_with", "is_temporary_name",
           "remove_stale_temporaries", "temporary_prefix"]

TEMP_MARK = ".tmp"
_TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp(\.[A-Za-z0-9]{1,8})?$")


def temporary_prefix(target_name: str) -> str:
    """The prefix of a temporary for ``target_name`` (``mkstemp``/``mkdtemp`` add 8 random characters)."""
    return f".{target_name}."


def is_temporary_name(name: str) -> bool:
    """Whether ``name`` is one of our temporaries (``.model.keras.ab12cd_9.tmp.keras``, ``.epoch-0003.x1y2z3w4.tmp``)."""
    return bool(_TEMP_NAME.match(name))


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return _default_mode()


def atomic_write_with(path: str | os.PathLike[str], write: Callable[[str], Any], suffix: str = "") -> None:
    """Call ``write(tmp_path)`` for a fresh temporary path beside ``path``, then move it into place.

    ``suffix`` is kept on the temporary name (Keras only saves to names ending in ``.keras``). The
    file keeps the permission bits of the one it replaces. On any failure the temporary is removed
    and ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(target.name), suffix=TEMP_MARK + suffix, dir=target.parent)
    os.close(fd)
    try:
        if suffix:
            os.unlink(tmp)  # some writers refuse to overwrite an existing file
        write(tmp)
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (flushed to disk before the rename)."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    atomic_write_with(path, write)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temporaries(folder: str | os.PathLike[str], min_age_s: float = 0.0) -> list[Path]:
    """Delete our temporaries (files or folders) directly in ``folder`` not modified for ``min_age_s``.

    Only names of our own form (:func:`is_temporary_name`) are touched; a missing or unreadable
    folder is not an error. Returns what was removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not is_temporary_name(entry.name):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < min_age_s:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed
