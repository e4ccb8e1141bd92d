"""Write the bundled dataset samples: a stratified, seeded subset of MNIST and Fashion-MNIST.

    python scripts/make_sample.py FOLDER [--out resources/datasets] [--seed 0]

FOLDER holds the full datasets in any layout ``load_dataset`` reads (``mnist.npz`` and
``fashion_mnist.npz`` in the Keras layout, or the IDX files). Each sample keeps
``--train-per-class`` training and ``--test-per-class`` test images of every class, in their
original order, and records which ones (``train_index``, ``test_index``). The script also
writes ``README.md`` beside the samples, with the checksums of the source data.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from convstudio.core.datasets import DATASET_NAMES, DatasetNotFound, display_name, load_dataset
from convstudio.core.idx import idx_bytes

ROOT = Path(__file__).resolve().parents[1]

# md5 of each array written as an uncompressed IDX file: the checksums of the original releases
KNOWN_MD5 = {
    "mnist": {"x_train": "6bbc9ace898e44ae57da46a324031adb", "y_train": "a25bea736e30d166cdddb491f175f624",
              "x_test": "2646ac647ad5339dbf082846283269ea", "y_test": "27ae3e4e09519cfbb04c329615203637"},
    "fashion_mnist": {"x_train": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
                      "y_train": "9018921c3c673c538a1fc5bad174d6f9",
                      "x_test": "8181f5470baa50b63fa0f6fddb340f0a",
                      "y_test": "15d484375f8d13e6eb1aabb0c3f46965"},
}
ORIGINS = {
    "mnist": "MNIST, Yann LeCun, Corinna Cortes and Christopher J. C. Burges "
             "(http://yann.lecun.com/exdb/mnist/), a derivative of NIST data; CC BY-SA 3.0.",
    "fashion_mnist": "Fashion-MNIST, Zalando Research "
                     "(https://github.com/zalandoresearch/fashion-mnist); MIT license.",
}


def stratified_indices(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """``per_class`` indices of every label value, drawn without replacement, sorted."""
    picks = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) < per_class:
            raise SystemExit(f"class {c} has only {len(idx)} images, {per_class} wanted")
        picks.append(rng.choice(idx, size=per_class, replace=False))
    return np.sort(np.concatenate(picks))


def make_sample(name: str, folder: Path | None, out_dir: Path, seed: int, train_per_class: int,
                test_per_class: int) -> dict:
    """Write ``<name>_sample.npz`` and return what the README says about it."""
    try:
        ds = load_dataset(name, data_dir=folder, allow_sample=False, allow_download=False)
    except DatasetNotFound as exc:
        raise SystemExit(str(exc)) from exc
    if len(ds.x_train) != 60_000 or len(ds.x_test) != 10_000:
        raise SystemExit(f"{ds.source} has {len(ds.x_train)}/{len(ds.x_test)} images, "
                         "not the full 60,000/10,000")
    arrays = {"x_train": ds.x_train, "y_train": ds.y_train, "x_test": ds.x_test, "y_test": ds.y_test}
    md5 = {k: hashlib.md5(idx_bytes(a)).hexdigest() for k, a in arrays.items()}
    verified = md5 == KNOWN_MD5[ds.name]
    rng = np.random.default_rng(seed)
    train_index = stratified_indices(ds.y_train, train_per_class, rng)
    test_index = stratified_indices(ds.y_test, test_per_class, rng)
    path = out_dir / f"{ds.name}_sample.npz"
    np.savez_compressed(path, x_train=ds.x_train[train_index], y_train=ds.y_train[train_index],
                        x_test=ds.x_test[test_index], y_test=ds.y_test[test_index],
                        train_index=train_index.astype(np.int32),
                        test_index=test_index.astype(np.int32))
    return {"name": ds.name, "path": path, "source": ds.source, "md5": md5, "verified": verified,
            "n_train": len(train_index), "n_test": len(test_index)}


def readme(results: list[dict], seed: int, train_per_class: int, test_per_class: int) -> str:
    lines = [
        "# Bundled dataset samples",
        "",
        "Small subsets of MNIST and Fashion-MNIST so that ConvStudio works out of the box,",
        "with no download. The app uses them only when the full dataset is not found, and then",
        "says so. For the full sets, put `mnist.npz` / `fashion_mnist.npz` (Keras layout) or the",
        "four IDX files in a folder and set `CONVSTUDIO_DATA_DIR` to it, or choose the folder in",
        "the app.",
        "",
        "| file | training images | test images | from |",
        "| --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(f"| `{r['path'].name}` | {r['n_train']:,} | {r['n_test']:,} | "
                     f"{display_name(r['name'])} |")
    lines += [
        "",
        "Each file is an `np.savez_compressed` archive in the Keras layout: `x_train`, `x_test`",
        "(uint8, `(n, 28, 28)`, 0 = background) and `y_train`, `y_test` (uint8 labels 0-9), plus",
        "`train_index` and `test_index`, the positions of the chosen images in the full sets.",
        "",
        "## How they were made",
        "",
        f"`python scripts/make_sample.py FOLDER --seed {seed}` draws, for every class,",
        f"{train_per_class} training and {test_per_class} test images at random without "
        "replacement (numpy",
        "`default_rng(seed)`), and keeps them in their original order.",
        "Running it again with the same seed and source picks the same images.",
        "",
        "## Where the data comes from",
        "",
    ]
    for r in results:
        lines += [f"- {ORIGINS[r['name']]}"]
    lines += [
        "",
        "The source arrays were checked against the checksums of the original releases: the",
        "md5 of each full array written as an uncompressed IDX file.",
        "",
        "| dataset | array | md5 | matches the original release |",
        "| --- | --- | --- | --- |",
    ]
    for r in results:
        for k, v in r["md5"].items():
            ok = "yes" if v == KNOWN_MD5[r["name"]][k] else "NO"
            lines.append(f"| {display_name(r['name'])} | {k} | `{v}` | {ok} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path,
                        help="folder with the full datasets (default: where load_dataset finds them)")
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "datasets")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-per-class", type=int, default=600)
    parser.add_argument("--test-per-class", type=int, default=100)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = [make_sample(n, args.folder, args.out, args.seed, args.train_per_class,
                           args.test_per_class) for n in DATASET_NAMES]
    (args.out / "README.md").write_text(
        readme(results, args.seed, args.train_per_class, args.test_per_class), encoding="utf-8")
    for r in results:
        size = r["path"].stat().st_size
        state = "checksums match the original release" if r["verified"] else "CHECKSUMS DIFFER"
        print(f"{r['path']}: {r['n_train']} + {r['n_test']} images, {size / 1e6:.2f} MB "
              f"(from {r['source']}; {state})")
    return 0 if all(r["verified"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
