"""The Sweep dialog: choose what to vary, run the trials in the background, compare them, use the best.

The sweep runs in a :class:`~convstudio.ui.worker.Worker` (the core's :func:`run_sweep`, one recorded run
per trial), with a progress bar and Cancel (the running trial stops after its batch). The results table
and plot fill in as trials end. "Open best in editor" puts the best trial's block values into the
network (one undoable edit) and its learning rate and batch size into the training panel; a
double-clicked line does the same for its trial. Results belong to the network and dataset they were
computed for (:class:`~convstudio.ui.result_guard.ResultGuard`): once either changes in anything but the
swept values, the dialog says so and no longer applies them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from convstudio.core.estimate import format_rough_duration
from convstudio.core.provenance import ResultKey
from convstudio.core.sweeps import (
    SETTING_TARGETS,
    SweepError,
    SweepResult,
    SweepSpec,
    TrialEnded,
    TrialProgress,
    TrialRow,
    TrialStarted,
    base_fingerprint,
    best_row,
    format_value,
    validate_spec,
)
from convstudio.core.sweeps.cost import sweep_seconds
from convstudio.core.training_events import BatchEnd, EpochEnd

from ..result_guard import ResultGuard, stale_note
from ..worker import TaskState, Worker
from .axes import AxesForm
from .results import TrialPlot, TrialTable

__all__ = ["SweepDialog"]


def _describe(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} {format_value(v)}" for k, v in values.items())


class SweepDialog(QDialog):
    """Sweeps of the network in ``document`` with the data and settings of the training ``panel``; runs are
    recorded where the training ``controller`` records them."""

    def __init__(self, document: Any, panel: Any, controller: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sweep")
        self.document, self.panel, self.controller = document, panel, controller
        self.worker: Worker[SweepResult] | None = None
        self.rows: list[TrialRow] = []
        self.spec: SweepSpec | None = None  # of the results shown
        self.score_name = "val accuracy"
        self._key: ResultKey | None = None
        self._trial = "Trial"
        self.guard = ResultGuard(self._current_key)
        try:
            epochs = self._panel_settings().epochs
        except SweepError:
            epochs = 1
        self.form = AxesForm(document.network, epochs, self)
        self.start_button = QPushButton("Start sweep")
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.status = QLabel("Each trial trains the network with one combination of the values.")
        self.status.setWordWrap(True)
        self.table = TrialTable(self)
        self.plot = TrialPlot(self)
        self.best_button = QPushButton("Open best in editor")
        self.best_button.setToolTip("Put the best trial's values into the network (one undo step) and its "
                                    "learning rate and batch size into the training panel")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self._build()
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.best_button.clicked.connect(self.open_best)
        self.table.doubleClicked.connect(lambda index: self.use_trial(self.table.row_at(index.row())))
        self.form.changed.connect(self._update_count)
        document.analysisChanged.connect(self._on_inputs_changed)  # bound: dropped with the dialog
        panel.dataset_combo.currentIndexChanged.connect(self._on_inputs_changed)
        panel.folderEdited.connect(self._on_inputs_changed)
        panel.dataChanged.connect(self._on_inputs_changed)
        self._update_count()
        self._update_state()
        self.resize(860, 720)

    def _build(self) -> None:
        buttons = QHBoxLayout()
        for widget in (self.start_button, self.cancel_button):
            buttons.addWidget(widget)
        buttons.addWidget(self.progress, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.plot)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        bottom = QHBoxLayout()
        bottom.addWidget(self.note, 1)
        bottom.addWidget(self.best_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)

    # ----------------------------------------------------------------- what is on screen

    def _panel_settings(self) -> Any:
        """The training panel's settings; raises SweepError when the panel holds a value it cannot use."""
        try:
            return self.panel.settings()
        except ValueError as exc:
            raise SweepError(f"the training panel's settings: {exc}") from None

    def _current_key(self) -> ResultKey:
        """The network (but for the swept values) and the data (with an image folder's options) on screen."""
        network = base_fingerprint(self.document.network, self.spec) if self.spec is not None else ""
        options = sorted((k, str(v)) for k, v in self.panel.load_options().items())
        return ResultKey(dataset=self.panel.dataset_name(), detail=f"{network} {options}")

    @property
    def is_running(self) -> bool:
        return self.worker is not None

    def _checked_spec(self) -> SweepSpec:
        """The form's sweep, checked against the network and the dataset's images (raises SweepError)."""
        from convstudio.core.datasets import dataset_geometry

        geometry = dataset_geometry(self.panel.dataset_name())
        shape, classes = geometry if geometry is not None else (None, self.document.num_classes)
        return validate_spec(self.form.spec(), self.document.network, self._panel_settings(), shape, classes)

    def _update_count(self) -> None:
        if self.is_running:
            return
        try:
            spec = self._checked_spec()
        except SweepError as exc:
            self.form.count_label.setText(str(exc))
            self.start_button.setEnabled(False)
            return
        self.form.count_label.setText(f"{spec.grid_size} combination(s); {spec.planned_trials} trial(s) of "
                                      f"{self.form.epochs_spin.value()} epoch(s), each recorded as a run."
                                      + self._duration_text(spec))
        self.start_button.setEnabled(True)

    def _duration_text(self, spec: SweepSpec) -> str:
        """`` About 12 min in all on this device.`` from the training panel's estimate ("" before it is measured)."""
        line = getattr(self.panel, "estimate", None)
        inputs = line.inputs if line is not None else None
        if line is None or line.calibration is None or inputs is None or not inputs[2]:
            return ""
        network, analysis, images, settings = inputs
        try:
            seconds = sweep_seconds(spec, network, settings, int(images or 0), self.form.epochs_spin.value(),
                                    line.calibration, analysis.input_shape, analysis.num_classes)
        except SweepError:
            return ""
        return f" About {format_rough_duration(seconds)} in all on this device." if seconds else ""

    def _on_inputs_changed(self, *_args: Any) -> None:
        self._update_state()

    def _update_state(self) -> None:
        running = self.is_running
        self.form.set_enabled(not running)
        self.cancel_button.setEnabled(running)
        stale = self._key is not None and not self.guard.fits(self._key)
        self.note.setText(stale_note("the network or the dataset has changed since this sweep; run it again.")
                          if stale else "")
        self.best_button.setEnabled(not running and not stale and best_row(self.rows) is not None)
        if not running:
            self._update_count()
        else:
            self.start_button.setEnabled(False)

    # ----------------------------------------------------------------- running

    def start(self) -> bool:
        """Start the sweep the form describes; False (with the reason shown) when it cannot start."""
        if self.is_running:
            return False
        if self.controller.is_running:
            self.status.setText("Training is running; start the sweep when it has finished.")
            return False
        try:
            spec = self._checked_spec()
            settings = self._panel_settings().replace(epochs=self.form.epochs_spin.value())
        except SweepError as exc:
            self.status.setText(str(exc))
            return False
        network, dataset, options = self.document.network.copy(), self.panel.dataset_name(), self.panel.load_options()
        runs_root, title = self.controller.runs_dir(), self.controller.project_title or "Untitled"
        self.spec, self.rows = spec, []
        self._key = self.guard.key(per_sample=True)
        self.score_name = "val accuracy" if settings.validation_split > 0 else "training accuracy"
        self._show_rows()
        self.progress.setRange(0, spec.planned_trials)
        self.progress.setValue(0)
        self.status.setText("Loading the data...")

        def work(state: TaskState) -> SweepResult:
            from convstudio.core.datasets import load_dataset
            from convstudio.core.sweeps import SweepJob, run_sweep

            data = load_dataset(dataset, allow_download=False, **options)
            job = SweepJob(spec, network, settings, data, runs_root, title=title, origin="gui")
            return run_sweep(job, state, distributed=False)

        self.worker = Worker(work, self, name="sweep")
        self.worker.progress.connect(self._on_progress)
        self.worker.done.connect(self._on_done)
        self.worker.error.connect(self._on_error)
        self.worker.cancelled.connect(self._on_cancelled)
        self.worker.finished.connect(self._on_finished)
        self.worker.start()
        self._update_state()
        return True

    def cancel(self) -> None:
        """Stop after the running trial's current batch; the trials that ended stay."""
        if self.worker is not None:
            self.worker.cancel()
            self.status.setText("Cancelling after the current batch...")

    def _on_progress(self, item: Any) -> None:
        if isinstance(item, TrialStarted):
            self._trial = f"Trial {item.number} of {item.total}: {_describe(dict(item.values))}"
            self.status.setText(self._trial)
        elif isinstance(item, TrialProgress) and isinstance(item.event, BatchEnd | EpochEnd):
            event = item.event
            where = (f"epoch {event.epoch + 1}, batch {event.step}/{event.steps}" if isinstance(event, BatchEnd)
                     else f"epoch {event.epoch + 1} of {event.epochs} done")
            self.status.setText(f"{self._trial} - {where}")
        elif isinstance(item, TrialEnded):
            self.rows.append(item.row)
            self.progress.setValue(min(item.done, self.progress.maximum()))
            self._show_rows()

    def _show_rows(self) -> None:
        targets = self.spec.targets if self.spec is not None else ()
        self.table.set_rows(self.rows, targets, self.score_name.capitalize().replace("accuracy", "acc"))
        self.plot.set_rows(self.rows, self.score_name)

    def _on_done(self, result: SweepResult) -> None:
        self.rows = list(result.rows)
        self._show_rows()
        best = result.best
        said = f"best: trial {best.number} ({_describe(best.value_map)})" if best is not None else "no trial learned"
        self.status.setText(f"Sweep {result.name}: {len(result.rows)} trial(s), {said}. Each trial is a run in "
                            "the project's run history.")

    def _on_error(self, message: str) -> None:
        self.status.setText(f"The sweep stopped: {message}")

    def _on_cancelled(self) -> None:
        self.status.setText(f"Cancelled after {len(self.rows)} trial(s); they are in the run history.")

    def _on_finished(self) -> None:
        self.worker.deleteLater()
        self.worker = None
        self._update_state()

    def wait(self, timeout: float) -> bool:
        """Wait for the running sweep, keeping the window responsive (tests and closing)."""
        return self.worker is None or self.worker.wait_responsive(timeout)

    # ----------------------------------------------------------------- using a trial

    def open_best(self) -> str | None:
        """Apply the best trial; the refusal reason, or None."""
        best = best_row(self.rows)
        return self.use_trial(best) if best is not None else "no trial has a result yet"

    def use_trial(self, row: TrialRow) -> str | None:
        """The trial's block values into the network (one undo step), its settings into the training panel."""
        if self._key is None or not self.guard.fits(self._key):
            reason = "the network or the dataset has changed since this sweep; run it again"
            self.status.setText(f"Not applied: {reason}.")
            return reason
        values = row.value_map
        blocks = {k: v for k, v in values.items() if k not in SETTING_TARGETS}
        if blocks:
            def action(net: Any) -> None:
                for target, value in blocks.items():
                    block_id, _, name = target.partition(".")
                    net.set_param(block_id, name, value)

            reason = self.document.apply_edit(f"Use sweep trial {row.number}", action)
            if reason:
                self.status.setText(f"Not applied: {reason}")
                return reason
        changes = {k: v for k, v in values.items() if k in SETTING_TARGETS}
        if changes:
            try:
                self.panel.set_settings(self._panel_settings().replace(**changes))
            except SweepError as exc:
                self.status.setText(f"The network has the trial's values; {exc}")
                return str(exc)
        self.status.setText(f"Trial {row.number} is in the editor: {_describe(values)}.")
        return None

    def done(self, result: int) -> None:  # noqa: D401 - Qt's name
        """Closing cancels a running sweep (its finished trials stay in the run history)."""
        if self.worker is not None:
            self.cancel()
            self.wait(10.0)
        super().done(result)
