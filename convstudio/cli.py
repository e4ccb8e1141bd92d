"""ConvStudio's command line: train, inspect and export projects without a display.

``convstudio-cli train PROJECT`` trains in the main thread and prints a plain-text progress bar
(redrawn in place on a terminal, one line per quarter epoch otherwise) and records the run in
``<project>.runs`` (``runs list/show/compare/delete`` read the records); ``info`` prints the model
summary, validation messages and the data that training would use; ``export`` writes a trained
model; ``import`` turns a ``.keras`` model into a project; ``presets`` lists the bundled networks;
``sweep`` (:mod:`convstudio.cli_sweep`) tries several settings, one recorded run per trial.
Errors are one clear message and a non-zero exit code, never a traceback; TensorFlow's own log
lines stay hidden unless ``--verbose`` is given, and output cut short by a closed pipe
(``| head``) ends quietly.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

__all__ = ["EXIT_DATA", "EXIT_ERROR", "EXIT_INVALID", "EXIT_OK", "main"]

EXIT_OK = 0
EXIT_INVALID = 1  # the network has errors, or training diverged or failed
EXIT_ERROR = 2  # bad arguments, missing or unreadable files
EXIT_DATA = 3  # the dataset could not be found
EXIT_PIPE = 141  # stdout was closed early (128 + SIGPIPE, as other command-line tools report it)

_TF_COMMANDS = ("train", "export", "import", "sweep")
"""Commands that load TensorFlow (imported up front, with its start-up log lines filtered)."""


class CliError(Exception):
    """A failure to report as one message with an exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- helpers


def _load_project(arg: str) -> tuple[Any, Path]:
    """The session on a project file, or on a bundled preset by id (``lenet5``), and its path.

    A :class:`~convstudio.core.session.Session` is the same model the window edits; it carries the
    project's network, settings, dataset choice, title and weights under the project's names.
    """
    from convstudio.core.presets import preset_path
    from convstudio.core.project import ProjectError
    from convstudio.core.session import Session

    path = Path(arg)
    if not path.exists() and os.sep not in arg and not arg.endswith(".json"):
        try:
            path = preset_path(arg)
        except ProjectError:
            raise CliError(f"there is no project file {arg} and no preset called {arg!r}") from None
    try:
        return Session.open(path), path
    except ProjectError as exc:
        raise CliError(str(exc)) from None


def _default_run_dir(project_path: Path) -> Path:
    """``<stem>.run`` beside the project; for a bundled preset, in the current folder instead."""
    from convstudio.core.resources import resource_path

    try:
        bundled = project_path.resolve().parent == resource_path("presets").resolve()
    except OSError:
        bundled = False
    folder = Path.cwd() if bundled else project_path.resolve().parent
    return folder / f"{project_path.stem}.run"


def _analysis(project: Any, dataset_shape: tuple[int, int, int] | None = None, num_classes: int = 10) -> Any:
    """The project's network analysed for its Input block's images (checked against a dataset's, if given)."""
    from convstudio.core.shapes import analyze

    return analyze(project.network, None, num_classes, dataset_shape)


def _print_issues(analysis: Any, out: TextIO) -> None:
    for issue in analysis.issues:
        where = issue.block_id or "network"
        fix = f" (fix: {issue.fix.label})" if issue.fix else ""
        print(f"{issue.severity}: {where}: {issue.message}{fix}", file=out)


def _summary_text(network: Any, analysis: Any, title: str) -> str:
    try:
        from convstudio.core.summary import format_summary
    except ImportError:
        return _simple_summary(network, analysis)
    return format_summary(network, analysis, title=title)


def _simple_summary(network: Any, analysis: Any) -> str:
    from convstudio.core.shapes import format_shape

    rows = [("block", "kind", "output", "params")]
    for bid in analysis.order:
        info = analysis.info.get(bid)
        rows.append((bid, network.blocks[bid].kind, format_shape(info.shape if info else None),
                     f"{info.params:,}" if info else "?"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append(f"total parameters: {analysis.total_params:,} (trainable {analysis.trainable_params:,}); "
                 f"{analysis.total_macs:,} multiply-adds per image")
    return "\n".join(lines)


def _write_json(path: Path, data: Any) -> None:
    from convstudio.core.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=1) + "\n")


# --------------------------------------------------------------------------- progress


class _Progress:
    """Prints training events: a bar redrawn in place on a terminal, plain lines elsewhere."""

    def __init__(self, out: TextIO, tty: bool | None = None) -> None:
        self.out = out
        self.tty = out.isatty() if tty is None else tty
        self.width = 24
        self.open_line = False
        self.next_mark = 0.25
        self.epochs = 0
        self.epoch_seconds: list[float] = []

    def _line(self, text: str) -> None:
        if self.open_line:
            self.out.write("\r\033[K" if self.tty else "\n")
            self.open_line = False
        self.out.write(text + "\n")
        self.out.flush()

    def handle(self, event: Any) -> None:
        from convstudio.core.health import HealthWarning
        from convstudio.core.training_events import BatchEnd, EpochEnd, TrainFinished, TrainStarted, TrainWarning

        if isinstance(event, TrainStarted):
            self.epochs = event.epochs
            more = f", continuing after epoch {event.initial_epoch}" if event.initial_epoch else ""
            self._line(f"Training on {event.device}: {event.train_samples:,} training and "
                       f"{event.val_samples:,} validation images, {event.steps_per_epoch} batches per epoch{more}")
        elif isinstance(event, BatchEnd):
            fraction = event.step / max(1, event.steps)
            if not self.tty and fraction < self.next_mark:
                return
            filled = int(round(fraction * self.width))
            bar = "#" * filled + "." * (self.width - filled)
            text = (f"epoch {event.epoch + 1}/{self.epochs} [{bar}] {event.step}/{event.steps} "
                    f"loss {event.loss:.4f} acc {event.accuracy:.2%} {event.samples_per_second:,.0f} img/s")
            if self.tty:
                self.out.write("\r\033[K" + text)
                self.out.flush()
                self.open_line = True
            else:
                self._line(text)
                while self.next_mark <= fraction:
                    self.next_mark += 0.25
        elif isinstance(event, EpochEnd):
            self.next_mark = 0.25
            self.epoch_seconds.append(event.seconds)
            m = event.metrics
            parts = [f"loss {m.get('loss', float('nan')):.4f}", f"acc {m.get('accuracy', float('nan')):.2%}"]
            if "val_loss" in m:
                parts += [f"val_loss {m['val_loss']:.4f}", f"val_acc {m.get('val_accuracy', float('nan')):.2%}"]
            self._line(f"epoch {event.epoch + 1}/{event.epochs} done in {event.seconds:.1f} s: " + ", ".join(parts))
        elif isinstance(event, TrainWarning):
            self._line(f"warning: {event.message}")
        elif isinstance(event, HealthWarning):
            self._line(f"health: {event.text}")
        elif isinstance(event, TrainFinished):
            self._line(event.message)


def _printing_channel(progress: _Progress) -> Any:
    from convstudio.core.training_events import EventChannel, ProbeUpdate

    class PrintingChannel(EventChannel):
        """Prints each event as it is published (the command line trains in the main thread)."""

        def put(self, event: Any) -> None:
            if not isinstance(event, ProbeUpdate):
                progress.handle(event)

    return PrintingChannel()


# --------------------------------------------------------------------------- commands


def cmd_presets(args: argparse.Namespace) -> int:
    from convstudio.core.presets import list_presets, preset_path

    for preset_id, title, description in list_presets():
        print(f"{preset_id:<16} {title}")
        print(f"{'':<16} {description}")
        print(f"{'':<16} {preset_path(preset_id)}")
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    from convstudio.core.text import terminal_safe

    project, path = _load_project(args.project)
    name, options = _data_source(args, project)
    dataset, dataset_lines = _data_report(name, options)
    # the classes of the data in use; its image shape only when asked for (a network may be designed for any)
    analysis = _analysis(project, dataset.input_shape if dataset and args.dataset else None,
                         dataset.num_classes if dataset else 10)
    print(terminal_safe(f"{project.title or path.stem} ({path})"))
    print(_summary_text(project.network, analysis, terminal_safe(path.stem)))
    s = project.settings
    print(f"dataset: {name}; training: {s.optimizer} lr {s.learning_rate:g}, batch {s.batch_size}, "
          f"{s.epochs} epochs, validation {s.validation_split:.0%}, seed {s.seed}")
    if project.weights_path:
        print(terminal_safe(f"trained weights: {project.weights_path}"))
    _print_data_lines(dataset_lines)
    _print_issues(analysis, sys.stdout)
    if not analysis.ok:
        print(f"The network has {len(analysis.errors)} error(s) and cannot be trained yet.", file=sys.stderr)
        return EXIT_INVALID
    print("The network is valid.")
    if args.estimate or args.measure_again:
        from .cli_estimate import estimate_lines

        for line in estimate_lines(project, analysis, dataset, again=args.measure_again):
            print(line)
    return EXIT_OK


def _data_source(args: argparse.Namespace, project: Any) -> tuple[str, dict[str, Any]]:
    """The dataset and its ``load_dataset`` options: the command line's, else the project's data source.

    The project's folders belong to its own dataset: ``--dataset`` naming another one does not read them.
    """
    name = getattr(args, "dataset", None) or project.dataset_name
    own = name == project.dataset_name
    data_dir = args.data_dir or (project.data_dir if own else None)
    if name == "image_folder" and not data_dir:
        raise CliError("--dataset image_folder needs --data-dir FOLDER (a folder with one subfolder of images "
                       "per class)")
    options: dict[str, Any] = {"data_dir": data_dir}
    if name == "image_folder":
        test_dir = getattr(args, "test_dir", None)
        options["test_dir"] = test_dir or (project.test_dir if own and not args.data_dir else None)
        options["resize"] = getattr(args, "resize", None) or project.resize
    return name, options


def _data_report(name: str, options: dict[str, Any]) -> tuple[Any, list[str]]:
    """The data training would use (never downloads) and lines saying where it comes from, or why it is missing."""
    from convstudio.core.datasets import DatasetNotFound, load_dataset

    try:
        dataset = load_dataset(name, allow_download=False, **options)
    except DatasetNotFound as exc:  # training would fail; say what was tried, as train would
        return None, [f"data: {line}" for line in str(exc).splitlines()]
    except ValueError as exc:
        return None, [f"data: {exc}"]
    return dataset, [f"data: {line}" for line in dataset.report_lines()]


def _print_data_lines(lines: list[str]) -> None:
    for line in lines:
        print(line)


def cmd_import(args: argparse.Namespace) -> int:
    """``import MODEL.keras --out PROJECT.json``: a Keras model becomes a project with its weights beside it."""
    from convstudio.core.importer import ModelImportError, import_keras_model
    from convstudio.core.project import WEIGHTS_SUFFIX, Project, ProjectError, save_project

    source = Path(args.model)
    target = Path(args.out)
    if target.suffix.lower() != ".json":
        target = target.with_name(target.name + ".json")
    weights = target.with_name(target.stem + WEIGHTS_SUFFIX)
    if target.is_dir():
        raise CliError(f"{target} is a folder; give the project file to write, e.g. {target / source.stem}.json")
    existing = [p for p in (target, weights) if p.exists()]
    if existing and not args.force:
        raise CliError(f"{' and '.join(str(p) for p in existing)} already exist{'s' if len(existing) == 1 else ''}; "
                       "use --force to overwrite")
    try:
        network, model = import_keras_model(source)
    except ModelImportError as exc:
        raise CliError(str(exc)) from None
    project = Project(network, dataset_name=args.dataset, title=source.stem)
    try:
        written = save_project(project, target, model=model)
    except ProjectError as exc:
        raise CliError(str(exc)) from None
    print(f"Imported {source.name} as {len(network)} blocks: {written}")
    print(f"trained weights: {project.weights_path}")
    return EXIT_OK


def _distribution_change(args: argparse.Namespace) -> dict[str, Any]:
    """``{"distribution": "multi_worker"}`` for ``--distributed`` (checked against ``TF_CONFIG``), else nothing."""
    if not args.distributed:
        return {}
    from convstudio.core.distribute import DistributionError, cluster_from_env

    try:
        cluster = cluster_from_env()
    except DistributionError as exc:
        raise CliError(str(exc)) from None
    if cluster is None:
        raise CliError("--distributed needs TF_CONFIG to describe the cluster, e.g. TF_CONFIG='{\"cluster\": "
                       "{\"worker\": [\"host1:2222\", \"host2:2222\"]}, \"task\": {\"type\": \"worker\", "
                       "\"index\": 0}}'")
    return {"distribution": "multi_worker"}


def _train_settings(args: argparse.Namespace, project: Any) -> Any:
    """The project's training settings with the command line's overrides."""
    from convstudio.core.settings import SettingsError

    changes = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size), ("seed", args.seed),
                                 ("jit_compile", args.xla), ("mixed_precision", args.mixed_precision))
               if v is not None}
    changes.update(_distribution_change(args))
    try:
        return project.settings.replace(**changes)
    except SettingsError as exc:
        raise CliError(str(exc)) from None


def _training_data(args: argparse.Namespace, project: Any) -> Any:
    """The dataset to train on; says where it came from (and when it is only the bundled sample)."""
    from convstudio.core.datasets import DatasetNotFound, load_dataset

    name, options = _data_source(args, project)
    try:
        dataset = load_dataset(name, allow_sample=not args.no_sample, allow_download=not args.offline, **options)
    except DatasetNotFound as exc:
        raise CliError(str(exc), EXIT_DATA) from None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(f"{dataset.source}" + (" [SAMPLE: results are not comparable to the full dataset]"
                                 if dataset.is_sample else ""))
    return dataset


def _require_trainable(project: Any, dataset: Any) -> None:
    analysis = _analysis(project, dataset.input_shape, dataset.num_classes)
    if not analysis.ok:
        _print_issues(analysis, sys.stderr)
        raise CliError("the network has errors and cannot be trained; fix them first (see `info`)", EXIT_INVALID)


def _make_trainer(args: argparse.Namespace, project: Any, dataset: Any, settings: Any, channel: Any,
                  checkpoint_dir: Path, recorder: Any = None) -> Any:
    from convstudio.core.training import CheckpointError, Trainer

    if not args.resume:
        return Trainer(project.network, dataset, settings, channel, checkpoint_dir, recorder=recorder)
    try:
        return Trainer.resume_from(checkpoint_dir, project.network, dataset, settings, channel, recorder=recorder)
    except CheckpointError as exc:
        raise CliError(str(exc)) from None


def _run_interruptibly(trainer: Any) -> Any:
    """Run the trainer; the first Ctrl-C stops it after the current batch, a second one aborts."""
    interrupted = []

    def on_sigint(signum: int, frame: Any) -> None:
        if interrupted:
            raise KeyboardInterrupt
        interrupted.append(True)
        print("\nStopping after this batch (Ctrl-C again to abort)...", file=sys.stderr)
        trainer.stop()

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_sigint) if main_thread else None
    try:
        return trainer.run()
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, previous)


def _save_or_explain(what: str, path: Path, write: Any, finished: Any) -> str | None:
    """Write one run output atomically; on failure (a full disk) the old file stays and a message says so."""
    try:
        write()
    except OSError as exc:
        kept = f"the previous {path.name} is unchanged" if path.exists() else f"no {path.name} was written"
        if finished.checkpoint:
            kept += f"; the last good checkpoint is in {finished.checkpoint} (resume with --resume)"
        return f"could not write the {what} to {path}: {exc.strerror or exc}; {kept}"
    return None


def _save_run(out_dir: Path, trainer: Any, finished: Any, record: dict[str, Any]) -> list[str]:
    """Write model.keras (when training produced one) and history.json; returns what could not be written."""
    from convstudio.core.atomic import atomic_write_with

    problems = []
    if trainer.model is not None and finished.status in ("completed", "early_stopped", "stopped"):
        model_path = out_dir / "model.keras"
        problem = _save_or_explain("trained model", model_path, lambda: atomic_write_with(
            model_path, lambda tmp: trainer.model.save(tmp), suffix=".keras"), finished)
        if problem is None:
            print(f"model: {model_path}")
        problems.append(problem)
    history_path = out_dir / "history.json"
    problem = _save_or_explain("history", history_path, lambda: _write_json(history_path, record), finished)
    if problem is None:
        print(f"history: {history_path}")
    problems.append(problem)
    return [p for p in problems if p]


def _run_record(path: Path, dataset: Any, settings: Any, finished: Any, progress: _Progress,
                wall: float) -> dict[str, Any]:
    return {
        "project": str(path.resolve()), "dataset": dataset.name, "dataset_source": dataset.source,
        "is_sample": dataset.is_sample, "status": finished.status, "message": finished.message,
        "diagnosis": finished.diagnosis, "warnings": list(finished.warnings),
        "epochs_done": finished.epochs_done, "test_loss": finished.test_loss,
        "test_accuracy": finished.test_accuracy, "seconds_per_epoch": progress.epoch_seconds,
        "wall_seconds": round(wall, 2), "settings": settings.to_dict(), "history": finished.history,
    }


def _train_exit_code(finished: Any, dataset: Any, problems: list[str]) -> int:
    """Print the test result (saying when it comes from the bundled sample) and what went wrong; the exit code."""
    if finished.test_accuracy is not None:
        on = (f" on the bundled sample's {len(dataset.x_test):,} test images, not the full test set"
              if dataset.is_sample else "")
        print(f"test accuracy: {finished.test_accuracy:.2%} (test loss {finished.test_loss:.4f}){on}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if finished.diagnosis:
        print(f"error: training did not learn ({finished.diagnosis.replace('_', ' ')}); see the advice above",
              file=sys.stderr)
    if finished.status not in ("completed", "early_stopped", "stopped") or finished.diagnosis:
        return EXIT_INVALID
    return EXIT_ERROR if problems else EXIT_OK


def cmd_train(args: argparse.Namespace) -> int:
    """Train a project: settings, data, trainer, run, save, report, each a step below."""
    from convstudio.core.atomic import remove_stale_temporaries

    project, path = _load_project(args.project)
    settings = _train_settings(args, project)
    out_dir = Path(args.out) if args.out else _default_run_dir(path)
    remove_stale_temporaries(out_dir)  # left by a run killed while saving
    if args.threads:
        from convstudio.core.device import configure_threads

        configure_threads(inter=1 if args.threads == 1 else 2, intra=args.threads)
    dataset = _training_data(args, project)
    _require_trainable(project, dataset)
    progress = _Progress(sys.stdout)
    recorder = _run_recorder(args, project, path, out_dir / "checkpoint")
    trainer = _make_trainer(args, project, dataset, settings, _printing_channel(progress), out_dir / "checkpoint",
                            recorder)
    start = time.perf_counter()
    finished = _run_interruptibly(trainer)
    wall = time.perf_counter() - start
    problems = _save_run(out_dir, trainer, finished, _run_record(path, dataset, settings, finished, progress, wall))
    if recorder is not None and recorder.folder is not None:
        print(f"run recorded: {recorder.folder} (convstudio-cli runs show {shlex.quote(args.project)} "
              f"{recorder.folder.name})")
    return _train_exit_code(finished, dataset, problems)


def cmd_export(args: argparse.Namespace) -> int:
    project, path = _load_project(args.project)
    model_path = Path(args.model) if args.model else (Path(project.weights_path) if project.weights_path else None)
    if model_path is None:
        raise CliError("give the trained model with --model RUN/model.keras (the project has no saved weights)")
    if not model_path.is_file():
        raise CliError(f"there is no trained model at {model_path}; train first "
                       f"(convstudio-cli train {args.project})")
    from convstudio.core import export as exporter
    from convstudio.core.export.loading import load_trained_model

    try:
        model = load_trained_model(model_path)
    except exporter.ExportError as exc:
        raise CliError(str(exc)) from None
    is_file = Path(args.project).exists()  # a project file; else a bundled preset, exported to this folder
    out = args.out or exporter.default_export_path(args.format, path if is_file else None,
                                                   model_name=None if is_file else args.project)
    dataset = None
    if args.verify_data:
        from convstudio.core.datasets import DatasetNotFound, load_dataset

        try:
            name, options = _data_source(args, project)
            dataset = load_dataset(name, allow_download=False, **options)
        except (DatasetNotFound, CliError, ValueError):
            dataset = None
    try:
        report = exporter.export_model(model, args.format, out, network=project.network, dataset=dataset,
                                       settings=project.settings, overwrite=args.force,
                                       progress=lambda line: print(line))
    except exporter.ExportExists as exc:
        raise CliError(f"export refused: {str(exc).split(';')[0]}; add --force to replace it") from None
    except exporter.ExportError as exc:
        raise CliError(f"export failed: {exc}") from None
    print(report.summary)
    for note in report.notes:
        print(f"note: {note}")
    return EXIT_OK


# --------------------------------------------------------------------------- run history


def _runs_root(project_path: Path) -> Path:
    """``<stem>.runs`` beside the project (for a bundled preset, in the current folder)."""
    return _default_run_dir(project_path).with_name(f"{project_path.stem}.runs")


def _run_recorder(args: argparse.Namespace, project: Any, path: Path, checkpoint_dir: Path) -> Any:
    """The recorder of this training run (None with --no-record)."""
    if getattr(args, "no_record", False):
        return None
    from convstudio.core.runs import RunRecorder

    resumed = str(checkpoint_dir) if args.resume else None
    name, options = _data_source(args, project)
    folders = (options["data_dir"], options["test_dir"], options["resize"]) if name == "image_folder" else None
    return RunRecorder(_runs_root(path), title=project.title or path.stem, origin="cli", resumed_from=resumed,
                       data_source=folders)


def _project_runs(arg: str) -> Path:
    """The runs folder of a project file, a preset id, or a ``.runs`` folder given directly."""
    given = Path(arg)
    if given.is_dir() and given.suffix == ".runs":
        return given
    if given.suffix == ".json" or os.sep in arg or given.exists():
        return _runs_root(given)
    return _runs_root(_load_project(arg)[1])


def _find_run(root: Path, ref: str) -> Any:
    from convstudio.core.runs import RunError, find_run, load_run

    try:
        return load_run(find_run(root, ref))
    except RunError as exc:
        raise CliError(str(exc)) from None


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _table(rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def cmd_runs_list(args: argparse.Namespace) -> int:
    from convstudio.core.runs import RunError, list_runs, scan_runs

    root = _project_runs(args.project)
    try:
        runs = list_runs(root, sort=args.sort, descending=not args.ascending)
    except RunError as exc:
        raise CliError(str(exc)) from None
    for damaged in scan_runs(root)[1]:
        print(f"damaged: {damaged.id}: {damaged.reason}", file=sys.stderr)
    if not runs:
        print(f"No runs recorded in {root} yet (train with: convstudio-cli train {args.project}).")
        return EXIT_OK
    rows = [["run", "outcome", "test acc", "params", "epochs", "time", "data", "health"]]
    for s in runs:
        data = s.dataset + (" (sample)" if s.is_sample else "")
        params = "-" if s.parameters is None else f"{s.parameters:,}"
        rows.append([s.id, s.outcome_label, _percent(s.test_accuracy), params, str(s.epochs_done),
                     f"{s.duration_s:.1f} s", data, ", ".join(k.replace("_", " ") for k in s.health) or "ok"])
    print(_table(rows, right={2, 3, 4, 5}))
    print(f"{len(runs)} run(s) in {root}; TensorBoard: tensorboard --logdir {root}")
    return EXIT_OK


def _print_run_header(run: Any) -> None:
    s, data = run.summary, run.record.get("dataset") or {}
    print(f"run {s.id}: {s.outcome_label}" + (f" - {s.message}" if s.message else ""))
    print(f"started {s.started}, {s.duration_s:.1f} s, {s.epochs_done} epoch(s) on {s.device or 'an unknown device'}")
    print(f"data: {data.get('name')} from {data.get('source') or 'an unknown source'}"
          + (" [bundled sample]" if data.get("is_sample") else ""))
    params = "-" if s.parameters is None else f"{s.parameters:,}"
    t = run.settings
    print(f"network: {len(run.network)} blocks, {params} parameters; training: {t.optimizer} lr {t.learning_rate:g}, "
          f"batch {t.batch_size}, {t.epochs} epochs, seed {t.seed}")
    if s.test_accuracy is not None:
        loss = "-" if s.test_loss is None else f"{s.test_loss:.4f}"
        print(f"test accuracy {_percent(s.test_accuracy)}, test loss {loss}")
    sweep = run.record.get("sweep")
    if isinstance(sweep, dict) and isinstance(sweep.get("values"), dict):
        from convstudio.core.text import terminal_safe

        trial = str(sweep.get("trial", ""))
        number = int(trial) + 1 if trial.isdigit() else trial  # KerasTuner counts trials from 0
        values = ", ".join(f"{k} {v}" for k, v in sweep["values"].items())
        print(terminal_safe(f"sweep {sweep.get('name')}: trial {number} ({values}), tuner {sweep.get('tuner')}"))


def _print_epochs(epochs: list[dict[str, Any]]) -> None:
    if not epochs:
        return
    keys = [k for k in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate") if k in epochs[0]]
    rows = [["epoch", *keys, "seconds"]]
    rows += [[str(e["epoch"] + 1), *(f"{e.get(k, float('nan')):.4g}" for k in keys), f"{e.get('seconds', 0):.1f}"]
             for e in epochs]
    print(_table(rows, right=set(range(len(keys) + 2))))


def cmd_runs_show(args: argparse.Namespace) -> int:
    run = _find_run(_project_runs(args.project), args.run)
    _print_run_header(run)
    _print_epochs(run.metrics.get("epochs") or [])
    for warning in run.record.get("health") or []:
        print(f"health: {warning.get('message', '')} {warning.get('advice', '')}".rstrip())
    for which in ("final", "best"):
        path = run.model_path(which)
        if path is not None:
            print(f"{which} model: {path}")
    print(f"folder: {run.summary.folder}")
    return EXIT_OK


def cmd_runs_compare(args: argparse.Namespace) -> int:
    from convstudio.core.runs import compare_runs, format_comparison

    root = _project_runs(args.project)
    print(format_comparison(compare_runs(_find_run(root, args.run_a), _find_run(root, args.run_b))))
    return EXIT_OK


def cmd_runs_delete(args: argparse.Namespace) -> int:
    from convstudio.core.runs import RunError, delete_run

    run = _find_run(_project_runs(args.project), args.run)
    if not args.yes:
        raise CliError(f"this deletes {run.summary.folder} and its models; add --yes to confirm")
    try:
        delete_run(run.summary.folder)
    except RunError as exc:
        raise CliError(str(exc)) from None
    print(f"deleted run {run.summary.id}")
    return EXIT_OK


def _add_runs_parser(sub: Any) -> None:
    from convstudio.core.runs import SORT_KEYS

    runs = sub.add_parser("runs", help="list, show, compare or delete a project's recorded runs")
    rsub = runs.add_subparsers(dest="runs_command", metavar="ACTION")
    rsub.required = True
    p = rsub.add_parser("list", help="a table of the project's runs")
    p.add_argument("project", help="project file (.json), preset id, or a .runs folder")
    p.add_argument("--sort", choices=SORT_KEYS, default="time", help="newest, most accurate, largest or longest first")
    p.add_argument("--ascending", action="store_true", help="reverse the order")
    p.set_defaults(func=cmd_runs_list)
    p = rsub.add_parser("show", help="one run in detail (RUN: folder name, its last part, or 1 for the newest)")
    p.add_argument("project")
    p.add_argument("run")
    p.set_defaults(func=cmd_runs_show)
    p = rsub.add_parser("compare", help="what changed between two runs: network block by block, settings, results")
    p.add_argument("project")
    p.add_argument("run_a")
    p.add_argument("run_b")
    p.set_defaults(func=cmd_runs_compare)
    p = rsub.add_parser("delete", help="delete a run folder")
    p.add_argument("project")
    p.add_argument("run")
    p.add_argument("--yes", action="store_true", help="confirm the deletion")
    p.set_defaults(func=cmd_runs_delete)
    for action in rsub.choices.values():  # -v after the action too, like after every command
        action.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                            help="show TensorFlow's own log messages (hidden by default)")


# --------------------------------------------------------------------------- parser


def _export_formats() -> list[str]:
    try:
        from convstudio.core.export import FORMATS
    except ImportError:
        return ["keras"]
    return list(FORMATS)


def _add_folder_options(p: argparse.ArgumentParser) -> None:
    from convstudio.core.data.image_decode import RESIZE_MODES

    p.add_argument("--test-dir", help="image folder only: a separate folder of test images with the same class "
                                      "subfolders (default: the project's; else a share of the images is held out)")
    p.add_argument("--resize", choices=RESIZE_MODES,
                   help="image folder only: fit images of other sizes by stretching, a centre crop or padding "
                        "(default: the project's choice, else stretch)")


def build_parser() -> argparse.ArgumentParser:
    from convstudio.core.datasets import ALL_DATASET_NAMES

    parser = argparse.ArgumentParser(prog="convstudio-cli",
                                     description="Train, inspect and export ConvStudio projects without a display.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("train", help="train a project (or a preset id such as lenet5)")
    p.add_argument("project", help="project file (.json) or preset id")
    p.add_argument("--dataset", choices=ALL_DATASET_NAMES, help="override the project's dataset")
    p.add_argument("--data-dir", help="folder with mnist.npz / fashion_mnist.npz or IDX files, or CIFAR-10's "
                                      "batches, or (required for image_folder) one subfolder of images per class "
                                      "(default: $CONVSTUDIO_DATA_DIR, then the other sources)")
    _add_folder_options(p)
    p.add_argument("--epochs", type=int, help="epochs to train (with --resume: epochs to add)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--out", help="run folder for checkpoint/, history.json and model.keras "
                                 "(default: <project>.run beside the project)")
    p.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    p.add_argument("--threads", type=int, default=0, help="TensorFlow threads (default: all cores)")
    p.add_argument("--xla", choices=("auto", "on", "off"),
                   help="XLA compilation (default: the project's setting; auto = on for recent GPUs only)")
    p.add_argument("--mixed-precision", choices=("auto", "on", "off"),
                   help="float16 compute (default: the project's setting; auto = on for recent GPUs only)")
    p.add_argument("--distributed", action="store_true",
                   help="join the multi-worker cluster described by $TF_CONFIG (automatic when it is set); "
                        "--batch-size is the global batch")
    p.add_argument("--no-sample", action="store_true", help="fail instead of using the bundled sample")
    p.add_argument("--offline", action="store_true", help="never try to download the dataset")
    p.add_argument("--no-record", action="store_true", help="do not record this run in <project>.runs")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("info", help="print a project's model summary, validation messages and data source")
    p.add_argument("project", help="project file (.json) or preset id")
    p.add_argument("--dataset", choices=ALL_DATASET_NAMES,
                   help="check the network against this dataset's images (default: the project's dataset)")
    p.add_argument("--data-dir", help="dataset folder to check (default: the project's, then the other sources; "
                   "required for image_folder)")
    _add_folder_options(p)
    p.add_argument("--estimate", action="store_true",
                   help="estimate time per epoch and memory on this machine (measures it once, ~2 s)")
    p.add_argument("--measure-again", action="store_true", help="with --estimate: measure this machine anew")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("export", help="export a trained model")
    p.add_argument("project", help="project file (.json) or preset id")
    p.add_argument("--format", default="keras", choices=_export_formats())
    p.add_argument("--model", help="trained model, e.g. RUN/model.keras (default: the project's weights)")
    p.add_argument("--out", help="file or folder to write (default: beside the project file, named after it "
                                 "and the format, e.g. digits_int8.tflite)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing file, or a folder that is an earlier export of the same format")
    p.add_argument("--data-dir", help="dataset folder for verification images")
    p.add_argument("--no-verify-data", dest="verify_data", action="store_false",
                   help="do not load the dataset for verification")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("presets", help="list the bundled example networks")
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("import", help="turn a Keras model (.keras, .h5) into a project, with its weights",
                       description="Import a Keras model as an editable project; its trained weights are saved "
                                   "beside the project as <name>.weights.keras. Models with layers ConvStudio "
                                   "cannot reproduce exactly (Lambda, custom layers, ...) are refused, naming "
                                   "each such layer.")
    p.add_argument("model", help="the Keras model file to import")
    p.add_argument("--out", required=True, help="project file to write (.json)")
    p.add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist",
                   help="dataset the project trains on (default: mnist)")
    p.add_argument("--force", action="store_true", help="overwrite an existing project and its weights")
    p.set_defaults(func=cmd_import)

    _add_runs_parser(sub)
    from .cli_sweep import add_sweep_parser

    add_sweep_parser(sub)

    verbose_help = "show TensorFlow's own log messages (hidden by default)"
    parser.add_argument("-v", "--verbose", action="store_true", help=verbose_help)
    for command in sub.choices.values():  # also accepted after the command name
        command.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=verbose_help)
    return parser


def _run(args: argparse.Namespace) -> int:
    from convstudio.core.tflog import filtered_stderr, import_tensorflow, quiet_tensorflow

    quiet_tensorflow(args.verbose)
    uses_tf = args.command in _TF_COMMANDS
    try:
        with filtered_stderr(uses_tf and not args.verbose):
            if uses_tf:
                import_tensorflow(args.verbose)
            return int(args.func(args))
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("\nAborted.", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code.

    When the reader of stdout goes away (``convstudio-cli info X | head -1``), the rest of the output
    is dropped and the exit is quiet, as the Python documentation recommends for SIGPIPE.
    """
    args = build_parser().parse_args(argv)
    try:
        code = _run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        try:  # Python flushes stdout again at exit; point it at devnull so that flush cannot fail
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests capture it)
            pass
        return EXIT_PIPE
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
