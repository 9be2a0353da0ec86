"""Field types shared by component configs, spelled as the Collector's YAML spells them."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, PlainSerializer, WithJsonSchema
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any) -> float:
    """Go-style durations (`500ms`, `10s`, `1m30s`) to seconds, as every Collector config uses them.

    A bare 0 is accepted (it means "off" in many keys); any other bare number is refused because Go
    would read it as nanoseconds and a user almost certainly meant seconds.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value == 0:
            return 0.0
        raise ValueError(f"expected a duration with a unit, like '{value}s' or '{value}ms'")
    if not isinstance(value, str):
        raise ValueError("expected a duration like 10s, 500ms or 1m30s")
    text = value.strip()
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"invalid duration {value!r}: expected a duration like 10s, 500ms or 1m30s")
    return total


def format_duration(seconds: float) -> str:
    if seconds and seconds < 1:
        return f"{seconds * 1000:g}ms"
    return f"{seconds:g}s"


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^(0|(\d+(\.\d*)?(ns|us|µs|ms|s|m|h))+)$"}),
]
"""Seconds, written in config as a Go duration."""

PositiveDuration = Annotated[Duration, Field(gt=0)]


class Refused:
    """A Collector key this design cannot honour, declared as `key: Annotated[None, Refused("why; use Y")] = None`.

    The key stays in the model so that setting it fails with its path and the reason (say why, and what
    to use instead), not with a bare "unknown key"; left out, it is None and means nothing. The JSON
    Schema marks it as never valid, with the reason as its description.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        def refuse(_value: Any) -> None:
            raise ValueError(f"not supported: {self.reason}")

        return core_schema.no_info_plain_validator_function(refuse)

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"not": {}, "description": f"Not supported: {self.reason}"}


def is_refused(field: FieldInfo) -> bool:
    """Whether a model field is a `Refused` key (left out of "allowed keys" lists)."""
    return any(isinstance(item, Refused) for item in field.metadata)
