"""Image folders: the scan report, in-memory and streamed loading, resizing, channels, damaged files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convstudio.core.data.folder_scan import ScanError, header_info, scan_image_folder
from convstudio.core.data.image_folder import load_image_folder
from convstudio.core.pipeline import make_datasets

COLOURS = {"cat": (220, 30, 30), "dog": (30, 200, 40), "fox": (40, 40, 230)}


def _img(colour, size, mode):
    h, w = size
    rgb = Image.fromarray(np.broadcast_to(np.array(colour, np.uint8), (h, w, 3)).copy())
    return rgb.convert(mode)


def make_folder(root, per_class=4, damaged=True):
    """Three classes of flat-coloured images in every format, mode and a few sizes; plus damaged files."""
    kinds = [("png", "RGB", (20, 30)), ("jpg", "RGB", (32, 32)), ("bmp", "RGB", (24, 24)),
             ("gif", "P", (16, 16)), ("png", "RGBA", (20, 30)), ("bmp", "P", (20, 30)),
             ("png", "LA", (12, 12)), ("jpg", "L", (20, 30))]
    for name, colour in COLOURS.items():
        folder = root / name / "nested"
        folder.mkdir(parents=True)
        for i in range(per_class):
            ext, mode, size = kinds[i % len(kinds)]
            _img(colour, size, mode).save(folder / f"{i}.{ext}")
    if damaged:
        (root / "cat" / "empty.png").write_bytes(b"")
        (root / "cat" / "notes.txt").write_text("not an image")
        (root / "dog" / "noise.jpg").write_bytes(bytes(range(200)))
        (root / "readme.md").write_text("top-level file")
        good = (root / "fox" / "nested" / "0.png").read_bytes()
        (root / "fox" / "truncated.png").write_bytes(good[:60])  # header fine, pixels cut off
    return root


def test_scan_reports_classes_sizes_modes_and_skipped(tmp_path):
    scan = scan_image_folder(make_folder(tmp_path, per_class=8))
    assert scan.class_names == ["cat", "dog", "fox"]
    assert scan.class_counts == {"cat": 8, "dog": 8, "fox": 9}  # the truncated file passes the header check
    assert scan.common_sizes(1) == [((20, 30), 12 + 1)]
    assert set(scan.mode_counts) >= {"RGB", "RGBA", "P", "LA", "L"}
    reasons = {p.rsplit("/", 1)[-1]: r for p, r in scan.skipped}
    assert reasons == {"empty.png": "empty file (0 bytes)", "notes.txt": "not an image (extension)",
                       "noise.jpg": "not an image (unknown content)", "readme.md": "outside any class folder"}
    report = scan.to_dict()
    assert report["images"] == 25 and report["skipped_reasons"]["empty file (0 bytes)"] == 1
    assert "skipped 4 files" in scan.summary()


def test_scan_threads_give_the_same_report(tmp_path):
    root = make_folder(tmp_path, per_class=300, damaged=False)
    one, many = scan_image_folder(root, workers=1), scan_image_folder(root, workers=4)
    assert one.files == many.files and one.headers == many.headers and len(one.files) == 900


def test_header_only_corruption_and_unreadable(tmp_path):
    good = tmp_path / "a.png"
    _img((1, 2, 3), (5, 7), "RGB").save(good)
    assert header_info(good).size == (7, 5)
    data = bytearray(good.read_bytes())
    data[20] ^= 0xFF  # inside IHDR: the header checksum no longer matches
    bad = tmp_path / "b.png"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum"):
        header_info(bad)


def test_loads_mixed_folder_in_memory_as_rgb(tmp_path):
    ds = load_image_folder(make_folder(tmp_path, per_class=8), image_size=(16, 16), channels=3, test_split=0.25)
    assert ds.stream is None and ds.input_shape == (16, 16, 3) and ds.class_names == list(COLOURS)
    assert len(ds.x_train) + len(ds.x_test) == 24  # 25 scanned, the truncated one failed to decode
    assert [p.rsplit("/", 1)[-1] for p in ds.decode_skipped] == ["truncated.png"]
    x = np.concatenate([ds.x_train, ds.x_test]).astype(int)
    y = np.concatenate([ds.y_train, ds.y_test])
    means = x.reshape(len(x), -1, 3).mean(1)
    colour = np.ptp(means, axis=1) > 20  # the two grey files per class (LA png, L jpeg) are grey
    assert colour.sum() == 18
    for mean, label in zip(means[colour], y[colour]):  # palette BMP and GIF decoded in colour too
        np.testing.assert_allclose(mean, COLOURS[list(COLOURS)[label]], atol=6)
    assert "could not be decoded" in ds.attempts[-1]


def test_grey_channel_and_default_size(tmp_path):
    ds = load_image_folder(make_folder(tmp_path, per_class=8), channels=1, test_split=0.0)
    assert ds.input_shape == (20, 30, 1) and ds.x_train.ndim == 3  # the most common size
    grey = {n: 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] for n, c in COLOURS.items()}
    for i, name in enumerate(COLOURS):
        assert abs(ds.x_train[ds.y_train == i].mean() - grey[name]) < 6


def test_all_grey_folder_defaults_to_one_channel(tmp_path):
    for c in ("a", "b"):
        (tmp_path / c).mkdir()
        for i in range(3):
            _img((90, 90, 90), (8, 8), "L").save(tmp_path / c / f"{i}.png")
    assert load_image_folder(tmp_path, test_split=0.0).input_shape == (8, 8, 1)


@pytest.mark.parametrize("resize, edge_rows", [("stretch", 255), ("crop", 255), ("pad", 0)])
def test_resize_keeps_aspect_by_crop_or_pad(tmp_path, resize, edge_rows):
    (tmp_path / "a").mkdir()
    white = np.full((10, 20, 3), 255, np.uint8)
    white[:, :10] = 100  # left half darker: a centre crop keeps both halves, a pad keeps everything
    Image.fromarray(white).save(tmp_path / "a" / "x.png")
    ds = load_image_folder(tmp_path, image_size=(10, 10), channels=3, resize=resize, test_split=0.0)
    img = ds.x_train[0]
    assert img.shape == (10, 10, 3)
    assert img[0, -1, 0] == edge_rows  # top-right pixel: padding is black
    if resize == "crop":
        assert img[5, 0, 0] == 100 and img[5, -1, 0] == 255


def _batches(ds):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


def test_streamed_folder_gives_the_same_images_and_skips_damaged_files(tmp_path):
    root = make_folder(tmp_path, per_class=8)
    memory = load_image_folder(root, image_size=(16, 16), channels=3, test_split=0.25)
    streamed = load_image_folder(root, image_size=(16, 16), channels=3, test_split=0.25, memory_limit_mb=0.001)
    assert streamed.stream is not None and "streamed" in streamed.source
    splits = make_datasets(streamed, batch_size=4, validation_split=0.2, seed=1)
    x_test, y_test = _batches(splits.test)
    np.testing.assert_array_equal(x_test, memory.x_test / np.float32(255))
    np.testing.assert_array_equal(y_test, memory.y_test)
    x_train, _ = _batches(splits.train)
    x_val, _ = _batches(splits.val)
    assert x_train.shape[1:] == (16, 16, 3) and len(x_train) + len(x_val) == len(memory.x_train)
    assert splits.counts["train"] + splits.counts["val"] == len(memory.x_train) + 1  # counts are files
    assert [p.rsplit("/", 1)[-1] for p in streamed.stream.decode_failures()] == ["truncated.png"]


def test_streamed_training_epoch_survives_a_damaged_file_and_caches_to_disk(tmp_path):
    import keras

    root = make_folder(tmp_path / "data", per_class=8)
    ds = load_image_folder(root, image_size=(12, 12), channels=3, test_split=0.2, memory_limit_mb=0.001,
                           cache_dir=str(tmp_path / "cache"))
    splits = make_datasets(ds, batch_size=4, validation_split=0.0, seed=0)
    model = keras.Sequential([keras.Input((12, 12, 3)), keras.layers.Flatten(), keras.layers.Dense(3)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(splits.train, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert any(p.name.startswith("train-12x12x3") for p in (tmp_path / "cache").iterdir())
    first, _ = _batches(splits.train)
    second, _ = _batches(splits.train)
    assert len(first) == len(second) == splits.counts["train"] - len(ds.stream.decode_failures())
    assert not np.array_equal(first, second)  # reshuffled after the cache


def test_separate_test_folder_and_its_classes(tmp_path):
    train = make_folder(tmp_path / "train", per_class=4, damaged=False)
    test = tmp_path / "test"
    (test / "dog").mkdir(parents=True)
    _img(COLOURS["dog"], (20, 30), "RGB").save(test / "dog" / "d.png")
    ds = load_image_folder(train, test_dir=test, image_size=(8, 8), channels=3)
    assert len(ds.x_train) == 12 and ds.y_test.tolist() == [1] and ds.test_scan.class_counts["dog"] == 1
    (test / "wolf").mkdir()
    with pytest.raises(ScanError, match="test classes wolf are not among the training classes"):
        load_image_folder(train, test_dir=test)


@pytest.mark.parametrize("setup, message", [
    (lambda p: None, "no such folder"),
    (lambda p: p.mkdir(), "no class folders"),
    (lambda p: (p / "a").mkdir(parents=True) or (p / "a" / "x.png").write_bytes(b""),
     r"no usable images in the class folders \(1 files skipped: empty file"),
])
def test_unusable_folders_have_one_line_messages(tmp_path, setup, message):
    root = tmp_path / "f"
    setup(root)
    with pytest.raises(ScanError, match=message):
        load_image_folder(root)


def test_bad_options_have_clear_messages(tmp_path):
    root = make_folder(tmp_path, per_class=2, damaged=False)
    for kwargs, message in (({"channels": 4}, "1 \\(grey\\) or 3"), ({"resize": "fit"}, "Resize by"),
                            ({"image_size": (0, 5)}, "height must be"), ({"test_split": 1.0}, "test split")):
        with pytest.raises(ValueError, match=message):
            load_image_folder(root, **kwargs)


def test_disk_cache_is_keyed_by_the_file_list_and_a_held_prefix_is_not_shared(tmp_path):
    root = make_folder(tmp_path / "data", per_class=4, damaged=False)
    cache = tmp_path / "cache"
    a = load_image_folder(root, image_size=(8, 8), channels=3, test_split=0.25, memory_limit_mb=0.0001,
                          cache_dir=str(cache))
    b = load_image_folder(root, image_size=(8, 8), channels=3, test_split=0.5, memory_limit_mb=0.0001,
                          cache_dir=str(cache))
    pa = a.stream._cache_path("train", a.stream.train_files)
    pb = b.stream._cache_path("train", b.stream.train_files)
    assert pa != pb and pa == a.stream._cache_path("train", a.stream.train_files)
    open(pa + "_0.lockfile", "w").close()  # another iterator is writing this cache
    assert a.stream._cache_path("train", a.stream.train_files).startswith(pa + "-")


def test_load_dataset_reads_an_image_folder(tmp_path):
    from convstudio.core.datasets import DatasetNotFound, load_dataset

    ds = load_dataset("image_folder", data_dir=make_folder(tmp_path / "f", per_class=4, damaged=False))
    assert ds.title == "Image folder" and ds.class_names == list(COLOURS) and ds.num_classes == 3
    with pytest.raises(DatasetNotFound, match="No image folder chosen"):
        load_dataset("folder")
    with pytest.raises(DatasetNotFound, match="no such folder"):
        load_dataset("folder", data_dir=tmp_path / "missing")


def test_trainer_runs_on_a_streamed_folder_with_a_damaged_file(tmp_path):
    from convstudio.core.network import Network
    from convstudio.core.settings import TrainSettings
    from convstudio.core.training import Trainer
    from convstudio.core.training_events import EventChannel

    ds = load_image_folder(make_folder(tmp_path / "f", per_class=8), image_size=(12, 12), channels=3,
                           test_split=0.25, memory_limit_mb=0.001, cache_dir=str(tmp_path / "cache"))
    net = Network.chain(["Input", ("Conv2D", {"filters": 2, "kernel_h": 3, "kernel_w": 3}), "Flatten",
                         ("Dense", {"units": 3, "activation": "softmax"})])
    settings = TrainSettings(epochs=2, batch_size=4, validation_split=0.2, batch_event_interval_s=0.0, seed=1)
    finished = Trainer(net, ds, settings, EventChannel()).run()
    assert finished.status == "completed", finished.message
    assert finished.epochs_done == 2 and finished.test_accuracy is not None


def test_disk_cached_training_batches_mix_the_classes(tmp_path):
    """The scan lists files class by class; a cache replays one order through a small buffer."""
    ds = load_image_folder(make_folder(tmp_path / "f", per_class=40, damaged=False), image_size=(4, 4),
                           channels=3, test_split=0.0, memory_limit_mb=0.001, cache_dir=str(tmp_path / "c"))
    splits = make_datasets(ds, batch_size=4, validation_split=0.0, seed=3)
    first = np.concatenate([y.numpy() for _, y in splits.train.take(3)])
    assert len(set(first.tolist())) > 1, first
