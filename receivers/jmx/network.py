"""The in-JVM gateway reached over the network (`endpoint: py4j://host:port`): the target JVM serves the
gateway itself (Java agent or connector wrapper), so there is no gateway JVM of ours, only a py4j client.

Blocking, like the supervised gateway: the receiver calls it from a thread.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading

from py4j.java_gateway import GatewayParameters
from py4j.protocol import Py4JAuthenticationError, Py4JError, Py4JJavaError

from collector.configtls import TLSClientConfig
from receivers.jmx.errors import TargetDown
from receivers.jmx.gateway import GatewayError, describe
from receivers.jmx.py4jclient import ClosingJavaGateway

MAX_SOCKET_TIMEOUT_S = 30.0
# py4j logs every failed connect with a traceback; the receiver logs each state change once instead.
logging.getLogger("py4j.java_gateway").setLevel(logging.CRITICAL)


def client_ssl_context(tls: TLSClientConfig) -> ssl.SSLContext | None:
    """None for `insecure: true` (plaintext); else verified against `ca_file` (system roots when unset)."""
    if tls.insecure:
        return None
    context = ssl.create_default_context(cafile=tls.ca_file or None)
    if tls.insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if tls.cert_file and tls.key_file:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    return context


class _NamedTLS:
    """The SSL context py4j uses, verifying `server_name` instead of the address py4j connects to (an address
    found by DNS discovery is checked against the name it came from)."""

    def __init__(self, context: ssl.SSLContext, server_name: str) -> None:
        self.context, self.server_name = context, server_name

    def wrap_socket(self, sock: socket.socket, server_hostname: str | None = None) -> ssl.SSLSocket:
        return self.context.wrap_socket(sock, server_hostname=self.server_name)


class NetworkGateway:
    """A py4j client of an in-JVM gateway; same `scrape`/`stop` as the supervised gateway JVM.

    An unreachable gateway, and one that refuses the token, is the target being down (TargetDown:
    `jmx.up` 0, logged once by the receiver)."""

    def __init__(
        self,
        host: str,
        port: int,
        auth_token: str,
        tls: TLSClientConfig,
        server_name: str | None = None,
        scrape_timeout: float = 2 * MAX_SOCKET_TIMEOUT_S,
    ) -> None:
        self.host, self.port = host, port
        # Connect and read give up within half a scrape's time: a blackholed worker is reported down in
        # time instead of timing out the whole scrape (and the other workers' points with it).
        self._socket_timeout = min(MAX_SOCKET_TIMEOUT_S, scrape_timeout / 2)
        self._auth_token = auth_token
        context = client_ssl_context(tls)
        self._ssl = _NamedTLS(context, server_name) if context and server_name and server_name != host else context
        self._client: ClosingJavaGateway | None = None
        self._lock = threading.Lock()

    def scrape(self, query: str) -> str:
        """The gateway's reply; TargetDown when it cannot be reached or refuses us."""
        with self._lock:
            if self._client is None:
                self._client = ClosingJavaGateway(
                    gateway_parameters=GatewayParameters(
                        address=self.host,
                        port=self.port,
                        auth_token=self._auth_token or None,
                        ssl_context=self._ssl,
                        read_timeout=self._socket_timeout,
                        auto_convert=False,
                        eager_load=False,
                    )
                )
            try:
                return self._client.entry_point.scrape(query)
            except Py4JAuthenticationError:  # a target we may not read is down, like one we cannot reach
                self._close()
                raise TargetDown(
                    f"the gateway at {self.host}:{self.port} refused the connection: wrong auth_token, "
                    "or it expects TLS (tls.insecure is set)"
                ) from None
            except Py4JJavaError as exc:  # the gateway answered with an exception: not a connection problem
                raise GatewayError(f"gateway call failed: {describe(exc)}") from exc
            except (Py4JError, OSError) as exc:  # py4j reports a connection lost mid-call as a bare Py4JError
                self._close()
                raise TargetDown(f"gateway {self.host}:{self.port} unreachable: {_first_line(exc)}") from exc

    def _close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def stop(self) -> None:
        with self._lock:
            self._close()


def _first_line(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    text = f"{exc}" + (f" ({cause})" if cause else "")
    return text.replace("\t", " ").splitlines()[0] if text else type(exc).__name__
