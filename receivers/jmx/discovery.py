"""`endpoints`: the in-JVM gateways of a worker group, from a file (one `host:port` a line) or a DNS name
(every A/AAAA record is one worker), re-read every `refresh_interval`. Blocking: called from a thread."""

from __future__ import annotations

import logging
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from receivers.jmx.config import EndpointsConfig

_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):(\d{1,5})$")


@dataclass(frozen=True, order=True)
class Endpoint:
    host: str
    port: int
    server_name: str  # the name TLS verifies: the file's host, or the DNS name an address came from

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class DiscoveryError(Exception):
    """The list could not be read; the previous one stays in use."""


def parse_host_port(text: str) -> tuple[str, int]:
    match = _HOST_PORT.match(text.strip())
    if not match or not 0 < int(match.group(2)) < 65536:
        raise ValueError(f"{text!r} is not host:port")
    return match.group(1).strip("[]"), int(match.group(2))


def read_file(path: str) -> list[Endpoint]:
    """One `host:port` a line; blank lines and `#` comments are skipped; a bad line fails the whole read."""
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
            host, port = parse_host_port(text)
        except ValueError as exc:
            raise DiscoveryError(f"{path}:{number}: {exc}") from exc
        endpoints.append(Endpoint(host, port, host))
    return sorted(set(endpoints))


def resolve(name_port: str) -> list[Endpoint]:
    """Every address the name resolves to (ECS service discovery, a Kubernetes headless Service)."""
    name, port = parse_host_port(name_port)
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DiscoveryError(f"cannot resolve {name}: {exc}") from exc
    return sorted({Endpoint(str(info[4][0]), port, name) for info in infos})


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
        if time.monotonic() < self._next:
            return self.endpoints
        self._next = time.monotonic() + self.config.refresh_interval
        try:
            found = read_file(self.config.file) if self.config.file else resolve(self.config.dns)
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
