"""Every listener defaults to loopback: walk the config model of every installed component (and the
service's own telemetry) for endpoint/address defaults, so components that land later are covered too."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from pydantic import BaseModel

from collector.component import ConfigModel
from collector.config import ServiceConfig
from collector.confignet import Endpoint, split_endpoint
from collector.registry import Registry

LOOPBACK = {"localhost", "127.0.0.1", "::1"}
ADDRESS_NAMES = ("endpoint", "address")
_ENDPOINT_METADATA = typing.get_args(Endpoint)[1:]


def nested_models(annotation: typing.Any) -> Iterator[type[BaseModel]]:
    """Model classes anywhere in an annotation: `X`, `X | None`, `dict[str, X]`, `Annotated[X, ...]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from nested_models(arg)


def is_address_field(name: str, field) -> bool:
    return name.endswith(ADDRESS_NAMES) or any(m in _ENDPOINT_METADATA for m in field.metadata)


def address_defaults(model: type[BaseModel], path: str, seen: frozenset = frozenset()) -> Iterator[tuple[str, str]]:
    """(config path, default) of every endpoint/address field with a string default, through nested models
    (also those whose own default is None: writing the section with no keys turns their defaults on)."""
    if model in seen:
        return
    for name, field in model.model_fields.items():
        key = field.alias or name
        if is_address_field(name, field) and not field.is_required():
            default = field.get_default(call_default_factory=True)
            if isinstance(default, str) and default:
                yield f"{path}.{key}", default
        for nested in nested_models(field.annotation):
            yield from address_defaults(nested, f"{path}.{key}", seen | {model})


def host_of(address: str) -> str:
    if "://" in address:
        return urlsplit(address).hostname or ""
    return split_endpoint(address)[0]


def every_address_default() -> list[tuple[str, str]]:
    registry = Registry.discover()
    assert not registry.load_errors, registry.load_errors
    found = list(address_defaults(ServiceConfig, "service"))
    for entry in registry.all():
        factory = entry.factory
        found += address_defaults(factory.config_model, f"{factory.kind.section}.{factory.type}")
    return found


def test_every_default_listen_address_is_loopback():
    found = every_address_default()
    wide_open = [(path, address) for path, address in found if host_of(address) not in LOOPBACK]
    assert not wide_open, f"listeners not on loopback by default: {wide_open}"


def test_the_walk_finds_the_listeners_we_know_of():
    """Guards the walk itself: if it stopped descending into nested models this would catch it."""
    paths = {path for path, _ in every_address_default()}
    known = {
        "service.telemetry.metrics.address",
        "receivers.otlp.protocols.grpc.endpoint",
        "receivers.otlp.protocols.http.endpoint",
        "extensions.health_check.endpoint",
        "exporters.prometheus.endpoint",
    }
    assert known <= paths, known - paths


@pytest.mark.parametrize("address", ["0.0.0.0:4317", ":4317", "[::]:4317", "http://10.0.0.1:4318"])
def test_a_wide_open_default_would_be_caught(address):
    class Inner(ConfigModel):
        endpoint: str = address

    class Outer(ConfigModel):
        server: dict[str, Inner] | None = None
        listen_address: Endpoint = "127.0.0.1:1"

    found = dict(address_defaults(Outer, "receivers.fake"))
    assert found == {"receivers.fake.server.endpoint": address, "receivers.fake.listen_address": "127.0.0.1:1"}
    assert host_of(found["receivers.fake.server.endpoint"]) not in LOOPBACK
