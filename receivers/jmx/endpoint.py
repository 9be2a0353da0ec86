"""A target's address as the jmx receiver's config writes it: `host:port`, `py4j://host:port` or a
`service:jmx:...` URL. Its own module because both the config (which checks every entry) and discovery
(which reads entries from files and DNS) parse them."""

from __future__ import annotations

import re
from dataclasses import dataclass

PY4J_SCHEME = "py4j://"
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
