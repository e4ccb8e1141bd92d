"""The one worker: its lifecycle in order, progress drained on the GUI thread, errors and cancels."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading  # noqa: E402

import pytest  # noqa: E402

from convstudio.ui.worker import ProgressQueue, TaskState, Worker, run_worker  # noqa: E402


def _record(worker: Worker) -> list[tuple]:
    seen: list[tuple] = []
    on_gui = lambda: threading.current_thread() is threading.main_thread()  # noqa: E731
    worker.started.connect(lambda: seen.append(("started", on_gui())))
    worker.progress.connect(lambda item: seen.append(("progress", item, on_gui())))
    worker.done.connect(lambda result: seen.append(("done", result, on_gui())))
    worker.error.connect(lambda message: seen.append(("error", message, on_gui())))
    worker.cancelled.connect(lambda: seen.append(("cancelled", on_gui())))
    worker.finished.connect(lambda: seen.append(("finished", on_gui())))
    return seen


def test_started_progress_done_finished_in_order_on_the_gui_thread(qtbot):
    def count(state: TaskState) -> int:
        state.report(0.5)
        return 42

    worker = Worker(count, interval_ms=10)
    seen = _record(worker)
    with qtbot.waitSignals([worker.started, worker.progress, worker.done, worker.finished], order="strict",
                           timeout=5000):
        worker.start()
    assert seen == [("started", True), ("progress", 0.5, True), ("done", 42, True), ("finished", True)]
    assert worker.is_finished and not worker.is_running


def test_an_exception_in_the_function_reaches_error_as_a_message(qtbot):
    def fail(state: TaskState) -> None:
        state.report("reading")
        raise ValueError("the file is damaged")

    worker = Worker(fail, interval_ms=10)
    seen = _record(worker)
    with qtbot.waitSignals([worker.started, worker.progress, worker.error, worker.finished], order="strict",
                           timeout=5000):
        worker.start()
    assert seen == [("started", True), ("progress", "reading", True), ("error", "the file is damaged", True),
                    ("finished", True)]


def test_an_exception_without_text_is_named_by_its_type(qtbot):
    def fail(state: TaskState) -> None:
        raise KeyError()

    worker = Worker(fail, interval_ms=10)
    with qtbot.waitSignal(worker.error, timeout=5000) as blocker:
        worker.start()
    assert blocker.args == ["KeyError"]


def test_cancel_while_running_stops_cooperatively_and_drops_the_result(qtbot):
    running = threading.Event()
    rounds: list[int] = []

    def loop(state: TaskState) -> str:
        running.set()
        while not state.cancelled:
            rounds.append(1)
            state.report(len(rounds))
            threading.Event().wait(0.005)
        return "stale result"

    worker = Worker(loop, interval_ms=10, latest_only=True)
    seen = _record(worker)
    with qtbot.waitSignals([worker.started, worker.cancelled, worker.finished], order="strict", timeout=5000):
        worker.start()
        assert running.wait(5)
        worker.cancel()
    assert not any(s[0] in ("done", "error") for s in seen)
    assert seen[0][0] == "started" and seen[-2:] == [("cancelled", True), ("finished", True)]


def test_cancel_before_start_never_runs_the_function(qtbot):
    ran: list[bool] = []
    worker = Worker(lambda state: ran.append(True), interval_ms=10)
    seen = _record(worker)
    worker.cancel()
    with qtbot.waitSignals([worker.cancelled, worker.finished], order="strict", timeout=5000):
        worker.start()
    assert ran == [] and seen == [("cancelled", True), ("finished", True)]
    with pytest.raises(RuntimeError):
        worker.start()


def test_latest_only_progress_keeps_the_newest_record_per_drain():
    latest = ProgressQueue(latest_only=True)
    every = ProgressQueue()
    for i in range(5):
        latest.put(i)
        every.put(i)
    assert latest.drain() == [4] and latest.drain() == []
    assert every.drain() == [0, 1, 2, 3, 4]


def test_progress_is_drained_in_bulk_by_the_timer_not_per_record(qtbot):
    gate = threading.Event()

    def burst(state: TaskState) -> None:
        for i in range(500):
            state.report(i)
        gate.wait(5)

    worker = Worker(burst, interval_ms=50)
    got: list[int] = []
    worker.progress.connect(got.append)
    worker.start()
    assert got == []  # nothing is delivered from inside start: only the timer drains
    qtbot.waitUntil(lambda: len(got) == 500, timeout=5000)
    gate.set()
    assert worker.wait(5)
    assert got == list(range(500))


def test_wait_delivers_the_outcome_without_the_event_loop(qtbot):
    worker = Worker(lambda state: "ready", interval_ms=10_000)
    results: list[str] = []
    worker.done.connect(results.append)
    worker.start()
    assert worker.wait(5) and results == ["ready"]
    assert worker.wait(0)  # already delivered: nothing twice
    assert results == ["ready"]


def test_a_custom_channel_carries_the_progress(qtbot):
    class Channel:
        def __init__(self) -> None:
            self.items: list = []

        def put(self, item) -> None:
            self.items.append(item)

        def drain(self) -> list:
            items, self.items = self.items, []
            return [("via channel", i) for i in items]

    worker = Worker(lambda state: state.report(7), channel=Channel(), interval_ms=10)
    got: list = []
    worker.progress.connect(got.append)
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.start()
    assert got == [("via channel", 7)]


def test_run_worker_connects_the_handlers_and_deletes_the_worker_after(qtbot):
    from PySide6.QtCore import QObject

    owner = QObject()
    results: list[int] = []
    worker = run_worker(owner, "sum", lambda state: sum(range(4)), results.append, interval_ms=10)
    qtbot.waitUntil(lambda: results == [6], timeout=5000)
    qtbot.waitUntil(lambda: not owner.findChildren(Worker), timeout=5000)
    assert worker.wait(0) and worker.is_finished  # still answers after its Qt side is gone
    errors: list[str] = []
    run_worker(owner, "fail", lambda state: 1 / 0, results.append, errors.append, interval_ms=10)
    qtbot.waitUntil(lambda: errors == ["division by zero"], timeout=5000)
