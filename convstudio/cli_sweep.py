"""``convstudio-cli sweep``: try several learning rates, batch sizes and block parameters, one recorded run each.

``convstudio-cli sweep digits.json --lr 0.01,0.001 --batch 32,64 --set conv1.filters=8,16 --mode grid``
prints a line per trial and then the results table (the best trial starred). With KerasTuner's
environment variables (``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``)
the same command runs distributed: the chief hands out trials, every worker trains them.
"""

from __future__ import annotations

import argparse
import os
import shlex
from typing import Any

from .cli import (
    EXIT_INVALID,
    EXIT_OK,
    CliError,
    _add_folder_options,
    _load_project,
    _require_trainable,
    _run_interruptibly,
    _runs_root,
    _table,
    _training_data,
)

__all__ = ["add_sweep_parser", "cmd_sweep"]


def _spec(args: argparse.Namespace) -> Any:
    """The sweep's spec from ``--lr``, ``--batch`` and each ``--set``."""
    from convstudio.core.sweeps import (
        BATCH_SIZE,
        LEARNING_RATE,
        SweepAxis,
        SweepError,
        SweepSpec,
        parse_axis,
        parse_values,
    )

    try:
        axes = [SweepAxis(target, parse_values(text)) for target, text in ((LEARNING_RATE, args.lr),
                                                                           (BATCH_SIZE, args.batch)) if text]
        axes += [parse_axis(text) for text in args.set or []]
    except SweepError as exc:
        raise CliError(str(exc)) from None
    if not axes:
        raise CliError("give something to vary: --lr 0.01,0.001, --batch 32,64 or --set BLOCK.PARAMETER=8,16")
    return SweepSpec(tuple(axes), args.mode, args.trials, args.seed)


def _describe(values: tuple[tuple[str, Any], ...]) -> str:
    from convstudio.core.sweeps import format_value

    return ", ".join(f"{target} {format_value(value)}" for target, value in values)


class _Printer:
    """The sweep's progress handle for the command line: prints each trial, stops when asked (Ctrl-C)."""

    def __init__(self) -> None:
        self.cancelled = False

    def report(self, item: Any) -> None:
        from convstudio.core.sweeps import TrialEnded, TrialStarted

        if isinstance(item, TrialStarted):
            print(f"trial {item.number}/{item.total}: {_describe(item.values)}", flush=True)
        elif isinstance(item, TrialEnded):
            r = item.row
            score = "-" if r.score is None else f"{r.score:.2%}"
            test = "" if r.test_accuracy is None else f", test {r.test_accuracy:.2%}"
            run = f", run {r.run_id}" if r.run_id else ""
            print(f"  trial {r.number}: {r.outcome}, best {score}{test}, {r.seconds:.1f} s{run}"
                  + (f" ({r.message})" if r.outcome == "error" and r.message else ""), flush=True)


class _Sweep:
    """Runs the sweep; ``stop()`` (the first Ctrl-C) ends it after the current batch."""

    def __init__(self, job: Any, workers: int) -> None:
        self.job, self.workers, self.printer = job, workers, _Printer()

    def stop(self) -> None:
        self.printer.cancelled = True

    def run(self) -> Any:
        from convstudio.core.sweeps import run_sweep

        return run_sweep(self.job, self.printer, workers=self.workers)


def _announce(role: str | None, args: argparse.Namespace) -> None:
    if role == "chief":
        address = f"{os.environ.get('KERASTUNER_ORACLE_IP')}:{os.environ.get('KERASTUNER_ORACLE_PORT')}"
        print(f"Chief of sweep {args.name}: handing out trials on {address} once {args.workers} worker(s) "
              f"have asked; this process trains nothing", flush=True)
    elif role == "worker":
        print(f"Worker {os.environ.get('KERASTUNER_TUNER_ID')} of sweep {args.name}: asking "
              f"{os.environ.get('KERASTUNER_ORACLE_IP')}:{os.environ.get('KERASTUNER_ORACLE_PORT')} for trials",
              flush=True)


def _print_result(result: Any, args: argparse.Namespace) -> None:
    from convstudio.core.sweeps import table_cells

    rows = list(result.rows)
    score = "val acc" if result.score_name == "val_accuracy" else "train acc"
    if rows:
        print(_table(table_cells(rows, result.spec.targets, score), right=set(range(1, len(result.spec.targets) + 5))))
    state = "cancelled after" if result.cancelled else "ran"
    where = " on this worker" if result.role == "worker" else ""
    print(f"Sweep {result.name} {state} {len(rows)} trial(s){where}; KerasTuner's files: {result.folder}")
    best = result.best
    if best is not None and result.role != "worker":
        print(f"best: trial {best.number} ({_describe(best.values)}), {score} {best.score:.2%}")
        if best.run_id:
            print(f"its run: convstudio-cli runs show {shlex.quote(args.project)} {best.run_id}")


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run a sweep of the project (or, distributed, this process's part of it)."""
    from convstudio.core.sweeps import SweepError, SweepJob, distributed_role

    project, path = _load_project(args.project)
    spec = _spec(args)
    try:
        role = distributed_role()
    except SweepError as exc:
        raise CliError(str(exc)) from None
    if role and not args.name:
        raise CliError("a distributed sweep needs --name NAME, the same on the chief and on every worker")
    try:
        settings = project.settings.replace(epochs=args.epochs) if args.epochs is not None else project.settings
    except ValueError as exc:
        raise CliError(str(exc)) from None
    dataset = _training_data(args, project)
    _require_trainable(project, dataset)
    job = SweepJob(spec, project.network, settings, dataset, _runs_root(path), title=project.title or path.stem,
                   origin="cli", name=args.name or "")
    _announce(role, args)
    try:
        result = _run_interruptibly(_Sweep(job, args.workers))
    except SweepError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"the sweep could not run: {exc}") from None
    _print_result(result, args)
    if result.role != "worker" and result.best is None:
        print("error: no trial produced a result; see the messages above", flush=True)
        return EXIT_INVALID
    return EXIT_OK


def add_sweep_parser(sub: Any) -> None:
    """The ``sweep`` command and its options."""
    from convstudio.core.datasets import ALL_DATASET_NAMES

    p = sub.add_parser("sweep", help="try several learning rates, batch sizes or block parameters (KerasTuner), "
                                     "one recorded run per trial",
                       description="Each trial trains the project with one combination of the values and is "
                                   "recorded as a run in <project>.runs. Distributed: set KERASTUNER_TUNER_ID "
                                   "(chief on the chief), KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT, and "
                                   "run the same command with the same --name on every machine.")
    p.add_argument("project", help="project file (.json) or preset id")
    p.add_argument("--lr", help="learning rates, e.g. 0.01,0.001")
    p.add_argument("--batch", help="batch sizes, e.g. 32,64")
    p.add_argument("--set", action="append", metavar="BLOCK.PARAMETER=VALUES",
                   help="a block's filters, units, rate, ... e.g. conv1.filters=8,16 (repeat for more blocks)")
    p.add_argument("--mode", choices=("grid", "random"), default="grid",
                   help="grid: every combination; random: --trials combinations drawn with --seed")
    p.add_argument("--trials", type=int, help="at most this many trials (random: default 10)")
    p.add_argument("--seed", type=int, default=42, help="seed of the random draws (default 42)")
    p.add_argument("--epochs", type=int, help="epochs per trial (default: the project's)")
    p.add_argument("--name", help="the sweep's name (needed, and the same everywhere, when distributed)")
    p.add_argument("--workers", type=int, default=1,
                   help="chief only: wait until this many workers have asked before handing out trials")
    p.add_argument("--dataset", choices=ALL_DATASET_NAMES, help="override the project's dataset")
    p.add_argument("--data-dir", help="dataset folder (see train --help)")
    _add_folder_options(p)
    p.add_argument("--no-sample", action="store_true", help="fail instead of using the bundled sample")
    p.add_argument("--offline", action="store_true", help="never try to download the dataset")
    p.set_defaults(func=cmd_sweep)
