"""What the Runs view does to the open project: reopen a run, continue training from it, delete runs.

- Reopen: the run's network replaces the editor's as one undoable step (Edit > Undo brings the previous
  one back), and the training panel takes the run's dataset and settings.
- Continue training: reopen, load the run's final or best model off the GUI thread, make it the project's
  trained model with the run's history, and Train more from it (the panel's "more epochs").
- Delete: after a question, only folders the app wrote as runs (the core refuses anything else).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox

from convstudio.core.network import Network, NetworkError
from convstudio.core.runs import RunError, RunRecord, RunSummary, delete_run
from convstudio.core.session import TrainedOn, model_input_shape, network_fingerprint
from convstudio.core.settings import SettingsError

from .. import dialogs
from ..worker import run_worker
from .table import run_label

__all__ = ["continue_training", "delete_runs", "reopen_run", "run_epochs"]


def run_epochs(run: RunRecord, which: str = "final") -> list[dict[str, float]]:
    """The run's per-epoch metrics (the history a continued model carries); for ``best``, up to the best epoch."""
    epochs = [{k: v for k, v in e.items() if k not in ("epoch", "seconds")}
              for e in run.metrics.get("epochs") or [] if isinstance(e, dict)]
    best = run.record.get("best_epoch")
    if which == "best" and isinstance(best, int) and best > 0:
        first = run.record.get("initial_epoch") or 0
        epochs = epochs[:max(0, best - int(first))]
    return epochs


def _refused_while_training(w: Any, what: str) -> bool:
    if w.controller.is_running:
        dialogs.show_error(w, what, "Training is running: stop it first.")
        return True
    return False


def reopen_run(w: Any, run: RunRecord) -> bool:
    """Put the run's network (one undoable step), dataset and settings into window ``w``; False if refused."""
    label = run_label(run.summary)
    if _refused_while_training(w, "Reopen the run"):
        return False
    try:
        network, settings = run.network, run.settings
    except (NetworkError, SettingsError, KeyError, TypeError, ValueError) as exc:
        dialogs.show_error(w, "Cannot reopen the run", f"The record of run {label} cannot be used: {exc}")
        return False
    if network.to_dict() != w.document.network.to_dict():
        reason = w.document.replace_network(network, f"Reopen run {label}")
        if reason:
            dialogs.show_error(w, "Cannot reopen the run", reason)
            return False
    project = run.record.get("project") or {}
    data = project.get("dataset") if isinstance(project.get("dataset"), dict) else {}
    dataset = data.get("name") or run.summary.dataset
    if dataset == "image_folder" and isinstance(data.get("data_dir"), str):  # the very folder it trained on
        resize = data.get("resize") if isinstance(data.get("resize"), str) else "stretch"
        test_dir = data.get("test_dir") if isinstance(data.get("test_dir"), str) else None
        w.training_panel.use_data_source(dataset, data["data_dir"], test_dir, resize)
    elif dataset:
        w.training_panel.set_dataset_name(dataset)
    w.training_panel.set_settings(settings)
    w.canvas.fit_to_view()
    w.show_message(f"The network, data and settings of run {label} are in the editor (Edit > Undo takes the "
                   "network back)", 8000)
    return True


def continue_training(w: Any, run: RunRecord, which: str = "final") -> bool:
    """Reopen ``run`` and train more from its ``final`` or ``best`` model; True once its model is loading."""
    label = run_label(run.summary)
    if _refused_while_training(w, "Continue training"):
        return False
    if not w.tensorflow_ready:
        dialogs.show_error(w, "Continue training", "TensorFlow is still loading; try again in a moment.")
        return False
    path = run.model_path(which)
    if path is None:
        other = "best" if which == "final" else "final"
        hint = f" Continue from its {other} model instead." if run.model_path(other) else ""
        dialogs.show_error(w, "Continue training", f"Run {label} kept no {which} model.{hint}")
        return False
    if not _may_replace_model(w, label):
        return False
    if not reopen_run(w, run):
        return False
    fingerprint = network_fingerprint(w.document.network)
    w.show_message(f"Loading the {which} model of run {label}...", 0)

    def load(_state: Any) -> Any:
        from convstudio.core.project import Project, load_project_model

        return load_project_model(Project(Network(), weights_path=str(path)))

    def failed(error: str) -> None:
        dialogs.show_error(w, "Continue training", f"The {which} model of run {label} cannot be loaded: {error}")

    def loaded(model: Any) -> None:
        if w.controller.is_running or network_fingerprint(w.document.network) != fingerprint:
            w.show_message(f"Run {label} was not continued: the network or the training changed meanwhile", 8000)
            return
        _adopt(w, run, model, which)
        if w.training_panel.train_more():
            w.show_message(f"Training more from the {which} model of run {label}", 8000)

    run_worker(w, "run-model", load, loaded, failed)
    return True


def _may_replace_model(w: Any, label: str) -> bool:
    """Ask before replacing a trained model that exists nowhere else (an imported one not saved with the
    project); a model trained here is kept in its own run folder."""
    session = w.session
    on = session.trained_on
    if session.model is None or not session.model_unsaved or (on is not None and on.source != "imported"):
        return True
    B = QMessageBox.StandardButton
    answer = dialogs.ask(w, "Continue training", f"The imported model in the window is not saved with the project "
                         f"and will be replaced by the model of run {label}. Continue?", B.Yes | B.Cancel, B.Cancel,
                         {B.Yes: "Replace it"})
    return answer == B.Yes


def _adopt(w: Any, run: RunRecord, model: Any, which: str) -> None:
    """The run's model becomes the project's trained model, with the run's history (Train more continues it)."""
    session = w.session
    session.start_history(resumed=False)
    for epoch in run_epochs(run, which):
        session.record_epoch(epoch)
    data = run.record.get("dataset") or {}
    trained_on = TrainedOn.describe(run.summary.dataset or session.dataset_name, w.document.network,
                                    source=str(data.get("source", "")), is_sample=bool(data.get("is_sample")),
                                    input_shape=model_input_shape(model), folders=session.data_source[1:])
    session.set_model(model, trained_on, unsaved=True)  # the session binding hands it to the controller


def delete_runs(w: Any, rows: list[Any], parent: Any = None) -> list[Path]:
    """Ask, then delete the run folders of ``rows``; returns the folders deleted (errors are reported)."""
    if not rows:
        return []
    names = ", ".join(run_label(r) for r in rows[:4]) + (f" and {len(rows) - 4} more" if len(rows) > 4 else "")
    what = f"run {names}" if len(rows) == 1 else f"{len(rows)} runs ({names})"
    B = QMessageBox.StandardButton
    answer = dialogs.ask(parent or w, "Delete runs",
                         f"Delete {what}? Their folders, models and TensorBoard files are removed for good.",
                         B.Yes | B.Cancel, B.Cancel, {B.Yes: "Delete"})
    if answer != B.Yes:
        return []
    deleted, problems = [], []
    for row in rows:
        if not isinstance(row, RunSummary):
            problems.append(f"{row.id} is damaged ({row.reason}); delete its folder by hand: {row.folder}")
            continue
        try:
            delete_run(row.folder)
        except (RunError, OSError) as exc:
            problems.append(str(exc))
        else:
            deleted.append(row.folder)
    if problems:
        dialogs.show_error(parent or w, "Some runs were not deleted", "\n".join(problems))
    if deleted:
        w.show_message(f"Deleted {len(deleted)} run{'s' if len(deleted) != 1 else ''}", 5000)
    return deleted
