"""Locating ConvStudio's ``resources/`` folder (bundled datasets, presets).

The folder sits at the top of the source tree, next to the ``convstudio`` package; set
``CONVSTUDIO_RESOURCES`` to use another one.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ENV_VAR", "ResourceNotFound", "resource_path", "resources_root"]

ENV_VAR = "CONVSTUDIO_RESOURCES"


class ResourceNotFound(FileNotFoundError):
    """A bundled resource is missing; the message says where it was looked for."""


def resources_root() -> Path:
    """The resources folder: ``$CONVSTUDIO_RESOURCES`` if set, else the one beside the package."""
    override = os.environ.get(ENV_VAR)
    if override:
        root = Path(override).expanduser()
        where = f"{ENV_VAR}={override}"
    else:
        root = Path(__file__).resolve().parents[2] / "resources"
        where = "the ConvStudio source tree"
    if not root.is_dir():
        raise ResourceNotFound(
            f"ConvStudio's resources folder was not found at {root} (from {where}). "
            f"Reinstall ConvStudio from its source tree, or set {ENV_VAR} to the folder "
            "that holds 'datasets' and 'presets'.")
    return root


def resource_path(*parts: str, must_exist: bool = True) -> Path:
    """Path of a file or folder under the resources folder, e.g. ``resource_path("presets")``.

    Raises ``ResourceNotFound`` when it is missing, unless ``must_exist`` is false.
    """
    path = resources_root().joinpath(*parts)
    if must_exist and not path.exists():
        raise ResourceNotFound(f"Bundled resource '{'/'.join(parts)}' is missing: {path} "
                               "does not exist.")
    return path
