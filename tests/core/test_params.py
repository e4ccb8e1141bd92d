"""Block parameter checks (core/params.py): exact whole numbers, plain decimals only, capped text."""

from __future__ import annotations

import numpy as np
import pytest

from convstudio.core.blocks import ParamSpec as ReExported
from convstudio.core.params import MAX_TEXT, ParamSpec

FILTERS = ParamSpec("filters", int, 32, "help", "Filters", 1, 2048)
RATE = ParamSpec("rate", float, 0.5, "help", "Rate", 0.0, 0.95)
PADDING = ParamSpec("padding", str, "valid", "help", choices=("valid", "same"))
BIAS = ParamSpec("use_bias", bool, True, "help", label="Bias")


def test_blocks_re_exports_the_same_class():
    assert ReExported is ParamSpec


@pytest.mark.parametrize("value, expected", [
    (10, 10), (10.0, 10), ("10", 10), (" 10 ", 10), ("10.0", 10), ("1e1", 10), ("+7", 7), (np.int64(9), 9),
    (np.float32(4.0), 4),
])
def test_whole_numbers_are_accepted_in_plain_forms(value, expected):
    result = FILTERS.validate(value)
    assert result == expected and type(result) is int


@pytest.mark.parametrize("value", ["1_0", "1_000", "inf", "nan", "Infinity", "0x10", "10 10", "", "ten", True,
                                   None, [10], 10.5, "10.5", float("inf"), float("nan")])
def test_anything_else_is_not_a_whole_number(value):
    with pytest.raises(ValueError, match="Filters must be a whole number"):
        FILTERS.validate(value)


@pytest.mark.parametrize("value", [10**400, 10**5000, -(10**5000)], ids=["e400", "e5000", "-e5000"])
def test_huge_integers_are_refused_exactly_with_a_short_message(value):
    with pytest.raises(ValueError, match=r"Filters must be at (most 2048|least 1); got a (negative )?number of about")\
            as info:
        FILTERS.validate(value)
    assert len(str(info.value)) < 120


@pytest.mark.parametrize("value", ["1_0", "nan", "inf", "-inf", "1e999", 10**400, float("nan"), True, "0.5x"],
                         ids=["1_0", "nan", "inf", "-inf", "1e999", "e400", "float-nan", "True", "0.5x"])
def test_floats_refuse_underscores_words_and_overflow(value):
    with pytest.raises(ValueError, match="Rate must be a (finite )?number"):
        RATE.validate(value)


@pytest.mark.parametrize("value, expected", [("0.25", 0.25), (".5", 0.5), (0, 0.0), ("5e-1", 0.5)])
def test_floats_accept_plain_decimals(value, expected):
    assert RATE.validate(value) == expected


def test_text_is_capped_before_the_choices_are_checked():
    with pytest.raises(ValueError, match=f"Padding is 209,715,200 characters long; at most {MAX_TEXT}"):
        PADDING.validate("x" * (200 * 2**20))
    with pytest.raises(ValueError, match="must be one of valid, same; got 'x'"):
        PADDING.validate("x")
    assert PADDING.validate("same") == "same"
    with pytest.raises(ValueError, match="Padding must be text"):
        PADDING.validate(3)


def test_long_wrong_choice_is_quoted_briefly():
    with pytest.raises(ValueError) as info:
        PADDING.validate("\x1b[31m" + "y" * (MAX_TEXT - 10))
    assert len(str(info.value)) < 150 and "\x1b" not in str(info.value)


def test_booleans():
    assert BIAS.validate("TRUE") is True and BIAS.validate(False) is False
    with pytest.raises(ValueError, match="Bias must be true or false"):
        BIAS.validate(1)
