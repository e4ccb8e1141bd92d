"""Export a trained model to a file other tools can use, and prove the file computes the same thing.

>>> report = export_model(model, "tflite", "digits.tflite", network=net, dataset=mnist)
>>> report.summary
'TensorFlow Lite (float) written to .../digits.tflite (240.1 KB, 1.9 s); max |difference| 3e-07 ...'

Each format writes into a hidden folder beside the target, loads what it wrote with that
format's own runtime, compares outputs with the in-app model on a batch of test images, and only
then moves the result into place.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..pipeline import normalize
from .formats import FORMATS, ExportError, ExportFormat, ExportReport, get_format
from .staging import os_reason, resolve_target, staged
from .verify import ExportContext, judge, verification_images

if TYPE_CHECKING:
    import keras

    from ..datasets import Dataset
    from ..network import Network

__all__ = ["FORMATS", "ExportError", "ExportFormat", "ExportReport", "export_model", "get_format", "normalize"]


def export_model(model: "keras.Model", fmt: str, path: str | os.PathLike[str], *, network: "Network",
                 dataset: "Dataset | None" = None, settings: Any = None, verify: bool = True,
                 sample_images: np.ndarray | None = None,
                 progress: Callable[[str], None] | None = None) -> ExportReport:
    """Write ``model`` as ``fmt`` to ``path``, verify it, and report what was written.

    ``sample_images`` (uint8, ``(n, h, w)``) replace the dataset's test images for verification.
    ``progress`` receives short status lines ("writing", "verifying"). Raises :class:`ExportError`
    with a human reason when the format is unavailable, the path cannot be written, the
    conversion fails, or the written model's outputs differ from ``model``'s beyond tolerance.
    """
    spec = get_format(fmt)
    unavailable = spec.availability()
    if unavailable:
        raise ExportError(unavailable)
    if model is None:
        raise ExportError("there is no model to export yet; train the network first")
    target = resolve_target(path, spec)
    say = progress or (lambda _msg: None)
    start = time.perf_counter()
    h, w = (int(d) for d in model.input_shape[1:3])
    images, labels, source = verification_images(dataset, sample_images, (h, w))
    ctx = ExportContext(model, network, spec, dataset, settings, images, labels, source)
    impl = spec.implementation()
    report = ExportReport(spec.name, str(target))
    with staged(target) as work:
        say(f"Writing {spec.label}...")
        try:
            impl.write(ctx, work)
        except ExportError:
            raise
        except OSError as exc:
            raise ExportError(f"cannot write {target}: {os_reason(exc)}") from None
        except Exception as exc:  # converters raise anything; the user needs the reason, not a trace
            raise ExportError(f"{spec.label} export failed: {_first_line(exc)}") from exc
        if verify:
            say(f"Verifying {spec.label} against the model on {len(images)} {source}...")
            try:
                check = impl.verify(ctx, work)
            except ExportError:
                raise
            except Exception as exc:
                raise ExportError(f"the exported {spec.label} could not be loaded back to verify it: "
                                  f"{_first_line(exc)}; nothing was written") from exc
            judge(spec, check)
            report.max_abs_diff = check.max_abs_diff
            report.compared_images = check.compared
            report.accuracy_model = check.accuracy_model
            report.accuracy_export = check.accuracy_export
            report.accuracy_images = check.accuracy_images
            report.notes.extend(check.notes)
            report.verified = True
            if source != "test images":
                report.notes.append(f"compared on {source}")
        report.size_bytes = _size(work)
        names = sorted(p.relative_to(work) for p in work.rglob("*") if p.is_file()) if work.is_dir() else []
    report.paths = [str(target / n) for n in names] if names else [str(target)]
    report.seconds = time.perf_counter() - start
    return report


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
