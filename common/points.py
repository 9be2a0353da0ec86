"""Point-level edits shared by processors: rebuilding a metric with new points or point attributes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.sdk.metrics.export import Metric, NumberDataPoint

from common.matching import PointPredicate

AttributeEdit = Callable[[dict[str, Any]], None]
"""Changes a point's attribute dict in place (the caller passes a copy)."""


def with_points(metric: Metric, points: list[Any]) -> Metric:
    return Metric(metric.name, metric.description, metric.unit, dataclasses.replace(metric.data, data_points=points))


def with_attributes(point: Any, attributes: dict[str, Any]) -> Any:
    if type(point) is NumberDataPoint:  # the common case, built directly: faster than replace()
        return NumberDataPoint(
            attributes, point.start_time_unix_nano, point.time_unix_nano, point.value, point.exemplars
        )
    return dataclasses.replace(point, attributes=attributes)


def edit_attributes(metric: Metric, edits: Iterable[AttributeEdit], selected: bool | PointPredicate = True) -> Metric:
    """Apply `edits` in order to a copy of each selected point's attributes."""
    edits = list(edits)
    points = []
    for point in metric.data.data_points:
        if selected is True or selected(point.attributes or {}):
            attributes = dict(point.attributes or {})
            for edit in edits:
                edit(attributes)
            point = with_attributes(point, attributes)
        points.append(point)
    return with_points(metric, points)


def keep_points(metric: Metric, keep: PointPredicate) -> Metric:
    """The metric with only the points whose attributes `keep` accepts (possibly none)."""
    return with_points(metric, [p for p in metric.data.data_points if keep(p.attributes or {})])
