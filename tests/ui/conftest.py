"""Qt tests run on the offscreen platform; shared helpers for the editor tests."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from convstudio.core.network import Network  # noqa: E402


def lenet_like() -> Network:
    """A valid little CNN: Input, Conv, Pool, Flatten, Dense(10, softmax), laid out as a column."""
    return Network.chain([
        "Input",
        ("Conv2D", {"filters": 8, "padding": "same"}),
        "MaxPool2D",
        "Flatten",
        ("Dense", {"units": 10, "activation": "softmax"}),
    ], spacing=150.0)


@pytest.fixture(scope="session", autouse=True)
def _release_clipboard_at_exit():
    """Copied blocks left on Qt's clipboard would crash the interpreter at exit (see app.py)."""
    yield
    from convstudio.ui.app import release_clipboard

    release_clipboard()


@pytest.fixture
def lenet():
    """The factory :func:`lenet_like`, for tests that need several fresh networks."""
    return lenet_like


@pytest.fixture
def document(qtbot):
    from convstudio.ui.document import EditorDocument

    return EditorDocument(lenet_like())
