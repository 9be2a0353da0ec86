"""The contracts every component implements, built-in or third-party.

A component is created by its factory from a validated config model, started with a `Host`, fed
`MetricsData` (the OpenTelemetry SDK's own model) and shut down. See docs/plugins.md.
"""

from __future__ import annotations

import abc
import argparse
import builtins
import enum
import logging
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeAlias, TypeVar, runtime_checkable

from opentelemetry.sdk.metrics.export import MetricsData
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:  # both import this module: only their types are needed here
    from collector.exporterhelper import SendingConfig
    from collector.telemetry import Telemetry

ConfigT = TypeVar("ConfigT", bound=BaseModel)
"""A component's validated config model: `Receiver[JmxConfig]` has `self.config: JmxConfig`."""


class Kind(enum.StrEnum):
    RECEIVER = "receiver"
    PROCESSOR = "processor"
    EXPORTER = "exporter"
    EXTENSION = "extension"

    @property
    def section(self) -> str:
        """The top-level config key holding components of this kind."""
        return f"{self.value}s"


class Stability(enum.StrEnum):
    DEVELOPMENT = "development"
    ALPHA = "alpha"
    BETA = "beta"
    STABLE = "stable"


class ConfigModel(BaseModel):
    """Base for every component config: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


@dataclass(frozen=True)
class ComponentID:
    """`type` or `type/name`, as in the Collector."""

    type: str
    name: str = ""

    @classmethod
    def parse(cls, text: str) -> ComponentID:
        type_, _, name = str(text).partition("/")
        if not type_.strip():
            raise ValueError(f"invalid component id {text!r}: the type before '/' is empty")
        if "/" in text and not name.strip():
            raise ValueError(f"invalid component id {text!r}: the name after '/' is empty")
        return cls(type_.strip(), name.strip())

    def __str__(self) -> str:
        return f"{self.type}/{self.name}" if self.name else self.type


class ComponentError(Exception):
    """A component could not start or run; the message is for the user."""


class PermanentError(Exception):
    """An export that will never succeed (e.g. the backend rejected the data as invalid): not retried."""


class TransientError(Exception):
    """A failure that may pass (throttling, a full queue, a backend restarting): retried, as any exception
    but `PermanentError` is. `retry_after` (seconds) is the other side's hint: the next try waits at least
    that long, and a receiver tells its client to back off that long."""

    def __init__(self, message: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@runtime_checkable
class Consumer(Protocol):
    """Anything that accepts metrics: the next processor, a fan-out, an exporter's queue."""

    async def consume(self, data: MetricsData) -> None: ...


class Host(Protocol):
    """What the running service offers a component."""

    telemetry: Telemetry

    def extension(self, component_id: str) -> Extension[Any]:
        """The started extension with that id; raises ComponentError if there is none."""
        ...

    state: str
    """starting | running | stopping | stopped"""

    def report_status(self, component_id: str, status: str, detail: str = "") -> None:
        """Record a component's health (`ok`, `degraded`, `fatal` ...), shown by the health check."""
        ...

    def component_statuses(self) -> dict[str, Any]:
        """The last status each component reported (objects with `status` and `detail`)."""
        ...

    scrape_targets: ScrapeTargets
    """Every scrape target the running receivers reported (status pages read it, scrapers feed it)."""

    def describe(self) -> ServiceDescription:
        """The running configuration: pipelines, extensions, every component's validated config."""
        ...


@dataclass(frozen=True)
class CreateSettings:
    """What a factory receives besides the config."""

    id: ComponentID
    kind: Kind
    telemetry: Telemetry
    logger: logging.LoggerAdapter[logging.Logger]


class Component(abc.ABC, Generic[ConfigT]):
    """Lifecycle shared by all kinds. Both calls must return promptly; long work goes in tasks.

    Generic in its config model, so a subclass of `Receiver[MyConfig]` reads a typed `self.config` and
    its constructor can be typed `(settings: CreateSettings, config: MyConfig, consumer: Consumer)`.
    """

    def __init__(self, settings: CreateSettings, config: ConfigT) -> None:
        self.settings = settings
        self.config = config
        self.id = str(settings.id)
        self.logger = settings.logger

    async def start(self, host: Host) -> None:
        """Acquire resources, start background tasks."""

    async def shutdown(self) -> None:
        """Release everything; flush what was accepted."""


class Receiver(Component[ConfigT]):
    """Produces metrics and hands them to `consumer` (a fan-out to every pipeline that lists it)."""

    def __init__(self, settings: CreateSettings, config: ConfigT, consumer: Consumer) -> None:
        super().__init__(settings, config)
        self.consumer = consumer


class Processor(Component[ConfigT]):
    """Sits between receivers and exporters of one pipeline; forwards to `next_consumer`.

    Stateless processors subclass `SimpleProcessor` and only write `process`. Stateful ones (batch,
    cumulativetodelta) override `consume` and say so in their docstring.
    """

    def __init__(self, settings: CreateSettings, config: ConfigT, next_consumer: Consumer) -> None:
        super().__init__(settings, config)
        self.next_consumer = next_consumer

    @abc.abstractmethod
    async def consume(self, data: MetricsData) -> None: ...


class SimpleProcessor(Processor[ConfigT]):
    """A pure `MetricsData -> MetricsData | None` step; `None` or no data points means drop."""

    @abc.abstractmethod
    def process(self, data: MetricsData) -> MetricsData | None: ...

    async def consume(self, data: MetricsData) -> None:
        result = self.process(data)
        if result is not None and result.resource_metrics:
            await self.next_consumer.consume(result)


class Exporter(Component[ConfigT]):
    """Sends metrics somewhere. `export` raises on failure: `PermanentError` is never retried, anything
    else is retried by the sending queue the service puts in front of every exporter, configured by the
    exporter's factory (`ExporterFactory.sending`)."""

    @abc.abstractmethod
    async def export(self, data: MetricsData) -> None: ...

    def prepare(self, data: MetricsData) -> MetricsData:
        """Runs once per batch, in arrival order, before the batch is queued (and persisted, with an
        on-disk queue): the place for stateful conversions that retries must not repeat, such as
        cumulative-to-delta. The default passes the batch through."""
        return data


class Extension(Component[ConfigT]):
    """Not in the data path: health checks, storage for persistent queues."""


class StorageExtension(Extension[ConfigT]):
    """An extension that keeps state across restarts for other components (`file_storage`): the
    persistent sending queue asks it, by the id in `sending_queue.storage`, where to keep its files."""

    permissions: int
    """Mode for every directory the extension or its clients make; files get it without execute bits."""

    fsync: bool
    """Whether each write is synced to the device before it counts as stored."""

    @abc.abstractmethod
    def client_directory(self, kind: str, component_id: str, signal: str = "metrics") -> Path:
        """The directory that one client (e.g. an exporter's queue) keeps its files in."""


class MemoryGate(abc.ABC):
    """Declared by a processor that bounds memory (`memory_limiter`), and by the receiver output in front
    of it: asked before a request is read or decoded, so a receiver never holds memory the limiter would
    refuse. `reserve` raises (a retryable refusal) when `nbytes` more would pass the limit; the returned
    reservation must be released when the decoded batch has been handed on."""

    @abc.abstractmethod
    def reserve(self, nbytes: int) -> Reservation: ...


class Reservation(Protocol):
    """Memory a request holds while it is read and decoded."""

    def grow(self, nbytes: int) -> None:
        """Hold `nbytes` more (e.g. a body without Content-Length as it arrives); raises as `reserve` does."""
        ...

    def release(self) -> None: ...


class ReceiverOutputObserver(abc.ABC):
    """An extension that also sees every batch a receiver hands to its pipelines, as the receiver made it
    (before any processor renames or drops a point): a status page's live view of what targets report.

    The service calls it on the event loop for every batch, so it must be quick (a pass over the points)
    and must not keep a reference to `data` (later processors may reuse it). An exception is logged once
    and never reaches the receiver: observing can never cost a point.
    """

    @abc.abstractmethod
    def observe_receiver_output(self, receiver_id: str, data: MetricsData) -> None: ...


# ---------------------------------------------------------------------------------------------------
# Cost hints: optional hooks of config models, asked by `collector validate` (collector/costhints.py)
# A config model mixes in the one that fits its kind; one without it says nothing about metric names.


class KnowsMetricNames(abc.ABC):
    """A receiver config that determines the metric names the receiver emits (e.g. a preset's rules)."""

    @abc.abstractmethod
    def known_metric_names(self) -> Collection[str] | None:
        """The names, or None when only a target could tell."""


class MapsMetricNames(abc.ABC):
    """A processor config that changes metric names (rename, insert). A processor without it is taken to
    keep names as they are, so one that drops metrics by name makes the count an upper bound."""

    @abc.abstractmethod
    def map_metric_names(self, names: frozenset[str]) -> frozenset[str] | None:
        """The names after the processor, given the names before it; None when not knowable."""


class DescribesCost(abc.ABC):
    """An exporter config whose backend bills per metric (CloudWatch custom metrics)."""

    @abc.abstractmethod
    def describe_cost(self, metric_names: frozenset[str] | None) -> str | None:
        """One line, printed as `<exporter id>: <line>`, given the names the exporter's pipelines deliver
        (None when a receiver or processor on the way cannot tell: start the line with
        `cannot be known without a target: <reason>`). None: nothing to say."""


# ---------------------------------------------------------------------------------------------------
# What the host tells status pages: the running configuration and the scrape targets


@dataclass(frozen=True)
class ComponentDescription:
    id: str
    kind: Kind
    stability: Stability
    config: BaseModel


@dataclass(frozen=True)
class PipelineDescription:
    id: str
    receivers: tuple[str, ...]
    processors: tuple[str, ...]
    exporters: tuple[str, ...]


@dataclass(frozen=True)
class ServiceDescription:
    pipelines: tuple[PipelineDescription, ...]
    extensions: tuple[str, ...]
    components: tuple[ComponentDescription, ...]


REDACTED = "[redacted]"
# Keys whose values are credentials whatever their type (a plain str as much as a SecretStr).
_SECRET_KEY = re.compile(
    r"pass(word|phrase)?|secret|token|credential|api[_-]?key|access[_-]?key|auth|session|cookie", re.I
)
# Values that are AWS access key ids or look like a secret access key, wherever they appear.
_SECRET_VALUE = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b|(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


def redacted_config(config: BaseModel) -> dict[str, Any]:
    """A component config as JSON-ready data with every credential replaced by `[redacted]`: SecretStr
    fields, values under secret-looking keys (password, token, auth, headers such as Authorization ...) and
    anything shaped like an AWS access key. For status pages; never for anything that needs the values."""
    return redacted(config.model_dump(mode="json", by_alias=True))


def redacted(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` with the same redaction as `redacted_config` (e.g. resource attributes shown on a page)."""
    result: dict[str, Any] = _redact(data, secret=False)  # a mapping in, a dict out
    return result


def _redact(node: Any, secret: bool) -> Any:
    if isinstance(node, Mapping):
        return {key: _redact(value, secret or bool(_SECRET_KEY.search(str(key)))) for key, value in node.items()}
    if isinstance(node, list):
        return [_redact(item, secret) for item in node]
    if secret and node not in (None, "", 0, False):
        return REDACTED
    if isinstance(node, str) and _SECRET_VALUE.search(node):
        return REDACTED
    return node


@dataclass
class ScrapeTarget:
    """One scrape target as a status page shows it. `resource` is the resource the target's metrics carry
    (how a page matches observed points to their target)."""

    receiver: str
    name: str
    resource: tuple[tuple[str, str], ...] = ()
    up: bool | None = None
    since: float | None = None  # unix seconds when `up` last changed
    detail: str = ""  # why it is down
    last_scrape: float | None = None  # unix seconds the last scrape started
    last_duration_s: float | None = None
    points: int = 0  # what the last scrape produced
    errors: dict[str, int] = field(default_factory=dict)  # since the start, by reason

    def record(self, up: bool, detail: str, started: float, duration_s: float, points: int) -> None:
        if up != self.up:
            self.up, self.since = up, started
        self.detail = "" if up else detail
        self.last_scrape, self.last_duration_s, self.points = started, duration_s, points

    def count(self, reason: str, n: int = 1) -> None:
        self.errors[reason] = self.errors.get(reason, 0) + n


def resource_key(attributes: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A resource's attributes as a hashable, ordered key."""
    return tuple(sorted((str(k), str(v)) for k, v in attributes.items()))


class ScrapeTargets:
    """The host's table of scrape targets, fed by the scraper helper.

    A receiver that knows its targets reports each after reading it (`record`); the scraper helper then
    closes the scrape (`scrape_done`): after a scrape that completed, targets of that receiver it did not
    report are gone (discovery dropped them) and are removed; after one that failed, they missed it and
    are marked down. A receiver that reports no target is shown as one target named by its id. The table
    holds only what the running receivers scrape, so it is bounded by them.
    """

    def __init__(self) -> None:
        self._targets: dict[tuple[str, str], ScrapeTarget] = {}

    def all(self) -> list[ScrapeTarget]:
        return list(self._targets.values())

    def record(
        self,
        receiver: str,
        name: str,
        resource: Mapping[str, Any],
        *,
        up: bool,
        detail: str,
        started: float,
        duration_s: float,
        points: int,
        errors: Mapping[str, int] | None = None,
    ) -> None:
        """One target was read (`up`) or found unreachable (counted as `unreachable`); `errors` are the
        points it dropped in this scrape, by reason."""
        target = self._target(receiver, name, resource)
        target.record(up, detail, started, duration_s, points)
        for reason, n in {**(errors or {}), **({} if up else {"unreachable": 1})}.items():
            target.count(reason, n)

    def _target(self, receiver: str, name: str, resource: Mapping[str, Any]) -> ScrapeTarget:
        target = self._targets.get((receiver, name))
        if target is None:
            target = self._targets[(receiver, name)] = ScrapeTarget(receiver, name, resource_key(resource))
        return target

    def scrape_done(
        self,
        receiver: str,
        *,
        started: float,
        duration_s: float,
        points: int,
        error: str | None = None,
        degraded: str | None = None,
    ) -> None:
        """One whole scrape of `receiver` ended: `error` when it raised, `degraded` when it worked but the
        receiver says its target is down (both the reason shown)."""
        mine = {key: t for key, t in self._targets.items() if key[0] == receiver}
        reported = {key for key, t in mine.items() if t.last_scrape is not None and t.last_scrape >= started}
        missed = mine.keys() - reported
        if reported and error is None:  # every target answered this scrape: the others are gone
            for key in missed:
                del self._targets[key]
            return
        if error is not None and (reported or missed - {(receiver, receiver)}):
            for key in missed:  # the scrape failed before these targets answered
                mine[key].record(False, error, started, duration_s, 0)
                mine[key].count("scrape_failed")
            return
        target = self._target(receiver, receiver, {})  # a receiver that names no target is its own
        target.record(not (error or degraded), error or degraded or "", started, duration_s, 0 if error else points)
        if error or degraded:
            target.count("scrape_failed" if error else "target_down")


# ---------------------------------------------------------------------------------------------------
# Factories: how the registry knows a component type (published under an entry-point group)

CreateReceiver: TypeAlias = Callable[[CreateSettings, ConfigT, Consumer], Receiver[ConfigT]]
CreateProcessor: TypeAlias = Callable[[CreateSettings, ConfigT, Consumer], Processor[ConfigT]]
CreateExporter: TypeAlias = Callable[[CreateSettings, ConfigT], Exporter[ConfigT]]
CreateExtension: TypeAlias = Callable[[CreateSettings, ConfigT], Extension[ConfigT]]


@dataclass(frozen=True)
class Factory(Generic[ConfigT]):
    """A component type: its config model and how to create it. What the registry holds.

    Declare a component with the factory of its kind (`ReceiverFactory`, `ProcessorFactory`,
    `ExporterFactory`, `ExtensionFactory`): their `create` is typed, so the type checker holds the
    constructor to the config model. This kind-agnostic form, with `kind` given, is accepted too: its
    `create` is called as `create(settings, config)` for exporters and extensions,
    `create(settings, config, consumer)` for receivers and processors.
    """

    type: str
    kind: Kind
    config_model: builtins.type[ConfigT]  # `type` is a field name here
    create: Callable[..., Component[ConfigT]]
    stability: Stability = Stability.ALPHA
    description: str = ""


@dataclass(frozen=True)
class ReceiverFactory(Factory[ConfigT]):
    kind: Kind = field(default=Kind.RECEIVER, init=False)
    create: CreateReceiver[ConfigT]


@dataclass(frozen=True)
class ProcessorFactory(Factory[ConfigT]):
    kind: Kind = field(default=Kind.PROCESSOR, init=False)
    create: CreateProcessor[ConfigT]


@dataclass(frozen=True)
class ExporterFactory(Factory[ConfigT]):
    """`sending` chooses the exporter's sending behaviour (timeout, retry, queue, on-disk storage) from
    its config, where the exporter is made, as the Collector's exporterhelper options do: the service
    puts that queue in front of the exporter and inspects nothing. For a config that mixes in the users'
    keys, `collector.exporterhelper.sending_from_config`; for fixed behaviour, a function returning a
    constant `SendingConfig`. None: the defaults of `SendingConfig` (users cannot change them)."""

    kind: Kind = field(default=Kind.EXPORTER, init=False)
    create: CreateExporter[ConfigT]
    sending: Callable[[ConfigT], SendingConfig] | None = None


@dataclass(frozen=True)
class ExtensionFactory(Factory[ConfigT]):
    kind: Kind = field(default=Kind.EXTENSION, init=False)
    create: CreateExtension[ConfigT]


@dataclass(frozen=True)
class Command:
    """A `collector <name>` subcommand a component package adds, published under the entry-point group
    `collector.commands` (the entry point's name is the subcommand's). `run` returns the exit code."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
