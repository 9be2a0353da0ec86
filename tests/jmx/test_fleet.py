"""Fleet (issue 15): many RMI targets in one receiver and one gateway JVM for all of a collector's RMI targets,
against a real JVM serving Debezium-shaped MBeans on several RMI ports; `endpoints` entries and sharding
(pure logic here; the multi-process sharding test is test_sharding.py)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from receivers.jmx import gateway
from receivers.jmx.config import JmxConfig
from receivers.jmx.discovery import shard_owner
from receivers.jmx.endpoint import Endpoint, parse_entry
from tests.jmx import testbed
from tests.jmx.conftest import make_receiver
from tests.support import free_port

TARGETS = 6


def test_entries_say_their_protocol() -> None:
    assert parse_entry("w1:7098", "rmi") == Endpoint("w1", 7098, "w1", "rmi")
    assert parse_entry("py4j://w1:25333", "rmi") == Endpoint("w1", 25333, "w1", "py4j")
    url = "service:jmx:rmi://w2:7099/jndi/rmi://w2:7098/jmxrmi"
    found = parse_entry(url, "py4j")
    assert (found.protocol, found.host, found.port, found.service_url, str(found)) == ("rmi", "w2", 7098, url, url)
    assert parse_entry("[fd00::1]:7098", "rmi").service_url == "service:jmx:rmi:///jndi/rmi://[fd00::1]:7098/jmxrmi"
    with pytest.raises(ValueError, match="not host:port"):
        parse_entry("w1", "rmi")


def config(**endpoints: Any) -> JmxConfig:
    return JmxConfig.model_validate({"target_system": "jvm", "endpoints": endpoints})


def test_endpoints_config() -> None:
    rmi = config(list=["w1:7098"], protocol="rmi", shard={"count": 3, "index": "2"})  # index as ${env:...} gives it
    assert not rmi.in_jvm and rmi.endpoints is not None and rmi.endpoints.shard.index == 2
    assert config(list=["w1:25333"]).in_jvm, "py4j stays the default protocol"
    assert not config(list=["py4j://w1:1", "service:jmx:rmi:///jndi/rmi://w2:1/jmxrmi"]).in_jvm
    with pytest.raises(ValidationError, match="index 3 is not below count 3"):
        config(list=["w1:1"], shard={"count": 3, "index": 3})
    with pytest.raises(ValidationError, match="not host:port"):
        config(list=["w1:1", "nonsense"])
    with pytest.raises(ValidationError, match="unused with a py4j:// endpoint"):
        JmxConfig.model_validate({"target_system": "jvm", "endpoints": {"list": ["w:1"]}, "username": "u"})
    with pytest.raises(ValidationError, match="auth_token and tls are for a py4j"):
        JmxConfig.model_validate(
            {"target_system": "jvm", "endpoints": {"list": ["w:1"], "protocol": "rmi"}, "auth_token": "t"}
        )


def test_rendezvous_sharding_is_stable_balanced_and_moves_only_what_it_must() -> None:
    keys = [f"worker-{i}.cdc.internal:7098" for i in range(600)]
    three = {key: shard_owner(key, 3) for key in keys}
    four = {key: shard_owner(key, 4) for key in keys}
    assert three == {key: shard_owner(key, 3) for key in keys}, "the same answer every time"
    assert min(Counter(three.values()).values()) > 150, Counter(three.values())
    moved = [key for key in keys if three[key] != four[key]]
    assert all(four[key] == 3 for key in moved), "a move only ever goes to the new replica"
    assert 100 < len(moved) < 200, f"about a quarter moves: {len(moved)}"


@pytest.fixture(scope="module")
def fleet() -> Iterator[tuple[testbed.JavaTarget, list[int]]]:
    with testbed.fleet_target(TARGETS) as served:
        yield served


def resources(data: Any) -> dict[int, dict[str, float]]:
    """server.port -> {metric name: first value} of each resource in a scrape."""
    return {
        rm.resource.attributes["server.port"]: {
            metric.name: metric.data.data_points[0].value for sm in rm.scope_metrics for metric in sm.metrics
        }
        for rm in data.resource_metrics
    }


async def test_one_receiver_reads_many_rmi_targets_through_one_gateway_jvm(fleet) -> None:
    _, ports = fleet
    down = free_port()
    receiver = make_receiver(
        {
            "endpoints": {"list": [f"127.0.0.1:{p}" for p in [*ports, down]], "protocol": "rmi"},
            "target_system": "debezium-mysql",
            "resource_attributes": {"service.name": "cdc"},
        }
    )
    try:
        await receiver.scrape()
        read = resources(await receiver.scrape())
        assert len(gateway.POOL.running()) == 1, "one gateway JVM for every target"
    finally:
        await receiver.shutdown()
    assert set(read) == {*ports, down}
    assert read[down] == {"jmx.up": 0}, "a target that is down costs only its own points"
    for port in ports:
        assert read[port]["jmx.up"] == 1
        assert "debezium.streaming.MilliSecondsBehindSource" in read[port], sorted(read[port])
    assert receiver.degraded_reason == f"1 of {TARGETS + 1} targets unreachable"
    assert gateway.POOL.running() == [], "the last target's release stops the gateway JVM"


async def test_receivers_share_a_gateway_jvm_unless_their_jvm_settings_differ(fleet, tmp_path) -> None:
    _, ports = fleet

    def receiver(port: int, **extra: str):
        endpoints = {"list": [f"127.0.0.1:{port}"], "protocol": "rmi"}
        return make_receiver({"target_system": "debezium-mysql", "endpoints": endpoints, **extra})

    # Another trust store is a JVM-global setting: that target needs a JVM of its own.
    receivers = [receiver(ports[0]), receiver(ports[1]), receiver(ports[2], truststore_path=str(tmp_path / "none"))]
    try:
        for each, port in zip(receivers, ports, strict=False):
            assert resources(await each.scrape())[port]["jmx.up"] == 1
        pids = sorted(s.current.pid for s in gateway.POOL.running() if s.current)
        assert len(pids) == 2 and sorted(testbed.gateway_pids(os.getpid())) == pids
    finally:
        for each in receivers:
            await each.shutdown()
