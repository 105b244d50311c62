"""Baladiya: a city council's citizen services (see README.md)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("baladiya")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
