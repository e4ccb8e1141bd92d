"""A cheap run of scripts/fuzz_projects.py: 200 generated and mutated project files through ``info``,
every category, none ending in a traceback, a hang or unsafe output."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_projects.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("fuzz_projects", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_hundred_fuzzed_projects_end_in_an_exit_code(tmp_path):
    fuzz = _load_script()
    results, slowest = fuzz.fuzz(200, seed=11, timeout=20.0, big=False, folder=tmp_path)
    assert set(results) == set(fuzz.CATEGORIES)
    total: Counter = Counter()
    for outcomes in results.values():
        total.update(outcomes)
    assert sum(total.values()) == 200
    failures = {o: n for o, n in total.items() if not o.startswith("exit")}
    assert failures == {}, fuzz.format_table(results, slowest)
    assert total["exit 0"] > 0 and total["exit 2"] > 100  # valid files load, damaged ones are refused
