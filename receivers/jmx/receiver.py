"""The `jmx` receiver: one target JVM read through a supervised gateway JVM (or its in-JVM gateway), one
py4j call per scrape; or, with `endpoints`, the in-JVM gateways of a whole worker group."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

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
from receivers.jmx.diagnostics import LevelLogger, PresetDiagnostics, domain_query, preset_patterns
from receivers.jmx.discovery import Discovery, Endpoint
from receivers.jmx.gateway import GatewayError, GatewaySupervisor, LaunchSpec
from receivers.jmx.listen import DialedGateway, Listener
from receivers.jmx.network import NetworkGateway
from receivers.jmx.rules import MetricBuilder, Reply, build_query, compile_rules, parse_reply

SCOPE = InstrumentationScope("jmx-otel-collector/receiver/jmx", "0.1.0")


@dataclass
class Target:
    """One JVM: how to reach it, its series state (counter start times), its resource, its last up state."""

    name: str
    gateway: GatewaySupervisor | NetworkGateway | DialedGateway
    builder: MetricBuilder
    resource: Resource
    up: bool | None = None
    detail: str = ""  # why it is down


class JmxReceiver(ScraperReceiver):
    config: JmxConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        config = self.config
        if config.log_level:
            self.logger = LevelLogger(self.logger, config.log_level)
        self.rules = compile_rules(config.all_rules())
        self.query = build_query(self.rules)
        presets = [(name, len(rules)) for name, rules in config.preset_rules()]
        self.diagnostics = PresetDiagnostics(preset_patterns(presets, self.rules), self.logger)
        self.targets: dict[Endpoint | str, Target] = {}
        self.discovery = Discovery(config.endpoints, self.logger) if config.endpoints else None
        self.listener = (
            Listener(config.listen, self.logger, self.settings.telemetry, self.id, self._scrape_timeout)
            if config.listen
            else None
        )
        if self.discovery is None and self.listener is None:
            resource = self._resource(**config.target_identity())
            self.target = Target(config.endpoint, self._single_gateway(), MetricBuilder(self.rules), resource)

    def _resource(self, **extra: str | int) -> Resource:
        return Resource({**self.config.resource_attributes, **extra})  # what is configured, no SDK defaults

    def _single_gateway(self) -> GatewaySupervisor | NetworkGateway:
        config = self.config
        if config.in_jvm:
            return NetworkGateway(
                *config.py4j_address,
                config.auth_token.get_secret_value(),
                config.tls,
                scrape_timeout=self._scrape_timeout,
            )
        return GatewaySupervisor(
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

    @property
    def _scrape_timeout(self) -> float:
        return self.config.timeout or self.config.collection_interval

    @property
    def gateway(self) -> GatewaySupervisor | NetworkGateway:
        """The single target's gateway (not with `endpoints`)."""
        return self.target.gateway

    async def start(self, host: Host) -> None:
        # A missing JDK or a gateway that does not compile is a start error, not a scrape error.
        if not self.config.in_jvm:  # the in-JVM gateway needs no JDK here
            await asyncio.to_thread(gateway.classpath, self.config.java)
        if self.listener is not None:
            await self.listener.start()
        await super().start(host)

    async def scrape(self) -> MetricsData:
        if self.discovery is None and self.listener is None:
            resource_metrics = [await self._scrape(self.target)]
            self.degraded_reason = None if self.target.up else f"target unreachable: {self.target.detail}"
        else:
            targets = self._listened_targets() if self.listener else await self._discovered_targets()
            resource_metrics = list(await asyncio.gather(*(self._scrape(t, tolerant=True) for t in targets)))
            down = [t.name for t in targets if not t.up]
            self.degraded_reason = f"{len(down)} of {len(targets)} targets unreachable" if down else None
        return MetricsData(resource_metrics=resource_metrics)

    async def _discovered_targets(self) -> list[Target]:
        assert self.discovery is not None
        endpoints = await asyncio.to_thread(self.discovery.current)
        for gone in set(self.targets) - set(endpoints):
            await asyncio.to_thread(self.targets.pop(gone).gateway.stop)
        config = self.config
        for endpoint in endpoints:
            if endpoint not in self.targets:
                network = NetworkGateway(
                    endpoint.host,
                    endpoint.port,
                    config.auth_token.get_secret_value(),
                    config.tls,
                    endpoint.server_name,
                    self._scrape_timeout,
                )
                resource = self._resource(**{"server.address": endpoint.host, "server.port": endpoint.port})
                self.targets[endpoint] = Target(str(endpoint), network, MetricBuilder(self.rules), resource)
        return [self.targets[e] for e in endpoints]

    def _listened_targets(self) -> list[Target]:
        """The workers connected to `listen` now; a JVM that reconnected keeps its target (and series)."""
        assert self.listener is not None
        workers = self.listener.workers
        for gone in set(self.targets) - set(workers):
            del self.targets[gone]
        for key, worker in workers.items():
            if key in self.targets:
                self.targets[key].gateway = worker
            else:
                resource = self._resource(**worker.resource)
                self.targets[key] = Target(worker.name, worker, MetricBuilder(self.rules), resource)
        return list(self.targets.values())

    async def _read(self, target: Target, query: str) -> str:
        """One call through the target's gateway: awaited in place for a dialed-in worker (asyncio-native),
        on a thread for the others (they block)."""
        if isinstance(target.gateway, DialedGateway):
            return await target.gateway.scrape(query)
        return await asyncio.to_thread(target.gateway.scrape, query)

    async def _scrape(self, target: Target, tolerant: bool = False) -> ResourceMetrics:
        """One target's metrics and its `jmx.up`. `tolerant`: a refused token is that target being down
        (one worker's problem never costs the others' points); otherwise it fails the scrape."""
        try:
            text = await self._read(target, self.query)
        except GatewayError as exc:
            if not tolerant:
                raise
            text = f"DOWN\t{exc}\n"
        now = time.time_ns()
        reply = parse_reply(text)
        self._set_target_up(target, reply.up, reply.detail)
        await self._diagnose(target, reply)
        metrics, dropped = target.builder.build(reply, now)
        for reason, count in dropped.items():
            self.settings.telemetry.dropped_points.labels(component=self.id, reason=reason).inc(count)
        metrics.append(self._up_metric(reply.up, now))
        scope = ScopeMetrics(scope=SCOPE, metrics=metrics, schema_url="")
        return ResourceMetrics(resource=target.resource, scope_metrics=[scope], schema_url="")

    async def _diagnose(self, target: Target, reply: Reply) -> None:
        """A preset matching nothing on a reachable target is said once, with the MBeans of its domains."""
        for preset in self.diagnostics.pending(target.name, reply):
            try:
                text: str | None = await self._read(target, domain_query(preset))
            except GatewayError:
                text = None
            self.diagnostics.report(target.name, preset, text)

    def _up_metric(self, up: bool, now: int) -> Metric:
        point = NumberDataPoint(attributes={}, start_time_unix_nano=0, time_unix_nano=now, value=int(up))
        return Metric(
            name=UP_METRIC,
            description="1 if the last scrape reached the target JVM, else 0.",
            unit="1",
            data=Gauge(data_points=[point]),
        )

    def _set_target_up(self, target: Target, up: bool, detail: str) -> None:
        target.detail = detail
        if up == target.up:
            return
        target.up = up
        if up:
            self.logger.info("target reachable", extra={"endpoint": target.name})
        else:
            self.logger.warning("target unreachable: %s", detail, extra={"endpoint": target.name})

    async def shutdown(self) -> None:
        await super().shutdown()
        if self.listener is not None:
            await self.listener.stop()
            return
        gateways = [t.gateway for t in self.targets.values()] + ([self.target.gateway] if not self.discovery else [])
        for each in gateways:
            await asyncio.to_thread(each.stop)
