"""The contracts every component implements, built-in or third-party.

A component is created by its factory from a validated config model, started with a `Host`, fed
`MetricsData` (the OpenTelemetry SDK's own model) and shut down. See docs/plugins.md.
"""

from __future__ import annotations

import abc
import argparse
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from opentelemetry.sdk.metrics.export import MetricsData
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from collector.telemetry import Telemetry


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


@runtime_checkable
class Consumer(Protocol):
    """Anything that accepts metrics: the next processor, a fan-out, an exporter's queue."""

    async def consume(self, data: MetricsData) -> None: ...


class Host(Protocol):
    """What the running service offers a component."""

    telemetry: Telemetry

    def extension(self, component_id: str) -> Extension:
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


@dataclass(frozen=True)
class CreateSettings:
    """What a factory receives besides the config."""

    id: ComponentID
    kind: Kind
    telemetry: Telemetry
    logger: logging.LoggerAdapter


class Component(abc.ABC):
    """Lifecycle shared by all kinds. Both calls must return promptly; long work goes in tasks."""

    def __init__(self, settings: CreateSettings, config: Any) -> None:
        self.settings = settings
        self.config = config
        self.id = str(settings.id)
        self.logger = settings.logger

    async def start(self, host: Host) -> None:
        """Acquire resources, start background tasks."""

    async def shutdown(self) -> None:
        """Release everything; flush what was accepted."""


class Receiver(Component):
    """Produces metrics and hands them to `consumer` (a fan-out to every pipeline that lists it)."""

    def __init__(self, settings: CreateSettings, config: Any, consumer: Consumer) -> None:
        super().__init__(settings, config)
        self.consumer = consumer


class Processor(Component):
    """Sits between receivers and exporters of one pipeline; forwards to `next_consumer`.

    Stateless processors subclass `SimpleProcessor` and only write `process`. Stateful ones (batch,
    cumulativetodelta) override `consume` and say so in their docstring.
    """

    def __init__(self, settings: CreateSettings, config: Any, next_consumer: Consumer) -> None:
        super().__init__(settings, config)
        self.next_consumer = next_consumer

    @abc.abstractmethod
    async def consume(self, data: MetricsData) -> None: ...


class SimpleProcessor(Processor):
    """A pure `MetricsData -> MetricsData | None` step; `None` or no data points means drop."""

    @abc.abstractmethod
    def process(self, data: MetricsData) -> MetricsData | None: ...

    async def consume(self, data: MetricsData) -> None:
        result = self.process(data)
        if result is not None and result.resource_metrics:
            await self.next_consumer.consume(result)


class Exporter(Component):
    """Sends metrics somewhere. `export` raises on failure: `PermanentError` is never retried, anything
    else is retried by the sending queue the pipeline puts in front of every exporter."""

    @abc.abstractmethod
    async def export(self, data: MetricsData) -> None: ...

    def prepare(self, data: MetricsData) -> MetricsData:
        """Runs once per batch, in arrival order, before the batch is queued (and persisted, with an
        on-disk queue): the place for stateful conversions that retries must not repeat, such as
        cumulative-to-delta. The default passes the batch through."""
        return data


class Extension(Component):
    """Not in the data path: health checks, storage for persistent queues."""


@runtime_checkable
class StorageExtension(Protocol):
    """What a storage extension (`file_storage`) offers the persistent sending queue."""

    permissions: int
    """Mode for every directory the extension or its clients make; files get it without execute bits."""

    fsync: bool
    """Whether each write is synced to the device before it counts as stored."""

    def client_directory(self, kind: str, component_id: str, signal: str = "metrics") -> Path:
        """The directory that one client (e.g. an exporter's queue) keeps its files in."""
        ...


@runtime_checkable
class MemoryGate(Protocol):
    """Declared by a processor that bounds memory (`memory_limiter`), and by the receiver output in front
    of it: asked before a request is read or decoded, so a receiver never holds memory the limiter would
    refuse. `reserve` raises (a retryable refusal) when `nbytes` more would pass the limit; the returned
    reservation must be released when the decoded batch has been handed on."""

    def reserve(self, nbytes: int) -> Reservation: ...


class Reservation(Protocol):
    """Memory a request holds while it is read and decoded."""

    def grow(self, nbytes: int) -> None:
        """Hold `nbytes` more (e.g. a body without Content-Length as it arrives); raises as `reserve` does."""
        ...

    def release(self) -> None: ...


@dataclass(frozen=True)
class Factory:
    """How the registry knows a component type: published under an entry-point group.

    `create` is called as `create(settings, config)` for exporters and extensions,
    `create(settings, config, consumer)` for receivers and processors.
    """

    type: str
    kind: Kind
    config_model: type[BaseModel]
    create: Callable[..., Component]
    stability: Stability = Stability.ALPHA
    description: str = ""


@dataclass(frozen=True)
class Command:
    """A `collector <name>` subcommand a component package adds, published under the entry-point group
    `collector.commands` (the entry point's name is the subcommand's). `run` returns the exit code."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
