"""The ``mnprof`` command line: one module per command, each a thin wrapper of the API.

Command ``X`` lives in ``mnprof/cli/X.py`` (``import`` in ``import_.py``; modules whose
names start with ``_`` hold shared pieces). Modules are imported only when their
command runs, so ``mnprof cost`` never pays for export, bench or check.

Exit codes, the same for every command:
  0   done (for ``check``: every limit holds)
  1   ``check`` only: the check ran and a limit is exceeded
  2   bad input or usage, or any other failure (a bug included): one line on stderr
  130 interrupted (Ctrl-C); 143 terminated (SIGTERM)
``MNPROF_DEBUG=1`` (or ``mnprof --debug``) shows the traceback of an unexpected error.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import signal
import sys
from typing import Any

import click

from ..core.errors import MnprofError, Terminated, one_line
from ..core.version import __version__

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
# click >= 8.2 raises this when a group is called with no command; older ones print help.
_NO_ARGS = getattr(click.exceptions, "NoArgsIsHelpError", None) or type("_Never", (Exception,), {})


def fail(message: str) -> None:
    click.echo(f"mnprof: error: {one_line(message)}", err=True)


def warn(message: str) -> None:
    click.echo(f"mnprof: warning: {one_line(message)}", err=True)


def module_of(command: str) -> str:
    """The module that defines ``command`` (the one rule; ``commands()`` inverts it)."""
    name = command.replace("-", "_")
    return f"{name}_" if name in ("import",) else name


def commands() -> list[str]:
    """Every command: the modules of this package, less the shared ones (``_*``)."""
    return sorted(m.name.rstrip("_").replace("_", "-")
                  for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated()


class MnprofGroup(click.Group):
    """Loads commands lazily; turns every failure into one line and exit status 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(commands()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in commands():
            importlib.import_module(f"{__name__}.{module_of(cmd_name)}")  # registers it
        return super().get_command(ctx, cmd_name)

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        # onnxruntime's telemetry (on in its official builds) writes a session file and a
        # database into the cache folder and its parent, and would send them on: a
        # command-line tool does neither unasked. ORT_DISABLE_TELEMETRY=0 turns it back on.
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        try:
            signal.signal(signal.SIGTERM, _terminate)
        except ValueError:          # not the main thread (an embedding program): keep theirs
            pass
        try:
            rv = super().main(*args, **kwargs)
        except SystemExit:
            raise
        except BaseException as exc:  # noqa: BLE001  the one place errors become exit codes
            sys.exit(_exit_code(exc))
        if isinstance(rv, int) and rv:
            sys.exit(rv)
        return rv


def _exit_code(exc: BaseException) -> int:
    """Say what went wrong in one line; the exit status for it."""
    if isinstance(exc, MnprofError):
        fail(str(exc))
        return exc.exit_code
    if isinstance(exc, _NO_ARGS):
        ctx = getattr(exc, "ctx", None)
        click.echo(ctx.get_help() if ctx else str(exc))
        return 0
    if isinstance(exc, click.UsageError):
        cmd = exc.ctx.command_path if exc.ctx else "mnprof"
        fail(f"{exc.format_message()} (see '{cmd} --help')")
        return EXIT_BAD_INPUT
    if isinstance(exc, click.ClickException):
        fail(exc.format_message())
        return EXIT_BAD_INPUT
    if isinstance(exc, (click.exceptions.Abort, KeyboardInterrupt)):
        fail("interrupted")
        return EXIT_INTERRUPTED
    if isinstance(exc, Terminated):
        fail("terminated")
        return EXIT_TERMINATED
    if isinstance(exc, BrokenPipeError):
        sys.stderr.close()   # the reader went away (e.g. `| head`): not an error
        return 0
    if os.environ.get("MNPROF_DEBUG"):
        import traceback
        traceback.print_exception(exc)
    if isinstance(exc, MemoryError):
        fail("out of memory")
    elif isinstance(exc, RecursionError):
        fail("the input nests too deeply (recursion limit)")
    else:
        fail(f"unexpected {type(exc).__name__}: {str(exc)[:300]} (a bug in mnprof; "
             "MNPROF_DEBUG=1 shows the traceback)")
    return EXIT_BAD_INPUT


def _debug(ctx: click.Context, param: Any, value: bool) -> None:
    if value:
        os.environ["MNPROF_DEBUG"] = "1"


@click.group(cls=MnprofGroup, context_settings={"help_option_names": ["-h", "--help"],
                                                "max_content_width": 100})
@click.version_option(__version__, prog_name="mnprof")
@click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=_debug,
              help="Show the traceback of an unexpected error (also MNPROF_DEBUG=1).")
def main() -> None:
    """Exact cost and measured latency of MobileNet-family networks.

    \b
    Exit status: 0 done; 1 a budget limit is exceeded (check);
    2 bad input, usage or any other failure; 130 interrupted; 143 terminated.
    """
