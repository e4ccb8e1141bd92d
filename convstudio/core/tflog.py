"""Keeping TensorFlow's log noise (CUDA probing, oneDNN notices, absl warnings) off the terminal.

TensorFlow's C++ side writes straight to file descriptor 2, and a few lines (``cudart_stub``,
"All log messages before absl::InitializeLog()") come before its log level is read. So
:func:`quiet_tensorflow` sets the levels that can be set (environment and Python loggers, before
TensorFlow is imported), and :func:`filtered_stderr` drops the rest: descriptor 2 goes through a
filter that passes on everything that is not such a record. ``verbose`` leaves it all as TensorFlow
has it.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["NOISE", "filtered_stderr", "import_tensorflow", "is_noise", "quiet_tensorflow"]

NOISE = re.compile(
    r"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"  # an absl/glog C++ record: I0000 00:00:... file.cc:31]
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|oneDNN custom operations are on"
    r"|This TensorFlow binary is optimized to use available CPU instructions"
    r"|To enable the following instructions: .* in other operations, rebuild TensorFlow"
    r"|^INFO: Created TensorFlow Lite (?:XNNPACK )?delegate for"
)
"""Lines TensorFlow writes that mean nothing to a user of ConvStudio."""

_filtering = False  # descriptor 2 already goes through the filter (blocks may nest)


def is_noise(line: str) -> bool:
    """Whether ``line`` is one of TensorFlow's log records (see :data:`NOISE`)."""
    return NOISE.search(line) is not None


def quiet_tensorflow(verbose: bool = False) -> None:
    """Silence TensorFlow's C++ and Python logging; call before TensorFlow is imported.

    With ``verbose`` nothing is changed, so every TensorFlow message shows.
    """
    if verbose:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # also hides "failed call to cuInit" (an ERROR record)
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("GLOG_minloglevel", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    try:
        from absl import logging as absl_logging
    except ImportError:  # absl comes with TensorFlow; without it there is nothing to quiet
        return
    absl_logging.set_verbosity(absl_logging.ERROR)


@contextmanager
def filtered_stderr(enabled: bool = True) -> Iterator[None]:
    """Within the block, lines written to descriptor 2 that are TensorFlow log records are dropped.

    Descriptor 2 becomes a pipe read by a thread that passes every other line on, so C++ code
    (TensorFlow, TensorFlow Lite) and child processes that inherit it are filtered as well as
    Python. A crash still reaches the terminal: :mod:`faulthandler` writes to the real stderr.
    Does nothing when ``enabled`` is false or descriptor 2 cannot be redirected.
    """
    global _filtering
    if not enabled or _filtering:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        read_end, write_end = os.pipe()
    except (OSError, ValueError, AttributeError):
        yield
        return
    pump = threading.Thread(target=_pass_on, args=(read_end, saved), name="convstudio-stderr", daemon=True)
    real = os.fdopen(os.dup(saved), "w")
    had_faulthandler = faulthandler.is_enabled()
    faulthandler.enable(file=real)
    os.dup2(write_end, 2)
    os.close(write_end)
    pump.start()
    _filtering = True
    try:
        yield
    finally:
        _filtering = False
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(saved, 2)  # closes the pipe's last write end here, so the thread sees the end
        pump.join(timeout=5.0)
        if had_faulthandler and sys.__stderr__ is not None:
            faulthandler.enable(file=sys.__stderr__)
        else:
            faulthandler.disable()
        real.close()
        if not pump.is_alive():  # a child still holding the pipe keeps the thread, which needs the fd
            os.close(saved)


def _pass_on(read_end: int, target: int) -> None:
    """Copy lines from ``read_end`` to ``target``, dropping TensorFlow's log records."""
    pending = b""
    with os.fdopen(read_end, "rb", buffering=0) as source:
        while chunk := source.read(65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            _write(target, lines)
    if pending:
        _write(target, [pending])


def _write(target: int, lines: list[bytes]) -> None:
    kept = b"".join(line + b"\n" for line in lines if not is_noise(line.decode("utf-8", "replace")))
    try:
        if kept:
            os.write(target, kept)
    except OSError:  # the terminal went away; nothing more can be shown
        pass


def import_tensorflow(verbose: bool = False) -> None:
    """Import TensorFlow and Keras with their start-up lines on descriptor 2 filtered out.

    Anything else written there meanwhile (a Python warning, an import error) is passed on.
    """
    quiet_tensorflow(verbose)
    with filtered_stderr(not verbose and "tensorflow" not in sys.modules):
        _import(verbose)


def _import(verbose: bool) -> None:
    import keras  # noqa: F401 - imported for its side effect: TensorFlow is loaded and configured
    import tensorflow as tf

    if not verbose:
        tf.get_logger().setLevel(logging.ERROR)
