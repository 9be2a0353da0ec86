"""Builds the component graph from `service.pipelines` and runs it.

Shared receivers and exporters are one instance each (as in the Collector); processors are created per
pipeline. Start order: extensions, exporters, processors (last to first), receivers; stop in reverse.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from opentelemetry.sdk.metrics.export import MetricsData

from collector.component import (
    Component,
    ComponentDescription,
    ComponentError,
    Consumer,
    CreateSettings,
    Exporter,
    Extension,
    Kind,
    MemoryGate,
    PipelineDescription,
    Processor,
    Receiver,
    ReceiverOutputObserver,
    Reservation,
    ScrapeTargets,
    ServiceDescription,
)
from collector.exporterhelper import QueuedSender, sending_of
from collector.httpserver import start_site
from collector.logs import component_logger
from collector.metrics import count_points
from collector.serviceconfig import CollectorConfig, ComponentSpec
from collector.telemetry import Telemetry
from collector.validity import drop_invalid_names

log = logging.getLogger("collector.service")

KindT = TypeVar("KindT", bound=Component[Any])


class FanOut:
    """Hands each batch to every consumer concurrently; one failing consumer never stops the others."""

    def __init__(self, consumers: Sequence[Consumer]) -> None:
        self.consumers = list(consumers)

    async def consume(self, data: MetricsData) -> None:
        if len(self.consumers) == 1:
            await self.consumers[0].consume(data)
            return
        results = await asyncio.gather(*(c.consume(data) for c in self.consumers), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]


class _Reservations:
    """One reservation per memory gate downstream of a receiver, taken and released together."""

    def __init__(self, gates: Sequence[MemoryGate]) -> None:
        self.gates = gates
        self.held: list[Reservation] = []

    def grow(self, nbytes: int) -> None:
        if not self.held:
            try:
                for gate in self.gates:
                    self.held.append(gate.reserve(nbytes))
            except Exception:
                self.release()
                raise
            return
        for reservation in self.held:
            reservation.grow(nbytes)

    def release(self) -> None:
        for reservation in self.held:
            reservation.release()
        self.held = []


class ObservedReceiverOutput(MemoryGate):
    """Where data enters the pipelines: drops metrics with names no exporter can write
    (`collector.validity`, counted in `collector_dropped_metric_points{component=<receiver>}`), shows the rest
    to the extensions that observe receiver output (status pages), then counts what the receiver pushes:
    accepted when the pipeline took it, refused when it raised.

    It is the receiver's `MemoryGate` too, standing for every gate (memory_limiter) in the pipelines the
    receiver feeds, so a receiver asks before it reads or decodes a request without knowing any processor.
    """

    def __init__(
        self,
        receiver_id: str,
        downstream: Consumer,
        telemetry: Telemetry,
        gates: Sequence[MemoryGate] = (),
        observers: Sequence[ReceiverOutputObserver] = (),
    ) -> None:
        self.receiver_id = receiver_id
        self.downstream = downstream
        self.gates = list(gates)
        self.dropped = telemetry.dropped_points
        self.accepted = telemetry.receiver_accepted.labels(receiver=receiver_id)
        self.refused = telemetry.receiver_refused.labels(receiver=receiver_id)
        self.observers = list(observers)
        self.failed_observers: set[int] = set()

    def reserve(self, nbytes: int) -> Reservation:
        reservation = _Reservations(self.gates)
        reservation.grow(nbytes)
        return reservation

    async def consume(self, data: MetricsData) -> None:
        data, dropped = drop_invalid_names(data)
        for reason, count in dropped.items():
            self.dropped.labels(component=self.receiver_id, reason=reason).inc(count)
        points = count_points(data)
        if not points and dropped:
            return
        for observer in self.observers:
            try:
                observer.observe_receiver_output(self.receiver_id, data)
            except Exception:  # an observer's bug must never cost a point; logged once per observer
                if id(observer) not in self.failed_observers:
                    self.failed_observers.add(id(observer))
                    log.exception("receiver output observer failed", extra={"receiver": self.receiver_id})
        try:
            await self.downstream.consume(data)
        except Exception:
            self.refused.inc(points)
            raise
        self.accepted.inc(points)


@dataclass
class ComponentStatus:
    status: str = "starting"
    detail: str = ""


@dataclass
class Graph:
    extensions: dict[str, Extension[Any]] = field(default_factory=dict)
    exporters: dict[str, Exporter[Any]] = field(default_factory=dict)
    senders: dict[str, QueuedSender] = field(default_factory=dict)
    processors: dict[str, list[Processor[Any]]] = field(default_factory=dict)  # per pipeline, in config order
    receivers: dict[str, Receiver[Any]] = field(default_factory=dict)


class Service:
    """One running collector: the Host every component sees."""

    def __init__(self, config: CollectorConfig, telemetry: Telemetry | None = None) -> None:
        self.config = config
        self.telemetry = telemetry or Telemetry()
        self.statuses: dict[str, ComponentStatus] = {}
        self.scrape_targets = ScrapeTargets()
        self.graph = Graph()
        self.state = "starting"  # starting | running | stopping | stopped
        self.metrics_server: web.AppRunner | None = None
        self.metrics_port: int | None = None

    # Host -------------------------------------------------------------------------------------------
    def extension(self, component_id: str) -> Extension[Any]:
        try:
            return self.graph.extensions[component_id]
        except KeyError:
            raise ComponentError(
                f"extension {component_id!r} is not running: add it under extensions: and service.extensions"
            ) from None

    def component_statuses(self) -> dict[str, ComponentStatus]:
        return dict(self.statuses)

    def report_status(self, component_id: str, status: str, detail: str = "") -> None:
        previous = self.statuses.get(component_id)
        self.statuses[component_id] = ComponentStatus(status, detail)
        if previous is None or previous.status != status:
            # debug: the component itself logs the change in its own words
            log.debug("component status: %s", status, extra={"component": component_id, "detail": detail})

    def describe(self) -> ServiceDescription:
        service = self.config.service
        return ServiceDescription(
            pipelines=tuple(
                PipelineDescription(pid, tuple(p.receivers), tuple(p.processors), tuple(p.exporters))
                for pid, p in service.pipelines.items()
            ),
            extensions=tuple(service.extensions),
            components=tuple(
                ComponentDescription(str(spec.id), spec.kind, spec.factory.stability, spec.config)
                for spec in self.config.components.values()
            ),
        )

    # Building ---------------------------------------------------------------------------------------
    def _settings(self, spec: ComponentSpec) -> CreateSettings:
        return CreateSettings(spec.id, spec.kind, self.telemetry, component_logger(spec.kind, str(spec.id)))

    def _create(self, kind: Kind, component_id: str, made: type[KindT], *consumer: Consumer) -> KindT:
        """Create a component with its factory; `made` is the base class its kind must have (a plugin's
        factory is only known at run time)."""
        spec = self.config.component(kind, component_id)
        try:
            component = spec.factory.create(self._settings(spec), spec.config, *consumer)
        except ComponentError:
            raise
        except Exception as exc:
            raise ComponentError(f"{kind.section}.{component_id}: cannot be created: {exc}") from exc
        if not isinstance(component, made):
            raise ComponentError(
                f"{kind.section}.{component_id}: its factory made {type(component).__name__}, "
                f"which is not a subclass of {made.__name__}"
            )
        return component

    def build(self) -> None:
        service = self.config.service
        for ext_id in service.extensions:
            self.graph.extensions[ext_id] = self._create(Kind.EXTENSION, ext_id, Extension)

        heads: dict[str, list[Consumer]] = {}
        gates: dict[str, list[MemoryGate]] = {}
        for pipeline_id, pipeline in service.pipelines.items():
            for exp_id in pipeline.exporters:
                if exp_id not in self.graph.exporters:
                    exporter = self._create(Kind.EXPORTER, exp_id, Exporter)  # type: ignore[type-abstract]  # only isinstance'd (mypy#4717)
                    spec = self.config.component(Kind.EXPORTER, exp_id)
                    sending = sending_of(spec.factory, spec.config)
                    self.graph.exporters[exp_id] = exporter
                    self.graph.senders[exp_id] = QueuedSender(exporter, sending, self.telemetry)
            next_consumer: Consumer = FanOut([self.graph.senders[e] for e in pipeline.exporters])
            chain: list[Processor[Any]] = []
            for proc_id in reversed(pipeline.processors):
                processor = self._create(Kind.PROCESSOR, proc_id, Processor, next_consumer)  # type: ignore[type-abstract]  # as above
                chain.insert(0, processor)
                next_consumer = processor
            self.graph.processors[pipeline_id] = chain
            for rec_id in pipeline.receivers:
                heads.setdefault(rec_id, []).append(next_consumer)
                gates.setdefault(rec_id, []).extend(p for p in chain if isinstance(p, MemoryGate))

        observers = [e for e in self.graph.extensions.values() if isinstance(e, ReceiverOutputObserver)]
        for rec_id, consumers in heads.items():
            output = ObservedReceiverOutput(rec_id, FanOut(consumers), self.telemetry, gates[rec_id], observers)
            self.graph.receivers[rec_id] = self._create(Kind.RECEIVER, rec_id, Receiver, output)

    # Running ----------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Build and start everything, downstream first. On failure, stop what started and raise."""
        self.build()
        started: list[Component[Any]] = []
        try:
            await self._start_metrics_server()
            for ext_id, extension in self.graph.extensions.items():
                await self._start_one(ext_id, extension, started)
            for exp_id, exporter in self.graph.exporters.items():
                await self._start_one(exp_id, exporter, started)
                await self.graph.senders[exp_id].start(self)
            for chain in self.graph.processors.values():
                for processor in reversed(chain):
                    await self._start_one(processor.id, processor, started)
            for rec_id, receiver in self.graph.receivers.items():
                await self._start_one(rec_id, receiver, started)
        except BaseException:
            await self._stop_all(started, asyncio.get_running_loop().time() + 5)
            await self._stop_metrics_server()
            self.state = "stopped"
            raise
        self.state = "running"
        log.info(
            "collector started",
            extra={
                "telemetry_port": self.metrics_port,
                "pipelines": ",".join(self.config.service.pipelines),
                "receivers": len(self.graph.receivers),
                "exporters": len(self.graph.exporters),
            },
        )

    async def _start_metrics_server(self) -> None:
        """The collector's own metrics in Prometheus text at service.telemetry.metrics.address."""
        settings = self.config.service.telemetry.metrics
        if settings.level == "none":
            return
        app = web.Application()
        app.router.add_get("/metrics", self.telemetry.handle_scrape)
        try:
            self.metrics_server, self.metrics_port = await start_site(app, settings.address, None)
        except OSError as exc:
            raise ComponentError(
                f"service.telemetry.metrics.address: cannot listen on {settings.address}: {exc.strerror or exc} "
                "(set another address, or level: none)"
            ) from exc

    async def _stop_metrics_server(self) -> None:
        if self.metrics_server is not None:
            await self.metrics_server.cleanup()
            self.metrics_server = None

    async def _start_one(self, component_id: str, component: Component[Any], started: list[Component[Any]]) -> None:
        try:
            await component.start(self)
        except ComponentError as exc:
            raise ComponentError(f"{component.settings.kind.section}.{component_id}: {exc}") from exc
        except Exception as exc:
            raise ComponentError(f"{component.settings.kind.section}.{component_id}: failed to start: {exc}") from exc
        started.append(component)
        self.statuses.setdefault(component_id, ComponentStatus("ok"))

    async def shutdown(self) -> None:
        """Receivers first, then processors (which flush downstream), then drain and stop exporters."""
        deadline = asyncio.get_running_loop().time() + self.config.service.shutdown_grace_period
        self.state = "stopping"
        started = [
            *self.graph.extensions.values(),
            *self.graph.exporters.values(),
            *(p for chain in self.graph.processors.values() for p in reversed(chain)),
            *self.graph.receivers.values(),
        ]
        await self._stop_all(started, deadline)
        await self._stop_metrics_server()
        self.state = "stopped"
        t = self.telemetry
        log.info(
            "collector stopped",
            extra={
                "accepted_points": int(t.total("otelcol_receiver_accepted_metric_points")),
                "sent_points": int(t.total("otelcol_exporter_sent_metric_points")),
                "failed_points": int(t.total("otelcol_exporter_send_failed_metric_points")),
                "enqueue_failed_points": int(t.total("otelcol_exporter_enqueue_failed_metric_points")),
            },
        )

    async def _stop_all(self, started: list[Component[Any]], deadline: float) -> None:
        for component in reversed(started):
            if isinstance(component, Exporter) and component.id in self.graph.senders:
                await self.graph.senders[component.id].shutdown(deadline)
            try:
                await component.shutdown()
            except Exception:
                log.exception("component failed to shut down", extra={"component": component.id})
