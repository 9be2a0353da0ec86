"""`listen`: the jmx receiver's side of dial-out. In-JVM gateways (Java agent, connector wrapper) connect to
the collector, so the workers need no inbound port (Amazon MSK Connect); each connected worker is a target.

The wire (the Java side is `GatewayDialer.java`): the worker connects, TLS is set up (the collector is the
TLS server), the worker sends `jmxotel-dialout 1`, its token and its identity, one line each; the collector
answers `OK` or `REFUSED<TAB>reason`. Then the roles turn: on the same socket the collector is the py4j
*client* and sends py4j's call command (`scrape` on the entry point, nothing else), which the worker serves
with the same hardened read-only connection as a listening gateway. Why not py4j's ClientServer: it makes
each side a server of the other's objects (callbacks), more surface than one read-only call, and py4j's
Python client cannot adopt a socket it did not open; the call command is a few lines of text, spoken here
with py4j's own protocol helpers over asyncio streams, so no thread is held per worker.

Everything here runs on the event loop and is bounded: a connection cap, a handshake timeout (TLS included),
a size cap on every line read, a reply timeout, and a keepalive ping (an empty scrape) on idle connections
that also finds workers gone without a FIN.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
import ssl
import time
from collections.abc import Callable

from prometheus_client import Counter
from py4j import protocol
from py4j.protocol import Py4JError

from collector.confignet import split_endpoint
from collector.telemetry import Telemetry
from receivers.jmx.config import ListenConfig
from receivers.jmx.errors import TargetDown

HELLO = b"jmxotel-dialout 1"
HANDSHAKE_LINE_BYTES = 4096
MAX_REPLY_BYTES = 32 * 1024 * 1024  # one scrape's reply: far above a Connect worker's MBeans
IDENTITY_KEYS = ("host.name", "process.pid", "service.instance.id")
CLOSE_WAIT_S = 2.0  # how long a closing connection's TLS peer has to answer close_notify before it is cut


class _Refused(Exception):
    """A connection turned away; the message is the reason label."""


async def read_line(reader: asyncio.StreamReader, cap: int) -> bytes:
    """One `\\n`-terminated line without it, at most `cap` bytes (the stream's own limit stays small)."""
    parts: list[bytes] = []
    size = 0
    while True:
        try:
            part = await reader.readuntil(b"\n")
            done = True
        except asyncio.LimitOverrunError as exc:
            part = await reader.readexactly(exc.consumed)
            done = False
        size += len(part)
        if size > cap + 1:
            raise _Refused("oversized")
        parts.append(part)
        if done:
            return b"".join(parts)[:-1]


def _call(query: str) -> bytes:
    """py4j's call command: the entry point's `scrape` with one string."""
    command = protocol.CALL_COMMAND_NAME + protocol.ENTRY_POINT_OBJECT_ID + "\nscrape\n"
    return (command + protocol.get_command_part(query) + protocol.END_COMMAND_PART).encode()


def _answer(line: bytes) -> str:
    """The string a py4j answer line carries; a gateway error raises Py4JError."""
    text = line.decode(errors="replace")
    if not text.startswith(protocol.RETURN_MESSAGE):
        raise Py4JError(f"not a py4j answer ({len(text)} bytes)")
    try:
        value = protocol.get_return_value(text[1:], None, protocol.ENTRY_POINT_OBJECT_ID, "scrape")
    except (KeyError, IndexError, ValueError) as exc:  # an unknown type tag, a truncated answer
        raise Py4JError(f"not a py4j answer: {type(exc).__name__}") from exc
    if not isinstance(value, str):
        raise Py4JError(f"scrape answered {type(value).__name__}")
    return value


async def close_connection(writer: asyncio.StreamWriter) -> None:
    """Closes `writer`'s connection and waits until it is closed, TLS close_notify exchange included; a peer
    that does not answer in CLOSE_WAIT_S is cut off. Left to asyncio, such a peer would hold the socket for
    its 30 s TLS shutdown timeout, past the end of the event loop that should have closed it."""
    if not writer.is_closing():  # a second close() of a TLS transport forgets its TLS layer: abort would miss it
        writer.close()
    try:
        async with asyncio.timeout(CLOSE_WAIT_S):
            await writer.wait_closed()
    except TimeoutError:
        writer.transport.abort()
        await asyncio.sleep(0)  # the abort closes the socket on the loop's next turn
    except (OSError, ssl.SSLError):  # the connection ended with an error: closed all the same
        pass


class DialedGateway:
    """One connected worker's gateway: `scrape` over its own connection, a keepalive ping when idle."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        identity: dict[str, str],
        address: str,
        timeout: float,
        on_close: Callable[[DialedGateway, str], None],
    ) -> None:
        self.reader, self.writer = reader, writer
        self.identity = identity
        self.address = address
        self.key = identity.get("service.instance.id") or f"{address}/{id(self)}"
        self.name = f"{identity.get('host.name', address)}/{identity.get('process.pid', '?')}"
        self.timeout = timeout
        self.closed = False
        self._on_close = on_close
        self._lock = asyncio.Lock()
        self._last = time.monotonic()
        self._keepalive: asyncio.Task[None] | None = None

    @property
    def resource(self) -> dict[str, str | int]:
        """What identifies the worker on its metrics' resource."""
        attributes: dict[str, str | int] = {"server.address": self.address}
        for key, value in self.identity.items():
            attributes[key] = int(value) if key == "process.pid" and value.isdigit() else value
        return attributes

    def start_keepalive(self, interval: float) -> None:
        self._keepalive = asyncio.create_task(self._ping(interval), name=f"jmx-listen-keepalive-{self.name}")

    async def _ping(self, interval: float) -> None:
        while not self.closed:
            await asyncio.sleep(max(0.0, self._last + interval - time.monotonic()))
            if not self.closed and time.monotonic() - self._last >= interval:
                with contextlib.suppress(TargetDown):  # a failure has closed the connection: the loop ends
                    await self.scrape("")  # an empty query: the gateway answers `UP`

    async def scrape(self, query: str) -> str:
        """The gateway's reply; TargetDown (and the connection closed) when it cannot answer."""
        async with self._lock:
            if self.closed:
                raise TargetDown(f"worker {self.name} disconnected")
            try:
                self.writer.write(_call(query))
                async with asyncio.timeout(self.timeout):
                    await self.writer.drain()
                    line = await read_line(self.reader, MAX_REPLY_BYTES)
                reply = _answer(line)
            except asyncio.CancelledError:  # a reply may still come: it would answer the next call
                self.close("scrape cancelled mid-call")
                raise
            except (OSError, TimeoutError, asyncio.IncompleteReadError, _Refused, Py4JError) as exc:
                reason = "timeout" if isinstance(exc, TimeoutError) else _describe(exc)
                self.close(reason)
                raise TargetDown(f"worker {self.name} lost: {reason}") from exc
            self._last = time.monotonic()
            return reply

    def close(self, reason: str) -> None:
        """Idempotent; tells the listener once."""
        if self.closed:
            return
        self.closed = True
        self.writer.close()
        if self._keepalive is not None and self._keepalive is not asyncio.current_task():
            self._keepalive.cancel()
        self._on_close(self, reason)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.IncompleteReadError):
        return "connection closed"
    return (str(exc) or type(exc).__name__).splitlines()[0]


class Listener:
    """Accepts dialing gateways; `workers` is who is connected now, keyed by the worker JVM's instance id."""

    def __init__(
        self,
        config: ListenConfig,
        logger: logging.LoggerAdapter,
        telemetry: Telemetry,
        receiver: str,
        reply_timeout: float,
    ) -> None:
        self.config = config
        self.logger = logger
        self.reply_timeout = reply_timeout
        self.workers: dict[str, DialedGateway] = {}
        self.port = 0
        self._tokens = [t.get_secret_value().encode() for t in config.auth_tokens]
        self._connections = 0
        self._refusing: str | None = None
        self._server: asyncio.Server | None = None
        self._ssl: ssl.SSLContext | None = None
        self._handshakes: set[asyncio.Task[None]] = set()

        def counter(name: str, documentation: str, *labels: str) -> Counter:
            return telemetry.component_counter(name, documentation, ("receiver", *labels))

        self._refused = counter(
            "collector_jmx_listen_refused_connections",
            "Worker connections refused, by reason (token, tls, handshake_timeout, protocol, capacity, oversized).",
            "reason",
        )
        self._joined = counter("collector_jmx_listen_workers_joined", "Workers that connected and authenticated.")
        self._gone = counter("collector_jmx_listen_workers_gone", "Connected workers that went away.")
        self._receiver = receiver

    async def start(self) -> None:
        host, port = split_endpoint(self.config.endpoint)
        self._ssl = self.config.tls.ssl_context() if self.config.tls else None
        self._server = await asyncio.start_server(
            self._accept, host or None, port, limit=HANDSHAKE_LINE_BYTES, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.logger.info("listening for in-JVM gateways", extra={"endpoint": self.config.endpoint, "port": self.port})

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        handshakes = list(self._handshakes)
        for task in handshakes:
            task.cancel()
        workers = list(self.workers.values())
        for worker in workers:
            worker.close("collector shutting down")
        # Each handshake closes its connection as it ends; stopping returns once every connection is closed.
        await asyncio.gather(*handshakes, *(close_connection(w.writer) for w in workers), return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._connections >= self.config.max_connections:
            writer.close()
            self._refuse("capacity", writer)
            return
        self._connections += 1
        task = asyncio.create_task(self._handshake(reader, writer))
        self._handshakes.add(task)
        task.add_done_callback(self._handshakes.discard)

    async def _handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        worker = None
        try:
            async with asyncio.timeout(self.config.handshake_timeout):
                if self._ssl is not None:
                    try:
                        await writer.start_tls(self._ssl)
                    except (ssl.SSLError, OSError) as exc:
                        raise _Refused("tls") from exc
                hello = await read_line(reader, HANDSHAKE_LINE_BYTES)
                if hello != HELLO:
                    raise _Refused("protocol")
                token = await read_line(reader, HANDSHAKE_LINE_BYTES)
                identity = _identity(await read_line(reader, HANDSHAKE_LINE_BYTES))
                if not self._token_ok(token):
                    writer.write(b"REFUSED\tunknown token\n")
                    await writer.drain()
                    raise _Refused("token")
                writer.write(b"OK\n")
                await writer.drain()
            sock = writer.get_extra_info("socket")
            if sock is not None:  # TCP keepalive as well: the worker's pings are our scrapes, not vice versa
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            peer = writer.get_extra_info("peername") or ("?", 0)
            worker = DialedGateway(reader, writer, identity, str(peer[0]), self.reply_timeout, self._closed)
        except _Refused as exc:
            self._refuse(str(exc), writer)
        except TimeoutError:
            self._refuse("handshake_timeout", writer)
        except (OSError, asyncio.IncompleteReadError, UnicodeDecodeError):
            self._refuse("protocol", writer)
        finally:
            if worker is None:
                await close_connection(writer)
                self._connections -= 1
        if worker is not None:
            self._admit(worker)

    def _token_ok(self, token: bytes) -> bool:
        ok = False
        for expected in self._tokens:  # every token compared, in constant time each: no early exit
            ok |= hmac.compare_digest(expected, token)
        return ok

    def _admit(self, worker: DialedGateway) -> None:
        self._refusing = None
        previous = self.workers.get(worker.key)
        self.workers[worker.key] = worker
        self._joined.labels(receiver=self._receiver).inc()
        if previous is not None:  # the same JVM reconnected before its old connection was found dead
            previous.key = f"{previous.key}/replaced"
            previous.close("replaced by a new connection")
        self.logger.info(
            "worker connected", extra={"worker": worker.name, "address": worker.address, **worker.identity}
        )
        worker.start_keepalive(self.config.keepalive)

    def _closed(self, worker: DialedGateway, reason: str) -> None:
        self._connections -= 1
        if self.workers.get(worker.key) is worker:
            del self.workers[worker.key]
            self._gone.labels(receiver=self._receiver).inc()
            self.logger.info("worker gone: %s", reason, extra={"worker": worker.name, "address": worker.address})

    def _refuse(self, reason: str, writer: asyncio.StreamWriter) -> None:
        self._refused.labels(receiver=self._receiver, reason=reason).inc()
        if reason != self._refusing:
            self._refusing = reason
            peer = writer.get_extra_info("peername") or ("?",)
            self.logger.warning("refusing worker connections: %s", reason, extra={"address": str(peer[0])})


def _identity(line: bytes) -> dict[str, str]:
    """The worker's `key=value` fields (tab separated, escaped); only the known keys are kept."""
    identity = {}
    for field in line.decode().split("\t"):
        key, _, value = _unescape(field).partition("=")
        if key in IDENTITY_KEYS and value:
            identity[key] = value[:256]
    return identity


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append({"t": "\t", "n": "\n", "r": "\r"}.get(nxt, nxt))
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)
