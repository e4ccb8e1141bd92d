"""Bundled example networks: project files in ``resources/presets/``, one per architecture."""

from __future__ import annotations

from pathlib import Path

from .layout import lay_out
from .project import Project, ProjectError, load_project
from .resources import resource_path

__all__ = ["PRESET_ORDER", "list_presets", "load_preset", "preset_path"]

PRESET_ORDER = ("lenet5", "vgg_small", "resnet_small", "inception_small", "mnist_classic", "sobel_vs_learned")
"""Presets listed first, in teaching order; any other file in the folder follows alphabetically."""


def _folder() -> Path:
    return resource_path("presets")


def preset_path(preset_id: str) -> Path:
    """The project file of preset ``preset_id``; raises ``ProjectError`` for an unknown id."""
    path = _folder() / f"{preset_id}.json"
    if not preset_id.replace("_", "").isalnum() or not path.is_file():
        known = ", ".join(p[0] for p in list_presets())
        raise ProjectError(f"there is no preset {preset_id!r}; the presets are {known}")
    return path


def list_presets() -> list[tuple[str, str, str]]:
    """``(id, title, description)`` of every bundled preset, in teaching order."""
    ids = [p.stem for p in _folder().glob("*.json")]
    ids.sort(key=lambda i: (PRESET_ORDER.index(i) if i in PRESET_ORDER else len(PRESET_ORDER), i))
    result = []
    for preset_id in ids:
        project = load_project(_folder() / f"{preset_id}.json")
        result.append((preset_id, project.title or preset_id, project.description))
    return result


def load_preset(preset_id: str) -> Project:
    """A fresh, editable copy of preset ``preset_id`` (no trained weights), laid out like Tidy."""
    project = load_project(preset_path(preset_id))
    project.weights_path = None
    lay_out(project.network)
    return project
