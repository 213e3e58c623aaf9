"""The progress bar of long commands: rich, on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ..core.progress import Progress


@contextmanager
def progress_bar() -> Iterator[Progress | None]:
    """A progress callback drawing a bar with an ETA, or None when stderr is not a tty.

    It redraws only when called (at most 5 times a second), never from a thread of
    its own: a refresh thread would compete with onnxruntime's for the cores.
    """
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import (
        Progress as Bar,
    )

    with Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
             TimeRemainingColumn(), console=Console(stderr=True), transient=True,
             auto_refresh=False) as bar:
        task = bar.add_task("starting", total=None)
        last = [0.0]

        def update(label: str, done: int, total: int) -> None:
            bar.update(task, description=label, completed=done, total=total or None)
            now = time.monotonic()
            if now - last[0] > 0.2 or (total and done >= total):
                last[0] = now
                bar.refresh()

        yield update
