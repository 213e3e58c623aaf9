"""Typed fields of layer kinds: each coerces its own values and writes its own schema.

A kind declares its fields (``Kind.fields``); the spec validator calls
``Field.coerce`` on every literal and every evaluated expression, and the JSON
Schema of the spec language is made of ``Field.schema()``. One declaration, so
the editor's schema and mnprof's validator cannot disagree.

``coerce`` returns the value in its final form (an ``int``, a ``Scale``, ...) or
raises ``FieldError`` with the reason ("must be an integer >= 1, got 0"); the
caller adds the file, line and field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.values import MAX_INT, is_int, is_number
from .width import Rounding, Scale

REQUIRED: Any = object()
EXPR_SCHEMA = {"type": "string", "pattern": r"^\$", "description": "an expression: $name or $(...)"}


class FieldError(ValueError):
    """A value a field cannot take; the message says what it must be."""


@dataclass(frozen=True)
class Field:
    """One field a kind accepts. Subclasses say what values it takes."""

    name: str
    default: Any = REQUIRED
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def check(self, value: Any) -> Any:
        """``value`` in its final form; ``None`` stays ``None`` when that is the default."""
        if value is None and self.default is None:
            return None
        return self.coerce(value)

    def coerce(self, value: Any) -> Any:
        raise NotImplementedError

    def value_schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        base = self.value_schema()
        if self.default is None:
            base = {"anyOf": [base, {"type": "null"}]}
        out: dict[str, Any] = {"anyOf": [base, EXPR_SCHEMA]}
        if self.doc:
            out["description"] = self.doc
        return out

    def bad(self, expected: str, value: Any) -> FieldError:
        return FieldError(f"must be {expected}, got {value!r:.80}{_text_number_hint(value)}")


def _text_number_hint(value: Any) -> str:
    """YAML 1.1 reads 1e308 (no dot) as a string: say so when a string looks like a number."""
    if not isinstance(value, str) or len(value) > 100:
        return ""
    try:
        float(value)
    except ValueError:
        return ""
    return " (text, not a number: YAML reads an exponent without a dot as text; write 1.0e3)"


@dataclass(frozen=True)
class IntField(Field):
    minimum: int = 1
    maximum: int = MAX_INT

    def coerce(self, value: Any) -> int:
        if not is_int(value):
            raise self.bad("an integer", value)
        if value < self.minimum:
            raise self.bad(f"an integer >= {self.minimum}", value)
        if value > self.maximum:
            raise self.bad(f"an integer <= {self.maximum}", value)
        return value

    def value_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


@dataclass(frozen=True)
class FloatField(Field):
    """A finite number in [minimum, maximum) (or [minimum, maximum] when ``closed``)."""

    minimum: float = 0.0
    maximum: float = float(MAX_INT)
    closed: bool = False

    def coerce(self, value: Any) -> float:
        if not is_number(value) or value < self.minimum or (
                value > self.maximum if self.closed else value >= self.maximum):
            end = "]" if self.closed else ")"
            raise self.bad(f"a number in [{self.minimum:g}, {self.maximum:g}{end}", value)
        return float(value)

    def value_schema(self) -> dict[str, Any]:
        top = "maximum" if self.closed else "exclusiveMaximum"
        return {"type": "number", "minimum": self.minimum, top: self.maximum}


@dataclass(frozen=True)
class BoolField(Field):
    def coerce(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.bad("true or false", value)
        return value

    def value_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class ChoiceField(Field):
    """One of a fixed set of strings; ``choices`` may be a function (a registry's names)."""

    choices: Sequence[str] | Callable[[], Sequence[str]] = ()

    def options(self) -> list[str]:
        return list(self.choices() if callable(self.choices) else self.choices)

    def coerce(self, value: Any) -> str:
        options = self.options()
        if not isinstance(value, str) or value not in options:
            raise self.bad("one of " + ", ".join(options), value)
        return value

    def value_schema(self) -> dict[str, Any]:
        return {"enum": self.options()}


@dataclass(frozen=True)
class RoundingField(Field):
    def coerce(self, value: Any) -> Rounding:
        if value not in [r.value for r in Rounding]:
            raise self.bad("one of " + ", ".join(r.value for r in Rounding), value)
        return Rounding(value)

    def value_schema(self) -> dict[str, Any]:
        return {"enum": [r.value for r in Rounding]}


@dataclass(frozen=True)
class ScaleField(Field):
    def coerce(self, value: Any) -> Scale:
        if value is True or value is False:
            return Scale.YES if value else Scale.NO
        if value == "no_shrink":
            return Scale.NO_SHRINK
        raise self.bad("true, false or no_shrink", value)

    def value_schema(self) -> dict[str, Any]:
        return {"enum": [True, False, "no_shrink"]}
