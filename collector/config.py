"""Load, expand and validate `otel-config.yaml`, reporting every problem with its full path."""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from collector.component import ComponentID, ConfigModel, Factory, Kind
from collector.configfile import DEFAULT_MAX_BYTES, FileProblem, read_yaml_file
from collector.configtypes import Duration, is_refused
from collector.exporterhelper import sending_of
from collector.registry import Registry

TOP_LEVEL_KEYS = ("receivers", "processors", "exporters", "extensions", "service")
SUPPORTED_SIGNALS = ("metrics",)

_REFERENCE = re.compile(r"\$\$|\$\{([^}]*)\}")
_VARIABLE = re.compile(r"^(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.DOTALL)


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


# ---------------------------------------------------------------------------------------------------
# Loading and ${env:...} expansion


def load_files(paths: list[str | Path], max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """Read and deep-merge the YAML files in order (later wins; lists are replaced, as in the Collector).

    Each file is read within the limits of `collector.configfile` (regular file, size, depth, aliasing);
    the problems of every file are reported together.
    """
    merged: dict[str, Any] = {}
    problems: list[Problem] = []
    for path in paths:
        try:
            document = read_yaml_file(path, max_bytes)
        except FileProblem as exc:
            problems.append(Problem(str(path), str(exc)))
            continue
        if document is None:
            continue
        if not isinstance(document, dict):
            problems.append(Problem(str(path), "the config must be a mapping at the top level"))
            continue
        merged = deep_merge(merged, document)
    if problems:
        raise ConfigError(problems)
    return merged


def deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def expand_env(node: Any, environ: Mapping[str, str] | None = None, path: str = "") -> Any:
    """Expand `${env:VAR}`, `${env:VAR:-default}`, `${VAR}` and `$$` in every string value.

    Values stay strings: the component's model converts `"8080"` to an int where it wants one. That keeps
    a password of digits a string. Every unset variable is reported, not only the first.
    """
    result, problems = expand_env_collecting(node, environ, path)
    if problems:
        raise ConfigError(problems)
    return result


def expand_env_collecting(
    node: Any, environ: Mapping[str, str] | None = None, path: str = ""
) -> tuple[Any, list[Problem]]:
    """As `expand_env`, but returns the problems beside the result (unresolved references left as written),
    so that validation can still report every other problem of the file in the same run."""
    problems: list[Problem] = []
    result = _expand(node, os.environ if environ is None else environ, path, problems)
    return result, problems


def _expand(node: Any, environ: Mapping[str, str], path: str, problems: list[Problem]) -> Any:
    if isinstance(node, dict):
        return {key: _expand(value, environ, join_path(path, key), problems) for key, value in node.items()}
    if isinstance(node, list):
        return [_expand(value, environ, f"{path}[{i}]", problems) for i, value in enumerate(node)]
    if not isinstance(node, str):
        return node

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        reference = match.group(1)
        variable = _VARIABLE.match(reference)
        if not variable:
            problems.append(
                Problem(path, f"unsupported reference ${{{reference}}}: use ${{env:NAME}} or ${{env:NAME:-default}}")
            )
            return match.group(0)
        name, default = variable.group(1), variable.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        problems.append(Problem(path, f"environment variable {name} is not set and has no default"))
        return match.group(0)

    return _REFERENCE.sub(replace, node)


def join_path(parent: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


# ---------------------------------------------------------------------------------------------------
# The service section


class PipelineConfig(ConfigModel):
    receivers: list[str] = Field(default_factory=list)
    processors: list[str] = Field(default_factory=list)
    exporters: list[str] = Field(default_factory=list)


class LogsTelemetryConfig(ConfigModel):
    level: Literal["debug", "info", "warn", "warning", "error"] = "info"
    encoding: Literal["console", "json"] = "console"


class MetricsTelemetryConfig(ConfigModel):
    level: Literal["none", "basic", "normal", "detailed"] = "normal"
    address: str = "localhost:8888"


class TelemetryConfig(ConfigModel):
    logs: LogsTelemetryConfig = LogsTelemetryConfig()
    metrics: MetricsTelemetryConfig = MetricsTelemetryConfig()


class ServiceConfig(ConfigModel):
    extensions: list[str] = Field(default_factory=list)
    pipelines: dict[str, PipelineConfig] = Field(default_factory=dict)
    telemetry: TelemetryConfig = TelemetryConfig()
    shutdown_grace_period: Duration = Field(
        default=30.0, description="How long shutdown may take to drain queues and flush exporters."
    )

    @field_validator("pipelines")
    @classmethod
    def _known_signals(cls, pipelines: dict[str, PipelineConfig]) -> dict[str, PipelineConfig]:
        for pipeline_id in pipelines:
            signal = pipeline_id.partition("/")[0]
            if signal not in SUPPORTED_SIGNALS:
                raise ValueError(
                    f"pipeline {pipeline_id!r}: only metrics pipelines are supported (metrics or metrics/<name>)"
                )
        return pipelines


# ---------------------------------------------------------------------------------------------------
# Validation


@dataclass(frozen=True)
class ComponentSpec:
    id: ComponentID
    kind: Kind
    factory: Factory[Any]
    config: BaseModel


@dataclass
class CollectorConfig:
    """A config that passed every check: what the pipeline builder needs and nothing else."""

    components: dict[tuple[Kind, str], ComponentSpec]
    service: ServiceConfig
    warnings: list[str] = field(default_factory=list)

    def component(self, kind: Kind, component_id: str) -> ComponentSpec:
        return self.components[(kind, component_id)]


def validate(raw: Mapping[str, Any], registry: Registry) -> CollectorConfig:
    """Validate a loaded, expanded config. Raises ConfigError listing every problem."""
    problems: list[Problem] = []
    if raw and not any(key in TOP_LEVEL_KEYS for key in raw):
        # Not a collector config at all (a wrong path, `/etc/shadow`): say so without quoting its contents.
        raise ConfigError([Problem("", "not a collector config: it has none of the keys " + ", ".join(TOP_LEVEL_KEYS))])
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            problems.append(Problem(str(key), unknown_key_message(key, TOP_LEVEL_KEYS)))

    components: dict[tuple[Kind, str], ComponentSpec] = {}
    for kind in Kind:
        section = raw.get(kind.section) or {}
        if not isinstance(section, Mapping):
            problems.append(Problem(kind.section, f"expected a mapping of {kind} ids to their settings"))
            continue
        for raw_id, settings in section.items():
            spec = _validate_component(kind, str(raw_id), settings, registry, problems)
            if spec:
                components[(kind, str(spec.id))] = spec

    service_raw = raw.get("service")
    service: ServiceConfig | None = None
    if service_raw is None:
        problems.append(Problem("service", "missing: a config needs service.pipelines"))
    else:
        try:
            service = ServiceConfig.model_validate(service_raw)
        except ValidationError as exc:
            problems.extend(pydantic_problems(exc, "service", ServiceConfig, service_raw))

    warnings: list[str] = []
    if service is not None:  # references can only be checked in a service section that parsed
        _check_references(raw, service, problems, warnings)
        _check_queue_storage(components, service, problems)
    if problems or service is None:
        raise ConfigError(problems)
    return CollectorConfig(components=components, service=service, warnings=warnings)


def _validate_component(
    kind: Kind, raw_id: str, settings: Any, registry: Registry, problems: list[Problem]
) -> ComponentSpec | None:
    path = f"{kind.section}.{raw_id}"
    try:
        component_id = ComponentID.parse(raw_id)
    except ValueError as exc:
        problems.append(Problem(path, str(exc)))
        return None
    factory = registry.get(kind, component_id.type)
    if factory is None:
        known = registry.types(kind)
        hint = did_you_mean(component_id.type, known)
        problems.append(
            Problem(
                path,
                f"unknown {kind} type {component_id.type!r}{hint}; known {kind} types: "
                + (", ".join(known) or "none installed"),
            )
        )
        return None
    try:
        config = factory.config_model.model_validate(settings if settings is not None else {})
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, path, factory.config_model, settings))
        return None
    return ComponentSpec(component_id, kind, factory, config)


def _check_references(
    raw: Mapping[str, Any],
    service: ServiceConfig,
    problems: list[Problem],
    warnings: list[str],
) -> None:
    defined = {kind: _defined_ids(raw, kind) for kind in Kind}
    used: dict[Kind, set[str]] = {kind: set() for kind in Kind}

    for i, ext in enumerate(service.extensions):
        used[Kind.EXTENSION].add(ext)
        if ext not in defined[Kind.EXTENSION]:
            problems.append(Problem(f"service.extensions[{i}]", _undefined(Kind.EXTENSION, ext, defined)))

    if not service.pipelines:
        problems.append(Problem("service.pipelines", "no pipelines: define at least service.pipelines.metrics"))

    for pipeline_id, pipeline in service.pipelines.items():
        base = f"service.pipelines.{pipeline_id}"
        for kind, ids in (
            (Kind.RECEIVER, pipeline.receivers),
            (Kind.PROCESSOR, pipeline.processors),
            (Kind.EXPORTER, pipeline.exporters),
        ):
            seen: set[str] = set()
            for i, component_id in enumerate(ids):
                used[kind].add(component_id)
                where = f"{base}.{kind.section}[{i}]"
                if component_id not in defined[kind]:
                    problems.append(Problem(where, _undefined(kind, component_id, defined)))
                if component_id in seen:
                    problems.append(
                        Problem(where, f"{kind} {component_id!r} is listed twice: data would loop through it (a cycle)")
                    )
                seen.add(component_id)
        if not pipeline.receivers:
            problems.append(Problem(f"{base}.receivers", "empty: a pipeline needs at least one receiver"))
        if not pipeline.exporters:
            problems.append(Problem(f"{base}.exporters", "empty: a pipeline needs at least one exporter"))

    for kind in Kind:
        for component_id in sorted(defined[kind] - used[kind]):
            warnings.append(f"{kind.section}.{component_id}: defined but not used by any pipeline; it will not run")


def _check_queue_storage(
    components: dict[tuple[Kind, str], ComponentSpec], service: ServiceConfig, problems: list[Problem]
) -> None:
    """An exporter's `sending_queue.storage` must name an extension the service runs."""
    for (kind, component_id), spec in components.items():
        if kind is not Kind.EXPORTER:
            continue
        storage = sending_of(spec.factory, spec.config).sending_queue.storage
        if storage and storage not in service.extensions:
            problems.append(
                Problem(
                    f"exporters.{component_id}.sending_queue.storage",
                    f"extension {storage!r} is not enabled: define it under extensions: and list it in "
                    "service.extensions",
                )
            )


def _defined_ids(raw: Mapping[str, Any], kind: Kind) -> set[str]:
    section = raw.get(kind.section)
    return {str(component_id) for component_id in section} if isinstance(section, Mapping) else set()


def _undefined(kind: Kind, component_id: str, defined: dict[Kind, set[str]]) -> str:
    hint = did_you_mean(component_id, sorted(defined[kind]))
    return f"{kind} {component_id!r} is not defined under {kind.section}:{hint}"


# ---------------------------------------------------------------------------------------------------
# Turning pydantic's errors into paths and hints


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


def load(
    paths: list[str | Path],
    registry: Registry,
    environ: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> CollectorConfig:
    """The whole path from files to a validated config; every problem at once, unset variables included.

    A value whose variable is unset is left as written, so its own validation error would only repeat the
    unset-variable problem: problems at or below such a path are not reported twice.
    """
    expanded, env_problems = expand_env_collecting(load_files(paths, max_bytes), environ)
    try:
        config = validate(expanded, registry)
    except ConfigError as exc:
        unset = [problem.path for problem in env_problems]
        repeated = [p for p in exc.problems if any(_within(p.path, path) for path in unset)]
        raise ConfigError(env_problems + [p for p in exc.problems if p not in repeated]) from None
    if env_problems:
        raise ConfigError(env_problems)
    return config


def _within(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith((f"{ancestor}.", f"{ancestor}["))
