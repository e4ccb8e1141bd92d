"""Atomic writes keep permissions and leave nothing behind; stale temporaries of ours (only ours) are removed."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from convstudio.core import atomic
from convstudio.core.atomic import (
    atomic_write_text,
    atomic_write_with,
    is_temporary_name,
    remove_stale_temporaries,
)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("bits", [0o644, 0o600, 0o664])
def test_overwriting_keeps_the_files_permissions(tmp_path, bits):
    target = tmp_path / "project.json"
    target.write_text("old")
    os.chmod(target, bits)
    atomic_write_text(target, "new")
    assert target.read_text() == "new" and mode(target) == bits


def test_a_new_file_gets_the_umask_default_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "new.json", "x")
        atomic_write_with(tmp_path / "model.keras", lambda tmp: open(tmp, "w").close(), suffix=".keras")
    finally:
        os.umask(old)
    assert mode(tmp_path / "new.json") == 0o644 and mode(tmp_path / "model.keras") == 0o644


def test_a_full_disk_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "history.json"
    target.write_text("old")

    def full(tmp: str) -> None:
        with open(tmp, "w") as f:
            f.write("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError, match="No space left"):
        atomic_write_with(target, full)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["history.json"]


def test_temporary_names_follow_one_pattern(tmp_path):
    seen: list[str] = []
    atomic_write_with(tmp_path / "model.keras", lambda tmp: (seen.append(os.path.basename(tmp)),
                                                              open(tmp, "w").close()), suffix=".keras")
    atomic_write_with(tmp_path / "a.json", lambda tmp: (seen.append(os.path.basename(tmp)), open(tmp, "w").close()))
    assert all(is_temporary_name(name) for name in seen), seen


def test_stale_temporaries_are_removed_and_nothing_else(tmp_path):
    ours = [".model.keras.ab12cd_9.tmp.keras", ".history.json.k2j3h4g5.tmp", ".epoch-0002.x1y2z3w4.tmp"]
    theirs = ["model.keras", "notes.tmp", ".x.tmp", ".hidden", ".model.keras.tmp", "epoch-0001",
              ".model.keras.AB12CD34.tmp", ".a.b.tmp.keras", "x.abcdefgh.tmp"]
    for name in ours[:2] + theirs:
        (tmp_path / name).write_text("x") if name != "epoch-0001" else (tmp_path / name).mkdir()
    (tmp_path / ours[2]).mkdir()
    (tmp_path / ours[2] / "model.keras").write_text("half a checkpoint")
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted(ours)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(theirs)


def test_recent_temporaries_can_be_spared_and_a_missing_folder_is_fine(tmp_path):
    (tmp_path / ".a.json.abcdefgh.tmp").write_text("being written")
    assert remove_stale_temporaries(tmp_path, min_age_s=3600) == []
    assert remove_stale_temporaries(tmp_path / "missing") == []
    assert atomic.is_temporary_name(".a.json.abcdefgh.tmp")
