"""Errors mnprof reports to the user, and where in a file they come from.

Every error a user can cause is an ``MnprofError``: the CLI prints its one-line
``str()`` on stderr and exits with status 2, never with a traceback. A spec or
budget error names the file, the line and the field, so the message alone is
enough to fix it. Text from the user (a file name with a newline, a key with a
control character) is escaped, so a message is always exactly one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """" (did you mean 'x'?)" for the option closest to ``word``, or ""."""
    import difflib  # only on the error path
    close = difflib.get_close_matches(str(word)[:100], list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class MnprofError(Exception):
    """A problem with the user's input: bad spec, bad option, unreadable file."""

    exit_code = 2

    def __str__(self) -> str:
        return one_line(super().__str__())


class SpecError(MnprofError):
    """A problem in a spec (or budget) file, located by file, line and field."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.file or "<spec>"
        if self.line is not None:
            where += f":{self.line}"
        what = f"{self.field}: " if self.field else ""
        return one_line(f"{where}: {what}{self.message}")


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that temporary files are cleaned up
    on the way out (a ``BaseException``, like ``KeyboardInterrupt``)."""

    exit_code = 143


@dataclass(frozen=True)
class Where:
    """Where a value came from: a file, a line, and the path of the field in it."""

    file: str
    line: int | None
    path: str          # e.g. "blocks.separable.layers[1]"

    def error(self, message: str, key: str | None = None, line: int | None = None) -> SpecError:
        fld = f"{self.path}.{key}" if key and self.path else key or self.path
        return SpecError(message, file=self.file, line=line or self.line, field=fld)

    def at(self, path: str, line: int | None) -> Where:
        """The location of a field inside this one."""
        return Where(self.file, line if line is not None else self.line,
                     f"{self.path}.{path}" if self.path else path)
