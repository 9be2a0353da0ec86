"""The `filter` processor's settings: the Collector's include/exclude keys; its OTTL and non-metrics keys
are refused with reasons."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from collector.component import ConfigModel
from collector.configtypes import Refused
from common.matching import MatchProperties

_OTTL = "OTTL conditions are not supported: use include/exclude with match_type strict or regexp"
_METRICS_ONLY = "this collector runs metrics pipelines only"


class MetricsFilter(ConfigModel):
    include: MatchProperties | None = Field(None, description="Keep only what matches (all when absent).")
    exclude: MatchProperties | None = Field(None, description="Drop what matches; wins over include.")
    metric: Annotated[Any, Refused(_OTTL)] = None
    datapoint: Annotated[Any, Refused(_OTTL)] = None


class FilterConfig(ConfigModel):
    metrics: MetricsFilter = Field(default_factory=MetricsFilter)
    error_mode: Literal["ignore", "silent", "propagate"] = Field(
        "propagate", description="For OTTL condition errors in the Collector; include/exclude never fail."
    )
    logs: Annotated[Any, Refused(_METRICS_ONLY)] = None
    traces: Annotated[Any, Refused(_METRICS_ONLY)] = None
    spans: Annotated[Any, Refused(_METRICS_ONLY)] = None
