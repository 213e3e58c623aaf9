"""The user's files: bounded reading, and atomic writing that never loses what was there.

Reading (specs, budgets, baselines, ONNX models): regular files only, and never
more than a stated number of bytes, so ``/dev/zero``, a FIFO or a 10 GB file is a
one-line error, not a hang or a MemoryError.

Writing (reports, ONNX files, the machine cache): the data goes to a temporary
file beside the target, is flushed to disk, then renamed over it, so a reader sees
the old content or the new, never a part. A symlink is followed to its target.
Refused before anything is written: an empty path, a directory, a target that is
not a regular file (a FIFO, a device, a socket: writing "atomically" there would
replace the device node with a file), a file nobody may write, a file the command
read (``protect``), and a directory that does not exist or cannot be written.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import MnprofError

MAX_TEXT_BYTES = 1 << 20       # specs and budgets are a few KiB


def _stat(path: str, follow: bool = True) -> os.stat_result | None:
    """``os.stat`` of an existing path, None if it does not exist; one-line errors."""
    try:
        return os.stat(path) if follow else os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:          # permission, a name too long, a symlink loop
        raise MnprofError(f"{path}: cannot access: {exc.strerror or exc}") from None
    except ValueError:              # an embedded NUL byte
        raise MnprofError(f"{path!r}: not a usable file name") from None


def read_bytes(path: str | os.PathLike[str], *, what: str, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; a one-line error otherwise."""
    name = os.fspath(path)
    if not name:
        raise MnprofError(f"the {what} path is empty")
    st = _stat(name)
    if st is None:
        raise MnprofError(f"{name}: no such {what} file")
    if stat.S_ISDIR(st.st_mode):
        raise MnprofError(f"{name}: is a directory, not a {what} file")
    if not stat.S_ISREG(st.st_mode):
        article = "an" if what[:1].lower() in "aeio" or what.startswith("ONNX") else "a"
        raise MnprofError(f"{name}: not a regular file (a FIFO, device or socket); {article} "
                          f"{what} must be a file")
    if st.st_size > max_bytes:
        raise MnprofError(f"{name}: file is {st.st_size} bytes; a {what} may be at most "
                          f"{max_bytes}")
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):      # swapped since the stat
                raise MnprofError(f"{name}: not a regular file")
            chunks, size = [], 0
            while size <= max_bytes:
                chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
    except OSError as exc:
        raise MnprofError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if size > max_bytes:
        raise MnprofError(f"{name}: file is over {max_bytes} bytes; a {what} may be at most "
                          f"{max_bytes}")
    return b"".join(chunks)


def read_text(path: str | os.PathLike[str], *, what: str = "spec",
              max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of a user's file (see ``read_bytes``)."""
    data = read_bytes(path, what=what, max_bytes=max_bytes)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MnprofError(f"{os.fspath(path)}: not UTF-8 text (byte {exc.start})") from None


# ---------------------------------------------------------------------------
# Writing


def check_target(output: str | os.PathLike[str]) -> Path:
    """The file ``output`` names (a symlink followed), or a one-line error if it cannot
    be written. Called by ``atomic_write``, and by a slow command before it starts, so
    that a wrong path fails at once rather than after the work."""
    name = os.fspath(output)
    if not name:
        raise MnprofError("the output path is empty")
    st = _stat(name)
    real = Path(os.path.realpath(name))
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise MnprofError(f"{name}: is a directory; an output needs a file path")
        if not stat.S_ISREG(st.st_mode):
            raise MnprofError(f"{name}: not a regular file (a FIFO, device or socket); "
                              "mnprof writes reports only to regular files or to stdout")
        if not st.st_mode & 0o222 or not os.access(real, os.W_OK):
            raise MnprofError(f"{name}: is read-only; mnprof will not replace a file you "
                              "cannot write")
    parent = real.parent
    pst = _stat(str(parent))
    if pst is None or not stat.S_ISDIR(pst.st_mode):
        raise MnprofError(f"{name}: directory {str(Path(name).parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise MnprofError(f"{name}: cannot write in directory {str(parent)!r}: permission "
                          "denied")
    if len(real.name.encode()) > 240:       # room for the temporary name's affixes
        raise MnprofError(f"{name}: file name too long")
    return real


def atomic_write(output: str | os.PathLike[str], data: bytes, *,
                 protect: Sequence[str | os.PathLike[str]] = ()) -> None:
    """Write ``data`` to ``output`` atomically (see the module docstring)."""
    name = os.fspath(output)
    path = check_target(output)
    for other in protect:
        try:
            if other and path.exists() and os.path.samefile(path, other):
                raise MnprofError(f"{name}: refusing to overwrite an input file")
        except OSError:
            pass
    import tempfile
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:60]}.", suffix=".tmp",
                                   dir=path.parent)
    except OSError as exc:
        raise MnprofError(f"{name}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise MnprofError(f"{name}: cannot write: {exc.strerror or exc}") from None
    except BaseException:           # Ctrl-C, SIGTERM: leave no temporary file behind
        Path(tmp).unlink(missing_ok=True)
        raise


def write_output(text: str, output: str | None, *,
                 protect: Sequence[str | os.PathLike[str]] = ()) -> None:
    """Print to stdout (``output`` None or "-"), or write ``output`` atomically."""
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    atomic_write(output, text.encode("utf-8"), protect=protect)
