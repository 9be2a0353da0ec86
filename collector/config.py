"""Validate `otel-config.yaml` against the installed components, reporting every problem with its full path.

The whole path from files to a `CollectorConfig` is `load`. Its parts have their own modules: reading a
file as a hostile file may be (`configfile`), merging files and expanding `${env:...}` (`configload`), the
service and validated-config models (`serviceconfig`), turning pydantic errors into problems
(`configerrors`). Their public names are importable from here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from collector.component import ComponentID, Kind
from collector.configerrors import ConfigError, Problem, did_you_mean, join_path, pydantic_problems, unknown_key_message
from collector.configfile import DEFAULT_MAX_BYTES
from collector.configload import expand_env, expand_env_collecting, load_files
from collector.exporterhelper import sending_of
from collector.registry import Registry
from collector.serviceconfig import CollectorConfig, ComponentSpec, ServiceConfig

__all__ = [
    "TOP_LEVEL_KEYS",
    "CollectorConfig",
    "ComponentSpec",
    "ConfigError",
    "Problem",
    "ServiceConfig",
    "did_you_mean",
    "expand_env",
    "join_path",
    "load",
    "load_files",
    "validate",
]

TOP_LEVEL_KEYS = ("receivers", "processors", "exporters", "extensions", "service")


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
    load_error = registry.load_error(kind, component_id.type)
    if load_error:
        problems.append(Problem(path, load_error))
        return None
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


def load(
    paths: Sequence[str | Path],
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
