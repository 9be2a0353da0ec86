"""Config problems as the user reads them: every one with its full path (`exporters.otlp.tls.ca_file`), and
pydantic's validation errors turned into such problems, with "did you mean" and the allowed keys."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from collector.configtypes import is_refused


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(Exception):
    """Every problem found in a config, so the user fixes them all in one go."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def join_path(parent: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def did_you_mean(word: str, candidates: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(word), list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_key_message(key: Any, allowed: list[str] | tuple[str, ...]) -> str:
    hint = did_you_mean(str(key), allowed)
    listing = ", ".join(allowed) if allowed else "none"
    return f"unknown key {str(key)!r}{hint}; allowed keys: {listing}"


def pydantic_problems(exc: ValidationError, prefix: str, model: type[BaseModel], data: Any) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = _data_path(error["loc"], data)
        path = prefix
        for part in loc:
            path = join_path(path, part)
        if error["type"] == "extra_forbidden" and loc:
            allowed = allowed_keys(model, loc[:-1])
            message = unknown_key_message(loc[-1], allowed)
        else:
            message = error["msg"]
            message = message[0].lower() + message[1:] if message else message
            if message.startswith("value error, "):
                message = message.removeprefix("value error, ")
        problems.append(Problem(path, message))
    return problems


def _has_child(node: Any, part: Any) -> bool:
    if isinstance(node, Mapping):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _data_path(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """The error location as keys of the user's data: pydantic also inserts the names of union members
    it tried (`str`, `function-after[...]`), which are not where anything is in the YAML."""
    path: list[Any] = []
    current = data
    for i, part in enumerate(loc):
        if _has_child(current, part):
            current = current[part]
        elif isinstance(current, Mapping) and i == len(loc) - 1:
            pass  # a missing required key: the last part names where it belongs
        else:
            continue
        path.append(part)
    return tuple(path)


def allowed_keys(model: Any, loc: tuple[Any, ...]) -> list[str]:
    """The keys the model accepts at `loc`, following fields, lists, dicts and optional unions."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    current = _unwrap_model(current)
    if current is None:
        return []
    return [info.alias or name for name, info in current.model_fields.items() if not is_refused(info)]


def _step(annotation: Any, part: Any) -> Any:
    model = _unwrap_model(annotation)
    if model is not None and isinstance(part, str):
        for name, info in model.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    for candidate in _candidates(annotation):
        origin = typing.get_origin(candidate)
        args = typing.get_args(candidate)
        if origin in (list, tuple, set, frozenset) and isinstance(part, int) and args:
            return args[0]
        if origin in (dict, Mapping) and len(args) == 2:
            return args[1]
    return None


def _candidates(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _candidates(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [c for arg in typing.get_args(annotation) for c in _candidates(arg)]
    return [annotation]


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    for candidate in _candidates(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
