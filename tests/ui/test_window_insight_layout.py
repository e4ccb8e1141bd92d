"""The network and the insight views are seen together in a real-sized window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from windows import discard_window  # noqa: E402

from convstudio.ui import dialogs
from convstudio.ui import main_window as mw
from convstudio.ui import settings as app_settings


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(dialogs, "ask", lambda *a, **k: pytest.fail(f"unexpected question {a[1:3]}"))
    app_settings.use_storage_root(tmp_path / "config")
    # The offscreen screen is small; fitting the window to it is tested on its own (test_screen_fit.py).
    from convstudio.ui import window_layout
    monkeypatch.setattr(mw, "fit_to_screen", lambda _w: False)
    monkeypatch.setattr(window_layout, "fit_to_screen", lambda _w: False)
    win = mw.MainWindow()
    yield win
    discard_window(win)
    app_settings.use_storage_root(None)


def _on_window(win, widget) -> QRect:
    return QRect(widget.mapTo(win, widget.rect().topLeft()), widget.size())


@pytest.mark.parametrize("size, min_insight_width", [((1600, 1000), 780), ((1280, 800), 500)])
def test_canvas_and_insight_views_share_the_window(qtbot, window, size, min_insight_width):
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    window.build_insight()
    qtbot.wait(50)
    canvas = _on_window(window, window.canvas)
    insight = _on_window(window, window.docks["insight"])
    assert window.docks["insight"].isVisible() and not window.docks["insight"].isFloating()
    assert not canvas.intersects(insight)
    # the network keeps a real share of the window, not a sliver ...
    assert canvas.width() >= 0.38 * size[0] and canvas.height() >= 0.3 * size[1]
    # ... and the views get room for readable tiles
    assert insight.width() >= min_insight_width and insight.height() >= 360
    assert window.insight.isVisible()
