"""Human-readable numbers: the only place counts become text with units."""

from __future__ import annotations

_SUFFIXES = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def human(n: float) -> str:
    """4 significant digits with a K/M/G/T suffix: 568740352 -> '568.7M'."""
    if abs(n) < 1000:
        return f"{n:g}" if isinstance(n, float) else str(n)
    for size, suffix in reversed(_SUFFIXES):      # K, M, G, T
        value = n / size
        digits = max(0, 4 - len(str(int(abs(value)))))
        text = f"{value:.{digits}f}"
        if abs(float(text)) < 1000 or suffix == "T":  # 999.96K rounds to 1000: use M
            return text + suffix
    raise AssertionError


def human_bytes(n: int) -> str:
    """Bytes in binary units: 4816896 -> '4.59 MiB'."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    raise AssertionError


def pct(value: float) -> str:
    return f"{value:.2f}%"


def ms(value: float) -> str:
    """Milliseconds as every latency table prints them (three decimals: microseconds)."""
    return f"{value:.3f}"


def shape(s: tuple[int, ...]) -> str:
    """A shape as the papers print it: H x W x C (vectors: their length)."""
    if len(s) == 3:
        c, h, w = s
        return f"{h}x{w}x{c}"
    return "x".join(str(d) for d in s)
