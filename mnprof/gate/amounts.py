"""The numbers a budget is written in: counts, bytes, milliseconds and percentages.

Counts take K, M, G, T suffixes (powers of 1000) and are parsed exactly ("1.4M" is
1400000); a count must come out a whole number ("0.5K" is 500, "0.0001K" is an
error, not a limit of 0). Bytes also take KB/MB/GB and the binary KiB/MiB/GiB;
"1.2MiB" is 1258291.2, so at most 1258291 bytes (rounding down keeps every
comparison with a whole number of bytes exact). Latencies are milliseconds.
Digits are ASCII digits only ("８０M" is not a number), and every amount is
bounded, so a limit can neither be infinite (a gate that cannot fail) nor round to
zero. Parsers raise ``ValueError`` with the reason; the caller adds file, line and
field.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from enum import Enum
from fractions import Fraction
from typing import Any

from ..core.values import MAX_INT


class Unit(str, Enum):
    COUNT = "count"
    BYTES = "bytes"
    MS = "ms"


# A number as a budget writes it (no sign: limits are never negative); the JSON
# Schema's patterns are built from these too (mnprof.gate.schema).
NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?"
_AMOUNT_RE = re.compile(rf"^\s*({NUMBER})\s*([A-Za-z]*)\s*$", re.ASCII)
PERCENT_RE = re.compile(rf"^\s*({NUMBER})\s*%\s*$", re.ASCII)
SUFFIXES: dict[Unit, dict[str, int]] = {
    Unit.COUNT: {"": 1, "K": 10**3, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12},
    Unit.BYTES: {"": 1, "B": 1, "K": 10**3, "k": 10**3, "KB": 10**3, "kB": 10**3,
                 "M": 10**6, "MB": 10**6, "G": 10**9, "GB": 10**9,
                 "KiB": 2**10, "MiB": 2**20, "GiB": 2**30},
    Unit.MS: {"": 1, "ms": 1},
}
HINTS = {Unit.COUNT: "a count, optionally with a K, M, G or T suffix (80M, 1.4M, 4.2G)",
         Unit.BYTES: "a number of bytes, optionally with K/M/G, KB/MB/GB or KiB/MiB/GiB "
                     "(1.5MiB, 800K)",
         Unit.MS: "a number of milliseconds (12, 12.5, '12ms')"}
MAX_MS = 1e7                    # about 2.8 hours
MAX_PERCENT = 10**6


def _decimal(value: Any) -> Decimal | None:
    """A YAML number as an exact decimal (floats by their shortest repr), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value!r}")
    if isinstance(value, int) and abs(value) > MAX_INT:
        raise ValueError(f"must be at most {MAX_INT:,}, got a {len(str(value))}-digit number")
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def _parse_text(value: Any, unit: Unit) -> tuple[Decimal, int]:
    """(the number times its suffix's multiplier, the multiplier) of an amount's text."""
    if not isinstance(value, str):
        raise ValueError(f"must be {HINTS[unit]}, got {value!r:.60}")
    text = value.strip()
    if text.startswith("-"):
        raise ValueError(f"must not be negative, got {value!r:.60}")
    m = _AMOUNT_RE.match(text)
    if not m or m.group(2) not in SUFFIXES[unit]:
        raise ValueError(f"must be {HINTS[unit]}, got {value!r:.60}")
    multiplier = SUFFIXES[unit][m.group(2)]
    try:
        return Decimal(m.group(1)) * multiplier, multiplier
    except InvalidOperation:
        raise ValueError(f"must be {HINTS[unit]}, got {value!r:.60}") from None


def parse_amount(value: Any, unit: Unit, *, positive: bool = False) -> int | float:
    """A limit in ``unit``: an exact int for counts and bytes, a float for ms."""
    number = _decimal(value)
    multiplier = 1
    if number is None:
        number, multiplier = _parse_text(value, unit)
    if number < 0:
        raise ValueError(f"must not be negative, got {value!r:.60}")
    if positive and number == 0:
        raise ValueError(f"must be greater than 0, got {value!r:.60}")
    if unit is Unit.MS:
        if number > Decimal(MAX_MS):
            raise ValueError(f"must be at most {MAX_MS:g} ms, got {value!r:.60}")
        ms = float(number)
        if positive and ms == 0:
            raise ValueError(f"is too small to be a latency, got {value!r:.60}")
        return ms
    if number > MAX_INT:
        raise ValueError(f"must be at most {MAX_INT:,}, got {value!r:.60}")
    whole = math.floor(number)
    if number != whole:
        if unit is Unit.COUNT or multiplier == 1:
            raise ValueError(f"must be a whole number, got {value!r:.60} ({number.normalize()})")
        if whole == 0:
            raise ValueError(f"is less than one byte, got {value!r:.60}")
    return whole


def parse_percent(value: Any, *, maximum: int = MAX_PERCENT) -> Fraction:
    """"1%" or "0.5 %" as an exact fraction of one hundred (1% -> 1)."""
    m = PERCENT_RE.match(value) if isinstance(value, str) else None
    if m is None:
        if isinstance(value, str) and value.strip().startswith("-"):
            raise ValueError(f"must not be negative, got {value!r:.60}")
        raise ValueError(f"must be a percentage such as 1% or 0.5%, got {value!r:.60}")
    number = Decimal(m.group(1))
    if number > maximum:
        raise ValueError(f"must be at most {maximum:,}%, got {value!r:.60}")
    return Fraction(number)


def parse_increase(value: Any, unit: Unit) -> tuple[int | float | Fraction, bool]:
    """A ``max_increase``: (percent, True) for "1%", else (amount in ``unit``, False)."""
    if isinstance(value, str) and value.rstrip().endswith("%"):
        return parse_percent(value), True
    try:
        return parse_amount(value, unit), False
    except ValueError as exc:
        raise ValueError(f"{exc} (or a percentage of the baseline such as 1%)") from None


def parse_seconds(value: Any, maximum: float) -> float:
    number = _decimal(value)
    if number is None or number < 0 or number > Decimal(maximum):
        raise ValueError(f"must be a number of seconds from 0 to {maximum:g}, got "
                         f"{value!r:.60}")
    return float(number)
