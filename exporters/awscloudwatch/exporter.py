from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics.export import MetricsData

from collector.executors import OwnedExecutor
from common.aws.cardinality import SeriesGuard
from common.aws.client import call, make_client
from common.aws.delta import DeltaExporter
from common.aws.resumable import ResumablePlans
from exporters.awscloudwatch.config import AwsCloudWatchConfig
from exporters.awscloudwatch.datums import Datum, DatumBuilder, plan_requests


class AwsCloudWatchExporter(DeltaExporter):
    """CloudWatch PutMetricData: one metric datum per point, cumulative sums as deltas."""

    config: AwsCloudWatchConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.series = SeriesGuard(self.config.max_series_per_metric, self.logger)
        self.builder = DatumBuilder(self.config, self.count_dropped, self.series)
        self.plans: ResumablePlans[list[Datum]] = ResumablePlans(
            lambda data: plan_requests(self.builder.datums(data), self.config.namespace)
        )
        self.client: Any = None
        # boto3 calls block: on this exporter's threads, one per sending consumer.
        self._threads = OwnedExecutor(f"awscloudwatch-{self.id}", self.config.sending_queue.num_consumers)

    async def start(self, host: object) -> None:
        self.client = await self._threads.run(make_client, "cloudwatch", self.config, self.config.timeout)

    async def export(self, data: MetricsData) -> None:
        await self.plans.send(data, self._put)

    async def _put(self, datums: list[Datum]) -> None:
        await call(
            self.client.put_metric_data, threads=self._threads, Namespace=self.config.namespace, MetricData=datums
        )

    async def shutdown(self) -> None:
        self._threads.shutdown()
