"""Cutting a batch into pieces of at most N data points, keeping every point's order."""

from __future__ import annotations

import dataclasses

from opentelemetry.sdk.metrics.export import MetricsData, ResourceMetrics

from processors.points import with_points


def split(data: MetricsData, max_points: int) -> list[MetricsData]:
    """Pieces of at most `max_points` points (a metric may be cut between pieces); their concatenation
    is `data` in the same order."""
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
                    _append(resources, resource_metrics, scope_metrics, with_points(metric, taken))
    close()
    return pieces


def _append(resources: list[ResourceMetrics], resource_metrics, scope_metrics, metric) -> None:
    """Add `metric` under its resource and scope, reusing the open ones when they are the same."""
    if not resources or resources[-1].resource is not resource_metrics.resource:
        resources.append(dataclasses.replace(resource_metrics, scope_metrics=[]))
    scopes = resources[-1].scope_metrics
    if not scopes or scopes[-1].scope is not scope_metrics.scope:
        scopes.append(dataclasses.replace(scope_metrics, metrics=[]))
    scopes[-1].metrics.append(metric)
