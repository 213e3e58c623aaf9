"""The ``mnprof`` command line: one module per command, each a thin wrapper.

Exit codes, the same for every command:
  0  done (for ``check``: every limit holds)
  1  ``check`` only: a limit is exceeded
  2  bad input or usage: the message says which file, line and field
  130 interrupted (Ctrl-C)
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from .. import __version__
from ..errors import MnprofError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
# click >= 8.2 raises this when a group is called with no command; older ones print help.
_NO_ARGS = getattr(click.exceptions, "NoArgsIsHelpError", None) or type("_Never", (Exception,), {})


def fail(message: str) -> None:
    click.echo(f"mnprof: error: {message}", err=True)


# Command -> the module (in this package) that defines it. Modules are imported only
# when their command runs, so `mnprof cost` never pays for export, bench or check.
COMMANDS = {"cost": "cost", "sweep": "cost", "specs": "cost", "schema": "cost",
            "export": "export", "bench": "bench", "check": "check"}


class MnprofGroup(click.Group):
    """Loads commands lazily; turns every user error into one line and exit status 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from importlib.util import find_spec
        present = {c for c, m in COMMANDS.items() if find_spec(f"{__name__}.{m}")}
        return sorted(set(super().list_commands(ctx)) | present)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"{__name__}.{COMMANDS[cmd_name]}")  # registers it
        return super().get_command(ctx, cmd_name)

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
        except MnprofError as exc:
            fail(str(exc))
            sys.exit(exc.exit_code)
        except _NO_ARGS as exc:
            ctx = getattr(exc, "ctx", None)
            click.echo(ctx.get_help() if ctx else str(exc))
            sys.exit(0)
        except click.UsageError as exc:
            cmd = exc.ctx.command_path if exc.ctx else "mnprof"
            fail(f"{exc.format_message()} (see '{cmd} --help')")
            sys.exit(EXIT_BAD_INPUT)
        except click.ClickException as exc:
            fail(exc.format_message())
            sys.exit(EXIT_BAD_INPUT)
        except click.exceptions.Abort:
            fail("interrupted")
            sys.exit(EXIT_INTERRUPTED)
        except KeyboardInterrupt:
            fail("interrupted")
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            sys.stderr.close()   # the reader went away (e.g. `| head`): not an error
            sys.exit(0)
        if isinstance(rv, int) and rv:
            sys.exit(rv)
        return rv


@click.group(cls=MnprofGroup, context_settings={"help_option_names": ["-h", "--help"],
                                                "max_content_width": 100})
@click.version_option(__version__, prog_name="mnprof")
def main() -> None:
    """Exact cost and measured latency of MobileNet-family networks.

    \b
    Exit status: 0 done; 1 a budget limit is exceeded (check);
    2 bad input or usage; 130 interrupted.
    """

