"""The `jmx` receiver: one target JVM (`endpoint`) or many (`endpoints`, maybe this replica's shard of
them; or every in-JVM gateway that dialed in to `listen`), each read with one call per scrape: RMI targets
through the collector's shared gateway JVM, in-JVM gateways (py4j://) directly, dialed-in ones over their
own connection on the event loop. Every blocking call runs on the receiver's own threads, one in flight per
target."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
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
from collector.scraperhelper import ScraperReceiver, SlotBusy
from receivers.jmx.config import UP_METRIC, JmxConfig
from receivers.jmx.diagnostics import LevelLogger, PresetDiagnostics, domain_query, preset_patterns
from receivers.jmx.discovery import Discovery
from receivers.jmx.endpoint import Endpoint, parse_entry
from receivers.jmx.gateway import GatewayError, JvmSpec, RmiTarget, SharedGatewayTarget, classpath
from receivers.jmx.listen import DialedGateway, Listener
from receivers.jmx.network import NetworkGateway
from receivers.jmx.rules import MetricBuilder, Reply, build_query, compile_rules, parse_reply

SCOPE = InstrumentationScope("jmx-otel-collector/receiver/jmx", "0.1.0")
# Of the scrape's time T (`timeout`, else `collection_interval`): the receiver waits TARGET_WAIT_SHARE of it
# for a target's reply, and the gateway gives the target's MBeans until the deadline below, so that its
# answer (with what it could read) arrives before the receiver gives up on the whole target.
TARGET_WAIT_SHARE = 0.95
PREPARE_WAIT_S = 2.0  # at start, how long a single target's first connection may take before scrapes begin
GATEWAY_MARGIN_S = 0.5


def gateway_deadline(scrape_timeout: float) -> float:
    """3/4 of T, or T - GATEWAY_MARGIN_S where that is less (a short T), never below T / 2."""
    return max(scrape_timeout / 2, min(scrape_timeout * 0.75, scrape_timeout - GATEWAY_MARGIN_S))


@dataclass
class Target:
    """One JVM: how to reach it, its series state (counter start times), its resource, its last up state."""

    name: str
    gateway: SharedGatewayTarget | NetworkGateway | DialedGateway
    builder: MetricBuilder
    resource: Resource
    up: bool | None = None
    detail: str = ""  # why it is down


class JmxReceiver(ScraperReceiver):
    config: JmxConfig
    SCRAPE_WORKERS = 16  # targets are read concurrently; one slot each at most

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
        self.jvm_spec = JvmSpec(
            system_properties=tuple(sorted(config.system_properties().items())),
            jvm_options=tuple(config.jvm_options),
            java=config.java,
        )
        if self.discovery is None and self.listener is None:
            endpoint = parse_entry(config.endpoint, "rmi")
            resource = self._resource(**config.target_identity())
            self.target = Target(config.endpoint, self._connect(endpoint), MetricBuilder(self.rules), resource)

    def _resource(self, **extra: str | int) -> Resource:
        return Resource({**self.config.resource_attributes, **extra})  # what is configured, no SDK defaults

    def _connect(self, endpoint: Endpoint) -> SharedGatewayTarget | NetworkGateway:
        """The target's reader: the in-JVM gateway's py4j client, or its slot in our shared gateway JVM."""
        config = self.config
        if endpoint.protocol == "py4j":
            return NetworkGateway(
                endpoint.host,
                endpoint.port,
                config.auth_token.get_secret_value(),
                config.tls,
                endpoint.server_name,
                scrape_timeout=self._scrape_timeout,
            )
        restarts = self.settings.telemetry.component_counter(
            "collector_jmx_gateway_restarts", "Gateway JVMs that died and were restarted.", ("receiver",)
        )
        return SharedGatewayTarget(
            self.jvm_spec,
            RmiTarget(endpoint.service_url, config.username, config.password.get_secret_value(), self.id),
            gateway_deadline(self._scrape_timeout),
            self.logger,
            on_restart=restarts.labels(receiver=self.id).inc,
        )

    @property
    def _scrape_timeout(self) -> float:
        return self.config.timeout or self.config.collection_interval

    @property
    def gateway(self) -> SharedGatewayTarget | NetworkGateway:
        """The single target's reader (not with `endpoints`)."""
        return self.target.gateway

    async def start(self, host: Host) -> None:
        # A missing JDK or a gateway that does not compile is a start error, not a scrape error.
        if not self.config.in_jvm:  # the in-JVM gateway needs no JDK here
            await self.slots.call(classpath, self.config.java)
            if self.discovery is None and isinstance(self.gateway, SharedGatewayTarget):
                await self.slots.call(self.gateway.prepare, PREPARE_WAIT_S)
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
        endpoints = await self.slots.call(self.discovery.current)
        for gone in set(self.targets) - set(endpoints):
            await self.slots.call(self.targets.pop(gone).gateway.stop)
        for endpoint in endpoints:
            if endpoint not in self.targets:
                resource = self._resource(**{"server.address": endpoint.host, "server.port": endpoint.port})
                target = Target(str(endpoint), self._connect(endpoint), MetricBuilder(self.rules), resource)
                self.targets[endpoint] = target
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
        in the target's slot on the receiver's threads for the others (they block)."""
        if isinstance(target.gateway, DialedGateway):
            return await target.gateway.scrape(query)
        return await self.slots.run(target.name, target.gateway.scrape, query)

    async def _scrape(self, target: Target, tolerant: bool = False) -> ResourceMetrics:
        """One target's metrics and its `jmx.up`. A target that does not answer in time, or whose previous
        scrape still holds its slot, is down. `tolerant`: a gateway JVM that cannot be started or reached is
        that target being down too (one target's problem never costs the others' points); otherwise it
        fails the scrape."""
        started = time.time()
        try:
            async with asyncio.timeout(self._scrape_timeout * TARGET_WAIT_SHARE):
                text = await self._read(target, self.query)
        except GatewayError as exc:
            if not tolerant:
                raise
            text = _down(str(exc))
        except SlotBusy as exc:
            text = _down(str(exc))
        except TimeoutError:
            text = _down(f"no reply within {self._scrape_timeout * TARGET_WAIT_SHARE:g}s")
        now = time.time_ns()
        reply = parse_reply(text)
        self._set_target_up(target, reply.up, reply.detail)
        await self._diagnose(target, reply)
        metrics, dropped = target.builder.build(reply, now)
        for reason, count in dropped.items():
            self.settings.telemetry.dropped_points.labels(component=self.id, reason=reason).inc(count)
        for reason, count in target.builder.errored.items():
            self.count_errored(reason, count)
        metrics.append(self._up_metric(reply.up, now))
        self.report_target(
            target.name,
            target.resource.attributes,
            reply.up,
            reply.detail,
            started,
            sum(len(m.data.data_points) for m in metrics),
            dict(Counter(dropped) + Counter(target.builder.errored)),
        )
        scope = ScopeMetrics(scope=SCOPE, metrics=metrics, schema_url="")
        return ResourceMetrics(resource=target.resource, scope_metrics=[scope], schema_url="")

    async def _diagnose(self, target: Target, reply: Reply) -> None:
        """A preset matching nothing on a reachable target is said once, with the MBeans of its domains."""
        for preset in self.diagnostics.pending(target.name, reply):
            try:
                async with asyncio.timeout(self._scrape_timeout * TARGET_WAIT_SHARE):
                    text: str | None = await self._read(target, domain_query(preset))
            except (GatewayError, SlotBusy, TimeoutError):
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
        await self.stop_scraping()
        if self.listener is not None:
            await self.listener.stop()  # closes every worker's connection, on the loop
        else:
            targets = list(self.targets.values()) + ([self.target] if self.discovery is None else [])
            await asyncio.gather(*(self.slots.call(t.gateway.stop) for t in targets), return_exceptions=True)
        self.slots.shutdown()


def _down(detail: str) -> str:
    """A reply saying the target is down, for a failure found on this side of the gateway."""
    return "DOWN\t" + " ".join(detail.split()) + "\n"
