"""``python -m memlint``."""

from __future__ import annotations

import sys

from memlint.cli import main

sys.exit(main())
