"""Fuzz: generate and mutate project files and run each through ``convstudio-cli info`` in process.

Every file must end in a normal exit (0 valid, 1 invalid network, 2 refused with a message): an
exception escaping ``cli.main`` counts as a traceback, a run over the limit (5 s of CPU time, or 12
times that on the clock) as a hang, and output holding a raw control character (an unescaped ANSI
sequence) or an error of more than one line as unsafe output. Prints the outcomes per category and exits 1 when any of those three happened; each
failing file is kept (its first MB) as ``fuzz_failure_NNNNN.json`` in the current folder to reproduce it.

Run with ``python scripts/fuzz_projects.py [--count 5000] [--seed 1] [--timeout 5]``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import random
import re
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from convstudio import cli  # noqa: E402

PRESETS = sorted((ROOT / "resources" / "presets").glob("*.json"))
WALL_FACTOR = 12
_RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

Doc = dict[str, Any]


def _presets() -> list[Doc]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in PRESETS]


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, indent=1).encode("utf-8", "surrogatepass")


def _paths(node: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every key path in a JSON document (the root excluded)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield prefix + (i,)
            yield from _paths(value, prefix + (i,))


def _set(doc: Any, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def _delete(doc: Any, path: tuple) -> None:
    for key in path[:-1]:
        doc = doc[key]
    del doc[path[-1]]


# --------------------------------------------------------------------------- categories


def byte_mutation(rng: random.Random, base: Doc, big: bool) -> bytes:
    data = bytearray(_dump(base))
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(data))
        op = rng.randrange(3)
        if op == 0:
            data[i] = rng.randrange(256)
        elif op == 1:
            data.insert(i, rng.randrange(256))
        else:
            del data[i]
    return bytes(data)


_ODD_VALUES: list[Any] = [None, True, False, 0, -1, 1.5, "", "x", [], {}, [1, 2], {"a": 1}, "1_0", " 7 ", "1e3",
                          "nan", "inf", 2**63, -(2**63), 1e308, "true", [[[]]]]


def wrong_types(rng: random.Random, base: Doc, big: bool) -> bytes:
    doc = copy.deepcopy(base)
    paths = list(_paths(doc))
    for path in rng.sample(paths, min(len(paths), rng.randint(1, 3))):
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _set(doc, path, copy.deepcopy(rng.choice(_ODD_VALUES)))
    return _dump(doc)


def missing_keys(rng: random.Random, base: Doc, big: bool) -> bytes:
    doc = copy.deepcopy(base)
    paths = list(_paths(doc))
    for path in rng.sample(paths, min(len(paths), rng.randint(1, 3))):
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _delete(doc, path)
    return _dump(doc)


def huge_numbers(rng: random.Random, base: Doc, big: bool) -> bytes:
    text = _dump(base).decode("utf-8")
    numbers = list(re.finditer(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", text))
    choice = rng.choice(numbers)
    digits = rng.choice([19, 25, 40, 309, 401, 4301, 5000] + ([50_000] if big else []))
    replacement = rng.choice([
        "1" + "0" * digits, "-" + "9" * digits, "1e400", "-1e400", "1e-400", "NaN", "Infinity", "-Infinity",
        "0." + "0" * digits + "1", "1" + "0" * min(digits, 300) + ".0", "1E99999",
    ])
    return (text[:choice.start()] + replacement + text[choice.end():]).encode("utf-8")


def deep_nesting(rng: random.Random, base: Doc, big: bool) -> bytes:
    depth = rng.choice([40, 500, 999, 1000, 1001, 5000] + ([100_000] if big else [20_000]))
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    nested = opener * depth + "1" + closer * depth
    text = _dump(base).decode("utf-8")
    where = rng.choice(['"title": ', '"params": ', '"network": ', '"training": ', '"weights": '])
    if where in text:
        return text.replace(where, where + nested + ', "x": ', 1).encode("utf-8")
    return ('{"format": "convstudio-project", "schema_version": 1, "title": ' + nested + "}").encode("utf-8")


_BAD_TEXT = ["\\u0000", "\\ud800", "\\udfff", "a\\ud83d", "\\udc00b", "\\u001b[31mred\\u001b[0m", "\\u001b]0;title\\u0007",
             "\\u009b2J", "\\u202eevil", "\\r\\n\\t", "\\u0000\\u0000"]


def bad_unicode(rng: random.Random, base: Doc, big: bool) -> bytes:
    text = _dump(base).decode("utf-8")
    bad = rng.choice(_BAD_TEXT)
    how = rng.randrange(4)
    if how == 0:
        text = text.replace('"format"', f'"title": "x{bad}y", "format"', 1)
        text = re.sub(r'"title": "[^"]*",\s*("title")', r"\1", text)
    elif how == 1:
        text = text.replace('"weights": null', f'"weights": "w{bad}.keras"', 1)
    elif how == 2:
        strings = list(re.finditer(r'"([A-Za-z_][^"\\]*)"', text))
        m = rng.choice(strings)
        text = text[:m.start(1)] + m.group(1) + bad + text[m.end(1):]
    else:
        raw = text.encode("utf-8")
        i = rng.randrange(len(raw))
        return raw[:i] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xef\xbb\xbf"]) + raw[i:]
    return text.encode("utf-8")


def huge_strings(rng: random.Random, base: Doc, big: bool) -> bytes:
    size = rng.choice([201, 1_001, 4_097, 100_001, 1_000_000] + ([70 * 2**20] if big and rng.random() < 0.05 else []))
    doc = copy.deepcopy(base)
    long = rng.choice("ax\u00e9\u4e2d") * size
    target = rng.randrange(6)
    if target == 0:
        doc["title"] = long
    elif target == 1:
        doc["description"] = long
    elif target == 2:
        doc["weights"] = long
    elif target == 3:
        doc.setdefault("dataset", {})["data_dir"] = long
    else:
        block = rng.choice(doc["network"]["blocks"])
        params = block.setdefault("params", {})
        key = rng.choice(list(params) or ["padding"]) if target == 4 else long[:100_000]
        params[key] = long
    return _dump(doc)


def duplicate_ids(rng: random.Random, base: Doc, big: bool) -> bytes:
    doc = copy.deepcopy(base)
    blocks = doc["network"]["blocks"]
    a, b = rng.sample(range(len(blocks)), 2)
    blocks[b]["id"] = blocks[a]["id"] if rng.random() < 0.7 else rng.choice(["", "9x", "a__b", "output_softmax",
                                                                              "x" * 64, "a\n", "a-b", "\u00e9"])
    return _dump(doc)


def dangling_edges(rng: random.Random, base: Doc, big: bool) -> bytes:
    doc = copy.deepcopy(base)
    edges = doc["network"]["edges"]
    ids = [b["id"] for b in doc["network"]["blocks"]]
    bad = rng.choice([[rng.choice(ids), "nowhere"], ["nowhere", rng.choice(ids)], [rng.choice(ids)],
                      [rng.choice(ids), rng.choice(ids), "x"], "a->b", [1, 2], [rng.choice(ids)] * 2, None])
    edges.insert(rng.randrange(len(edges) + 1), bad)
    return _dump(doc)


def cycles(rng: random.Random, base: Doc, big: bool) -> bytes:
    doc = copy.deepcopy(base)
    edges = doc["network"]["edges"]
    e = rng.choice(edges)
    if rng.random() < 0.5:
        edges.append([e[1], e[0]])  # a two-block loop
    else:
        edges.append([edges[-1][1], edges[rng.randrange(len(edges))][0]])  # back from the end
    if rng.random() < 0.5:
        edges.reverse()
    return _dump(doc)


def many_blocks(rng: random.Random, base: Doc, big: bool) -> bytes:
    n = rng.choice([100, 1000, 3000] + ([16_000, 50_001] if big and rng.random() < 0.2 else []))
    blocks = [{"id": "inp", "kind": "Input"}, {"id": "flat", "kind": "Flatten"}]
    blocks += [{"id": f"a{i}", "kind": "Activation", "params": {"function": "relu"}, "pos": [0, i]} for i in range(n)]
    blocks.append({"id": "out", "kind": "Dense", "params": {"units": 10, "activation": "softmax"}})
    ids = [b["id"] for b in blocks]
    edges = [[ids[i], ids[i + 1]] for i in range(len(ids) - 1)]
    if rng.random() < 0.5:
        edges.reverse()
    if rng.random() < 0.3:
        rng.shuffle(edges)
    doc = {"format": "convstudio-project", "schema_version": 1, "network": {"blocks": blocks, "edges": edges}}
    return json.dumps(doc).encode("utf-8")


def truncated(rng: random.Random, base: Doc, big: bool) -> bytes:
    data = _dump(base)
    return data[:rng.randrange(len(data))]


def random_bytes(rng: random.Random, base: Doc, big: bool) -> bytes:
    n = rng.choice([0, 1, 2, 16, 256, 4096])
    kind = rng.randrange(3)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(n))
    if kind == 1:
        return "".join(rng.choice('{}[]",:0123456789.eE-+ntrufals \\') for _ in range(n)).encode("ascii")
    return b'{"format": "convstudio-project", "schema_version": 1' + bytes(rng.randrange(256) for _ in range(n))


CATEGORIES: dict[str, Callable[[random.Random, Doc, bool], bytes]] = {
    f.__name__: f for f in (byte_mutation, wrong_types, missing_keys, huge_numbers, deep_nesting, bad_unicode,
                            huge_strings, duplicate_ids, dangling_edges, cycles, many_blocks, truncated,
                            random_bytes)
}
_WEIGHT = {"many_blocks": 1, "huge_strings": 2, "deep_nesting": 2}  # the slower categories run less often


# --------------------------------------------------------------------------- running


class _Hang(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Hang


def run_info(path: Path, timeout: float) -> tuple[str, float, str]:
    """Outcome of ``info`` on ``path``: ``exit N``, ``traceback: <type>``, ``hang`` or ``unsafe output``.

    A hang is a run that uses more than ``timeout`` seconds of CPU time, or waits more than
    :data:`WALL_FACTOR` times that on the clock (a blocked read uses no CPU). CPU time, not wall
    time, is the limit because the machines these runs share are often loaded several times over.
    """
    out, err = io.StringIO(), io.StringIO()
    previous = (signal.signal(signal.SIGPROF, _on_alarm), signal.signal(signal.SIGALRM, _on_alarm))
    signal.setitimer(signal.ITIMER_PROF, timeout)
    signal.setitimer(signal.ITIMER_REAL, timeout * WALL_FACTOR)
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["info", str(path)])
        outcome = f"exit {code}"
    except _Hang:
        outcome = "hang"
    except BaseException as exc:  # noqa: BLE001 - anything escaping is what the fuzz run looks for
        outcome = f"traceback: {type(exc).__name__}"
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGPROF, previous[0])
        signal.signal(signal.SIGALRM, previous[1])
    elapsed = time.perf_counter() - start
    text = out.getvalue() + err.getvalue()
    if outcome.startswith("exit") and (_RAW_CONTROL.search(text) or err.getvalue().count("\n") > 1
                                       and outcome == "exit 2"):
        outcome = "unsafe output"
    return outcome, elapsed, err.getvalue().strip()[:200]


def generate(count: int, seed: int, big: bool = True) -> Iterator[tuple[str, bytes]]:
    """``count`` (category, file bytes) pairs, deterministic for a seed, every category in turn."""
    rng = random.Random(seed)
    bases = _presets()
    names = [n for n in CATEGORIES for _ in range(_WEIGHT.get(n, 4))]
    for i in range(count):
        name = names[i % len(names)]
        yield name, CATEGORIES[name](rng, rng.choice(bases), big)


def fuzz(count: int, seed: int, timeout: float, big: bool = True, folder: Path | None = None,
         log: Callable[[str], None] | None = None) -> tuple[dict[str, Counter], dict[str, float]]:
    """Run ``count`` files; returns ``{category: Counter(outcome)}`` and the slowest wall time per category."""
    results: dict[str, Counter] = defaultdict(Counter)
    slowest: dict[str, float] = defaultdict(float)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        for i, (name, data) in enumerate(generate(count, seed, big)):
            path = Path(tmp) / f"{i:05d}_{name}.json"
            path.write_bytes(data)
            outcome, elapsed, message = run_info(path, timeout)
            results[name][outcome] += 1
            slowest[name] = max(slowest[name], elapsed)
            if log and not outcome.startswith("exit"):
                log(f"{outcome} in {elapsed:.1f} s: {name} #{i}: {message}")
                (Path.cwd() / f"fuzz_failure_{i:05d}.json").write_bytes(data[:2**20])
            path.unlink()
    return results, slowest


def format_table(results: dict[str, Counter], slowest: dict[str, float] | None = None) -> str:
    """Outcomes per category (and the slowest run, in seconds) as a Markdown table, with a total row."""
    slowest = dict(slowest or {})
    slowest["total"] = max(slowest.values(), default=0.0)
    outcomes = sorted({o for c in results.values() for o in c})
    total: Counter = Counter()
    lines = ["| category | files | " + " | ".join(outcomes) + " | slowest s |", "|---" * (len(outcomes) + 3) + "|"]
    for name in [*CATEGORIES, "total"]:
        c = total if name == "total" else results.get(name, Counter())
        if name != "total":
            total.update(c)
        lines.append(f"| {name} | {sum(c.values())} | " + " | ".join(str(c.get(o, 0)) for o in outcomes)
                     + f" | {slowest.get(name, 0.0):.2f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds before a run counts as a hang")
    parser.add_argument("--small", action="store_true", help="skip the very large files (70 MB, 100,000 deep)")
    args = parser.parse_args()
    start = time.perf_counter()
    results, slowest = fuzz(args.count, args.seed, args.timeout, big=not args.small, log=print)
    print(f"{args.count} files, seed {args.seed}, {time.perf_counter() - start:.0f} s")
    print(format_table(results, slowest))
    total: Counter = Counter()
    for c in results.values():
        total.update(c)
    bad = sum(n for o, n in total.items() if not o.startswith("exit"))
    print(f"tracebacks {sum(n for o, n in total.items() if o.startswith('traceback'))}, hangs {total['hang']}, "
          f"unsafe output {total['unsafe output']}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
