"""Errors mnprof reports to the user.

Every error a user can cause is an ``MnprofError``: the CLI prints its one-line
``str()`` on stderr and exits with status 2, never with a traceback. A spec error
names the file, the line and the field, so the message alone is enough to fix it.
"""

from __future__ import annotations


class MnprofError(Exception):
    """A problem with the user's input: bad spec, bad option, unreadable file."""

    exit_code = 2


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
        return f"{where}: {what}{self.message}"
