"""Small helpers over the SDK's `MetricsData`, shared by every component (the types are frozen)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator

from opentelemetry.sdk.metrics.export import Metric, MetricsData, ResourceMetrics, ScopeMetrics


def iter_metrics(data: MetricsData) -> Iterator[Metric]:
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            yield from scope_metrics.metrics


def count_points(data: MetricsData) -> int:
    """Number of data points in a batch: the unit every otelcol_* counter counts in."""
    return sum(len(metric.data.data_points) for metric in iter_metrics(data))


def map_metrics(data: MetricsData, transform: Callable[[Metric], Metric | None]) -> MetricsData:
    """Apply `transform` to each metric; `None` drops it, and scopes or resources left empty go too."""
    return map_scoped_metrics(data, lambda _resource, _scope, metric: transform(metric))


def map_scoped_metrics(
    data: MetricsData, transform: Callable[[ResourceMetrics, ScopeMetrics, Metric], Metric | None]
) -> MetricsData:
    """As `map_metrics`, for transforms that also need the metric's resource and scope (e.g. series keys)."""
    resources = []
    for resource_metrics in data.resource_metrics:
        scopes = []
        for scope_metrics in resource_metrics.scope_metrics:
            metrics = [
                m
                for m in (transform(resource_metrics, scope_metrics, metric) for metric in scope_metrics.metrics)
                if m is not None and m.data.data_points
            ]
            if metrics:
                scopes.append(dataclasses.replace(scope_metrics, metrics=metrics))
        if scopes:
            resources.append(dataclasses.replace(resource_metrics, scope_metrics=scopes))
    return MetricsData(resource_metrics=resources)


def merge(batches: Iterable[MetricsData]) -> MetricsData:
    """Concatenate batches, grouping equal resources and scopes so each appears once.

    The SDK's OTLP encoder keys resources and scopes by value and keeps only the last of equal ones, so
    anything that combines batches must merge them first or lose data.
    """
    resources: dict[object, dict[object, list[Metric]]] = {}
    resource_objs: dict[object, ResourceMetrics] = {}
    scope_objs: dict[tuple[object, object], ScopeMetrics] = {}
    for batch in batches:
        for resource_metrics in batch.resource_metrics:
            r_key = (resource_metrics.resource, resource_metrics.schema_url)
            resource_objs.setdefault(r_key, resource_metrics)
            scopes = resources.setdefault(r_key, {})
            for scope_metrics in resource_metrics.scope_metrics:
                s_key = (scope_metrics.scope, scope_metrics.schema_url)
                scope_objs.setdefault((r_key, s_key), scope_metrics)
                scopes.setdefault(s_key, []).extend(scope_metrics.metrics)
    return MetricsData(
        resource_metrics=[
            dataclasses.replace(
                resource_objs[r_key],
                scope_metrics=[
                    dataclasses.replace(scope_objs[(r_key, s_key)], metrics=metrics)
                    for s_key, metrics in scopes.items()
                ],
            )
            for r_key, scopes in resources.items()
        ]
    )


def split(data: MetricsData, max_points: int) -> list[MetricsData]:
    """Cut a batch into batches of at most `max_points` points each, in order; a metric whose points
    straddle a cut appears in both parts with its share of the points (resources and scopes repeat)."""
    if max_points <= 0 or count_points(data) <= max_points:
        return [data]
    parts: list[MetricsData] = []
    resources: list[ResourceMetrics] = []
    scopes: list[ScopeMetrics] = []
    metrics: list[Metric] = []
    room = max_points

    def close_scope(scope_metrics: ScopeMetrics) -> None:
        nonlocal metrics
        if metrics:
            scopes.append(dataclasses.replace(scope_metrics, metrics=metrics))
            metrics = []

    def close_resource(resource_metrics: ResourceMetrics) -> None:
        nonlocal scopes
        if scopes:
            resources.append(dataclasses.replace(resource_metrics, scope_metrics=scopes))
            scopes = []

    def close_part(resource_metrics: ResourceMetrics, scope_metrics: ScopeMetrics) -> None:
        nonlocal resources, room
        close_scope(scope_metrics)
        close_resource(resource_metrics)
        parts.append(MetricsData(resource_metrics=resources))
        resources, room = [], max_points

    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                points = list(metric.data.data_points)
                while points:
                    taken, points = points[:room], points[room:]
                    metrics.append(
                        dataclasses.replace(metric, data=dataclasses.replace(metric.data, data_points=taken))
                    )
                    room -= len(taken)
                    if room == 0:
                        close_part(resource_metrics, scope_metrics)
            close_scope(scope_metrics)
        close_resource(resource_metrics)
    if resources:
        parts.append(MetricsData(resource_metrics=resources))
    return parts
