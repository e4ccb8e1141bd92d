"""The training panel's health views, kept in step with the controller and with what is on screen.

:class:`HealthViews` owns the warning list, the gradient-flow view and the "Find learning rate..."
button (the training panel places them). It listens to the controller's ``healthWarning`` and
``healthProbed``; a new run clears both views. What they show belongs to one run of one network on
one dataset (and image folder): through the shared :class:`~convstudio.ui.result_guard.ResultGuard`,
once the network is edited or other data is chosen they show a stale note instead, and show the run
again when the edit is undone. The range test's result also belongs to the optimizer and batch size.
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QPushButton, QWidget

from convstudio.core.health import HealthProbe, HealthWarning
from convstudio.core.network import Network
from convstudio.core.provenance import ResultKey, stale_reason
from convstudio.core.session import network_fingerprint
from convstudio.core.settings import SettingsError, TrainSettings

from ..result_guard import ResultGuard, stale_note
from .gradient_flow import GradientFlowView
from .lr_finder import LearningRateDialog, RangeRequest
from .warning_list import WarningList

__all__ = ["IDLE_TEXT", "HealthViews", "TrainingForm", "network_key"]

IDLE_TEXT = "Warnings about a run appear here while it trains, each with what to try."
_NO_FLOW = "The gradient flow appears after the first epoch of a run."


class TrainingForm(Protocol):
    """What the health views read from the training panel."""

    def settings(self) -> TrainSettings: ...

    def dataset_name(self) -> str: ...

    def load_options(self) -> dict[str, Any]: ...

    def describe_settings(self) -> str: ...


def network_key(network: Network | None) -> str:
    """The ``model`` part of a result key for what a network would train: its structure, hashed."""
    return f"network-{network_fingerprint(network)}" if network is not None else ""


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


class HealthViews(QObject):
    """Warnings and gradient flow of the controller's current run, and the learning-rate range test.

    ``rateChosen(float)``: the user took the range test's suggestion.
    """

    rateChosen = Signal(float)

    def __init__(self, controller: Any, form: TrainingForm, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.form = form
        self.guard = ResultGuard(self._current_key)
        self.range_guard = ResultGuard(self._range_key)
        self.warning_list = WarningList()
        self.flow = GradientFlowView()
        self.find_lr_button = QPushButton("Find learning rate\u2026")
        self.find_lr_button.setToolTip("Try rates from tiny to large on a few batches and suggest one")
        self.find_lr_button.clicked.connect(self.find_learning_rate)
        self.dialog: LearningRateDialog | None = None
        self.run_key: ResultKey | None = None  # what the shown run was trained on
        self.warnings: list[HealthWarning] = []
        self.probe: HealthProbe | None = None
        self._order: list[str] | None = None
        self._epochs = 0
        self._running = False
        controller.runningChanged.connect(self._on_running)
        controller.healthWarning.connect(self._on_warning)
        controller.healthProbed.connect(self._on_probe)
        controller.epochEnded.connect(self._on_epoch)
        controller.document.analysisChanged.connect(self.refresh)
        self.refresh()

    # ----------------------------------------------------------------- keys

    def _current_key(self) -> ResultKey:
        """The network in the editor and the chosen data (an image folder's with its folders and fitting)."""
        return ResultKey(network_key(self.controller.document.network), self.form.dataset_name(), None,
                         self._data_detail())

    def _range_key(self) -> ResultKey:
        """What a range test depends on: the network, the data, the optimizer and the batch size."""
        key = self._current_key()
        return key.with_detail("; ".join(filter(None, (key.detail, self.form.describe_settings()))))

    def _data_detail(self) -> str:
        """An image folder in words (its folder, test folder and fitting); "" for the app's datasets."""
        if self.form.dataset_name() != "image_folder":
            return ""
        options = self.form.load_options()
        parts = [f"the image folder {options.get('data_dir') or '(none)'}"]
        if options.get("test_dir"):
            parts.append(f"test folder {options['test_dir']}")
        if options.get("resize"):
            parts.append(f"fitting {options['resize']}")
        return ", ".join(parts)

    # ----------------------------------------------------------------- the run

    def clear(self) -> None:
        """Forget the shown run (a reopened project, a new document)."""
        self.run_key, self.warnings, self.probe, self._epochs = None, [], None, 0
        self.refresh()

    def _on_running(self, running: bool) -> None:
        self._running = running
        if running:  # a new run: its own warnings and probes from now on
            controller = self.controller
            network, request = controller.network_snapshot, controller.last_request
            dataset = request.dataset if request is not None else None
            self.run_key = ResultKey(network_key(network), dataset, None, self._data_detail())
            self._order = network.topological_order()[0] if network is not None else None
            self.warnings, self.probe, self._epochs = [], None, 0
        self.refresh()

    def _on_warning(self, warning: HealthWarning) -> None:
        self.warnings.append(warning)
        self.refresh()

    def _on_probe(self, probe: HealthProbe) -> None:
        self.probe = probe
        self.refresh()

    def _on_epoch(self, event: Any) -> None:
        self._epochs += 1
        if not self.warnings:
            self.refresh()

    def stale(self) -> str | None:
        """Why the shown run no longer belongs to what is on screen (None when it does, or none is shown)."""
        if self.run_key is None:
            return None
        current = self.guard.key(per_sample=True)
        return stale_reason(self.run_key, current if self.run_key.detail else current.with_detail(""))

    def refresh(self, *_args: Any) -> None:
        """Show the run's warnings and gradient flow, or say why not."""
        reason = self.stale()
        if self.run_key is None or reason:
            self.warning_list.clear()
            self.warning_list.set_state(IDLE_TEXT if reason is None else
                                        f"{stale_note(reason)} The last run's warnings are hidden: train again to check this one.")
            self.flow.show_note(_NO_FLOW if reason is None else stale_note(reason))
            return
        shown = self.warning_list.warnings[::-1]  # oldest first, as they came
        if shown != self.warnings:
            if shown != self.warnings[:len(shown)]:
                self.warning_list.clear()
                shown = []
            for warning in self.warnings[len(shown):]:
                self.warning_list.add(warning)
        self.warning_list.set_state(self._state_text(), healthy=not self.warnings)
        if self.probe is None:
            self.flow.show_note(_NO_FLOW)
        else:
            self.flow.show_probe(self.probe, self._order)

    def _state_text(self) -> str:
        if self.warnings:
            run = "this run" if self._running else "the last run"
            return f"{_plural(len(self.warnings), 'warning')} in {run}, newest first:"
        if self._running:
            done = f" after {_plural(self._epochs, 'epoch')}" if self._epochs else ""
            return f"Healthy so far: no warnings{done}."
        return "Healthy: no warnings in the last run."

    # ----------------------------------------------------------------- learning-rate range test

    def set_enabled(self, enabled: bool, why_not: str = "") -> None:
        """Enable "Find learning rate..." (not while training, not before TensorFlow has loaded)."""
        self.find_lr_button.setEnabled(enabled)
        self.find_lr_button.setToolTip("Try rates from tiny to large on a few batches and suggest one"
                                       if enabled else why_not)

    def find_learning_rate(self) -> LearningRateDialog | None:
        """Open the range-test dialog and start the test with the panel's settings (None while training)."""
        if self.controller.is_running:
            return None
        if self.dialog is not None:
            self.dialog.deleteLater()
        parent = self.parent() if isinstance(self.parent(), QWidget) else None
        form = self.form
        try:
            settings = form.settings()
        except SettingsError as exc:
            settings, problem = TrainSettings(), str(exc)
        else:
            problem = ""
        request = RangeRequest(self.controller.document.network.copy(), form.dataset_name(), form.load_options(),
                               settings, form.describe_settings())
        self.dialog = LearningRateDialog(request, settings.learning_rate, self.range_guard, self._range_key(), parent)
        self.dialog.rateChosen.connect(self.rateChosen)
        self.dialog.open()
        if problem:
            self.dialog.show_error(problem)
        else:
            self.dialog.start()
        return self.dialog
