"""What the explorer shows, as plain data a lesson goal can read (no arrays)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .stepper import ExplorerError, WindowSettings, output_length

__all__ = ["ExplorerState"]


@dataclass(frozen=True)
class ExplorerState:
    """Settings, input size, the output position the window is at and the block it came from."""

    settings: WindowSettings
    input_size: tuple[int, int]
    position: tuple[int, int] = (0, 0)
    block_id: str | None = None

    @property
    def output_size(self) -> tuple[int, int]:
        s = self.settings
        return (output_length(self.input_size[0], s.kernel[0], s.stride[0], s.dilation[0], s.padding),
                output_length(self.input_size[1], s.kernel[1], s.stride[1], s.dilation[1], s.padding))

    def with_changes(self, changes: dict[str, Any]) -> ExplorerState:
        """A copy with settings (``stride_h``, ``padding``, ...) and/or ``position`` changed, checked."""
        changes = dict(changes)
        position = changes.pop("position", self.position)
        if not (isinstance(position, list | tuple) and len(position) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in position)):
            raise ExplorerError(f"position must be two whole numbers (row, column), not {position!r}")
        state = replace(self, settings=WindowSettings.from_dict({**self.settings.to_dict(), **changes}),
                        position=(int(position[0]), int(position[1])))
        oh, ow = state.output_size
        if oh < 1 or ow < 1:
            raise ExplorerError(f"the window does not fit the {self.input_size[0]}x{self.input_size[1]} input")
        if not (0 <= state.position[0] < oh and 0 <= state.position[1] < ow):
            state = replace(state, position=(min(state.position[0], oh - 1), min(state.position[1], ow - 1)))
        return state

    def as_dict(self) -> dict[str, Any]:
        """Settings plus ``input_h``, ``output_h``, ``span_h`` (dilated kernel), ``position``, ``block``."""
        span = self.settings.effective_kernel
        out = self.output_size
        return {**self.settings.to_dict(), "input_h": self.input_size[0], "input_w": self.input_size[1],
                "output_h": out[0], "output_w": out[1], "span_h": span[0], "span_w": span[1],
                "position": [self.position[0], self.position[1]], "block": self.block_id}
