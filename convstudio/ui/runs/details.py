"""One run in words: how it ended, when and where it trained, on what, with which settings, its health
warnings and where its models are (or why its folder is damaged)."""

from __future__ import annotations

from html import escape
from typing import Any

from convstudio.core.provenance import dataset_title
from convstudio.core.runs import DamagedRun, RunRecord

from ..training_panel import format_duration
from .table import run_label, started_text

__all__ = ["describe_run"]


def _settings_line(run: RunRecord) -> str:
    try:
        t = run.settings
    except Exception as exc:  # noqa: BLE001 - a damaged field is shown, not raised
        return f"settings cannot be read: {exc}"
    return (f"{t.optimizer} at learning rate {t.learning_rate:g}, batch {t.batch_size}, {t.epochs} epochs, "
            f"validation {t.validation_split:.0%}, seed {t.seed}")


def describe_run(row: Any, run: RunRecord | None) -> str:
    """HTML for the Details tab; ``run`` is None while (or when) the record cannot be read."""
    if isinstance(row, DamagedRun):
        return (f"<h3>{escape(row.id)}: damaged</h3><p>This folder looks like a run, but {escape(row.reason)}.</p>"
                f"<p>Folder: {escape(str(row.folder))}</p><p>Delete it by hand if it is not needed.</p>")
    s = row
    lines = [f"<h3>{escape(run_label(s))}: {escape(s.outcome_label)}</h3>"]
    if s.message:
        lines.append(f"<p>{escape(s.message)}</p>")
    lines.append(f"<p>Started {escape(started_text(s))}; {format_duration(s.duration_s)}, {s.epochs_done} epoch(s) on "
                 f"{escape(s.device or 'an unknown device')}.</p>")
    if run is None:
        return "".join(lines) + "<p>Reading the record...</p>"
    data = run.record.get("dataset") or {}
    sample = " (the bundled sample)" if data.get("is_sample") else ""
    lines.append(f"<p>Data: {escape(dataset_title(data.get('name')))} from "
                 f"{escape(str(data.get('source') or 'an unknown source'))}{sample}.</p>")
    lines.append(f"<p>Training: {escape(_settings_line(run))}.</p>")
    health = [w for w in run.record.get("health") or [] if isinstance(w, dict)]
    if health:
        items = "".join(f"<li>{escape(str(w.get('message', '')))} {escape(str(w.get('advice', '')))}</li>"
                        for w in health)
        lines.append(f"<p>Health:</p><ul>{items}</ul>")
    for which in ("final", "best"):
        path = run.model_path(which)
        if path is not None:
            lines.append(f"<p>{which.capitalize()} model: {escape(str(path))}</p>")
    lines.append(f"<p>Folder: {escape(str(s.folder))}<br>TensorBoard: <code>tensorboard --logdir "
                 f"{escape(str(s.folder.parent))}</code></p>")
    return "".join(lines)
