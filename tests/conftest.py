"""Shared test setup: keep TensorFlow's C++ log noise out of test output; never download datasets."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CONVSTUDIO_OFFLINE", "1")
