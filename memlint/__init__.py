"""memlint: find memory leaks and out-of-memory risks in Python code."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
