"""``python -m convstudio``: the command line (see :mod:`convstudio.cli`)."""

from __future__ import annotations

import sys

from convstudio.cli import main

sys.exit(main())
