"""The built-in specs (``mnprof/specs/*.yaml``) and how a spec argument is resolved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..core.errors import SpecError
from ..core.yamlsrc import load_file
from .document import NAME_RE, Spec
from .parse import parse_spec

DEFAULT_SPEC = "mobilenet_v1"


def builtin_dir() -> Path:
    """Where the built-in specs are: ``mnprof/specs``, in a checkout and when installed."""
    return Path(__file__).resolve().parent.parent / "specs"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def resolve_spec_path(spec: str | Path | None, *,
                      base_dir: str | Path | None = None) -> tuple[Path, str]:
    """(file, how to show it) for a path or a built-in name.

    A relative path is taken from ``base_dir`` (a budget file's directory) when
    given, else from the cwd. A bare name is a built-in unless no built-in has it
    and a file of that name exists.
    """
    if spec is None:
        spec = DEFAULT_SPEC
    text = str(spec)
    if not text:
        raise SpecError("the spec path is empty", file="''")
    path = Path(base_dir or "", text)       # an absolute ``text`` stays as it is
    looks_like_path = any(c in text for c in "/\\") or text.endswith((".yaml", ".yml"))
    if not looks_like_path and NAME_RE.match(text):
        builtin = builtin_dir() / f"{text}.yaml"
        if _usable(builtin, Path.is_file):
            return builtin, f"specs/{text}.yaml"
        if not _usable(path, Path.exists):
            raise SpecError(f"no built-in spec {text!r} and no such file; built-ins: "
                            + ", ".join(builtin_names()), file=text)
    return path, text if base_dir is None else str(path)


def _usable(path: Path, test: Callable[[Path], bool]) -> bool:
    """``test(path)``, False where the path cannot be asked about at all (permission
    denied, a name too long, a NUL byte): reading it later says why, in one line."""
    try:
        return test(path)
    except (OSError, ValueError):
        return False


def load_spec(spec: str | Path | None = None) -> Spec:
    """Read and validate a spec: a path to a YAML file, or a built-in spec's name."""
    path, shown = resolve_spec_path(spec)
    data = load_file(path)
    return replace(parse_spec(data, file=shown, default_name=path.stem), path=str(path))
