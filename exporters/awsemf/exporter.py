from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any

from opentelemetry.sdk.metrics.export import MetricsData

from collector.executors import OwnedExecutor
from common.aws.client import make_client
from common.aws.delta import DeltaExporter
from common.aws.resumable import ResumablePlans
from exporters.awsemf.config import AwsEmfConfig
from exporters.awsemf.encoder import encoder_for
from exporters.awsemf.logs import LogsSender, PutLogEventsRequest, plan_requests


class AwsEmfExporter(DeltaExporter):
    """Embedded Metric Format documents to CloudWatch Logs, stdout or a file the CloudWatch agent tails."""

    config: AwsEmfConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.encoder = encoder_for(self.config, self.count_dropped, self.logger)
        self.plans: ResumablePlans[PutLogEventsRequest] = ResumablePlans(
            lambda data: plan_requests(self.encoder.encode(data), self.count_dropped)
        )
        self.sender: LogsSender | None = None
        self._file: IO[str] | None = None
        # boto3 calls and file writes block: on this exporter's threads, one per sending consumer.
        self._threads = OwnedExecutor(f"awsemf-{self.id}", self.config.sending_queue.num_consumers)

    async def start(self, host: object) -> None:
        destination = self.config.output_destination
        if destination == "cloudwatch":
            client = await self._threads.run(make_client, "logs", self.config, self.config.timeout)
            self.sender = LogsSender(
                client, self.config.log_retention, self.count_dropped, self.logger, self._threads, self.config.tags
            )
        elif destination == "file":
            self._file = await self._threads.run(self._open, Path(self.config.file_path or ""))
        else:
            self._file = sys.stdout

    @staticmethod
    def _open(path: Path) -> IO[str]:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("a", encoding="utf-8")

    async def export(self, data: MetricsData) -> None:
        if self.sender is not None:
            await self.plans.send(data, self.sender.send)
            return
        lines = "".join(event.message + "\n" for event in self.encoder.encode(data))
        await self._threads.run(self._write, lines)

    def _write(self, lines: str) -> None:
        assert self._file is not None, "export before start"
        self._file.write(lines)
        self._file.flush()

    async def shutdown(self) -> None:
        if self._file is not None and self._file is not sys.stdout:
            await self._threads.run(self._file.close)
        self._file = None
        self._threads.shutdown()
