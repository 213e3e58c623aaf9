"""The ``mnprof`` command line: one module per command, each a thin wrapper.

Exit codes, the same for every command:
  0  done (for ``check``: every limit holds)
  1  ``check`` only: a limit is exceeded
  2  bad input or usage: the message says which file, line and field
  130 interrupted (Ctrl-C)
"""

from __future__ import annotations

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


class MnprofGroup(click.Group):
    """Turns every user error into one line on stderr and exit status 2."""

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


from . import check as _check  # noqa: E402,F401  (registers its command)
from . import cost as _cost  # noqa: E402,F401  (registers its commands)
from . import export as _export  # noqa: E402,F401  (registers its command)
