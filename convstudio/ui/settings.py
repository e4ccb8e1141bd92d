"""Application-wide preferences kept in QSettings: names, recent files, data folder, storage root.

The storage root can be redirected (tests, screenshot runs) so nothing touches the user's real
settings or app data folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths

__all__ = [
    "APP_NAME",
    "ORG_NAME",
    "MAX_RECENT",
    "add_recent_file",
    "app_data_dir",
    "app_settings",
    "configure_application",
    "data_dir",
    "recent_files",
    "remove_recent_file",
    "set_data_dir",
    "use_storage_root",
]

ORG_NAME = "ConvStudio"
APP_NAME = "ConvStudio"
MAX_RECENT = 8

_root: Path | None = None


def configure_application(app: QCoreApplication) -> None:
    """Give the application the names QSettings and QStandardPaths derive their locations from."""
    app.setOrganizationName(ORG_NAME)
    app.setOrganizationDomain("convstudio.org")
    app.setApplicationName(APP_NAME)


def use_storage_root(root: str | os.PathLike[str] | None) -> None:
    """Keep settings and app data under ``root`` (None restores the platform locations)."""
    global _root
    _root = Path(root) if root is not None else None
    if _root is not None:
        _root.mkdir(parents=True, exist_ok=True)


def app_settings() -> QSettings:
    """The QSettings store for preferences (an ini file under the storage root when redirected)."""
    if _root is not None:
        return QSettings(str(_root / "settings.ini"), QSettings.Format.IniFormat)
    return QSettings(ORG_NAME, APP_NAME)


def app_data_dir() -> Path:
    """A writable folder for autosaves and checkpoints; created on demand."""
    if _root is not None:
        path = _root / "data"
    else:
        location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        path = Path(location or Path.home() / ".convstudio")
    path.mkdir(parents=True, exist_ok=True)
    return path


def recent_files() -> list[str]:
    """Recently opened or saved project files, newest first, existing ones only."""
    value = app_settings().value("recent_files", [])
    if isinstance(value, str):  # QSettings returns a bare string for one-element lists
        value = [value]
    return [p for p in (value or []) if isinstance(p, str) and os.path.exists(p)]


def add_recent_file(path: str | os.PathLike[str]) -> list[str]:
    path = os.path.abspath(os.fspath(path))
    files = [path] + [p for p in recent_files() if os.path.abspath(p) != path]
    files = files[:MAX_RECENT]
    app_settings().setValue("recent_files", files)
    return files


def remove_recent_file(path: str) -> None:
    app_settings().setValue("recent_files", [p for p in recent_files() if p != path])


def data_dir() -> str | None:
    """The dataset folder the user chose (CONVSTUDIO_DATA_DIR wins when set)."""
    env = os.environ.get("CONVSTUDIO_DATA_DIR")
    if env:
        return env
    value = app_settings().value("data_dir", "")
    return str(value) if value else None


def set_data_dir(path: str | None) -> None:
    app_settings().setValue("data_dir", path or "")
