"""Project files: a network, its training settings and dataset choice as versioned JSON.

A project is saved atomically (a temporary file in the same folder, then ``os.replace``), with the
trained model beside it as ``<stem>.weights.keras`` when there is one. Loading checks everything
and raises :class:`ProjectError` with a clear message for damaged, foreign or newer files.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import atomic_write_text, atomic_write_with
from .network import Network, NetworkError
from .settings import SettingsError, TrainSettings

if TYPE_CHECKING:
    import keras

__all__ = ["DATASET_NAMES", "FORMAT", "Project", "ProjectError", "SCHEMA_VERSION", "load_project",
           "load_project_model", "project_to_dict", "save_project"]

FORMAT = "convstudio-project"
SCHEMA_VERSION = 1
DATASET_NAMES = ("mnist", "fashion_mnist")
WEIGHTS_SUFFIX = ".weights.keras"


class ProjectError(ValueError):
    """A project file that cannot be read or written; the message says why and what to do."""


@dataclass
class Project:
    """Everything needed to rebuild and retrain a model; ``weights_path`` is absolute once loaded."""

    network: Network
    settings: TrainSettings = field(default_factory=TrainSettings)
    dataset_name: str = "mnist"
    data_dir: str | None = None
    weights_path: str | None = None
    title: str = ""
    description: str = ""


def project_to_dict(project: Project, weights: str | None = None) -> dict[str, Any]:
    """The JSON document for ``project`` (``weights`` is the path to record, relative to the file)."""
    data: dict[str, Any] = {"format": FORMAT, "schema_version": SCHEMA_VERSION}
    if project.title:
        data["title"] = project.title
    if project.description:
        data["description"] = project.description
    data["network"] = project.network.to_dict()
    data["training"] = project.settings.to_dict()
    data["dataset"] = {"name": project.dataset_name, "data_dir": project.data_dir}
    data["weights"] = weights
    return data


def save_project(project: Project, path: str | os.PathLike[str], model: "keras.Model | None" = None) -> Path:
    """Write ``project`` to ``path`` atomically; with ``model``, also its weights beside it.

    Returns the path written. ``project.weights_path`` is updated when weights are written.
    """
    if project.dataset_name not in DATASET_NAMES:
        raise ProjectError(f"unknown dataset {project.dataset_name!r}; use one of {', '.join(DATASET_NAMES)}")
    target = Path(path)
    if target.suffix.lower() != ".json":
        target = target.with_suffix(target.suffix + ".json") if target.suffix else target.with_suffix(".json")
    weights_abs: str | None = project.weights_path
    try:
        if model is not None:
            weights_file = target.with_name(target.stem + WEIGHTS_SUFFIX)
            atomic_write_with(weights_file, lambda tmp: model.save(tmp), suffix=".keras")
            weights_abs = str(weights_file.resolve())
        weights_rel = None
        if weights_abs is not None and Path(weights_abs).is_file():
            weights_rel = os.path.relpath(weights_abs, target.resolve().parent)
        text = json.dumps(project_to_dict(project, weights_rel), indent=2) + "\n"
        atomic_write_text(target, text)
    except OSError as exc:
        raise ProjectError(f"the project cannot be saved to {target}: {exc.strerror or exc}") from None
    project.weights_path = weights_abs if weights_rel is not None else None
    return target


def _fail(path: Path, why: str) -> ProjectError:
    return ProjectError(f"{path} cannot be opened as a ConvStudio project: {why}")


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read and check a project file; raises :class:`ProjectError` with the reason if it cannot."""
    source = Path(path)
    if not source.exists():
        raise ProjectError(f"there is no project file at {source}")
    if source.is_dir():
        raise ProjectError(f"{source} is a folder, not a project file")
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise ProjectError(f"{source} cannot be read: {exc.strerror or exc}") from None
    if not raw.strip():
        raise _fail(source, "the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(source, "it is not a text file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        why = ("the file is truncated or damaged (it ends in the middle of the data)" if cut
               else f"it is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
        raise _fail(source, why) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _fail(source, f"it is not a ConvStudio project file (no \"format\": \"{FORMAT}\" marker)")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _fail(source, f"its schema version {version!r} is not valid")
    if version > SCHEMA_VERSION:
        raise _fail(source, f"it was saved by a newer ConvStudio (project schema {version}; this version reads "
                            f"up to {SCHEMA_VERSION}); update ConvStudio to open it")
    try:
        network = Network.from_dict(data.get("network"))
    except NetworkError as exc:
        raise _fail(source, f"its network is invalid: {exc}") from None
    try:
        settings = TrainSettings.from_dict(data.get("training", {}))
    except SettingsError as exc:
        raise _fail(source, f"its training settings are invalid: {exc}") from None
    dataset = data.get("dataset", {"name": "mnist"})
    if not isinstance(dataset, dict):
        raise _fail(source, "its dataset entry must be a mapping with a name")
    name, data_dir = dataset.get("name", "mnist"), dataset.get("data_dir")
    if name not in DATASET_NAMES:
        raise _fail(source, f"its dataset {name!r} is unknown; use one of {', '.join(DATASET_NAMES)}")
    if data_dir is not None and not isinstance(data_dir, str):
        raise _fail(source, "its dataset folder must be a path or null")
    weights = data.get("weights")
    if weights is not None and not isinstance(weights, str):
        raise _fail(source, "its weights entry must be a path or null")
    weights_path = str((source.resolve().parent / weights).resolve()) if weights else None
    title, description = data.get("title", ""), data.get("description", "")
    if not isinstance(title, str) or not isinstance(description, str):
        raise _fail(source, "its title and description must be text")
    return Project(network, settings, name, data_dir, weights_path, title, description)


def load_project_model(project: Project) -> "keras.Model | None":
    """The trained model saved with the project, or None when it has no weights yet."""
    if not project.weights_path:
        return None
    path = Path(project.weights_path)
    if not path.is_file():
        raise ProjectError(f"the project's trained weights are missing: {path} does not exist; train again")
    import keras

    try:
        return keras.saving.load_model(path)
    except Exception as exc:  # noqa: BLE001 - any failure means the weights file is damaged
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ProjectError(f"the project's trained weights in {path} cannot be loaded: {first}") from None
