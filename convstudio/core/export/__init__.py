"""Export a trained model to a file other tools can use, and prove the file computes the same thing.

>>> report = export_model(model, "tflite", "digits.tflite", network=net, dataset=mnist)
>>> report.summary
'TensorFlow Lite (float) written to .../digits.tflite (240.1 KB, 1.9 s); max |difference| 3e-07 ...'

Each format writes into a hidden folder beside the target, loads what it wrote with that
format's own runtime, compares outputs with the in-app model on a batch of test images, and only
then moves the result into place. An existing target is replaced only with ``overwrite=True``, and
a folder only when it is an earlier ConvStudio export of the same format (see :mod:`.staging`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..pipeline import normalize
from .formats import FORMATS, ExportError, ExportFormat, ExportReport, default_export_path, get_format
from .matching import check_images, check_model
from .staging import ExportExists, check_target, os_reason, staged
from .verify import SAMPLE_SOURCE, ExportContext, judge, verification_images

if TYPE_CHECKING:
    import keras

    from ..datasets import Dataset
    from ..network import Network

__all__ = ["FORMATS", "ExportError", "ExportExists", "ExportFormat", "ExportReport", "check_target",
           "default_export_path", "export_model", "get_format", "normalize"]


def export_model(model: keras.Model, fmt: str, path: str | os.PathLike[str], *, network: Network,
                 dataset: Dataset | None = None, settings: Any = None, verify: bool = True,
                 sample_images: np.ndarray | None = None, overwrite: bool = False,
                 progress: Callable[[str], None] | None = None) -> ExportReport:
    """Write ``model`` as ``fmt`` to ``path``, verify it, and report what was written.

    ``sample_images`` (uint8, ``(n, h, w)`` or ``(n, h, w, c)``) replace the dataset's test images for
    verification.
    ``overwrite`` allows replacing an existing file, or a folder that is an earlier export of the
    same format (nothing else is ever replaced). ``progress`` receives short status lines.
    Raises :class:`ExportError` with a human reason when the format is unavailable, the path cannot
    be written (:class:`ExportExists` when it exists and ``overwrite`` is False), the model does not
    match ``network`` or the images, the conversion fails, or the written model's outputs differ
    from ``model``'s beyond tolerance.
    """
    spec = get_format(fmt)
    unavailable = spec.availability()
    if unavailable:
        raise ExportError(unavailable)
    if model is None:
        raise ExportError("there is no model to export yet; train the network first")
    target = check_target(path, spec, overwrite)
    say = progress or (lambda _msg: None)
    start = time.perf_counter()
    check_model(model, network)
    if sample_images is None and dataset is not None and len(dataset.x_test):
        check_images(model, np.shape(dataset.x_test)[1:], f"{getattr(dataset, 'name', '') or 'dataset'} images")
    image_shape = tuple(int(d) for d in model.input_shape[1:])
    images, labels, source = verification_images(dataset, sample_images, image_shape)
    ctx = ExportContext(model, network, spec, dataset, settings, images, labels, source)
    impl = spec.implementation()
    report = ExportReport(spec.name, str(target), image_source=source)
    with staged(target, spec, overwrite) as work:
        plain = _Plain(work, target)
        say(f"Writing {spec.label}...")
        _write(impl, ctx, work, target, plain)
        if verify:
            say(f"Verifying {spec.label} against the model on {len(images)} {source}...")
            _verify(impl, ctx, work, report, plain)
        report.size_bytes = _size(work)
        names = sorted(p.relative_to(work) for p in work.rglob("*") if p.is_file()) if work.is_dir() else []
    report.paths = [str(target / n) for n in names] if names else [str(target)]
    report.seconds = time.perf_counter() - start
    return report


def _write(impl: Any, ctx: ExportContext, work: Path, target: Path, plain: _Plain) -> None:
    try:
        impl.write(ctx, work)
    except ExportError as exc:
        raise ExportError(plain(str(exc))) from None
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {os_reason(exc)}") from None
    except Exception as exc:  # converters raise anything; the user needs the reason, not a trace
        raise ExportError(f"{ctx.fmt.label} export failed: {plain(_first_line(exc))}") from exc


def _verify(impl: Any, ctx: ExportContext, work: Path, report: ExportReport, plain: _Plain) -> None:
    """Run the format's check on what was written and record the figures in ``report``."""
    spec = ctx.fmt
    try:
        check = impl.verify(ctx, work)
    except ExportError as exc:
        raise ExportError(plain(str(exc))) from None
    except Exception as exc:
        raise ExportError(f"the exported {spec.label} could not be loaded back to verify it: "
                          f"{plain(_first_line(exc))}; nothing was written") from exc
    judge(spec, check)
    report.max_abs_diff = check.max_abs_diff
    report.compared_images = check.compared
    report.accuracy_model = check.accuracy_model
    report.accuracy_export = check.accuracy_export
    report.accuracy_images = check.accuracy_images
    report.notes.extend(check.notes)
    report.verified = True
    if ctx.image_source == SAMPLE_SOURCE:
        report.notes.append("verified on the bundled sample's test images because the full dataset was not "
                            "found; point ConvStudio at the full dataset for a stronger check")
    elif ctx.image_source != "test images":
        report.notes.append(f"compared on {ctx.image_source}")


class _Plain:
    """Library messages in the user's terms: the hidden staging path becomes the target path."""

    def __init__(self, work: Path, target: Path) -> None:
        self.pairs = [(str(work), str(target)), (str(work.parent), str(target.parent))]

    def __call__(self, text: str) -> str:
        for hidden, shown in self.pairs:
            text = text.replace(hidden, shown)
        return text


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
