"""The `jmx` receiver: one target JVM, read through a supervised gateway JVM, one py4j call per scrape."""

from __future__ import annotations

import asyncio
import time

from opentelemetry.sdk.metrics.export import (
    Gauge,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from collector.component import Host
from collector.scraperhelper import ScraperReceiver
from receivers.jmx import gateway
from receivers.jmx.config import UP_METRIC, JmxConfig
from receivers.jmx.gateway import GatewaySupervisor, LaunchSpec
from receivers.jmx.rules import MetricBuilder, build_query, compile_rules, parse_reply

SCOPE = InstrumentationScope("jmx-otel-collector/receiver/jmx", "0.1.0")


class JmxReceiver(ScraperReceiver):
    config: JmxConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        config = self.config
        rules = compile_rules(config.all_rules())
        self.query = build_query(rules)
        self.builder = MetricBuilder(rules)
        self.resource = Resource(dict(config.resource_attributes))  # exactly what is configured, no SDK defaults
        self.gateway = GatewaySupervisor(
            LaunchSpec(
                service_url=config.service_url,
                username=config.username,
                password=config.password.get_secret_value(),
                system_properties=config.system_properties(),
                jvm_options=tuple(config.jvm_options),
                java=config.java,
            ),
            self.logger,
            on_restart=self.settings.telemetry.component_counter(
                "collector_jmx_gateway_restarts", "Gateway JVMs that died and were restarted.", ("receiver",)
            )
            .labels(receiver=self.id)
            .inc,
        )
        self.target_up: bool | None = None

    async def start(self, host: Host) -> None:
        # A missing JDK or a gateway that does not compile is a start error, not a scrape error.
        await asyncio.to_thread(gateway.classpath, self.config.java)
        await super().start(host)

    async def scrape(self) -> MetricsData:
        text = await asyncio.to_thread(self.gateway.scrape, self.query)
        now = time.time_ns()
        reply = parse_reply(text)
        self._set_target_up(reply.up, reply.detail)
        metrics, dropped = self.builder.build(reply, now)
        for reason, count in dropped.items():
            self.settings.telemetry.dropped_points.labels(component=self.id, reason=reason).inc(count)
        metrics.append(self._up_metric(reply.up, now))
        scope = ScopeMetrics(scope=SCOPE, metrics=metrics, schema_url="")
        return MetricsData(
            resource_metrics=[ResourceMetrics(resource=self.resource, scope_metrics=[scope], schema_url="")]
        )

    def _up_metric(self, up: bool, now: int) -> Metric:
        point = NumberDataPoint(attributes={}, start_time_unix_nano=0, time_unix_nano=now, value=int(up))
        return Metric(
            name=UP_METRIC,
            description="1 if the last scrape reached the target JVM, else 0.",
            unit="1",
            data=Gauge(data_points=[point]),
        )

    def _set_target_up(self, up: bool, detail: str) -> None:
        if up == self.target_up:
            return
        self.target_up = up
        self.degraded_reason = None if up else f"target unreachable: {detail}"
        if up:
            self.logger.info("target reachable", extra={"endpoint": self.config.endpoint})
        else:
            self.logger.warning("target unreachable: %s", detail, extra={"endpoint": self.config.endpoint})

    async def shutdown(self) -> None:
        await super().shutdown()
        await asyncio.to_thread(self.gateway.stop)
