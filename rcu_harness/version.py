"""The harness version (a leaf module: trace files and run stores record it)."""

__version__ = "0.1.0"
