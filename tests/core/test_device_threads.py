"""TensorFlow's thread pools for training beside the event loop: one rule per machine size."""

from __future__ import annotations

import os

import pytest

from convstudio.core.device import threads_for, usable_cores


def test_training_uses_every_core_and_two_inter_op_threads():
    assert threads_for(1) == (1, 1)  # on one core a second inter-op thread only competes
    assert threads_for(2) == (2, 2)  # no core is kept idle for the event loop
    for cores in (3, 4, 8, 16, 64):
        assert threads_for(cores) == (2, cores)


def test_nonsense_core_counts_get_one_intra_op_thread():
    assert threads_for(0) == (1, 1)
    assert threads_for(-3) == (1, 1)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this system")
def test_usable_cores_follow_the_processes_cpu_affinity():
    before = os.sched_getaffinity(0)
    assert usable_cores() == len(before)
    try:
        os.sched_setaffinity(0, {min(before)})
        assert usable_cores() == 1
    finally:
        os.sched_setaffinity(0, before)
