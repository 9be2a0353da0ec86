"""`endpoints` discovery: file parsing, DNS resolution, and the config rules (pure logic)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from receivers.jmx.config import JmxConfig
from receivers.jmx.discovery import DiscoveryError, read_file, resolve
from receivers.jmx.endpoint import Endpoint


def test_a_file_lists_one_worker_a_line(tmp_path: Path) -> None:
    path = tmp_path / "workers"
    path.write_text("# workers\nw1.internal:25333\n\n  10.0.0.7:25333  # second\n[fd00::1]:25333\nw1.internal:25333\n")
    assert read_file(str(path)) == [
        Endpoint("10.0.0.7", 25333, "10.0.0.7"),
        Endpoint("fd00::1", 25333, "fd00::1"),
        Endpoint("w1.internal", 25333, "w1.internal"),
    ]
    assert str(Endpoint("fd00::1", 1, "x")) == "[fd00::1]:1"


@pytest.mark.parametrize("content", ["w1.internal\n", "w1:99999\n", "w1:25333 w2:25333\n"])
def test_a_bad_line_fails_the_read_with_its_line_number(tmp_path: Path, content: str) -> None:
    path = tmp_path / "workers"
    path.write_text("ok:1\n" + content)
    with pytest.raises(DiscoveryError, match=":2:"):
        read_file(str(path))


def test_a_missing_file_and_an_unknown_name_are_discovery_errors(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError, match="cannot read"):
        read_file(str(tmp_path / "none"))
    with pytest.raises(DiscoveryError, match="cannot resolve"):
        resolve("no-such-host.invalid:25333")


def test_dns_gives_every_address_verified_against_the_name() -> None:
    found = resolve("localhost:25333")
    assert Endpoint("127.0.0.1", 25333, "localhost") in found
    assert all(e.server_name == "localhost" for e in found)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"endpoint": "py4j://h:1", "endpoints": {"dns": "w:1"}}, "exactly one of `endpoint` or `endpoints`"),
        ({}, "exactly one of `endpoint` or `endpoints`"),
        ({"endpoints": {}}, "exactly one of `list`, `file` or `dns`"),
        ({"endpoints": {"file": "f", "dns": "w:1"}}, "exactly one of `list`, `file` or `dns`"),
        ({"endpoints": {"dns": "workers"}}, "name:port"),
        ({"endpoints": {"dns": "w:1"}, "username": "u"}, "unused with a py4j:// endpoint"),
    ],
)
def test_endpoints_config_rules(raw: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        JmxConfig.model_validate({"target_system": "jvm", **raw})


def test_endpoints_mean_in_jvm_gateways() -> None:
    config = JmxConfig.model_validate({"target_system": "jvm", "endpoints": {"file": "workers.txt"}})
    assert config.in_jvm and config.endpoints is not None and config.endpoints.refresh_interval == 30.0
