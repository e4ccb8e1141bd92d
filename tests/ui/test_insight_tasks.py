"""The insight panel's worker: newest result per key, errors as messages, results on the GUI thread."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading  # noqa: E402
import time  # noqa: E402

from convstudio.ui.insight.tasks import TaskRunner  # noqa: E402


def test_only_the_newest_request_per_key_is_delivered_on_the_gui_thread(qtbot):
    runner = TaskRunner()
    gate = threading.Event()
    got: list[tuple[str, int, bool]] = []

    def slow(value: int):
        def work():
            gate.wait(5)
            return value
        return work

    def on_gui(key: str):
        return lambda v: got.append((key, v, threading.current_thread() is threading.main_thread()))

    runner.submit("sample", slow(1), on_gui("sample"))
    runner.submit("sample", slow(2), on_gui("sample"))
    runner.submit("other", slow(3), on_gui("other"))
    gate.set()
    assert runner.wait_idle(10)
    assert sorted(got) == [("other", 3, True), ("sample", 2, True)]
    runner.shutdown()


def test_errors_become_messages_and_busy_is_reported(qtbot):
    runner = TaskRunner()
    busy: list[bool] = []
    failures: list[tuple[str, str]] = []
    runner.busyChanged.connect(busy.append)
    runner.failed.connect(lambda key, message: failures.append((key, message)))
    runner.submit("confusion matrix", lambda: 1 / 0, lambda v: None)
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    assert failures == [("confusion matrix", "division by zero")]
    assert busy == [True, False]
    runner.shutdown()


def test_results_arrive_without_blocking_the_event_loop(qtbot):
    runner = TaskRunner()
    done = []
    start = time.monotonic()
    runner.submit("slow", lambda: time.sleep(0.3) or "ok", done.append)
    assert time.monotonic() - start < 0.1  # submit returns at once
    qtbot.waitUntil(lambda: done == ["ok"], timeout=5000)
    runner.shutdown()


def test_a_superseded_request_that_has_not_started_never_runs(qtbot):
    runner = TaskRunner()
    gate = threading.Event()
    ran: list[str] = []
    got: list[str] = []

    def work(name: str):
        def run():
            ran.append(name)
            if name == "first":
                gate.wait(5)
            return name
        return run

    runner.submit("busy", work("first"), got.append)
    runner.submit("sample", work("old sample"), got.append)  # waits behind "first"
    runner.submit("sample", work("new sample"), got.append)
    gate.set()
    assert runner.wait_idle(10)
    assert ran == ["first", "new sample"] and got == ["first", "new sample"]


def test_shutdown_drops_waiting_and_running_results(qtbot):
    runner = TaskRunner()
    gate = threading.Event()
    got: list[int] = []
    runner.submit("a", lambda: gate.wait(5) and 1, got.append)
    runner.submit("b", lambda: 2, got.append)
    runner.shutdown()
    gate.set()
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    assert got == []
