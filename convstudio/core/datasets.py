"""Datasets: MNIST and Fashion-MNIST from the user's folder, the Keras cache, or the bundled sample.

``load_dataset`` tries each source in turn and records every attempt as a human line, so the
app can say where the data came from or, when nothing worked, what to do. What is read is
validated; a damaged file is a failed attempt and the next source is tried. Sizes are checked
before reading: the shapes an npz or IDX file declares must fit ``MAX_DATA_BYTES``, so a small
file that would inflate to gigabytes is refused with the reason. Loaded datasets are kept in
memory (keyed by name and source file stamps) so a second run does not reread.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .idx import IdxError, idx_bytes, read_idx, read_idx_header
from .resources import ResourceNotFound, resource_path

__all__ = [
    "ALL_DATASET_NAMES", "CLASS_NAMES", "COLOUR_DATASET_NAMES", "DATASET_NAMES", "DATA_DIR_ENV", "MAX_DATA_BYTES",
    "OFFLINE_ENV", "Dataset", "DatasetNotFound", "canonical_name", "clear_cache", "dataset_geometry", "display_name", "folder_problem",
    "load_dataset",
]

DATASET_NAMES = ("mnist", "fashion_mnist")
CLASS_NAMES: dict[str, list[str]] = {
    "mnist": [str(i) for i in range(10)],
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
}
# colour sources, loaded by convstudio.core.data (imported only when asked for)
COLOUR_DATASET_NAMES = ("cifar10", "colour_shapes", "colour_shapes_by_colour", "colour_shapes_by_both",
                        "image_folder")
ALL_DATASET_NAMES = DATASET_NAMES + COLOUR_DATASET_NAMES
_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10",
           "colour_shapes": "Coloured shapes", "colour_shapes_by_colour": "Coloured shapes (classes by colour)",
           "colour_shapes_by_both": "Coloured shapes (classes by colour and shape)", "image_folder": "Image folder"}
_ALIASES = {"mnist": "mnist", "fashion_mnist": "fashion_mnist", "fashion-mnist": "fashion_mnist",
            "fashionmnist": "fashion_mnist", "fashion": "fashion_mnist",
            "cifar10": "cifar10", "cifar-10": "cifar10", "cifar_10": "cifar10",
            "colour_shapes": "colour_shapes", "color_shapes": "colour_shapes", "shapes": "colour_shapes",
            "colour_shapes_by_colour": "colour_shapes_by_colour", "color_shapes_by_color": "colour_shapes_by_colour",
            "colour_shapes_by_both": "colour_shapes_by_both", "color_shapes_by_both": "colour_shapes_by_both",
            "image_folder": "image_folder", "image-folder": "image_folder", "folder": "image_folder"}
_NPZ_NAMES = {"mnist": ("mnist.npz",), "fashion_mnist": ("fashion_mnist.npz", "fashion-mnist.npz")}
_SUBDIRS = {"mnist": ("mnist", "MNIST"),
            "fashion_mnist": ("fashion-mnist", "fashion_mnist", "fashion", "FashionMNIST")}
# (part, IDX kind) of the four original files, e.g. train-images-idx3-ubyte
_IDX_PARTS = (("train-images", "idx3"), ("train-labels", "idx1"),
              ("t10k-images", "idx3"), ("t10k-labels", "idx1"))
_FULL_SIZE = 70_000
MAX_DATA_BYTES = 512 << 20
"""Most bytes the four arrays of one dataset may declare (full MNIST is 55 MB, so ~9x headroom)."""
_KEYS = ("x_train", "y_train", "x_test", "y_test")
# md5 of the original train-labels-idx1-ubyte (uncompressed): tells the two datasets apart
_TRAIN_LABELS_MD5 = {"mnist": "a25bea736e30d166cdddb491f175f624",
                     "fashion_mnist": "9018921c3c673c538a1fc5bad174d6f9"}

DATA_DIR_ENV = "CONVSTUDIO_DATA_DIR"
OFFLINE_ENV = "CONVSTUDIO_OFFLINE"
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
DOWNLOAD_HOST = ("storage.googleapis.com", 443)
REACH_TIMEOUT_S = 4.0
DOWNLOAD_SOCKET_TIMEOUT_S = 10.0

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class DatasetNotFound(RuntimeError):
    """No source had the dataset; the message says what was tried and what to do."""


class _Invalid(ValueError):
    """What was read is not a usable dataset (wrong shape, dtype, labels)."""


@dataclass
class Dataset:
    """Images as uint8 ``(n, 28, 28)`` arrays with labels 0..9, plus where they came from.

    Arrays of a loaded dataset are shared with the in-memory cache and read-only.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    source: str = ""
    is_sample: bool = False
    attempts: list[str] = field(default_factory=list)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(h, w, c)``: grey images are stored ``(n, h, w)``, colour ones ``(n, h, w, c)``."""
        shape = self.x_train.shape
        return (int(shape[1]), int(shape[2]), int(shape[3]) if len(shape) == 4 else 1)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def title(self) -> str:
        """Display name, e.g. ``Fashion-MNIST``."""
        return _TITLES.get(self.name, self.name)

    @property
    def rejected(self) -> list[str]:
        """Why each source tried before the one used was passed over, one line each."""
        return list(self.attempts[:-1])

    @property
    def sample_note(self) -> str:
        """For the bundled sample, one line saying results are not from the full set; else ``""``."""
        if not self.is_sample:
            return ""
        n = len(self.x_train) + len(self.x_test)
        return (f"SAMPLE: results come from the bundled sample ({n:,} of {_FULL_SIZE:,} {self.title} images), "
                "not the full dataset, and are not comparable to published figures")

    def report_lines(self) -> list[str]:
        """Where the data came from; for the sample, also why each other source was not used."""
        lines = [self.source or self.title]
        if self.is_sample:
            lines.append(self.sample_note)
            if self.rejected:
                lines.append("the full dataset was not used because:")
                lines.extend(f"  - {line}" for line in self.rejected)
        return lines


def canonical_name(name: str) -> str:
    """The key in ``ALL_DATASET_NAMES`` for any accepted spelling; ``ValueError`` otherwise."""
    key = _ALIASES.get(str(name).strip().lower())
    if key is None:
        raise ValueError(f"Unknown dataset '{name}': choose one of {', '.join(ALL_DATASET_NAMES)}.")
    return key


def display_name(name: str) -> str:
    """Human name of a dataset, e.g. ``display_name("fashion-mnist") == "Fashion-MNIST"``."""
    return _TITLES[canonical_name(name)]


# ---------------------------------------------------------------- in-memory cache

_CACHE: dict[tuple, Dataset] = {}
_CACHE_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget every dataset loaded so far (the next load reads the files again)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _stamp(files: Sequence[Path]) -> tuple:
    out = []
    for p in files:
        st = p.stat()
        out.append((str(p.resolve()), st.st_mtime_ns, st.st_size))
    return tuple(out)


# ---------------------------------------------------------------- reading and validation

def _show(path: Path) -> str:
    """``path`` for people: the home folder shown as ``~``."""
    try:
        home = Path.home()
        if home == Path(home.anchor):
            return str(path)
        return "~/" + str(Path(path).relative_to(home))
    except (ValueError, RuntimeError):
        return str(path)


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MB" if n >= 1 << 20 else f"{n:,} bytes"


def _check_declared(shapes: dict[str, tuple[int, ...]], nbytes: int) -> None:
    """Refuse shapes no dataset can have, or more data than ``MAX_DATA_BYTES``, before reading."""
    for split, x, y in (("training", "x_train", "y_train"), ("test", "x_test", "y_test")):
        if x in shapes and (len(shapes[x]) != 3 or tuple(shapes[x][1:]) != (28, 28)):
            raise _Invalid(f"{split} images are declared with shape {tuple(shapes[x])}, expected (n, 28, 28)")
        if y in shapes and len(shapes[y]) != 1:
            raise _Invalid(f"{split} labels are declared with shape {tuple(shapes[y])}, expected one per image")
    if nbytes > MAX_DATA_BYTES:
        described = ", ".join(f"{k} {tuple(v)}" for k, v in shapes.items())
        raise _Invalid(f"the file declares {_mib(nbytes)} of data ({described}), more than the "
                       f"{_mib(MAX_DATA_BYTES)} a dataset may hold; refused before reading")


def _npy_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from the ``.npy`` header of a zip member (reads only the header)."""
    fmt = np.lib.format
    with zf.open(info) as f:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = fmt.read_array_header_2_0(f)
        else:
            raise _Invalid(f"{info.filename} uses .npy format version {version}, which is not supported")
    if dtype.hasobject:
        raise _Invalid(f"{info.filename} holds Python objects, not numbers")
    if any(d < 0 for d in shape):
        raise _Invalid(f"{info.filename} declares an impossible shape {shape}")
    return tuple(shape), dtype


def _check_npz(path: Path) -> None:
    """Refuse an npz whose members declare impossible or oversized arrays, reading only headers."""
    if not zipfile.is_zipfile(path):
        raise _Invalid("damaged or unreadable: not a complete npz (zip) archive")
    shapes: dict[str, tuple[int, ...]] = {}
    total = 0
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            key = info.filename.removesuffix(".npy")
            if key not in _KEYS:
                continue
            if info.file_size > MAX_DATA_BYTES:
                raise _Invalid(f"{info.filename} inflates to {_mib(info.file_size)}, more than the "
                               f"{_mib(MAX_DATA_BYTES)} a dataset may hold; refused before reading")
            shape, dtype = _npy_header(zf, info)
            shapes[key] = shape
            total += math.prod(shape) * dtype.itemsize
    _check_declared(shapes, total)


def _read_npz(path: Path) -> Arrays:
    _check_npz(path)
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in _KEYS if k not in data.files]
        if missing:
            raise _Invalid(f"not a dataset file (no {', '.join(missing)} inside; "
                           "expected the Keras layout x_train, y_train, x_test, y_test)")
        return data["x_train"], data["y_train"], data["x_test"], data["y_test"]


def _find_idx(folder: Path) -> tuple[list[Path], list[str]]:
    """The four IDX files in ``folder`` (any accepted spelling) and the names of missing ones."""
    found, missing = [], []
    for part, kind in _IDX_PARTS:
        names = [f"{part}-{kind}-ubyte", f"{part}.{kind}-ubyte"]
        hit = next((folder / (n + gz) for n in names for gz in ("", ".gz")
                    if (folder / (n + gz)).is_file()), None)
        if hit is None:
            missing.append(f"{part}-{kind}-ubyte[.gz]")
        else:
            found.append(hit)
    return found, missing


def folder_problem(folder: str | os.PathLike[str]) -> str | None:
    """Why ``folder`` cannot be a data folder (one line naming what was looked for), or None.

    Only looks for the files by name (no reading), so a dialog can answer at once; a folder with a
    damaged file passes here and is explained when the data is loaded.
    """
    root = Path(folder)
    if not root.is_dir():
        return f"{_show(root)} is not a folder"
    subs = sorted({s for names in _SUBDIRS.values() for s in names})
    try:
        if any(_holds_a_dataset(d) for d in (root, *(root / s for s in subs))):
            return None
    except OSError as exc:
        return f"{_show(root)} cannot be read ({exc.strerror or exc})"
    npz = ", ".join(sorted({n for names in _NPZ_NAMES.values() for n in names}))
    return (f"No dataset in {_show(root)}: looked for {npz} and the four IDX files "
            f"(train-images-idx3-ubyte[.gz] ...), there and in {', '.join(s + '/' for s in subs)}")


def _holds_a_dataset(folder: Path) -> bool:
    """Whether ``folder`` holds a dataset file by its name (an npz, or the four IDX files)."""
    if not folder.is_dir():
        return False
    return any((folder / n).is_file() for names in _NPZ_NAMES.values() for n in names) or bool(_find_idx(folder)[0])


def _idx_reader(files: Sequence[Path]) -> Callable[[], Arrays]:
    def read() -> Arrays:
        headers = [read_idx_header(p, p.name, max_bytes=MAX_DATA_BYTES) for p in files]
        _check_declared({k: h.dims for k, h in zip(_KEYS, headers)}, sum(h.data_bytes for h in headers))
        x_train, y_train, x_test, y_test = (read_idx(p, p.name, max_bytes=h.data_bytes)
                                            for p, h in zip(files, headers))
        return x_train, y_train, x_test, y_test
    return read


def _check_images(split: str, x: np.ndarray) -> None:
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise _Invalid(f"{split} images have shape {x.shape}, expected (n, 28, 28)")
    if x.dtype != np.uint8:
        raise _Invalid(f"{split} images are {x.dtype}, expected uint8 pixels 0..255")
    if len(x) == 0:
        raise _Invalid(f"no {split} images")


def _check_labels(split: str, x: np.ndarray, y: np.ndarray) -> None:
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise _Invalid(f"{split} labels have shape {y.shape} and type {y.dtype}, expected one integer per image")
    if len(y) != len(x):
        raise _Invalid(f"{len(x):,} {split} images but {len(y):,} labels")
    if y.min() < 0 or y.max() > 9:
        raise _Invalid(f"{split} labels run from {y.min()} to {y.max()}, expected 0..9")


def _validate(key: str, arrays: Arrays) -> Arrays:
    x_train, y_train, x_test, y_test = (np.asarray(a) for a in arrays)
    for split, x, y in (("training", x_train, y_train), ("test", x_test, y_test)):
        _check_images(split, x)
        _check_labels(split, x, y)
    labels_md5 = hashlib.md5(idx_bytes(y_train.astype(np.uint8))).hexdigest()
    for other, known in _TRAIN_LABELS_MD5.items():
        if other != key and labels_md5 == known:
            raise _Invalid(f"these are the {_TITLES[other]} files, not {_TITLES[key]}")
    out = []
    for a in (x_train, y_train.astype(np.uint8), x_test, y_test.astype(np.uint8)):
        a = np.ascontiguousarray(a)
        a.flags.writeable = False  # shared with the cache
        out.append(a)
    return tuple(out)  # type: ignore[return-value]


class _Loader:
    """One ``load_dataset`` call: the attempts so far, and reading a candidate with the cache."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.attempts: list[str] = []

    def note(self, line: str) -> None:
        self.attempts.append(line)

    def dataset(self, arrays: Arrays, source: str, is_sample: bool) -> Dataset:
        return Dataset(self.key, *arrays, class_names=list(CLASS_NAMES[self.key]),
                       source=source, is_sample=is_sample, attempts=list(self.attempts))

    def try_files(self, label: str, files: Sequence[Path], read: Callable[[], Arrays],
                  source: Callable[[Arrays], str] | None = None,
                  is_sample: bool = False) -> Dataset | None:
        """Read ``files`` with ``read`` unless already in memory; ``None`` (noted) on failure."""
        try:
            cache_key = (self.key, _stamp(files))
        except OSError as exc:
            self.note(f"{label}: cannot be read ({exc.strerror or exc})")
            return None
        with _CACHE_LOCK:
            cached = _CACHE.get(cache_key)
        if cached is not None:
            self.note(f"{label}: loaded (already in memory)")
            return dataclasses.replace(cached, attempts=list(self.attempts))
        try:
            arrays = _validate(self.key, read())
        except (IdxError, _Invalid) as exc:
            self.note(f"{label}: {exc}")
            return None
        except Exception as exc:  # a damaged file must be a failed attempt, not a crash
            self.note(f"{label}: damaged or unreadable ({type(exc).__name__}: {exc})")
            return None
        self.note(f"{label}: loaded {len(arrays[0]):,} training and {len(arrays[2]):,} test images")
        ds = self.dataset(arrays, source(arrays) if source else label, is_sample)
        with _CACHE_LOCK:
            _CACHE[cache_key] = ds
        return dataclasses.replace(ds, attempts=list(ds.attempts))

    # ------------------------------------------------------------ sources, in order

    def from_folder(self, folder: Path) -> Dataset | None:
        """A Keras-layout npz or the four IDX files in ``folder`` or a subfolder named for the data."""
        try:
            return self._scan_folder(folder)
        except OSError as exc:  # e.g. a folder without read or search permission
            self.note(f"{_show(folder)}: cannot be read ({exc.strerror or exc})")
            return None

    def _candidate_dirs(self, folder: Path) -> list[Path]:
        """``folder`` and its usual subfolders for this dataset, each once."""
        seen, dirs = set(), []
        for d in (folder, *(folder / s for s in _SUBDIRS[self.key])):
            if d.is_dir() and d.resolve() not in seen:
                seen.add(d.resolve())
                dirs.append(d)
        return dirs

    def _scan_dir(self, d: Path) -> tuple[bool, Dataset | None]:
        """Try the npz files, then the IDX files in ``d``: (whether any was there, the dataset read)."""
        found = False
        for npz in _NPZ_NAMES[self.key]:
            path = d / npz
            if path.is_file():
                found = True
                ds = self.try_files(_show(path), [path], lambda p=path: _read_npz(p))
                if ds is not None:
                    return True, ds
        files, missing = _find_idx(d)
        if files and missing:
            self.note(f"{_show(d)}: IDX files incomplete, missing {', '.join(missing)}")
            return True, None
        if files:
            return True, self.try_files(f"{_show(d)} (IDX files)", files, _idx_reader(files))
        return found, None

    def _scan_folder(self, folder: Path) -> Dataset | None:
        if not folder.is_dir():
            self.note(f"{_show(folder)}: folder not found")
            return None
        found_any = False
        for d in self._candidate_dirs(folder):
            found, ds = self._scan_dir(d)
            found_any = found_any or found
            if ds is not None:
                return ds
        if not found_any:
            subs = ", ".join(f"{s}/" for s in _SUBDIRS[self.key])
            self.note(f"{_show(folder)}: no {' or '.join(_NPZ_NAMES[self.key])} and no IDX files "
                      f"(train-images-idx3-ubyte[.gz] ...), also looked in {subs}")
        return None

    def from_user_folder(self, data_dir: str | os.PathLike | None) -> Dataset | None:
        if data_dir is None or not str(data_dir).strip():
            data_dir = os.environ.get(DATA_DIR_ENV) or None
            if data_dir is None:
                self.note(f"data folder: none chosen and {DATA_DIR_ENV} is not set")
                return None
        return self.from_folder(Path(data_dir).expanduser())

    def from_keras_cache(self) -> Dataset | None:
        home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
        cache = Path(home).expanduser() / "datasets"
        if self.key == "mnist":
            path = cache / "mnist.npz"
            if not path.is_file():
                self.note(f"{_show(path)}: not found")
                return None
            return self.try_files(_show(path), [path], lambda: _read_npz(path))
        folder = cache / "fashion-mnist"
        return self.from_idx_folder(folder)

    def from_idx_folder(self, folder: Path) -> Dataset | None:
        if not folder.is_dir():
            self.note(f"{_show(folder)}/: not found")
            return None
        files, missing = _find_idx(folder)
        if missing:
            self.note(f"{_show(folder)}/: missing {', '.join(missing)}")
            return None
        return self.try_files(f"{_show(folder)}/ (IDX files)", files, _idx_reader(files))

    def from_download(self, allow: bool) -> Dataset | None:
        where = f"download from {DOWNLOAD_HOST[0]}"
        if os.environ.get(OFFLINE_ENV, "").strip() not in ("", "0"):
            self.note(f"{where}: not allowed (offline)")
            return None
        if not allow:
            self.note(f"{where}: not allowed (downloads are off for this command)")
            return None
        ok, why = _reachable()
        if not ok:
            self.note(f"{where}: no connection ({why})")
            return None
        with _CACHE_LOCK:
            cached = _CACHE.get((self.key, "download"))
        if cached is not None:
            self.note(f"{where}: loaded (already in memory)")
            return dataclasses.replace(cached, attempts=list(self.attempts))
        old = socket.getdefaulttimeout()
        socket.setdefaulttimeout(DOWNLOAD_SOCKET_TIMEOUT_S)
        try:
            import keras

            loader = getattr(keras.datasets, self.key)
            (x_train, y_train), (x_test, y_test) = loader.load_data()
            arrays = _validate(self.key, (x_train, y_train, x_test, y_test))
        except Exception as exc:  # network errors, checksum failures, bad files
            self.note(f"{where}: failed ({type(exc).__name__}: {exc})")
            return None
        finally:
            socket.setdefaulttimeout(old)
        self.note(f"{where}: loaded {len(arrays[0]):,} training and {len(arrays[2]):,} test images")
        ds = self.dataset(arrays, f"downloaded with keras.datasets.{self.key} (now in the Keras cache)",
                          False)
        with _CACHE_LOCK:
            _CACHE[(self.key, "download")] = ds
        return dataclasses.replace(ds, attempts=list(ds.attempts))

    def from_sample(self, allow: bool) -> Dataset | None:
        if not allow:
            self.note("bundled sample: not allowed")
            return None
        try:
            path = resource_path("datasets", f"{self.key}_sample.npz", must_exist=False)
        except ResourceNotFound as exc:
            self.note(f"bundled sample: {exc}")
            return None
        if not path.is_file():
            self.note(f"bundled sample {path}: not found")
            return None
        def describe(arrays: Arrays) -> str:
            n_train, n_test = len(arrays[0]), len(arrays[2])
            return (f"Bundled sample of {n_train + n_test:,} {_TITLES[self.key]} images "
                    f"({n_train:,} training, {n_test:,} test) out of {_FULL_SIZE:,}. "
                    f"For the full set, put {_NPZ_NAMES[self.key][0]} or the four IDX files in "
                    f"a folder and set {DATA_DIR_ENV} to it, or choose that folder in ConvStudio.")

        return self.try_files(f"bundled sample {path.name}", [path], lambda: _read_npz(path),
                              source=describe, is_sample=True)


_REACH_LOCK = threading.Lock()
_REACH: dict[str, tuple[float, bool, str]] = {}
_REACH_TTL_S = 60.0


def _reachable() -> tuple[bool, str]:
    """Whether the download host answers within a few seconds (remembered for a minute)."""
    host, port = DOWNLOAD_HOST
    with _REACH_LOCK:
        hit = _REACH.get(host)
        if hit and time.monotonic() - hit[0] < _REACH_TTL_S:
            return hit[1], hit[2]
    result: dict[str, str] = {}

    def probe() -> None:  # DNS lookups ignore socket timeouts, hence the thread
        try:
            socket.create_connection((host, port), timeout=REACH_TIMEOUT_S).close()
            result["ok"] = ""
        except OSError as exc:
            result["error"] = exc.strerror or str(exc) or type(exc).__name__

    thread = threading.Thread(target=probe, name="convstudio-reach", daemon=True)
    thread.start()
    thread.join(REACH_TIMEOUT_S + 1.0)
    ok = "ok" in result
    why = "" if ok else result.get("error", f"no answer in {REACH_TIMEOUT_S:.0f} s")
    with _REACH_LOCK:
        _REACH[host] = (time.monotonic(), ok, why)
    return ok, why


def dataset_geometry(name: str) -> tuple[tuple[int, int, int], int] | None:
    """A dataset's image shape and number of classes, known without loading it; None for an image folder."""
    key = canonical_name(name)
    if key in DATASET_NAMES:
        return (28, 28, 1), len(CLASS_NAMES[key])
    if key == "cifar10":
        return (32, 32, 3), 10
    from .data.synthetic import DATASET_KEYS, _class_names

    by = {v: k for k, v in DATASET_KEYS.items()}.get(key)
    return ((32, 32, 3), len(_class_names(by))) if by is not None else None


def _load_colour(key: str, data_dir: str | os.PathLike | None, test_dir: str | os.PathLike | None = None,
                 resize: str = "stretch") -> Dataset:
    """CIFAR-10 (``data_dir`` or ``$CONVSTUDIO_DATA_DIR``, then the Keras cache), an image folder
    (``data_dir``, required; ``test_dir`` and ``resize`` as in ``load_image_folder``) or the generated
    coloured shapes; see docs/datasets.md."""
    chosen = data_dir if data_dir is not None and str(data_dir).strip() else None
    if key == "cifar10":
        from .data.cifar10 import load_cifar10

        return load_cifar10(chosen or os.environ.get(DATA_DIR_ENV) or None)
    if key == "image_folder":
        from .data.folder_scan import ScanError
        from .data.image_folder import load_image_folder

        if chosen is None:
            raise DatasetNotFound("No image folder chosen: choose a folder with one subfolder of images per class.")
        try:
            return load_image_folder(chosen, resize=resize, test_dir=test_dir or None)
        except (ScanError, ValueError) as exc:
            raise DatasetNotFound(str(exc)) from None
    from .data.synthetic import DATASET_KEYS, colour_shapes_dataset

    return colour_shapes_dataset(by={v: k for k, v in DATASET_KEYS.items()}[key])


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, allow_sample: bool = True,
                 allow_download: bool = True, *, test_dir: str | os.PathLike | None = None,
                 resize: str = "stretch") -> Dataset:
    """Load a dataset of ``ALL_DATASET_NAMES`` from the first source that has it.

    CIFAR-10, image folders and the generated coloured shapes come from
    :mod:`convstudio.core.data` (never downloaded; ``data_dir`` is the folder to read; an image
    folder also takes a separate ``test_dir`` and the ``resize`` mode). MNIST and
    Fashion-MNIST sources in order: ``data_dir`` (or ``$CONVSTUDIO_DATA_DIR``), the Keras cache
    (``$KERAS_HOME`` or ``~/.keras``), a Keras download (if ``allow_download`` and
    ``$CONVSTUDIO_OFFLINE`` is unset), Debian's ``/usr/share/datasets/fashion-mnist``, and
    the bundled sample (if ``allow_sample``). ``dataset.attempts`` lists what was tried.
    Raises ``DatasetNotFound`` listing every attempt when no source works.
    """
    key = canonical_name(name)
    if key in COLOUR_DATASET_NAMES:
        return _load_colour(key, data_dir, test_dir, resize)
    loader = _Loader(key)
    steps: list[Callable[[], Dataset | None]] = [
        lambda: loader.from_user_folder(data_dir),
        loader.from_keras_cache,
        lambda: loader.from_download(allow_download),
    ]
    if key == "fashion_mnist":
        steps.append(lambda: loader.from_idx_folder(DEBIAN_FASHION_DIR))
    steps.append(lambda: loader.from_sample(allow_sample))
    for step in steps:
        try:
            ds = step()
        except OSError as exc:  # a source that cannot even be looked at is a failed attempt too
            where = _show(Path(os.fsdecode(exc.filename))) if exc.filename else "a data source"
            loader.note(f"{where}: cannot be read ({exc.strerror or exc})")
            continue
        if ds is not None:
            return ds
    title = _TITLES[key]
    tried = "\n".join(f"  - {line}" for line in loader.attempts)
    raise DatasetNotFound(
        f"{title} was not found. Tried:\n{tried}\n"
        f"To use it, get {_NPZ_NAMES[key][0]} (Keras layout) or the four IDX files "
        "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
        f"t10k-labels-idx1-ubyte.gz), put them in a folder, and set {DATA_DIR_ENV} to that "
        "folder or choose it in ConvStudio.")
