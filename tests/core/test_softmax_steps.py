"""Softmax and cross-entropy by hand: equal to Keras, stable for large logits, clear about bad input."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.inspection import softmax_steps


@pytest.mark.parametrize("seed", range(5))
def test_hand_softmax_and_loss_equal_keras(seed):
    import keras

    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 3, size=10)
    label = int(rng.integers(10))
    steps = softmax_steps(logits, label)
    expected = np.asarray(keras.activations.softmax(logits[None].astype("float64")))[0]
    np.testing.assert_allclose(steps.probabilities, expected, rtol=1e-6)
    from_probs = float(keras.losses.sparse_categorical_crossentropy(np.array([label]), expected[None])[0])
    from_logits = float(keras.losses.sparse_categorical_crossentropy(np.array([label]), logits[None],
                                                                     from_logits=True)[0])
    assert steps.loss == pytest.approx(from_probs, rel=1e-5)
    assert steps.loss == pytest.approx(from_logits, rel=1e-6)
    assert steps.probabilities.sum() == pytest.approx(1.0)


def test_each_step_is_the_one_written_by_hand():
    steps = softmax_steps([2.0, 1.0, 0.0], 0)
    np.testing.assert_allclose(steps.shifted, [0.0, -1.0, -2.0])
    np.testing.assert_allclose(steps.exps, [1.0, np.exp(-1), np.exp(-2)])
    assert steps.total == pytest.approx(1 + np.exp(-1) + np.exp(-2))
    assert steps.probabilities[0] == pytest.approx(1 / steps.total)
    assert steps.loss == pytest.approx(np.log(steps.total))
    lines = steps.lines()
    assert lines[0] == "logits z = [2.000, 1.000, 0.000]"
    assert lines[-1].startswith("loss = -ln p[0] = -ln 0.66524 = 0.4076")


def test_equal_logits_give_uniform_probabilities_and_ln_n():
    steps = softmax_steps(np.zeros(10), 3)
    np.testing.assert_allclose(steps.probabilities, 0.1)
    assert steps.loss == pytest.approx(np.log(10))


def test_huge_logits_do_not_overflow_and_a_hopeless_label_has_a_finite_loss():
    steps = softmax_steps([1000.0, 0.0, -1000.0], 2)
    assert np.all(np.isfinite(steps.probabilities))
    assert steps.probabilities[0] == pytest.approx(1.0)
    assert steps.loss == pytest.approx(2000.0)


@pytest.mark.parametrize(("logits", "label", "message"), [
    ([], 0, "one non-empty vector"),
    ([[1.0, 2.0]], 0, "one non-empty vector"),
    ([1.0, float("nan")], 0, "finite"),
    ([1.0, 2.0], 2, "label 2 is not a class of 2 logits"),
    ([1.0, 2.0], -1, "label -1"),
])
def test_bad_input_is_refused_with_a_message(logits, label, message):
    with pytest.raises(ValueError, match=message):
        softmax_steps(logits, label)
