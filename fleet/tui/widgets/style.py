"""Formatting shared by the viewer and the dashboard: host colours, sparklines, short numbers."""

from __future__ import annotations

from typing import Optional, Sequence

HOST_COLOURS = ("cyan", "magenta", "green", "yellow", "bright_blue", "bright_red", "bright_cyan", "bright_green")
BARS = " ▁▂▃▄▅▆▇█"


def host_colour(index: int) -> str:
    return HOST_COLOURS[index % len(HOST_COLOURS)]


def sparkline(values: Sequence[float], width: int) -> str:
    """The last `width` values as bar characters scaled to their maximum (blank when all are zero)."""
    tail = list(values)[-width:]
    top = max(tail, default=0.0)
    if top <= 0:
        return " " * width
    bars = "".join(BARS[min(8, int(round(v / top * 8)))] if v > 0 else " " for v in tail)
    return bars.rjust(width)


def si(value: Optional[float], unit: str = "") -> str:
    """1234567 -> `1.2M`; None -> `-`."""
    if value is None:
        return "-"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{value / div:.1f}{suffix}{unit}"
    return f"{value:.0f}{unit}"


def human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def duration_ns(ns: Optional[float]) -> str:
    """An offset or uncertainty in the unit that fits: `812ns`, `3.4us`, `1.20ms`, `2.000s`."""
    if ns is None:
        return "-"
    a = abs(ns)
    if a < 1e3:
        return f"{ns:.0f}ns"
    if a < 1e6:
        return f"{ns / 1e3:.1f}us"
    if a < 1e9:
        return f"{ns / 1e6:.2f}ms"
    return f"{ns / 1e9:.3f}s"
