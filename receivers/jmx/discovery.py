"""`endpoints`: many targets for one receiver, from a static list, a file (one entry a line) or a DNS name
(every A/AAAA record is one target), re-read every `refresh_interval`, and this replica's share of them
(`shard`). Blocking: called from the receiver's threads."""

from __future__ import annotations

import hashlib
import logging
import socket
import time
from pathlib import Path

from receivers.jmx.config import EndpointsConfig, ShardConfig
from receivers.jmx.endpoint import Endpoint, parse_entry, parse_host_port


class DiscoveryError(Exception):
    """The list could not be read; the previous one stays in use."""


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
