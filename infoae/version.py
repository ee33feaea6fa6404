"""The package version (pyproject.toml has the same; a test checks it)."""

__version__ = "0.1.0"
