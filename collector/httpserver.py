"""Start an aiohttp app on a Collector-style endpoint, bounded like a server on the internet.

Shared by every listener (OTLP/HTTP, Prometheus, health, own metrics). Each listener gets:
- a cap on concurrent connections: past it, a new connection is accepted and closed at once, so a flood
  of (half-open) connections costs one listener its cap and never the process its file descriptors;
- a header timeout: a connection that has not sent complete request headers within
  `read_header_timeout` of opening (or of its previous response) is closed (slowloris);
- accept errors (EMFILE ...) logged once when they start and once when accepting works again, not once
  per failed accept.

`raise_nofile_limit` lifts the soft file-descriptor limit to the hard one at start, as the Go runtime
does for the Collector; `connection_budget` says how many connections a data listener may hold so that
`RESERVED_FDS` always stay free for files, the JMX gateway, backends and the small control listeners.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
import ssl
import weakref
from collections.abc import Callable
from typing import Any, cast

from aiohttp import web

from collector.confignet import split_endpoint
from collector.configtls import TLSServerConfig

log = logging.getLogger("collector.listener")

RESERVED_FDS = 256
"""Descriptors kept out of every data listener's reach: files, the gateway, backends, control listeners."""

CONTROL_MAX_CONNECTIONS = 32
"""Cap of a listener that serves operators, not data (health, own metrics, Prometheus scrapes)."""

DEFAULT_READ_HEADER_TIMEOUT = 10.0
MAX_AUTO_CONNECTIONS = 4096
LINGERING_TIME = 2.0


def raise_nofile_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit (what Go does at start); returns (soft, hard) after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft >= hard:
        return soft, hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (OSError, ValueError):
        return soft, hard
    return hard, hard


def connection_budget(data_listeners: int = 2) -> int:
    """Default cap for one data listener: the soft `nofile` limit less `RESERVED_FDS`, shared by
    `data_listeners` listeners (an OTLP receiver's HTTP and gRPC), at least 16 and at most 4096."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_AUTO_CONNECTIONS
    return max(16, min(MAX_AUTO_CONNECTIONS, (soft - RESERVED_FDS) // max(1, data_listeners)))


class _AcceptErrors:
    """The loop reports a failed accept() (EMFILE, ENFILE, ENOBUFS) through its exception handler, once
    per listener and second, with a traceback. This logs the condition once until a connection is
    accepted again; everything else goes to the handler that was there before."""

    MESSAGE = "socket.accept() out of system resource"
    QUIET_S = 2.5
    """Accepts count as recovery only this long after the last failure: the loop retries every second,
    and connections accepted in the same batch as a failure are no sign of recovery."""

    def __init__(self) -> None:
        self.failing = False
        self.last_failure = 0.0
        self._installed: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop in self._installed:
            return
        self._installed.add(loop)
        previous = loop.get_exception_handler()

        def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            if str(context.get("message", "")).startswith(self.MESSAGE):
                self.last_failure = loop.time()
                if not self.failing:
                    self.failing = True
                    exc = context.get("exception")
                    log.error(
                        "listeners cannot accept connections: %s; new connections wait in the backlog",
                        (exc.strerror if isinstance(exc, OSError) else None) or exc,
                    )
                return
            if previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)

        loop.set_exception_handler(handle)

    def accepted(self) -> None:
        if self.failing and asyncio.get_running_loop().time() - self.last_failure > self.QUIET_S:
            self.failing = False
            log.info("listeners accept connections again")


accept_errors = _AcceptErrors()


class _Refused(asyncio.Protocol):
    """A connection over the cap: closed as soon as it is made, so it holds no descriptor."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        cast(asyncio.Transport, transport).abort()  # a TCP server's transports are all Transports


class _Counted(asyncio.Protocol):
    """Wraps aiohttp's per-connection protocol to know when the connection ends."""

    def __init__(self, inner: asyncio.Protocol, limiter: _ConnectionLimiter) -> None:
        self.inner = inner
        self.limiter = limiter

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.limiter.active -= 1
        self.inner.connection_lost(exc)


class _ConnectionLimiter:
    """The protocol factory a site serves with: aiohttp's, behind a count of open connections."""

    def __init__(self, factory: Callable[[], asyncio.Protocol], limit: int, on_refused: Callable[[], None]) -> None:
        self.factory = factory
        self.limit = limit
        self.on_refused = on_refused
        self.active = 0

    def __call__(self) -> asyncio.Protocol:
        accept_errors.accepted()
        if self.active >= self.limit:
            self.on_refused()
            return _Refused()
        self.active += 1
        return _Counted(self.factory(), self)


class _LimitedRunner(web.AppRunner):
    """An AppRunner whose sites get the connection-limited protocol factory."""

    def __init__(self, app: web.Application, limiter_args: tuple[int, Callable[[], None]], **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._limiter_args = limiter_args
        self.limiter: _ConnectionLimiter | None = None

    @property
    def server(self) -> Any:
        inner = super().server
        if inner is None:
            return None
        if self.limiter is None or self.limiter.factory is not inner:
            self.limiter = _ConnectionLimiter(inner, *self._limiter_args)
        return self.limiter


async def start_site(
    app: web.Application,
    endpoint: str,
    tls: TLSServerConfig | None,
    *,
    max_connections: int = CONTROL_MAX_CONNECTIONS,
    read_header_timeout: float = DEFAULT_READ_HEADER_TIMEOUT,
    on_refused: Callable[[], None] = lambda: None,
    **runner_options: Any,
) -> tuple[web.AppRunner, int]:
    """The running runner and the port it bound (useful when the endpoint says port 0).

    `on_refused` is called for each connection closed because `max_connections` were open.
    """
    accept_errors.install(asyncio.get_running_loop())
    runner = _LimitedRunner(
        app,
        (max_connections, on_refused),
        access_log=None,
        handle_signals=False,
        # aiohttp's keep-alive timer also runs before the first request: it is the header timeout.
        keepalive_timeout=read_header_timeout,
        # After an early answer (413, 408) the rest of the body is read and dropped for this long at most.
        lingering_time=LINGERING_TIME,
        **runner_options,
    )
    await runner.setup()
    host, port = split_endpoint(endpoint)
    try:
        ssl_context = tls.ssl_context() if tls else None
        await _bind(runner, host, port, ssl_context)
    except BaseException:
        await runner.cleanup()
        raise
    return runner, runner.addresses[0][1]


async def _bind(runner: web.AppRunner, host: str, port: int, ssl_context: ssl.SSLContext | None) -> None:
    """Listen on every address `host` resolves to, as asyncio does; but when one of them cannot exist here
    (EADDRNOTAVAIL: `localhost` also names ::1, and a container on Docker's default network has no IPv6),
    listen on the others instead of failing, as the Collector's single-address listener would."""
    try:
        await _site(runner, host or None, port, ssl_context)
        return
    except OSError as exc:
        if exc.errno != errno.EADDRNOTAVAIL or not host:
            raise
        unavailable = exc
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    bound = False
    for address in dict.fromkeys(str(info[4][0]) for info in infos):
        try:
            await _site(runner, address, port, ssl_context)
        except OSError as exc:
            if exc.errno != errno.EADDRNOTAVAIL:
                raise
            continue
        bound = True
        port = port or runner.addresses[0][1]  # port 0: the other addresses take the port the first one got
    if not bound:
        raise unavailable


async def _site(runner: web.AppRunner, host: str | None, port: int, ssl_context: ssl.SSLContext | None) -> None:
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context, reuse_address=True)
    try:
        await site.start()
    except BaseException:
        await site.stop()  # a site that failed to start stays registered with the runner otherwise
        raise
