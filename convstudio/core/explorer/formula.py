"""The output-size formula filled in with the current numbers, per axis, as a teacher writes it."""

from __future__ import annotations

from dataclasses import dataclass

from .stepper import WindowSettings, axis_padding, output_length

__all__ = ["AxisFormula", "axis_formula", "formula_text"]


@dataclass(frozen=True)
class AxisFormula:
    """One axis: input ``n``, kernel ``f`` (``f_eff`` after dilation ``d``), stride ``s``, zeros and output."""

    axis: str
    n: int
    f: int
    s: int
    d: int
    f_eff: int
    pad_before: int
    pad_after: int
    out: int
    padding: str

    def text(self) -> str:
        """``floor((n + 2p - f)/s) + 1 = floor((7 + 2×1 - 3)/2) + 1 = 4``, with dilation and 'same' notes."""
        parts = []
        f_name = "f"
        if self.d > 1:
            parts.append(f"f_eff = d(f − 1) + 1 = {self.d}×({self.f} − 1) + 1 = {self.f_eff}")
            f_name = "f_eff"
        if self.padding == "same":
            total = self.pad_before + self.pad_after
            parts.append(
                f"'same' (Keras): out = ceil(n/s) = ceil({self.n}/{self.s}) = {self.out}; "
                f"zeros = max((out − 1)·s + {f_name} − n, 0) = max({self.out - 1}×{self.s} + {self.f_eff} − {self.n}, 0)"
                f" = {total}: {self.pad_before} before, {self.pad_after} after"
                + (" (the odd one goes after)" if self.pad_before != self.pad_after else ""))
        if self.pad_before == self.pad_after:
            p = self.pad_before
            why = f"p = {f_name} − 1 = {p}, " if self.padding == "full" else ""
            parts.append(f"{why}floor((n + 2p − {f_name})/s) + 1 = floor(({self.n} + 2×{p} − {self.f_eff})/{self.s}) + 1"
                         f" = {self.out}")
        else:
            parts.append(f"floor((n + p_before + p_after − {f_name})/s) + 1 = "
                         f"floor(({self.n} + {self.pad_before} + {self.pad_after} − {self.f_eff})/{self.s}) + 1"
                         f" = {self.out}")
        return "; ".join(parts)


def axis_formula(axis: str, n: int, f: int, s: int, d: int, padding: str) -> AxisFormula:
    """The filled-in formula for one axis (``axis`` names it: 'rows' or 'columns')."""
    before, after = axis_padding(n, f, s, d, padding)
    return AxisFormula(axis, n, f, s, d, d * (f - 1) + 1, before, after, output_length(n, f, s, d, padding), padding)


def formula_text(input_size: tuple[int, int], settings: WindowSettings) -> str:
    """Both axes; one line when rows and columns have the same numbers."""
    rows = axis_formula("rows", input_size[0], settings.kernel[0], settings.stride[0], settings.dilation[0],
                        settings.padding)
    cols = axis_formula("columns", input_size[1], settings.kernel[1], settings.stride[1], settings.dilation[1],
                        settings.padding)
    if rows.text() == cols.text():
        return f"{rows.text()}  (rows and columns: {rows.out}×{cols.out})"
    return f"rows: {rows.text()}\ncolumns: {cols.text()}  (output {rows.out}×{cols.out})"
