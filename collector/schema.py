"""The JSON Schema of a whole otel-config.yaml, assembled from every installed component's model."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from collector.component import Kind
from collector.registry import Registry
from collector.serviceconfig import ServiceConfig

_VALIDATION: Literal["validation"] = "validation"


def config_schema(registry: Registry) -> dict[str, Any]:
    """Component ids are `type` or `type/name`, so each section maps an id pattern to its type's model."""
    entries = [e for e in registry.all()]
    config_models: list[type[BaseModel]] = [e.factory.config_model for e in entries] + [ServiceConfig]
    models = [(model, _VALIDATION) for model in config_models]
    refs, definitions = models_json_schema(models, ref_template="#/$defs/{model}")
    sections: dict[str, Any] = {
        kind.section: {"type": "object", "patternProperties": {}, "additionalProperties": False} for kind in Kind
    }
    for entry in entries:
        pattern = f"^{re.escape(entry.factory.type)}(/.+)?$"
        ref = refs[(entry.factory.config_model, _VALIDATION)]
        sections[entry.factory.kind.section]["patternProperties"][pattern] = {"anyOf": [ref, {"type": "null"}]}
    definitions = {name: _allow_env_references(node) for name, node in definitions.get("$defs", {}).items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "otel-config.yaml",
        "type": "object",
        "additionalProperties": False,
        "properties": {**sections, "service": refs[(ServiceConfig, "validation")]},
        "required": ["service"],
        "$defs": definitions,
    }


ENV_REFERENCE = {"type": "string", "pattern": r"\$\{[^}]+\}"}
_SCALAR_TYPES = {"string", "integer", "number", "boolean"}


def _allow_env_references(node: Any) -> Any:
    """Any scalar may be written as `${env:...}` in the file an editor sees, before expansion."""
    if isinstance(node, list):
        return [_allow_env_references(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _allow_env_references(value) for key, value in node.items()}
    return {"anyOf": [node, ENV_REFERENCE]} if _is_scalar_schema(node) else node


def _is_scalar_schema(node: dict[str, Any]) -> bool:
    # `properties` maps are walked too: a property named "type" or "enum" holds a dict, not a schema word
    return (isinstance(node.get("type"), str) and node["type"] in _SCALAR_TYPES) or isinstance(node.get("enum"), list)
