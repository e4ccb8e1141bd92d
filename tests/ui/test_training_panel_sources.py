"""The training panel's dataset choice: every source, the session follows, an image folder shows its scan."""

from __future__ import annotations

import pytest
from datafiles import png_folder  # noqa: E402

from convstudio.core.datasets import ALL_DATASET_NAMES
from convstudio.core.network import Network
from convstudio.core.session import Session
from convstudio.ui import settings as app_settings
from convstudio.ui.document import EditorDocument
from convstudio.ui.session_binding import SessionBinding
from convstudio.ui.training_controller import TrainingController
from convstudio.ui.training_panel import TrainingPanel

DIALOG = "convstudio.ui.training_panel.QFileDialog.getExistingDirectory"


@pytest.fixture
def bound(qtbot, tmp_path, monkeypatch):
    """A panel bound to a session, as in the main window."""
    monkeypatch.setenv("CONVSTUDIO_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    app_settings.use_storage_root(tmp_path / "config")
    controller = TrainingController(EditorDocument(Network.chain(["Input", "Flatten"])),
                                    checkpoint_dir=str(tmp_path / "checkpoints"))
    panel = TrainingPanel(controller)
    qtbot.addWidget(panel)
    session = Session()
    binding = SessionBinding(session, panel, controller)
    yield panel, session, binding
    app_settings.use_storage_root(None)


def _choose(panel: TrainingPanel, label: str) -> None:
    index = panel.dataset_combo.findText(label)
    assert index >= 0, label
    panel.dataset_combo.setCurrentIndex(index)


def _png_folder(root, counts: dict[str, int]):
    png_folder(root, counts)
    (root / "cats" / "notes.txt").write_text("not an image")
    return root


def test_every_source_is_listed_in_groups(bound):
    panel = bound[0]
    combo = panel.dataset_combo
    keys = [combo.itemData(i) for i in range(combo.count()) if combo.itemData(i)]
    assert keys == list(ALL_DATASET_NAMES)
    assert combo.count() == len(keys) + 3  # separators between the four groups
    assert combo.findText("Coloured shapes (by colour)") >= 0 and combo.findText("Image folder\u2026") >= 0


def test_choosing_coloured_shapes_sets_the_session_dataset(qtbot, bound):
    panel, session, _ = bound
    _choose(panel, "Coloured shapes (by colour)")
    assert session.dataset_name == "colour_shapes_by_colour" == panel.dataset_name()
    qtbot.waitUntil(lambda: "coloured shapes" in panel.source_label.text().lower(), timeout=20_000)


def test_an_image_folder_shows_its_class_counts(qtbot, bound, tmp_path, monkeypatch):
    panel, session, _ = bound
    folder = _png_folder(tmp_path / "photos", {"cats": 3, "dogs": 2})
    monkeypatch.setattr(DIALOG, lambda *a, **k: str(folder))
    _choose(panel, "Image folder\u2026")
    assert session.dataset_name == "image_folder" and panel.data_dir() == str(folder)
    qtbot.waitUntil(lambda: "cats 3" in panel.source_label.text(), timeout=10_000)
    text = panel.source_label.text()
    assert "dogs 2" in text and "5 images in 2 classes" in text and "skipped 1 files" in text


def test_cancelling_the_folder_dialog_keeps_the_previous_choice(bound, monkeypatch):
    panel, session, _ = bound
    _choose(panel, "CIFAR-10 (small colour photos)")
    monkeypatch.setattr(DIALOG, lambda *a, **k: "")
    _choose(panel, "Image folder\u2026")
    assert panel.dataset_name() == "cifar10" and session.dataset_name == "cifar10"
