"""The Runs view: the project's recorded runs listed, overlaid, compared, reopened, continued and deleted.

- :mod:`.table`: the sortable list (a Qt table model; numbers sort as numbers).
- :mod:`.overlay`: the chosen runs' loss and accuracy curves in one figure.
- :mod:`.compare_view`: two runs side by side (network block by block, settings, data, results).
- :mod:`.details`: one run in words.
- :mod:`.run_actions`: reopen, continue training, delete.
- :mod:`.window`: :class:`RunsWindow`, which puts them together and reads the runs off the GUI thread.
"""

from __future__ import annotations

from .window import RunsWindow

__all__ = ["RunsWindow"]
