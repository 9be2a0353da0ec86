"""OpenTelemetry (UCUM) units to CloudWatch's unit names, as the Collector's AWS exporters map them,
plus the rates and annotations (`{event}`) a JMX scrape produces. Anything unknown is `None`."""

from __future__ import annotations

import re

_SIZES = ("Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes")
_BITS = ("Bits", "Kilobits", "Megabits", "Gigabits", "Terabits")
CLOUDWATCH_UNITS = frozenset(
    (
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Percent",
        "Count",
        "Count/Second",
        "None",
        *_SIZES,
        *_BITS,
        *(f"{unit}/Second" for unit in (*_SIZES, *_BITS)),
    )
)

_BASE = {
    "s": "Seconds",
    "ms": "Milliseconds",
    "us": "Microseconds",
    "µs": "Microseconds",
    "By": "Bytes",
    "kBy": "Kilobytes",
    "KBy": "Kilobytes",
    "KiBy": "Kilobytes",
    "MBy": "Megabytes",
    "MiBy": "Megabytes",
    "GBy": "Gigabytes",
    "GiBy": "Gigabytes",
    "TBy": "Terabytes",
    "TiBy": "Terabytes",
    "bit": "Bits",
    "kbit": "Kilobits",
    "Kibit": "Kilobits",
    "Mbit": "Megabits",
    "Mibit": "Megabits",
    "Gbit": "Gigabits",
    "Gibit": "Gigabits",
    "Tbit": "Terabits",
    "Tibit": "Terabits",
    "%": "Percent",
    "1": "None",
    "": "None",
}
_RATE = {*_SIZES, *_BITS}
_ANNOTATION = re.compile(r"^\{[^}]*\}$")


def _single(unit: str) -> str | None:
    if _ANNOTATION.match(unit):
        return "Count"  # {event}, {record}, {connection}: counts of things
    return _BASE.get(unit)


def cloudwatch_unit(otel_unit: str | None) -> str:
    """`ms` -> Milliseconds, `By` -> Bytes, `By/s` -> Bytes/Second, `{event}` -> Count, `1` -> None."""
    unit = (otel_unit or "").strip()
    if unit in CLOUDWATCH_UNITS:
        return unit  # already a CloudWatch name (e.g. set by a rename processor)
    numerator, slash, denominator = unit.partition("/")
    if slash and denominator == "s":
        base = _single(numerator) if numerator != "1" else "Count"
        if base == "Count":
            return "Count/Second"
        if base in _RATE:
            return f"{base}/Second"
        return "None"
    return _single(unit) or "None"
