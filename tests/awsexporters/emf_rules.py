"""Checks an EMF document against the AWS JSON schema and the rules the schema leaves to prose: the
CloudWatch API reference's limits on metric names and dimensions (written out here from the
documentation, independently of common/aws/names.py), the EMF specification's limits, and
statistics that agree (`Min <= Sum/Count <= Max`)."""

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
    document = json.loads(text, object_pairs_hook=_unique_keys)
    validator().validate(document)
    aws = document["_aws"]
    assert aws["Timestamp"] > 10**12, "Timestamp must be in milliseconds"
    check_directives(document, aws["CloudWatchMetrics"])
    return document


def check_directives(document: dict[str, Any], directives: list[dict[str, Any]]) -> None:
    """The directives' rules (also for version 0 documents, whose directives sit at the root)."""
    for directive in directives:
        assert len(directive["Metrics"]) <= 100, "at most 100 metrics per directive"
        assert 1 <= len(directive["Namespace"]) <= 255 and not directive["Namespace"].startswith(":")
        for dimension_set in directive["Dimensions"]:
            assert len(dimension_set) <= 30
            for key in dimension_set:
                assert dimension_name_accepted(key), f"dimension name {key!r}"
                assert isinstance(document.get(key), str), f"dimension {key} must be a string member"
                assert dimension_value_accepted(document[key]), f"dimension value {document[key]!r}"
        for definition in directive["Metrics"]:
            name = definition["Name"]
            assert metric_name_accepted(name), f"metric name {name!r}"
            assert name in document, f"metric {name} has no member"
            check_value(document[name])


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate members {keys}"
    return dict(pairs)


def _ascii_text(text: str) -> bool:
    """ASCII, no control characters, at least one non-whitespace character."""
    return all(" " <= c <= "~" for c in text) and text.strip() != ""


def dimension_name_accepted(name: str) -> bool:
    """CloudWatch `Dimension.Name`; 250 is the EMF schema's DimensionReference limit (the API's is 255)."""
    return 1 <= len(name) <= 250 and _ascii_text(name) and not name.startswith(":")


def dimension_value_accepted(value: str) -> bool:
    return 1 <= len(value) <= 1024 and _ascii_text(value)


def metric_name_accepted(name: str) -> bool:
    """CloudWatch `Metric.MetricName`: 1-255 characters; no control characters, not blank."""
    return 1 <= len(name) <= 255 and name.strip() != "" and not any(c < " " or c == "\x7f" for c in name)


def check_value(value: Any) -> None:
    if isinstance(value, dict):
        assert set(value) >= {"Values", "Counts"}
        assert len(value["Values"]) == len(value["Counts"]) <= 100
        if {"Min", "Max", "Sum", "Count"} <= set(value):
            assert value["Count"] > 0 and value["Count"] == sum(value["Counts"])
            assert value["Min"] <= value["Sum"] / value["Count"] <= value["Max"], f"statistics disagree: {value}"
            assert all(value["Min"] <= v <= value["Max"] for v in value["Values"])
            assert all(c > 0 for c in value["Counts"])
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
        assert math.isfinite(number) and abs(number) <= 2.0**360
