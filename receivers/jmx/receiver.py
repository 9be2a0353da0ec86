"""The `jmx` receiver, one class per mode: one target JVM (`endpoint`), many (`endpoints`, maybe this
replica's shard of them), or every in-JVM gateway that dialed in to `listen`. Each target is read with one
call per scrape: RMI targets through the collector's shared gateway JVM, in-JVM gateways (py4j://) directly,
dialed-in ones over their own connection on the event loop. Every blocking call runs on the receiver's own
threads, one in flight per target. What the modes share (rules, turning a reply into metrics and `jmx.up`,
diagnostics) is `JmxReceiver`; the factory picks the mode's class from the config."""

from __future__ import annotations

import abc
import asyncio
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

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

from collector.component import Consumer, CreateSettings, Host
from collector.scraperhelper import ScraperReceiver, SlotBusy
from receivers.jmx.config import UP_METRIC, JmxConfig
from receivers.jmx.diagnostics import LevelLogger, PresetDiagnostics, domain_query, preset_patterns
from receivers.jmx.discovery import Discovery
from receivers.jmx.endpoint import Endpoint, parse_entry
from receivers.jmx.errors import TargetDown
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
BATCH_SLOT = "RMI targets"  # the slot of the one gateway call that reads every RMI target of a scrape

Reader = SharedGatewayTarget | NetworkGateway  # blocking: called in the target's slot on the receiver's threads
T = TypeVar("T")
ReaderT = TypeVar("ReaderT")  # what reads a target: a Reader, or a dialed-in worker's DialedGateway


def gateway_deadline(scrape_timeout: float) -> float:
    """3/4 of T, or T - GATEWAY_MARGIN_S where that is less (a short T), never below T / 2."""
    return max(scrape_timeout / 2, min(scrape_timeout * 0.75, scrape_timeout - GATEWAY_MARGIN_S))


@dataclass
class Target(Generic[ReaderT]):
    """One JVM: how to reach it, its series state (counter start times), its resource, its last up state."""

    name: str
    gateway: ReaderT
    builder: MetricBuilder
    resource: Resource
    up: bool | None = None
    detail: str = ""  # why it is down


class JmxReceiver(ScraperReceiver[JmxConfig], Generic[ReaderT]):
    """What every mode shares: the compiled rules and their query, and one target's scrape (reply, metrics,
    `jmx.up`, the first-run diagnostics). A mode says how a target is read (`_read`) and which targets
    there are."""

    SCRAPE_WORKERS = 16  # targets are read concurrently; one slot each at most

    def __init__(self, settings: CreateSettings, config: JmxConfig, consumer: Consumer) -> None:
        super().__init__(settings, config, consumer)
        config = self.config
        if config.log_level:
            self.logger = LevelLogger(self.logger, config.log_level)
        self.rules = compile_rules(config.all_rules())
        self.query = build_query(self.rules)
        presets = [(name, len(rules)) for name, rules in config.preset_rules()]
        self.diagnostics = PresetDiagnostics(preset_patterns(presets, self.rules), self.logger)

    @abc.abstractmethod
    async def _read(self, target: Target[ReaderT], query: str) -> str:
        """The gateway's reply to `query`; TargetDown when the target cannot be read now."""

    def _target(self, name: str, gateway: ReaderT, identity: Mapping[str, str | int]) -> Target[ReaderT]:
        """A new target; its resource is what is configured plus the target's identity, no SDK defaults."""
        resource = Resource({**self.config.resource_attributes, **identity})
        return Target(name, gateway, MetricBuilder(self.rules), resource)

    @property
    def _scrape_timeout(self) -> float:
        return self.config.timeout or self.config.collection_interval

    async def _within_wait(self, reading: Awaitable[T]) -> T | Reply:
        """What `reading` returns, or a target-down reply when it does not answer in time (or its previous
        read still holds its slot)."""
        wait = self._scrape_timeout * TARGET_WAIT_SHARE
        try:
            async with asyncio.timeout(wait):
                return await reading
        except (TargetDown, SlotBusy) as exc:
            return _down(str(exc))
        except TimeoutError:
            return _down(f"no reply within {wait:g}s")

    async def _reply(self, target: Target[ReaderT]) -> Reply:
        """One target's reply to the scrape's query."""
        text = await self._within_wait(self._read(target, self.query))
        return text if isinstance(text, Reply) else parse_reply(text)

    async def _replies(self, targets: list[Target[ReaderT]]) -> list[Reply]:
        """Every target's reply, read at once; a mode may read several targets in one call."""
        return list(await asyncio.gather(*(self._reply(t) for t in targets)))

    async def _scrape_target(self, target: Target[ReaderT], reply: Reply, started: float) -> ResourceMetrics:
        """One target's metrics and its `jmx.up` from its reply."""
        now = time.time_ns()
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
            dict(dropped + target.builder.errored),
        )
        scope = ScopeMetrics(scope=SCOPE, metrics=metrics, schema_url="")
        return ResourceMetrics(resource=target.resource, scope_metrics=[scope], schema_url="")

    async def _scrape_targets(self, targets: list[Target[ReaderT]]) -> MetricsData:
        """Every target at once; one that is down costs only its own points."""
        started = time.time()
        replies = await self._replies(targets)
        pairs = zip(targets, replies, strict=True)
        scraped = await asyncio.gather(*(self._scrape_target(target, reply, started) for target, reply in pairs))
        down = [t.name for t in targets if not t.up]
        self.degraded_reason = f"{len(down)} of {len(targets)} targets unreachable" if down else None
        return MetricsData(resource_metrics=list(scraped))

    async def _diagnose(self, target: Target[ReaderT], reply: Reply) -> None:
        """A preset matching nothing on a reachable target is said once, with the MBeans of its domains."""
        for preset in self.diagnostics.pending(target.name, reply):
            try:
                async with asyncio.timeout(self._scrape_timeout * TARGET_WAIT_SHARE):
                    text: str | None = await self._read(target, domain_query(preset))
            except (TargetDown, GatewayError, SlotBusy, TimeoutError):
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

    def _set_target_up(self, target: Target[ReaderT], up: bool, detail: str) -> None:
        target.detail = detail
        if up == target.up:
            return
        target.up = up
        if up:
            self.logger.info("target reachable", extra={"endpoint": target.name})
        else:
            self.logger.warning("target unreachable: %s", detail, extra={"endpoint": target.name})


class ConnectingReceiver(JmxReceiver[Reader]):
    """The modes that connect to their targets (`endpoint`, `endpoints`): an RMI target through its slot in
    the shared gateway JVM, an in-JVM gateway through a py4j client; both block, so they are called in the
    target's slot on the receiver's threads."""

    def __init__(self, settings: CreateSettings, config: JmxConfig, consumer: Consumer) -> None:
        super().__init__(settings, config, consumer)
        config = self.config
        self.jvm_spec = JvmSpec(
            system_properties=tuple(sorted(config.system_properties().items())),
            jvm_options=tuple(config.jvm_options),
            java=config.java,
        )

    def _connect(self, endpoint: Endpoint) -> Reader:
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

    async def _check_gateway(self) -> None:
        """At start: a missing JDK or a gateway that does not compile is a start error, not a scrape error."""
        if not self.config.in_jvm:  # the in-JVM gateway needs no JDK here
            await self.slots.call(classpath, self.config.java)

    async def _read(self, target: Target[Reader], query: str) -> str:
        return await self.slots.run(target.name, target.gateway.scrape, query)

    async def _stop_readers(self, targets: list[Target[Reader]]) -> None:
        """Shutdown: scraping first, then every target's reader (its gateway JVM slot, its py4j client)."""
        await self.stop_scraping()
        await asyncio.gather(*(self.slots.call(t.gateway.stop) for t in targets), return_exceptions=True)
        self.slots.shutdown()


class SingleTargetReceiver(ConnectingReceiver):
    """`endpoint`: one JVM. A gateway JVM that cannot be started or reached fails the scrape."""

    def __init__(self, settings: CreateSettings, config: JmxConfig, consumer: Consumer) -> None:
        super().__init__(settings, config, consumer)
        config = self.config
        endpoint = parse_entry(config.endpoint, "rmi")
        self.target = self._target(config.endpoint, self._connect(endpoint), config.target_identity())

    @property
    def gateway(self) -> Reader:
        """The target's reader."""
        return self.target.gateway

    async def start(self, host: Host) -> None:
        await self._check_gateway()
        if isinstance(self.gateway, SharedGatewayTarget):  # its first connection before the first scrape
            await self.slots.call(self.gateway.prepare, PREPARE_WAIT_S)
        await super().start(host)

    async def scrape(self) -> MetricsData:
        started = time.time()
        resource_metrics = [await self._scrape_target(self.target, await self._reply(self.target), started)]
        self.degraded_reason = None if self.target.up else f"target unreachable: {self.target.detail}"
        return MetricsData(resource_metrics=resource_metrics)

    async def shutdown(self) -> None:
        await self._stop_readers([self.target])


class EndpointsReceiver(ConnectingReceiver):
    """`endpoints`: the targets discovery lists now (this replica's share). A gateway JVM that cannot be
    started or reached is that target being down: one target's problem never costs the others' points."""

    def __init__(self, settings: CreateSettings, config: JmxConfig, consumer: Consumer) -> None:
        super().__init__(settings, config, consumer)
        assert self.config.endpoints is not None, "the factory makes this receiver for `endpoints` only"
        self.discovery = Discovery(self.config.endpoints, self.logger)
        self.targets: dict[Endpoint, Target[Reader]] = {}

    async def start(self, host: Host) -> None:
        await self._check_gateway()
        await super().start(host)

    async def scrape(self) -> MetricsData:
        return await self._scrape_targets(await self._current_targets())

    async def _current_targets(self) -> list[Target[Reader]]:
        endpoints = await self.slots.call(self.discovery.current)
        for gone in set(self.targets) - set(endpoints):
            await self.slots.call(self.targets.pop(gone).gateway.stop)
        for endpoint in endpoints:
            if endpoint not in self.targets:
                self.targets[endpoint] = self._target(
                    str(endpoint),
                    self._connect(endpoint),
                    {"server.address": endpoint.host, "server.port": endpoint.port},
                )
        return [self.targets[e] for e in endpoints]

    async def _read(self, target: Target[Reader], query: str) -> str:
        return await _target_down_on_gateway_error(super()._read(target, query))

    async def _replies(self, targets: list[Target[Reader]]) -> list[Reply]:
        """RMI targets are read together, one gateway call per scrape (the gateway JVM keeps a target that
        hangs to its own reply); in-JVM gateways each over their own connection, at the same time."""
        shared = [t for t in targets if isinstance(t.gateway, SharedGatewayTarget)]
        apart = [t for t in targets if not isinstance(t.gateway, SharedGatewayTarget)]
        readers = [t.gateway for t in shared if isinstance(t.gateway, SharedGatewayTarget)]
        together, separately = await asyncio.gather(self._read_together(readers), super()._replies(apart))
        by_target = {id(t): r for t, r in zip([*shared, *apart], [*together, *separately], strict=True)}
        return [by_target[id(t)] for t in targets]

    async def _read_together(self, readers: list[SharedGatewayTarget]) -> list[Reply]:
        """The replies of RMI targets from one gateway call, or all of them down with the call's failure."""
        if not readers:
            return []
        batch = self.slots.run(BATCH_SLOT, SharedGatewayTarget.scrape_together, readers, self.query)
        texts = await self._within_wait(_target_down_on_gateway_error(batch))
        if isinstance(texts, Reply):  # the call itself failed: every target is down for the same reason
            return [texts] * len(readers)
        return [parse_reply(text) for text in texts]

    async def shutdown(self) -> None:
        await self._stop_readers(list(self.targets.values()))


class ListenReceiver(JmxReceiver[DialedGateway]):
    """`listen`: every in-JVM gateway connected now. Each is read over its own connection, awaited in place
    on the event loop (it does not block); a JVM that reconnects keeps its target (and series)."""

    def __init__(self, settings: CreateSettings, config: JmxConfig, consumer: Consumer) -> None:
        super().__init__(settings, config, consumer)
        assert self.config.listen is not None, "the factory makes this receiver for `listen` only"
        self.listener = Listener(
            self.config.listen, self.logger, self.settings.telemetry, self.id, self._scrape_timeout
        )
        self.targets: dict[str, Target[DialedGateway]] = {}

    async def start(self, host: Host) -> None:
        await self.listener.start()
        await super().start(host)

    async def scrape(self) -> MetricsData:
        return await self._scrape_targets(self._current_targets())

    def _current_targets(self) -> list[Target[DialedGateway]]:
        workers = self.listener.workers
        for gone in set(self.targets) - set(workers):
            del self.targets[gone]
        for key, worker in workers.items():
            if key in self.targets:
                self.targets[key].gateway = worker
            else:
                self.targets[key] = self._target(worker.name, worker, worker.resource)
        return list(self.targets.values())

    async def _read(self, target: Target[DialedGateway], query: str) -> str:
        return await target.gateway.scrape(query)

    async def shutdown(self) -> None:
        await self.stop_scraping()
        await self.listener.stop()  # closes every worker's connection, on the loop
        self.slots.shutdown()


async def _target_down_on_gateway_error(reading: Awaitable[T]) -> T:
    """What `reading` returns; a gateway JVM that cannot be started or reached is its targets being down,
    never the scrape failing (one target's problem must not cost the others' points)."""
    try:
        return await reading
    except GatewayError as exc:
        raise TargetDown(str(exc)) from exc


def _down(detail: str) -> Reply:
    """A target found down on this side of the gateway, on one line as the gateway says it."""
    return Reply(False, " ".join(detail.split()), [])
