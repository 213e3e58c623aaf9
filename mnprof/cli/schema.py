"""``mnprof schema``: the JSON Schema of the spec language (or of budget files)."""

from __future__ import annotations

import click

from ..core.files import write_output
from . import main
from ._options import output_option


@main.command()
@click.option("--budget", is_flag=True, help="The schema of budget files instead.")
@output_option
def schema(budget: bool, output: str | None) -> None:
    """Print the JSON Schema of the spec language (what YAML editors validate against)."""
    if budget:
        from ..gate.schema import budget_schema_text as text
    else:
        from ..spec.schema import spec_schema_text as text
    write_output(text(), output)
