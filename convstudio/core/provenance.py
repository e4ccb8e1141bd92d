"""What a shown result was computed from, and whether it still belongs to what is on screen.

Every result a view shows (feature maps, a prediction, a confusion matrix, a receptive field, an
export report, a test accuracy) is computed from a model, some data and maybe one sample or one
choice. A :class:`ResultKey` names those inputs; a view keeps the key of what it shows and compares
it with the key of what is on screen now (:func:`stale_reason`). When they differ the view clears
or shows a neutral note instead of pairing a result with inputs it was not computed from.
"""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "ResultKey",
    "data_mismatch",
    "dataset_title",
    "describe_test_accuracy",
    "model_token",
    "stale_reason",
]

_TOKENS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_FALLBACK: dict[int, str] = {}
_COUNTER = itertools.count(1)


def model_token(model: Any) -> str:
    """A short identity for a model object ("" for None); a new model never reuses an old token."""
    if model is None:
        return ""
    try:
        token = _TOKENS.get(model)
        if token is None:
            token = _TOKENS[model] = f"model-{next(_COUNTER)}"
        return token
    except TypeError:  # an object that cannot be weakly referenced: identity while it lives
        return _FALLBACK.setdefault(id(model), f"model-{next(_COUNTER)}")


def dataset_title(name: str | None) -> str:
    """"MNIST" / "Fashion-MNIST" for a dataset key; unknown names are returned as they are."""
    if not name:
        return "unknown data"
    from .datasets import display_name

    try:
        return display_name(name)
    except KeyError:
        return name


@dataclass(frozen=True)
class ResultKey:
    """The inputs of one shown result.

    ``model`` is a :func:`model_token`; ``dataset`` the dataset key the data came from;
    ``trained_on`` the dataset the model was trained on (None when unknown, e.g. an imported file);
    ``detail`` anything else the result depends on (a sample, a block, an export format).
    """

    model: str = ""
    dataset: str | None = None
    trained_on: str | None = None
    detail: str = ""

    def with_detail(self, detail: str) -> ResultKey:
        return replace(self, detail=detail)


def data_mismatch(trained_on: str | None, dataset: str | None) -> str | None:
    """Why a model trained on ``trained_on`` must not be shown with ``dataset``, or None when it may.

    A model of unknown origin (``trained_on`` None) may be used with any data of its input shape.
    """
    if trained_on is None or dataset is None or trained_on == dataset:
        return None
    return (f"The model was trained on {dataset_title(trained_on)}; "
            f"train again for {dataset_title(dataset)}.")


def stale_reason(shown: ResultKey | None, current: ResultKey) -> str | None:
    """Why the result computed for ``shown`` does not belong to ``current``; None when it does.

    The reason is a short neutral sentence for a view's note ("stale: ...").
    """
    if shown is None:
        return None
    mismatch = data_mismatch(current.trained_on, current.dataset)
    if mismatch:
        return mismatch
    if shown.model != current.model:
        return "This was computed for another model; recompute it for the current one."
    if shown.dataset != current.dataset:
        return (f"This was computed on {dataset_title(shown.dataset)}; "
                f"recompute it for {dataset_title(current.dataset)}.")
    if shown.detail != current.detail:
        return f"This was computed for {shown.detail or 'another choice'}; recompute it."
    return None


def describe_test_accuracy(accuracy: float, is_sample: bool = False, test_images: int = 0) -> str:
    """``Test accuracy: 84.70% (bundled sample, 1,000 images)``; full data gives only the figure."""
    text = f"Test accuracy: {accuracy:.2%}"
    if is_sample:
        count = f", {test_images:,} images" if test_images else ""
        text += f" (bundled sample{count})"
    return text
