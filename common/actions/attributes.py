"""Point-attribute actions with the Collector attributesprocessor's keys and meanings, compiled to plain
functions over a dict; shared by the `attributes` and `metricstransform` processors.

Collector actions: insert, update, upsert (value | from_attribute | default_value), delete and hash
(key and/or pattern), extract (key + pattern with named groups), convert (key + converted_type).
One addition the Collector lacks: `rename` (`key` is the new name, `from_attribute` the old one), the
one-step form of `insert from_attribute` + `delete`. `from_context` is not supported: metrics here
carry no request context.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from collector.component import ConfigModel
from collector.configtypes import Refused
from common.matching import compile_regexp
from common.points import AttributeEdit as Edit

AttributeValue = str | bool | int | float

_NEEDS = {
    "insert": "key and one of value, from_attribute or default_value",
    "update": "key and one of value, from_attribute or default_value",
    "upsert": "key and one of value, from_attribute or default_value",
    "delete": "key and/or pattern",
    "hash": "key and/or pattern",
    "extract": "key and pattern (with named groups)",
    "convert": "key and converted_type",
    "rename": "key (the new name) and from_attribute (the old one)",
}


class AttributeAction(ConfigModel):
    key: str | None = Field(None, min_length=1)
    action: Literal["insert", "update", "upsert", "delete", "hash", "extract", "convert", "rename"]
    value: AttributeValue | None = None
    from_attribute: str | None = Field(None, min_length=1)
    default_value: AttributeValue | None = Field(None, description="Used when from_attribute is absent.")
    pattern: str | None = Field(None, description="delete/hash: keys matching it; extract: named groups.")
    converted_type: Literal["int", "double", "string"] | None = None
    from_context: Annotated[Any, Refused("metrics here carry no request context: use value or from_attribute")] = None

    @field_validator("pattern")
    @classmethod
    def _valid_pattern(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            compile_regexp(pattern)
        return pattern

    @model_validator(mode="after")
    def _required_keys(self) -> Self:
        a = self.action
        source = self.value is not None or self.from_attribute is not None or self.default_value is not None
        ok = {
            "insert": self.key and source,
            "update": self.key and source,
            "upsert": self.key and source,
            "delete": self.key or self.pattern,
            "hash": self.key or self.pattern,
            "extract": self.key and self.pattern and re.compile(self.pattern).groupindex,
            "convert": self.key and self.converted_type,
            "rename": self.key and self.from_attribute,
        }[a]
        if not ok:
            raise ValueError(f"action {a!r} needs {_NEEDS[a]}")
        if a in ("insert", "update", "upsert") and self.value is not None and self.from_attribute is not None:
            raise ValueError(f"action {a!r} takes value or from_attribute, not both")
        return self

    def compile(self) -> Edit:
        return _COMPILERS[self.action](self)


_MISSING = object()


def _source(action: AttributeAction) -> Callable[[dict[str, Any]], Any]:
    """Where insert/update/upsert take the value from; `_MISSING` means do nothing."""
    if action.value is not None:
        value = action.value
        return lambda _attrs: value
    source, default = action.from_attribute, action.default_value
    fallback = _MISSING if default is None else default
    return lambda attrs: attrs.get(source, fallback)


def _insert(action: AttributeAction) -> Edit:
    key, source = action.key, _source(action)

    def edit(attrs: dict[str, Any]) -> None:
        if key not in attrs and (value := source(attrs)) is not _MISSING:
            attrs[key] = value

    return edit


def _update(action: AttributeAction) -> Edit:
    key, source = action.key, _source(action)

    def edit(attrs: dict[str, Any]) -> None:
        if key in attrs and (value := source(attrs)) is not _MISSING:
            attrs[key] = value

    return edit


def _upsert(action: AttributeAction) -> Edit:
    key, source = action.key, _source(action)

    def edit(attrs: dict[str, Any]) -> None:
        if (value := source(attrs)) is not _MISSING:
            attrs[key] = value

    return edit


def _keys(action: AttributeAction) -> Callable[[dict[str, Any]], list[str]]:
    """The keys delete/hash act on: `key`, and every key the `pattern` finds."""
    key, regexp = action.key, compile_regexp(action.pattern) if action.pattern else None
    if regexp is None:
        return lambda attrs: [key] if key in attrs else []
    return lambda attrs: [k for k in attrs if k == key or regexp.search(k)]


def _delete(action: AttributeAction) -> Edit:
    keys = _keys(action)

    def edit(attrs: dict[str, Any]) -> None:
        for k in keys(attrs):
            del attrs[k]

    return edit


def _hash(action: AttributeAction) -> Edit:
    """SHA-1 hex of the value's text, as the Collector's `hash` (for strings; other types are hashed
    through their text form here, the Collector hashes their binary form)."""
    keys = _keys(action)

    def edit(attrs: dict[str, Any]) -> None:
        for k in keys(attrs):
            attrs[k] = hashlib.sha1(str(attrs[k]).encode()).hexdigest()

    return edit


def _extract(action: AttributeAction) -> Edit:
    key, regexp = action.key, compile_regexp(action.pattern or "")

    def edit(attrs: dict[str, Any]) -> None:
        value = attrs.get(key)
        if isinstance(value, str) and (match := regexp.search(value)):
            attrs.update({k: v for k, v in match.groupdict().items() if v is not None})

    return edit


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "int": int,  # "12" -> 12, 3.7 -> 3, True -> 1; "12.5" stays as it is (as Go's ParseInt)
    "double": float,
    "string": lambda v: str(v).lower() if isinstance(v, bool) else str(v),
}


def _convert(action: AttributeAction) -> Edit:
    """Values that cannot be converted stay as they are, as in the Collector."""
    key, to = action.key, _CONVERT[action.converted_type or "string"]

    def edit(attrs: dict[str, Any]) -> None:
        if key in attrs:
            with contextlib.suppress(TypeError, ValueError, OverflowError):
                attrs[key] = to(attrs[key])

    return edit


def _rename(action: AttributeAction) -> Edit:
    return rename_edit(action.from_attribute or "", action.key or "")


def rename_edit(old: str, new: str) -> Edit:
    """Move `old`'s value to `new` (replacing it) if `old` is present."""

    def edit(attrs: dict[str, Any]) -> None:
        if old in attrs:
            attrs[new] = attrs.pop(old)

    return edit


def value_map_edit(key: str, values: dict[Any, Any]) -> Edit:
    """Replace listed values of `key` (metricstransform's `update_label.value_actions`)."""

    def edit(attrs: dict[str, Any]) -> None:
        if key in attrs and attrs[key] in values:
            attrs[key] = values[attrs[key]]

    return edit


_COMPILERS: dict[str, Callable[[AttributeAction], Edit]] = {
    "insert": _insert,
    "update": _update,
    "upsert": _upsert,
    "delete": _delete,
    "hash": _hash,
    "extract": _extract,
    "convert": _convert,
    "rename": _rename,
}
