"""`endpoints`: many targets for one receiver, from a static list, a file (one entry a line) or a DNS name
(every A/AAAA record is one target), re-read every `refresh_interval`, and this replica's share of them
(`shard`). Blocking: called from the receiver's threads."""

from __future__ import annotations

import hashlib
import logging
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from receivers.jmx.config import PY4J_SCHEME, EndpointsConfig, ShardConfig

_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):(\d{1,5})$")
# The host and port of the RMI registry in a service URL (`.../jndi/rmi://host:port/jmxrmi`), if it names one.
_URL_ADDRESS = re.compile(r"rmi://(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):(\d{1,5})/")


@dataclass(frozen=True, order=True)
class Endpoint:
    host: str
    port: int
    server_name: str  # the name TLS verifies: the entry's host, or the DNS name an address came from
    protocol: str = "py4j"  # `py4j` (an in-JVM gateway) or `rmi` (a JMX port read through our gateway JVM)
    url: str = ""  # an explicit service:jmx:... URL

    @property
    def service_url(self) -> str:
        return self.url or f"service:jmx:rmi:///jndi/rmi://{self.address}/jmxrmi"

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        """The URL if one was given, else `host:port`: the key a shard is chosen by and the name in logs."""
        return self.url or self.address


class DiscoveryError(Exception):
    """The list could not be read; the previous one stays in use."""


def parse_host_port(text: str) -> tuple[str, int]:
    match = _HOST_PORT.match(text.strip())
    if not match or not 0 < int(match.group(2)) < 65536:
        raise ValueError(f"{text!r} is not host:port")
    return match.group(1).strip("[]"), int(match.group(2))


def parse_entry(text: str, protocol: str) -> Endpoint:
    """`host:port` (of `protocol`), `py4j://host:port` or a `service:jmx:...` URL; ValueError otherwise."""
    text = text.strip()
    if text.startswith("service:jmx:"):
        found = _URL_ADDRESS.findall(text)  # the last is the registry's (`.../jndi/rmi://host:port/...`)
        host, port = (found[-1][0].strip("[]"), int(found[-1][1])) if found else ("", 0)
        return Endpoint(host, port, host, "rmi", text)
    if text.startswith(PY4J_SCHEME):
        host, port = parse_host_port(text.removeprefix(PY4J_SCHEME))
        return Endpoint(host, port, host, "py4j")
    host, port = parse_host_port(text)
    return Endpoint(host, port, host, protocol)


def read_file(path: str, protocol: str = "py4j") -> list[Endpoint]:
    """One entry a line; blank lines and `#` comments are skipped; a bad line fails the whole read."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DiscoveryError(f"cannot read {path}: {exc.strerror}") from exc
    endpoints = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            endpoints.append(parse_entry(text, protocol))
        except ValueError as exc:
            raise DiscoveryError(f"{path}:{number}: {exc}") from exc
    return sorted(set(endpoints))


def resolve(name_port: str, protocol: str = "py4j") -> list[Endpoint]:
    """Every address the name resolves to (ECS service discovery, a Kubernetes headless Service)."""
    name, port = parse_host_port(name_port)
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DiscoveryError(f"cannot resolve {name}: {exc}") from exc
    return sorted({Endpoint(str(info[4][0]), port, name, protocol) for info in infos})


def shard_owner(key: str, count: int) -> int:
    """The replica (0 .. count-1) that reads the endpoint `key`: rendezvous (highest-random-weight) hashing,
    the same answer in every process, and a change of `count` moves only the endpoints it must."""
    return max(range(count), key=lambda replica: hashlib.blake2b(f"{replica}|{key}".encode(), digest_size=8).digest())


def my_share(endpoints: list[Endpoint], shard: ShardConfig) -> list[Endpoint]:
    if shard.count == 1:
        return endpoints
    return [endpoint for endpoint in endpoints if shard_owner(str(endpoint), shard.count) == shard.index]


class Discovery:
    """The current endpoint list; re-read when `refresh_interval` has passed. A failed read keeps the last
    good list and is logged once until a read works again."""

    def __init__(self, config: EndpointsConfig, logger: logging.LoggerAdapter) -> None:
        self.config = config
        self.logger = logger
        self.endpoints: list[Endpoint] = []
        self._next = 0.0
        self._failing = False

    def current(self) -> list[Endpoint]:
        """This replica's share of the endpoints."""
        if time.monotonic() < self._next:
            return self.endpoints
        self._next = time.monotonic() + self.config.refresh_interval
        config = self.config
        try:
            if config.list_:
                found = sorted({parse_entry(entry, config.protocol) for entry in config.list_})
            elif config.file:
                found = read_file(config.file, config.protocol)
            else:
                found = resolve(config.dns, config.protocol)
            found = my_share(found, config.shard)
        except DiscoveryError as exc:
            if not self._failing:
                self._failing = True
                self.logger.warning("endpoint discovery failed, keeping %d endpoints: %s", len(self.endpoints), exc)
            return self.endpoints
        if self._failing:
            self._failing = False
            self.logger.info("endpoint discovery works again")
        if found != self.endpoints:
            self.logger.info("endpoints changed", extra={"endpoints": [str(e) for e in found]})
            self.endpoints = found
        return self.endpoints
