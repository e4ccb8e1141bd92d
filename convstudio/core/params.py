"""Block parameters: :class:`ParamSpec` and the checks that turn a raw value into a valid one.

Values arrive from project files, the inspector's text fields and imported models, so each type
has one small coercion step: numbers written as text must be plain decimals (``"1_0"``, ``"inf"``
and ``"nan"`` are refused although Python's ``float`` reads them), whole numbers stay exact however
large they are written, and text is capped at :data:`MAX_TEXT` characters before anything else.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .text import brief

__all__ = ["MAX_TEXT", "ParamSpec"]

MAX_TEXT = 200
"""The longest text a parameter may hold (every text parameter is one of a few short choices)."""

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?")
_MAX_NUMBER_TEXT = 40


def _number(title: str, value: Any, what: str) -> int | float:
    """``value`` as a Python int or float; text must be a plain decimal (no ``_``, ``inf`` or ``nan``)."""
    if isinstance(value, bool):
        raise ValueError(f"{title} must be {what}, not {brief(value)}")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= _MAX_NUMBER_TEXT and _DECIMAL.fullmatch(text):
            return int(text) if text.lstrip("+-").isdigit() else float(text)
    raise ValueError(f"{title} must be {what}, not {brief(value)}")


def _to_int(spec: ParamSpec, value: Any) -> int:
    number = _number(spec.title, value, "a whole number")
    if isinstance(number, float):
        if not math.isfinite(number) or not number.is_integer():
            raise ValueError(f"{spec.title} must be a whole number, not {brief(value)}")
        number = int(number)
    return number


def _to_float(spec: ParamSpec, value: Any) -> float:
    number = _number(spec.title, value, "a number")
    try:
        number = float(number)
    except OverflowError:
        raise ValueError(f"{spec.title} must be a finite number, not {brief(value)}") from None
    if not math.isfinite(number):
        raise ValueError(f"{spec.title} must be a finite number")
    return number


def _to_bool(spec: ParamSpec, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"{spec.title} must be true or false, not {brief(value)}")


def _to_str(spec: ParamSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{spec.title} must be text, not {brief(value)}")
    if len(value) > MAX_TEXT:
        raise ValueError(f"{spec.title} is {len(value):,} characters long; at most {MAX_TEXT} are allowed")
    return str(value)


_COERCE: dict[type, Callable[[ParamSpec, Any], Any]] = {
    bool: _to_bool, int: _to_int, float: _to_float, str: _to_str,
}


def _fmt(x: float) -> str:
    if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 64:
        return brief(x)
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class ParamSpec:
    """One block parameter: its type, default, allowed values and a one-line help."""

    name: str
    type: type
    default: Any
    help: str
    label: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def validate(self, value: Any) -> Any:
        """Return ``value`` coerced to this parameter's type, or raise ``ValueError`` saying why."""
        coerce = _COERCE.get(self.type)
        if coerce is not None:
            value = coerce(self, value)
        self._check_choices(value)
        self._check_range(value)
        return value

    def _check_choices(self, value: Any) -> None:
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            raise ValueError(f"{self.title} must be one of {allowed}; got {brief(value)}")

    def _check_range(self, value: Any) -> None:
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"{self.title} must be at least {_fmt(self.minimum)}; got {_fmt(value)}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"{self.title} must be at most {_fmt(self.maximum)}; got {_fmt(value)}")
