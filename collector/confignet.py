"""Listen addresses written as the Collector writes them: `host:port`, `[::1]:port`, `:port`."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def split_endpoint(text: str) -> tuple[str, int]:
    """`host:port` -> (host, port). An empty host (`:4317`) means every interface, as in Go."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"invalid endpoint {text!r}: expected host:port, e.g. localhost:4317")
    if host.startswith("["):
        if not host.endswith("]"):
            raise ValueError(f"invalid endpoint {text!r}: unclosed '[' around an IPv6 address")
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"invalid endpoint {text!r}: write an IPv6 address in brackets, e.g. [::1]:4317")
    return host, int(port)


def _check(text: str) -> str:
    split_endpoint(text)
    return text.strip()


Endpoint = Annotated[str, AfterValidator(_check)]
"""A validated `host:port` string; `split_endpoint` turns it into what a socket binds."""
