"""Window services without a window: preferences, recent files, autosave timing and recovery."""

from __future__ import annotations

import os

import pytest

from convstudio.ui import settings as app_settings
from convstudio.ui.autosave import Autosaver


@pytest.fixture
def storage(tmp_path):
    app_settings.use_storage_root(tmp_path / "config")
    yield tmp_path / "config"
    app_settings.use_storage_root(None)


def test_recent_files_are_newest_first_unique_bounded_and_existing(storage, tmp_path):
    files = []
    for i in range(app_settings.MAX_RECENT + 2):
        path = tmp_path / f"p{i}.json"
        path.write_text("{}")
        files.append(str(path))
        app_settings.add_recent_file(path)
    app_settings.add_recent_file(files[3])  # again: moves to the front, no duplicate
    recent = app_settings.recent_files()
    assert recent[0] == files[3] and len(recent) == app_settings.MAX_RECENT
    assert len(set(recent)) == len(recent)
    os.remove(files[-1])
    assert files[-1] not in app_settings.recent_files()


def test_data_folder_preference_and_environment(storage, monkeypatch, tmp_path):
    monkeypatch.delenv("CONVSTUDIO_DATA_DIR", raising=False)
    assert app_settings.data_dir() is None
    app_settings.set_data_dir(str(tmp_path))
    assert app_settings.data_dir() == str(tmp_path)
    monkeypatch.setenv("CONVSTUDIO_DATA_DIR", "/elsewhere")
    assert app_settings.data_dir() == "/elsewhere"  # the environment wins


def test_autosave_writes_on_its_timer_only_when_needed(qtbot, storage):
    writes: list[str] = []
    needed = [False]

    def write(path: str) -> None:
        writes.append(path)
        with open(path, "w", encoding="utf-8") as f:
            f.write("{}")

    saver = Autosaver(write, lambda: needed[0], interval_ms=30)
    saver.start()
    qtbot.wait(150)
    assert writes == []
    needed[0] = True
    with qtbot.waitSignal(saver.saved, timeout=2000) as saved:
        pass
    assert saved.args == [str(saver.path)] and saver.path.parent == app_settings.app_data_dir()
    saver.stop()


def test_a_failing_autosave_is_reported_not_raised(qtbot, storage):
    def write(_path: str) -> None:
        raise OSError("disk full")

    saver = Autosaver(write)
    with qtbot.waitSignal(saver.failed, timeout=1000) as failed:
        assert saver.save_now() is None
    assert "disk full" in failed.args[0] and str(saver.path) in failed.args[0]


def test_recovery_is_offered_only_for_a_copy_newer_than_the_clean_exit(storage):
    saver = Autosaver(lambda path: open(path, "w").write("{}"))
    assert saver.recovery_candidate() is None  # nothing saved yet
    saver.save_now()
    assert saver.recovery_candidate() == saver.path
    saver.mark_clean_exit()
    assert saver.recovery_candidate() is None
    later = saver.path.stat().st_mtime + 5  # as if written after the clean exit, before a crash
    os.utime(saver.path, (later, later))
    assert saver.recovery_candidate() == saver.path
    saver.discard()
    assert not saver.path.exists() and saver.recovery_candidate() is None
