"""Checks an EMF document against the AWS JSON schema and the rules the schema leaves to prose."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

# The official schema, verbatim (provenance in emf-schema.SOURCE.txt beside it).
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "exporters" / "awsemf" / "testdata" / "emf-schema.json"


@cache
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SCHEMA_PATH.read_text()))


def check_document(text: str) -> dict[str, Any]:
    """Parse, validate with the schema, then the semantic rules; returns the document."""
    document = json.loads(text)
    validator().validate(document)
    aws = document["_aws"]
    assert aws["Timestamp"] > 10**12, "Timestamp must be in milliseconds"
    for directive in aws["CloudWatchMetrics"]:
        assert len(directive["Metrics"]) <= 100, "at most 100 metrics per directive"
        for dimension_set in directive["Dimensions"]:
            assert len(dimension_set) <= 30
            for key in dimension_set:
                assert isinstance(document.get(key), str), f"dimension {key} must be a string member"
                assert 1 <= len(document[key]) <= 1024
        for definition in directive["Metrics"]:
            name = definition["Name"]
            assert name in document, f"metric {name} has no member"
            check_value(document[name])
    return document


def check_value(value: Any) -> None:
    if isinstance(value, dict):
        assert set(value) >= {"Values", "Counts"}
        assert len(value["Values"]) == len(value["Counts"]) <= 100
        numbers = [
            *value["Values"],
            *value["Counts"],
            *(value[k] for k in ("Max", "Min", "Sum", "Count") if k in value),
        ]
    elif isinstance(value, list):
        assert len(value) <= 100
        numbers = value
    else:
        numbers = [value]
    for number in numbers:
        assert isinstance(number, int | float) and not isinstance(number, bool)
        assert math.isfinite(number)
