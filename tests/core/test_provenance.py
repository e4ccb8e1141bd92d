"""Result keys: a shown result belongs to what is on screen only when its inputs are the same."""

from __future__ import annotations

from convstudio.core.provenance import (
    ResultKey,
    data_mismatch,
    describe_test_accuracy,
    model_token,
    stale_reason,
)


class _Model:
    pass


def test_model_token_is_stable_per_object_and_new_for_a_new_model():
    a, b = _Model(), _Model()
    assert model_token(a) == model_token(a)
    assert model_token(a) != model_token(b)
    assert model_token(None) == ""


def test_a_model_trained_on_mnist_is_not_paired_with_fashion_data():
    assert data_mismatch("mnist", "fashion_mnist") == (
        "The model was trained on MNIST; train again for Fashion-MNIST.")
    assert data_mismatch("mnist", "mnist") is None
    assert data_mismatch(None, "fashion_mnist") is None  # an imported model of unknown origin


def test_stale_reason_names_what_changed():
    shown = ResultKey("model-1", "mnist", "mnist", "test image #3")
    assert stale_reason(shown, shown) is None
    assert stale_reason(None, shown) is None
    assert "another model" in stale_reason(shown, ResultKey("model-2", "mnist", "mnist", "test image #3"))
    assert "test image #3" in stale_reason(shown, shown.with_detail("test image #4"))
    assert stale_reason(shown, ResultKey("model-1", "fashion_mnist", "mnist", "test image #3")) == (
        "The model was trained on MNIST; train again for Fashion-MNIST.")
    unknown = ResultKey("model-1", "mnist", None)
    assert "Fashion-MNIST" in stale_reason(unknown, ResultKey("model-1", "fashion_mnist", None))


def test_a_result_on_the_bundled_sample_says_so():
    assert describe_test_accuracy(0.847, True, 1000) == "Test accuracy: 84.70% (bundled sample, 1,000 images)"
    assert describe_test_accuracy(0.9902) == "Test accuracy: 99.02%"
