"""``mnprof specs``: the built-in specs and their cost."""

from __future__ import annotations

from .. import api
from ..core.render import Format
from . import main
from ._options import emit, format_option


@main.command()
@format_option(Format.TABLE, Format.JSON, Format.MARKDOWN, Format.CSV)
def specs(fmt: str) -> None:
    """List the built-in specs, with their cost at their own alpha and resolution."""
    emit(api.builtin_summaries(), fmt, None)
