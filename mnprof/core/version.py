"""The version of mnprof (read by the build backend and written into every report)."""

__version__ = "0.2.0"
