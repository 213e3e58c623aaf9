"""The registry of layer kinds, keyed by the name a spec writes (``kind: conv``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Kind

KINDS: dict[str, Kind] = {}


def register(cls: type[Kind]) -> type[Kind]:
    """Class decorator: register one instance of ``cls`` under ``cls.name``."""
    kind = cls()
    if kind.name in KINDS:
        raise RuntimeError(f"layer kind {kind.name!r} registered twice")
    KINDS[kind.name] = kind
    return cls
