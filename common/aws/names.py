"""CloudWatch's rules for metric names and dimensions, shared by both exporters, so neither ever sends one
CloudWatch would refuse (the core drops bad names where they enter; this is the last line).

Documented limits (CloudWatch API reference, `Metric` and `Dimension`; EMF specification and schema):
- metric name: 1-255 characters;
- dimension name: 1-255 characters (EMF: a DimensionSet reference is 1-250), ASCII only, no ASCII
  control characters, at least one non-whitespace character, not starting with `:`;
- dimension value: 1-1024 characters, ASCII only, no control characters, at least one non-whitespace
  character;
- at most 30 dimensions per metric (per EMF dimension set).

The rules applied here, per kind of name:
- a metric name that is empty, blank, over 255 characters or holds a control character: the point is
  dropped (`invalid_metric_name`);
- a label whose key or value CloudWatch would refuse as a dimension is never a dimension (counted per
  point as `invalid_dimension`, whatever else of the point is sent); a value over 1024 characters is
  truncated to 1024 first.
"""

from __future__ import annotations

import re

MAX_METRIC_NAME = 255
MAX_DIMENSION_NAME = 250  # EMF's limit (CloudWatch's API allows 255): the stricter of the two, for both
MAX_DIMENSION_VALUE = 1024
MAX_DIMENSIONS = 30

INVALID_METRIC_NAME = "invalid_metric_name"
INVALID_DIMENSION = "invalid_dimension"

_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def metric_name_ok(name: str) -> bool:
    """1-255 characters, not blank, no control character."""
    return 0 < len(name) <= MAX_METRIC_NAME and not name.isspace() and _CONTROL.search(name) is None


def dimension_name_ok(key: str) -> bool:
    """1-250 printable ASCII characters, not blank, not starting with `:`."""
    return (
        len(key) <= MAX_DIMENSION_NAME
        and _PRINTABLE_ASCII.match(key) is not None
        and not key.isspace()
        and not key.startswith(":")
    )


def dimension_value(value: str) -> str | None:
    """The value as sent as a dimension (cut to 1024 characters), or None when CloudWatch would refuse it."""
    value = value[:MAX_DIMENSION_VALUE]
    if _PRINTABLE_ASCII.match(value) is None or value.isspace():
        return None
    return value
