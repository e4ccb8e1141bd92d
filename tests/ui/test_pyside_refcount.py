"""Regression guard: queued signal delivery across threads must not leak or drop references.

PySide6 6.12.0 on Python 3.11 releases one reference to ``True`` per queued delivery and aborts
the process after a few thousand; the training panel relies on many such deliveries.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QThread, Signal, Slot

DELIVERIES = 3000


class _Sender(QObject):
    fired = Signal(bool, int)
    done = Signal()

    @Slot()
    def run(self) -> None:
        for i in range(DELIVERIES):
            self.fired.emit(True, i)
        self.done.emit()


class _Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.flags_true = 0
        self.off_thread = 0

    @Slot(bool, int)
    def on_fired(self, flag: bool, index: int) -> None:
        self.count += 1
        self.flags_true += flag is True
        self.off_thread += QThread.currentThread() != self.thread()


def test_queued_signals_keep_the_refcount_of_true(qtbot, qapp):
    receiver = _Receiver()
    thread = QThread()
    sender = _Sender()
    sender.moveToThread(thread)
    sender.fired.connect(receiver.on_fired)  # receiver lives in the GUI thread: queued delivery
    thread.started.connect(sender.run)

    before = sys.getrefcount(True)
    thread.start()
    try:
        qtbot.waitUntil(lambda: receiver.count == DELIVERIES, timeout=20_000)
    finally:
        thread.quit()
        thread.wait(5_000)
    qapp.processEvents()
    after = sys.getrefcount(True)

    assert receiver.flags_true == DELIVERIES
    assert receiver.off_thread == 0, "deliveries were not queued to the GUI thread"
    # A leak of one reference per delivery would show as a drop of thousands; allow GC noise.
    assert after >= before - 100, f"refcount of True fell from {before} to {after}"
