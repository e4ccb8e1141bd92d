"""The open project as one model: network, training settings, dataset, file, trained model, history.

A :class:`Session` is what the window shows and what the command line loads: the window's widgets
read and write it and follow its ``events``, the way napari's ``ViewerModel`` sits under its
``QtViewer``. It knows nothing about Qt. The network's own edits come through ``network.events``;
the session reports everything else (file, title, settings, dataset, model, history, modified).

A trained model is paired with :class:`TrainedOn`, a record of what it was trained on, so views can
tell when the model no longer matches the network or the chosen data (:attr:`Session.staleness`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .events import Emitter
from .network import Network, NetworkEvent
from .project import Project, load_project, save_project
from .settings import TrainSettings

__all__ = ["Session", "SessionEvent", "TrainedOn", "model_input_shape", "network_fingerprint"]

DEFAULT_INPUT_SHAPE = (28, 28, 1)


def network_fingerprint(network: Network) -> str:
    """What a trained model depends on (block ids, kinds, parameters, edges; not positions), hashed."""
    blocks = sorted([b.id, b.kind, sorted(b.params.items())] for b in network)
    edges = [[e.src, e.dst] for e in network.edges]
    text = json.dumps([blocks, edges], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def model_input_shape(model: Any) -> tuple[int, ...] | None:
    """A Keras model's input shape without the batch axis, or None when it does not say."""
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, tuple) and len(shape) > 1 and all(isinstance(d, int) for d in shape[1:]):
        return tuple(shape[1:])
    return None


@dataclass(frozen=True)
class TrainedOn:
    """What a trained model was trained on. ``dataset`` is None for a model of unknown origin
    (an imported Keras file); ``source`` says where the data came from ("sample" data is marked by
    ``is_sample``)."""

    dataset: str | None
    source: str = ""
    is_sample: bool = False
    input_shape: tuple[int, ...] = DEFAULT_INPUT_SHAPE
    class_names: tuple[str, ...] = ()
    network: str = ""  # network_fingerprint of the network it was built from
    folders: tuple[str | None, str | None, str] | None = None  # an image folder's (folder, test folder, fitting)

    @classmethod
    def describe(cls, dataset: str | None, network: Network, source: str = "", is_sample: bool = False,
                 input_shape: tuple[int, ...] | None = None,
                 folders: tuple[str | None, str | None, str] | None = None) -> TrainedOn:
        """The record for a model of ``network`` trained on the named dataset (class names looked up);
        ``folders`` is an image folder's ``(folder, test folder, fitting)``."""
        from .datasets import CLASS_NAMES

        names = tuple(CLASS_NAMES.get(dataset, ())) if dataset else ()
        return cls(dataset, source, is_sample, tuple(input_shape or DEFAULT_INPUT_SHAPE), names,
                   network_fingerprint(network), folders if dataset == "image_folder" else None)


@dataclass(frozen=True)
class SessionEvent:
    """What changed: ``kind`` is loaded, path, title, settings, dataset, model, history, modified or stale.

    ``value`` is the new value (for ``stale``: the reason the model no longer fits, or None).
    """

    kind: str
    value: Any = None


@dataclass(eq=False)
class Session:
    """The open project and what was done with it since it was opened."""

    network: Network = field(default_factory=Network)
    settings: TrainSettings = field(default_factory=TrainSettings)
    dataset_name: str = "mnist"
    data_dir: str | None = None
    path: str | None = None
    title: str = ""
    description: str = ""
    weights_path: str | None = None
    test_dir: str | None = None
    resize: str = "stretch"

    def __post_init__(self) -> None:
        self.events: Emitter[SessionEvent] = Emitter()
        self.model: Any = None
        self.trained_on: TrainedOn | None = None
        self.history: list[dict[str, float]] = []
        self.settings_error: str | None = None
        """Why the settings being edited cannot be used (the last valid ones are kept), or None."""
        self.network_modified = False
        self.model_unsaved = False
        self.changes_since_autosave = False
        self._saved_source = self.data_source
        self._stale: str | None = None
        self.network.events.connect(self._on_network_event)

    # ----------------------------------------------------------------- projects

    @classmethod
    def from_project(cls, project: Project, path: str | os.PathLike[str] | None = None) -> Session:
        """A session on ``project`` (its network object is used as is)."""
        session = cls(network=project.network)
        session.load(project, path)
        return session

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Session:
        """Read a project file; raises :class:`~convstudio.core.project.ProjectError` when it cannot."""
        return cls.from_project(load_project(path), path)

    def load(self, project: Project, path: str | os.PathLike[str] | None, clean: bool = True) -> None:
        """Take ``project``'s settings, dataset, file and weights; forget the model and its history.

        The network's content is loaded by whoever keeps its undo history (the editor document);
        ``clean=False`` marks the session as not saved anywhere (a recovered autosave, an import).
        """
        before = self.data_source
        self.settings, self.settings_error = project.settings, None
        self.dataset_name, self.data_dir = project.dataset_name, project.data_dir
        self.test_dir, self.resize = project.test_dir, project.resize
        self._saved_source = self.data_source
        self.title, self.description = project.title, project.description
        self.weights_path = project.weights_path
        self.path = str(path) if path else None
        self.model, self.trained_on = None, None
        self.history = [dict(epoch) for epoch in project.history]  # the history of the project's weights
        self.model_unsaved = False
        self.network_modified = not clean
        self.changes_since_autosave = not clean
        self.events.emit(SessionEvent("loaded", self.path))
        if self.data_source != before:
            self.events.emit(SessionEvent("dataset", self.dataset_name))
        self._update_stale()

    def to_project(self) -> Project:
        """The project as it is now (a copy of the network)."""
        return Project(network=self.network.copy(), settings=self.settings, dataset_name=self.dataset_name,
                       data_dir=self.data_dir, weights_path=self.weights_path, title=self.title,
                       description=self.description, history=[dict(epoch) for epoch in self.history],
                       test_dir=self.test_dir, resize=self.resize)

    def autosave_project(self) -> Project:
        """The project to write as the crash-safety copy (titled after the file when it has none)."""
        project = self.to_project()
        project.title = project.title or (Path(self.path).stem if self.path else "")
        project.source_path = self.path  # a recovered copy saves back to the project's own file
        return project

    def unsaved_model(self) -> Any:
        """The trained model when it is not saved anywhere yet, else None."""
        return self.model if self.model_unsaved else None

    def write_autosave(self, target: str) -> Path:
        """Write the crash-safety copy (with the model when it is not saved elsewhere) to ``target``."""
        written = save_project(self.autosave_project(), target, model=self.unsaved_model())
        self.changes_since_autosave = False
        return written

    def saved_as(self, path: str | os.PathLike[str], weights_path: str | None) -> None:
        """Record that the project was written to ``path`` (with its weights at ``weights_path``)."""
        self.weights_path = weights_path
        self.model_unsaved = False
        self.network_modified = False
        self._saved_source = self.data_source
        self.set_path(str(path))
        self.events.emit(SessionEvent("modified", self.is_modified))

    # ----------------------------------------------------------------- edits

    @property
    def is_modified(self) -> bool:
        return self.network_modified or self.model_unsaved or self.data_modified

    @property
    def data_source(self) -> tuple[str, str | None, str | None, str]:
        """What the data is read from: ``(dataset_name, data_dir, test_dir, resize)``."""
        return self.dataset_name, self.data_dir, self.test_dir, self.resize

    @property
    def data_modified(self) -> bool:
        """The data source differs from the one in the project file (or the project's last save)."""
        return self.data_source != self._saved_source

    @property
    def display_name(self) -> str:
        """The file's name, else the title, else "Untitled"."""
        return Path(self.path).name if self.path else (self.title or "Untitled")

    def set_path(self, path: str | None) -> None:
        self.path = path
        self.events.emit(SessionEvent("path", path))

    def set_settings(self, settings: TrainSettings, error: str | None = None) -> None:
        """The settings chosen now; ``error`` says why the ones being edited are not usable."""
        changed = settings != self.settings
        self.settings, self.settings_error = settings, error
        if changed:
            self.events.emit(SessionEvent("settings", settings))

    def set_dataset(self, name: str) -> None:
        """The dataset chosen to train on (by name; its folders stay as they are)."""
        self.set_data_source(name, self.data_dir, self.test_dir, self.resize)

    def set_data_source(self, name: str, data_dir: str | None, test_dir: str | None = None,
                        resize: str = "stretch") -> None:
        """The data to train on: the dataset, the folder it is read from (an image folder's, or one holding
        the dataset's files), an image folder's separate test folder and how its images are fitted."""
        source = (name, data_dir or None, test_dir or None, resize)
        if source == self.data_source:
            return
        was_modified = self.is_modified
        self.dataset_name, self.data_dir, self.test_dir, self.resize = source
        self.changes_since_autosave = True
        self.events.emit(SessionEvent("dataset", name))
        if self.is_modified != was_modified:
            self.events.emit(SessionEvent("modified", self.is_modified))
        self._update_stale()

    def set_network_modified(self, modified: bool) -> None:
        """Follow the undo history's saved state (the network differs from the file)."""
        if modified != self.network_modified:
            self.network_modified = modified
            self.events.emit(SessionEvent("modified", self.is_modified))

    def set_model(self, model: Any, trained_on: TrainedOn | None = None, unsaved: bool = True) -> None:
        """A trained model is now the session's (``unsaved``: it exists nowhere on disk yet)."""
        self.model, self.trained_on = model, trained_on
        self.model_unsaved = unsaved and model is not None
        self.changes_since_autosave = True
        self.events.emit(SessionEvent("model", model))
        self.events.emit(SessionEvent("modified", self.is_modified))
        self._update_stale()

    def mark_model_unsaved(self, unsaved: bool) -> None:
        if unsaved != self.model_unsaved:
            self.model_unsaved = unsaved
            self.events.emit(SessionEvent("modified", self.is_modified))

    # ----------------------------------------------------------------- history

    def start_history(self, resumed: bool) -> None:
        """A run begins: a fresh run starts a new history, a resumed one continues it."""
        if not resumed:
            self.history = []
            self.events.emit(SessionEvent("history", self.history))

    def record_epoch(self, metrics: dict[str, float]) -> None:
        self.history.append(dict(metrics))
        self.events.emit(SessionEvent("history", self.history))

    # ----------------------------------------------------------------- staleness

    @property
    def staleness(self) -> str | None:
        """Why the trained model no longer fits the network or the chosen data, or None when it does."""
        return self._stale

    def _stale_reason(self) -> str | None:
        on = self.trained_on
        if self.model is None or on is None:
            return None
        if on.network and on.network != network_fingerprint(self.network):
            return "the network has changed since the model was trained"
        if on.dataset is not None and on.dataset != self.dataset_name:
            return f"the model was trained on {on.dataset}, not on {self.dataset_name}"
        if on.folders is not None and on.folders[0] != (self.data_dir or None):
            return f"the model was trained on the images in {on.folders[0]}, not on those in {self.data_dir}"
        if on.folders is not None and on.folders != (self.data_dir or None, self.test_dir or None, self.resize):
            return "the model was trained with another test folder or another fitting of the images"
        return None

    def _update_stale(self) -> None:
        reason = self._stale_reason()
        if reason != self._stale:
            self._stale = reason
            self.events.emit(SessionEvent("stale", reason))

    def _on_network_event(self, event: NetworkEvent) -> None:
        self.changes_since_autosave = True
        if event.kind != "moved" and self.model is not None:
            self._update_stale()
