"""TensorFlow's log records are dropped from descriptor 2; everything else written there is kept."""

from __future__ import annotations

import os
import subprocess
import sys

from convstudio.core.tflog import filtered_stderr, is_noise

RECORDS = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    ("I0000 00:00:1796220678.554105    8199 cudart_stub.cc:31] Could not find cuda drivers on your machine, "
     "GPU will not be used."),
    ("E0000 00:00:1796220686.809468    8199 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
     "Failed call to cuInit: UNKNOWN ERROR (303)"),
    ("I1202 14:11:07.123456   123 cpu_feature_guard.cc:210] This TensorFlow binary is optimized to use available "
     "CPU instructions in performance-critical operations."),
    ("oneDNN custom operations are on. You may see slightly different numerical results due to floating-point "
     "round-off errors from different computation orders. To turn them off, set the environment variable "
     "`TF_ENABLE_ONEDNN_OPTS=0`."),
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
]
KEPT = ["error: the network has errors", "Traceback (most recent call last):",
        "UserWarning: a Python warning stays visible", "epoch 1/1 done in 3.0 s"]


def test_records_are_noise_and_messages_are_not():
    assert all(is_noise(line) for line in RECORDS)
    assert not any(is_noise(line) for line in KEPT)


def test_filter_drops_records_from_this_process_and_its_children(capfd):
    lines = [RECORDS[0], KEPT[0], RECORDS[2], KEPT[1]]
    with filtered_stderr():
        sys.stderr.write(KEPT[2] + "\n")  # one write, done before the filter's thread has anything to pass on
        sys.stderr.flush()
        os.write(2, ("\n".join(lines) + "\n").encode())
        child = f"import os; os.write(2, {(RECORDS[1] + chr(10) + KEPT[3]).encode()!r})"
        subprocess.run([sys.executable, "-c", child], check=True)
    err = capfd.readouterr().err
    assert sorted(err.splitlines()) == sorted(KEPT)  # sys.stderr may be captured apart from descriptor 2
    os.write(2, (RECORDS[0] + "\n").encode())  # outside the block nothing is filtered
    assert capfd.readouterr().err == RECORDS[0] + "\n"


def test_disabled_filter_keeps_everything(capfd):
    with filtered_stderr(enabled=False):
        os.write(2, (RECORDS[1] + "\n").encode())
    assert capfd.readouterr().err == RECORDS[1] + "\n"
