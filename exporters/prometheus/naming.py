"""OTLP names -> Prometheus names, by the Collector's translator (pkg/translator/prometheus) rules.

`debezium.streaming.MilliSecondsBehindSource` with unit `ms` becomes
`debezium_streaming_MilliSecondsBehindSource_milliseconds`; a monotonic sum gets `_total`; a gauge with
unit `1` gets `_ratio`; `{annotations}` in units are dropped; `By/s` becomes `bytes_per_second`.
"""

from __future__ import annotations

import json
import re
from typing import Any

_UNITS = {
    "d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds", "us": "microseconds",
    "ns": "nanoseconds", "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes",
    "TiBy": "tibibytes", "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes",
    "B": "bytes", "KB": "kilobytes", "MB": "megabytes", "GB": "gigabytes", "TB": "terabytes", "m": "meters",
    "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams", "Cel": "celsius", "Hz": "hertz",
    "1": "", "%": "percent", "$": "dollars",
}  # fmt: skip
_PER_UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year"}
# The legacy (non-UTF-8) Prometheus syntax every parser and Prometheus version accepts.
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# Anything but an ASCII letter or digit separates tokens: the translator splits on non-letters and then
# escapes what the legacy syntax refuses (`é`) to `_`, which ends in the same name.
_SEPARATORS = re.compile(r"[^a-zA-Z0-9]")
_ANNOTATION = re.compile(r"\{[^}]*\}")
_FORBIDDEN = re.compile(r"[^a-zA-Z0-9_:]")
_FORBIDDEN_LABEL = re.compile(r"[^a-zA-Z0-9_]")


def _tokens(text: str) -> list[str]:
    return [t for t in _SEPARATORS.split(text) if t]


def clean(text: str) -> str:
    """Letters and digits joined by single underscores (the translator's CleanUpString)."""
    return "_".join(_tokens(text))


def metric_name(name: str, unit: str, *, counter: bool, gauge: bool, namespace: str = "", suffixes: bool = True) -> str:
    if not suffixes:
        result = "_".join(t for t in _FORBIDDEN.split(name) if t)
        result = f"{clean(namespace)}_{result}" if namespace else result
        return f"_{result}" if result[:1].isdigit() else result
    tokens = _tokens(name)
    main, _, per = _ANNOTATION.sub("", unit).partition("/")
    main_unit = clean(_UNITS.get(main.strip(), main.strip()))
    if main_unit and main_unit not in tokens:
        tokens.append(main_unit)
    per_unit = clean(_PER_UNITS.get(per.strip(), per.strip()))
    if per_unit and per_unit not in tokens:
        tokens += ["per", per_unit]
    if counter:
        tokens = [t for t in tokens if t != "total"] + ["total"]
    if gauge and unit == "1":
        tokens = [t for t in tokens if t != "ratio"] + ["ratio"]
    if namespace:
        tokens.insert(0, clean(namespace))
    result = "_".join(tokens)
    return f"_{result}" if result[:1].isdigit() else result


def label_name(key: str) -> str:
    """The translator's NormalizeLabel: every character outside `[a-zA-Z0-9_]` becomes `_`; then a leading
    digit gets a `key_` prefix and a leading `_` a `key` prefix (`_x` -> `key_x`, `.x` -> `key_x`).

    One difference: the Collector keeps a leading `__`, but Prometheus reserves those names for its own
    use and prometheus-client's parsers refuse them, so `__x` becomes `key__x` here. An empty key stays
    empty, which no label may be: callers drop such points."""
    if not key:
        return key
    label = _FORBIDDEN_LABEL.sub("_", key)
    if label[0].isdigit():
        return "key_" + label
    if label.startswith("_"):
        return "key" + label
    return label


def label_value(value: Any) -> str:
    """Attribute values as the Collector's AsString renders them: JSON for arrays and maps."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, separators=(",", ":"), default=lambda v: v.hex() if isinstance(v, bytes) else str(v))
    return repr(value) if isinstance(value, float) else str(value)


def labels(attributes: dict[str, Any]) -> dict[str, str]:
    """Normalised labels; keys that collide after normalising get values joined by `;` in key order."""
    result: dict[str, str] = {}
    for key in sorted(attributes):
        name = label_name(key)
        text = label_value(attributes[key])
        result[name] = f"{result[name]};{text}" if name in result else text
    return result
