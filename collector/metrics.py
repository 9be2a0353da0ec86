"""Small helpers over the SDK's `MetricsData`, shared by every component (the types are frozen)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

from opentelemetry.sdk.metrics.export import Metric, MetricsData, ResourceMetrics, ScopeMetrics


def iter_metrics(data: MetricsData) -> Iterator[Metric]:
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            yield from scope_metrics.metrics


def count_points(data: MetricsData) -> int:
    """Number of data points in a batch: the unit every otelcol_* counter counts in. (A list, not a
    generator: a batch of 50 JMX targets has ~3,000 metrics, and resuming a generator per metric costs more
    than the counting.)"""
    return sum(
        [
            len(metric.data.data_points)
            for resource_metrics in data.resource_metrics
            for scope_metrics in resource_metrics.scope_metrics
            for metric in scope_metrics.metrics
        ]
    )


def has_points(data: MetricsData) -> bool:
    """Whether a batch has any data point: at the first metric that has one, not after counting them all."""
    return any(metric.data.data_points for metric in iter_metrics(data))


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
    """Pieces of at most `max_points` points (a metric may be cut between pieces); their concatenation
    is `data` in the same order. Used by the `batch` processor (`send_batch_max_size`) and the sending
    queue (`sending_queue.batch.max_size`)."""
    pieces: list[MetricsData] = []
    resources: list[ResourceMetrics] = []
    room = max_points

    def close() -> None:
        nonlocal resources, room
        if resources:
            pieces.append(MetricsData(resource_metrics=resources))
        resources, room = [], max_points

    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                points = list(metric.data.data_points)
                while points:
                    if room == 0:
                        close()
                    taken, points = points[:room], points[room:]
                    room -= len(taken)
                    body: Any = metric.data  # Gauge, Sum or a histogram: each has its own `data_points` type
                    piece = dataclasses.replace(metric, data=dataclasses.replace(body, data_points=taken))
                    _append(resources, resource_metrics, scope_metrics, piece)
    close()
    return pieces


def _append(
    resources: list[ResourceMetrics], resource_metrics: ResourceMetrics, scope_metrics: ScopeMetrics, metric: Metric
) -> None:
    """Add `metric` under its resource and scope, reusing the open ones when they are the same."""
    if not resources or resources[-1].resource is not resource_metrics.resource:
        resources.append(dataclasses.replace(resource_metrics, scope_metrics=[]))
    scopes = cast(list[ScopeMetrics], resources[-1].scope_metrics)  # the list made just above, or earlier
    if not scopes or scopes[-1].scope is not scope_metrics.scope:
        scopes.append(dataclasses.replace(scope_metrics, metrics=[]))
    cast(list[Metric], scopes[-1].metrics).append(metric)
