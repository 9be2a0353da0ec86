"""The JSON Schema of a whole otel-config.yaml, assembled from every installed component's model."""

from __future__ import annotations

import re
from typing import Any

from pydantic.json_schema import models_json_schema

from collector.component import Kind
from collector.config import ServiceConfig
from collector.registry import Registry


def config_schema(registry: Registry) -> dict[str, Any]:
    """Component ids are `type` or `type/name`, so each section maps an id pattern to its type's model."""
    entries = [e for e in registry.all()]
    models = [(e.factory.config_model, "validation") for e in entries] + [(ServiceConfig, "validation")]
    refs, definitions = models_json_schema(models, ref_template="#/$defs/{model}")
    sections: dict[str, Any] = {
        kind.section: {"type": "object", "patternProperties": {}, "additionalProperties": False} for kind in Kind
    }
    for entry in entries:
        pattern = f"^{re.escape(entry.factory.type)}(/.+)?$"
        ref = refs[(entry.factory.config_model, "validation")]
        sections[entry.factory.kind.section]["patternProperties"][pattern] = {"anyOf": [ref, {"type": "null"}]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "otel-config.yaml",
        "type": "object",
        "additionalProperties": False,
        "properties": {**sections, "service": refs[(ServiceConfig, "validation")]},
        "required": ["service"],
        "$defs": definitions.get("$defs", {}),
    }
