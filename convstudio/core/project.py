"""Project files: a network, its training settings and dataset choice as versioned JSON.

A project is saved atomically (a temporary file in the same folder, then ``os.replace``), with the
trained model beside it as ``<stem>.weights.keras`` when there is one, and the training history of
those weights in the file itself (written after the weights, so the two always match). Loading checks everything
and raises :class:`ProjectError` with a clear message for damaged, foreign or newer files.

The data source is part of the project: the dataset's name and, for an image folder, the folder, an
optional separate test folder and how images are fitted to the input size. A folder is written as an
absolute path and, when it is inside the project's folder or beside it, also relative to the project
file. Loading prefers the relative path for a folder inside the project's folder (a copied project
folder uses its own copy of the data) and the absolute one otherwise, and falls back to the other
when the first is not there.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import atomic_write_text, atomic_write_with
from .data.image_decode import RESIZE_MODES
from .datasets import ALL_DATASET_NAMES
from .history import HistoryError, history_from_json, history_to_json
from .network import Network, NetworkError
from .settings import SettingsError, TrainSettings
from .text import brief, terminal_safe

if TYPE_CHECKING:
    import keras

__all__ = ["DATASET_NAMES", "FORMAT", "MAX_FILE_BYTES", "Project", "ProjectError", "SCHEMA_VERSION", "load_project",
           "load_project_model", "project_to_dict", "save_project"]

FORMAT = "convstudio-project"
SCHEMA_VERSION = 1
DATASET_NAMES = ALL_DATASET_NAMES
WEIGHTS_SUFFIX = ".weights.keras"

MAX_FILE_BYTES = 64 * 2**20
"""Project files larger than this are refused before reading (16,000 blocks take about 4 MB)."""
MAX_JSON_VALUES = 2_000_000
"""Commas plus brackets in the file: bounds the number of values the JSON parser creates."""
MAX_DIGITS = 30
MAX_TITLE = 1_000
MAX_DESCRIPTION = 100_000
MAX_PATH = 4_096
MAX_MESSAGE = 2_000
_RISKY_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


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
    history: list[dict[str, float]] = field(default_factory=list)
    """Per-epoch metrics of the run that made the weights (kept only with weights)."""
    source_path: str | None = None
    """In a crash-safety copy: the project file it is a copy of (Save goes back there after recovery)."""
    test_dir: str | None = None
    """For an image folder: a separate folder of test images (else a share of ``data_dir`` is held out)."""
    resize: str = "stretch"
    """For an image folder: how images of other sizes are fitted (``stretch``, ``crop`` or ``pad``)."""


def _folder_paths(key: str, folder: str | None, base: Path | None) -> dict[str, str | None]:
    """``{key: absolute path}``, plus ``key_relative`` when the folder is inside ``base`` or beside it
    (at most one level up), where a project moved together with its data still finds it."""
    if not folder:
        return {key: None}
    absolute = os.path.abspath(os.path.expanduser(folder))
    entry: dict[str, str | None] = {key: absolute}
    if base is not None:
        try:
            relative = Path(os.path.relpath(absolute, base))
        except ValueError:  # on another drive: there is no relative path
            return entry
        if relative.parts.count("..") <= 1:
            entry[f"{key}_relative"] = relative.as_posix()
    return entry


def _dataset_entry(project: Project, base: Path | None) -> dict[str, Any]:
    """The data source as written: name, folders (absolute and relative to ``base``), image fitting."""
    entry: dict[str, Any] = {"name": project.dataset_name}
    entry.update(_folder_paths("data_dir", project.data_dir, base))
    if project.test_dir:
        entry.update(_folder_paths("test_dir", project.test_dir, base))
    if project.resize != "stretch":
        entry["resize"] = project.resize
    return entry


def project_to_dict(project: Project, weights: str | None = None, folder: Path | None = None) -> dict[str, Any]:
    """The JSON document for ``project`` (``weights`` is the path to record, relative to the file;
    ``folder``, the project file's folder, makes data folders relative to it too)."""
    data: dict[str, Any] = {"format": FORMAT, "schema_version": SCHEMA_VERSION}
    if project.title:
        data["title"] = project.title
    if project.description:
        data["description"] = project.description
    data["network"] = project.network.to_dict()
    data["training"] = project.settings.to_dict()
    data["dataset"] = _dataset_entry(project, folder)
    data["weights"] = weights
    if project.source_path:
        data["source_path"] = project.source_path
    if weights and project.history:
        data["history"] = history_to_json(project.history)
    return data


def save_project(project: Project, path: str | os.PathLike[str], model: keras.Model | None = None) -> Path:
    """Write ``project`` to ``path`` atomically; with ``model``, also its weights beside it.

    Returns the path written. ``project.weights_path`` is updated when weights are written.
    """
    _check_savable(project)
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
        text = json.dumps(project_to_dict(project, weights_rel, target.resolve().parent), indent=2) + "\n"
        atomic_write_text(target, text)
    except OSError as exc:
        raise ProjectError(f"the project cannot be saved to {target}: {exc.strerror or exc}") from None
    project.weights_path = weights_abs if weights_rel is not None else None
    return target


def _check_savable(project: Project) -> None:
    """Refuse to write what loading would refuse, so a saved project always opens again."""
    if project.dataset_name not in DATASET_NAMES:
        raise ProjectError(f"unknown dataset {brief(project.dataset_name)}; use one of {', '.join(DATASET_NAMES)}")
    if project.resize not in RESIZE_MODES:
        raise ProjectError(f"unknown image resize {brief(project.resize)}; use one of {', '.join(RESIZE_MODES)}")
    for what, value, limit in (("title", project.title, MAX_TITLE), ("description", project.description,
                                                                      MAX_DESCRIPTION),
                               ("dataset folder", project.data_dir, MAX_PATH),
                               ("test folder", project.test_dir, MAX_PATH),
                               ("weights path", project.weights_path, MAX_PATH),
                               ("project path", project.source_path, MAX_PATH)):
        why = _bad_text(value, limit) if isinstance(value, str) else None
        if why:
            raise ProjectError(f"the project cannot be saved: its {what} {why}")


def _fail(path: Path, why: str) -> ProjectError:
    return ProjectError(terminal_safe(f"{path} cannot be opened as a ConvStudio project: {why}", MAX_MESSAGE))


class _Refused(Exception):
    """Raised from inside the JSON parser's hooks; carries the reason."""


def _read_capped(source: Path) -> bytes:
    """The file's bytes, refusing folders, devices and files over :data:`MAX_FILE_BYTES` before reading."""
    try:
        info = source.stat()
    except FileNotFoundError:
        raise ProjectError(terminal_safe(f"there is no project file at {source}", MAX_MESSAGE)) from None
    except (OSError, ValueError) as exc:
        raise _fail(source, f"it cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ProjectError(terminal_safe(f"{source} is a folder, not a project file", MAX_MESSAGE))
    if not stat.S_ISREG(info.st_mode):
        raise _fail(source, "it is not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise _fail(source, f"it is {info.st_size / 2**20:,.1f} MB; project files are at most "
                            f"{MAX_FILE_BYTES // 2**20} MB")
    try:
        with source.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ProjectError(terminal_safe(f"{source} cannot be read: {exc.strerror or exc}", MAX_MESSAGE)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise _fail(source, f"it grew past {MAX_FILE_BYTES // 2**20} MB while being read")
    return raw


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _Refused(f"it holds a number {len(text):,} digits long; numbers in a project have at most "
                       f"{MAX_DIGITS} digits")
    return int(text)


def _parse_json(source: Path, raw: bytes) -> tuple[str, Any]:
    """The text in ``raw`` and its JSON document, with a bounded number of values and digits."""
    if not raw.strip():
        raise _fail(source, "the file is empty")
    values = raw.count(b",") + raw.count(b"[") + raw.count(b"{")
    if values > MAX_JSON_VALUES:
        raise _fail(source, f"it holds about {values:,} entries; a project holds at most {MAX_JSON_VALUES:,}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(source, "it is not a text file") from None
    try:
        return text, json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        why = ("the file is truncated or damaged (it ends in the middle of the data)" if cut
               else f"it is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
        raise _fail(source, why) from None
    except _Refused as exc:
        raise _fail(source, str(exc)) from None
    except RecursionError:
        raise _fail(source, "its data is nested far too deeply to be a project") from None


def _bad_text(text: str, limit: int) -> str | None:
    """Why ``text`` cannot be in a project (too long, NUL, lone surrogate), or None."""
    if len(text) > limit:
        return f"is {len(text):,} characters long (at most {limit:,})"
    if "\0" in text:
        return "holds a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate (not valid Unicode)"
    return None


def _check_texts(source: Path, text: str, data: Any) -> None:
    """Refuse a NUL character or a lone surrogate anywhere in the data, each of which breaks paths or printing.

    Both can only come from ``\\u`` escapes (strict JSON refuses raw control characters and the
    bytes were decoded as strict UTF-8), so the walk runs only when the text holds such an escape.
    """
    if not _RISKY_ESCAPE.search(text):
        return
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            why = _bad_text(node, len(node))
            if why:
                raise _fail(source, f"a text in it {why}: {brief(node)}")


def _check_header(source: Path, data: Any) -> None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _fail(source, f"it is not a ConvStudio project file (no \"format\": \"{FORMAT}\" marker)")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _fail(source, f"its schema version {brief(version)} is not valid")
    if version > SCHEMA_VERSION:
        raise _fail(source, f"it was saved by a newer ConvStudio (project schema {version}; this version reads "
                            f"up to {SCHEMA_VERSION}); update ConvStudio to open it")


def _read_network(source: Path, data: dict[str, Any]) -> tuple[Network, TrainSettings]:
    try:
        network = Network.from_dict(data.get("network"))
    except NetworkError as exc:
        raise _fail(source, f"its network is invalid: {exc}") from None
    try:
        settings = TrainSettings.from_dict(data.get("training", {}))
    except SettingsError as exc:
        raise _fail(source, f"its training settings are invalid: {exc}") from None
    return network, settings


def _text_field(source: Path, data: dict[str, Any], key: str, what: str, limit: int, default: Any = "") -> Any:
    """``data[key]``: text of at most ``limit`` characters (or ``default`` when absent or null)."""
    value = data.get(key, default)
    if value is None or value is default:
        return value
    if not isinstance(value, str):
        raise _fail(source, f"its {what} must be text, not {brief(value)}")
    why = _bad_text(value, limit)
    if why:
        raise _fail(source, f"its {what} {why}")
    return value


def _inside(folder: str, path: str) -> bool:
    try:
        return os.path.commonpath([folder, path]) == folder
    except ValueError:  # on another drive
        return False


def _read_folder(source: Path, dataset: dict[str, Any], key: str, what: str) -> str | None:
    """A data folder as an absolute path (one written relative is relative to the project file). The
    relative entry comes first when it stays inside the project's folder, else the absolute one; the
    other is used when the first is not a folder. A folder found nowhere is kept as written, for the
    app to say it is missing."""
    written = _text_field(source, dataset, key, what, MAX_PATH, None)
    relative = _text_field(source, dataset, f"{key}_relative", what, MAX_PATH, None)
    base = os.path.abspath(source.parent)
    absolute = os.path.normpath(os.path.join(base, os.path.expanduser(written))) if written else None
    if not relative:
        return absolute
    beside = os.path.normpath(os.path.join(base, relative))
    for candidate in ([beside, absolute] if _inside(base, beside) else [absolute, beside]):
        if candidate and os.path.isdir(candidate):
            return candidate
    return absolute or beside


def _read_dataset(source: Path, data: dict[str, Any]) -> dict[str, Any]:
    """The data source as :class:`Project` fields: ``dataset_name``, ``data_dir``, ``test_dir``, ``resize``."""
    dataset = data.get("dataset", {"name": "mnist"})
    if not isinstance(dataset, dict):
        raise _fail(source, "its dataset entry must be a mapping with a name")
    name = dataset.get("name", "mnist")
    if name not in DATASET_NAMES:
        raise _fail(source, f"its dataset {brief(name)} is unknown; use one of {', '.join(DATASET_NAMES)}")
    resize = dataset.get("resize", "stretch")
    if resize not in RESIZE_MODES:
        raise _fail(source, f"its image resize {brief(resize)} is unknown; use one of {', '.join(RESIZE_MODES)}")
    return {"dataset_name": name, "data_dir": _read_folder(source, dataset, "data_dir", "dataset folder"),
            "test_dir": _read_folder(source, dataset, "test_dir", "test folder"), "resize": resize}


def _read_weights(source: Path, data: dict[str, Any]) -> str | None:
    weights = _text_field(source, data, "weights", "weights entry", MAX_PATH, None)
    if not weights:
        return None
    try:
        return str((source.resolve().parent / weights).resolve())
    except (OSError, ValueError, RuntimeError) as exc:
        raise _fail(source, f"its weights path {brief(weights)} cannot be used: {exc}") from None


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read and check a project file; raises :class:`ProjectError` with the reason if it cannot.

    Every input ends in a :class:`Project` or a one-line :class:`ProjectError`: the file's size,
    the JSON's entry count and number length, and every text field are capped before use.
    """
    source = Path(path)
    text, data = _parse_json(source, _read_capped(source))
    _check_header(source, data)
    _check_texts(source, text, data)
    network, settings = _read_network(source, data)
    data_source = _read_dataset(source, data)
    weights_path = _read_weights(source, data)
    title = _text_field(source, data, "title", "title", MAX_TITLE)
    description = _text_field(source, data, "description", "description", MAX_DESCRIPTION)
    try:
        history = history_from_json(data.get("history")) if weights_path else []
    except HistoryError as exc:
        raise _fail(source, str(exc)) from None
    source_path = _text_field(source, data, "source_path", "project path", MAX_PATH, None)
    return Project(network, settings, weights_path=weights_path, title=title, description=description,
                   history=history, source_path=source_path, **data_source)


def load_project_model(project: Project) -> keras.Model | None:
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
